// Issue 12, finding 7: probe files are read with js-yaml first (fast, little memory) and only files
// it reads exactly as the `yaml` library does take that way; every other file, and every file with
// any problem, is read the precise way, so data, messages and positions stay what they were.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, type ConfigPaths } from '../../src/config/load.js';
import { readYaml } from '../../src/config-core/yaml.js';
import { readYamlFast } from '../../src/config/yaml-fast.js';
import { ConfigError, formatIssue } from '../../src/shared/errors.js';
import { inventoryYaml } from '../../bench/inventory.js';
import { aliasBomb, FIXTURES, REPO } from './helpers.js';

const ENV = { SNMP_COMMUNITY: 'c0mmunity', EMPTY: '', PORT: '8443', TEST_WEB_PORT: '80' };

/** Reads `text` both ways; the fast way must take the file and give exactly the same data. */
function expectSameData(text: string): void {
  const precise = readYaml('f.yaml', text, ENV);
  expect(precise.issues).toEqual([]);
  const fast = readYamlFast('f.yaml', text, ENV);
  expect(fast, 'the fast way refused a file it should read').not.toBeNull();
  // toStrictEqual tells -0 from 0, NaN from a string, and a missing key from an undefined one.
  expect(fast!.data).toStrictEqual(precise.data);
  expect([...fast!.interpolated].sort()).toEqual([...precise.interpolated].sort());
}

/** Every plain scalar the two YAML libraries might resolve differently, as label values and keys. */
const TRICKY = [
  'yes', 'no', 'on', 'off', 'y', 'n', 'Yes', 'ON', 'true', 'True', 'TRUE', 'false', 'False', 'FALSE', 'tRue',
  'null', 'Null', 'NULL', '~', '012', '0o17', '0o8', '0x1F', '0xff', '0b101', '1_000', '+12', '-12', '-0', '+0', '00',
  '1.5', '1.', '.5', '-.5', '+.5', '1e3', '1E3', '1e+3', '-1e-2', '.1e1', '6.8523015e+5', '685.230_15e+03', '190:20:30',
  '.inf', '-.Inf', '+.INF', '.nan', '.NaN', 'NaN', 'inf', '2001-12-14t21:59:43.10-05:00', '2002-12-14', '12:30', '1:2',
  '123456789012345678901234567890', '0xFFFFFFFFFFFFFFFFF', '9007199254740993', '=', '<<', 'a#b', 'x: y', '@at', '`tick`',
];

function trickyInventory(): string {
  const lines = ['defaults: { interval: 1m, timeout: 10s }', 'targets:'];
  TRICKY.forEach((s, i) => {
    const quoted = JSON.stringify(s);
    lines.push(
      `  - id: t${i}`,
      `    name: ${/[:#@`]/.test(s) ? quoted : s}`,
      '    labels:',
      `      plain: ${/[:#@`]/.test(s) ? quoted : s}`,
      `      double: ${quoted}`,
      `      single: '${s}'`,
      // A null key is "" to one library and "null" to the other: such files go the precise way.
      ...(/^(?:~|[Nn]ull|NULL)$/.test(s) ? [] : [`      ${/[:#@`]/.test(s) ? quoted : s}: as a key`]),
      `    checks: [{ type: tcp, host: 192.0.2.${i % 250}, port: 22 }]`,
    );
  });
  lines.push(
    '  - id: env-and-blocks',
    '    labels: { community: "${SNMP_COMMUNITY}", dflt: "${MISSING:-fallback}", literal: "$${NOT_ENV}", empty: "${EMPTY}" }',
    '    labels2:',
    '      lit: |',
    '        line one ${SNMP_COMMUNITY}',
    '          indented',
    '      fold: >-',
    '        folded',
    '        text',
    '      keep: |+',
    '        kept',
    '',
    '      escapes: "tab\\there \\u00e9 \\x41 \\\\ \\""',
    "      quote: 'it''s'",
    '      url: https://x.example.invalid/a?b=c#frag  # a comment',
    '      colon: a:b',
    '      empty:',
    '      list: [a, "b", 1, 1.5, true, ~, { k: v }]',
    '      <<: { merged: no }',
    '    checks:',
    '      - type: http',
    '        url: https://${MISSING:-example.invalid}:${PORT}/x',
    '      -   type: tcp',
    '          host: 192.0.2.1',
    '          port: 22',
  );
  return `# tricky\n---\n${lines.join('\n')}\n...\n`;
}

describe('the fast way and the precise way read the same data', () => {
  it('on the shipped probe files and every valid fixture probe file', () => {
    const files = [
      ...readdirSync(path.join(REPO, 'probes')).map((n) => path.join(REPO, 'probes', n)),
      ...readdirSync(path.join(FIXTURES, 'ok', 'probes')).map((n) => path.join(FIXTURES, 'ok', 'probes', n)),
      ...readdirSync(path.join(FIXTURES, 'env', 'probes')).map((n) => path.join(FIXTURES, 'env', 'probes', n)),
    ].filter((f) => /\.ya?ml$/.test(f));
    expect(files.length).toBeGreaterThan(1);
    for (const file of files) expectSameData(readFileSync(file, 'utf8'));
  });

  it('on a generated inventory', () => {
    expectSameData(inventoryYaml(3_000));
  });

  it('on booleans, octal-like numbers, timestamps, merge keys, ${ENV}, quoting and block scalars', () => {
    expectSameData(trickyInventory());
    const data = readYamlFast('f.yaml', trickyInventory(), ENV)!.data as { targets: { labels: Record<string, unknown> }[] };
    const plain = (s: string) => data.targets[TRICKY.indexOf(s)]!.labels.plain;
    // What YAML 1.2 (core schema) says, and what the `yaml` library has always given these files.
    expect([plain('yes'), plain('off'), plain('True'), plain('~')]).toEqual(['yes', 'off', true, null]);
    expect([plain('012'), plain('0o17'), plain('0x1F'), plain('0b101'), plain('-.5')]).toEqual([12, 15, 31, '0b101', -0.5]);
    expect([plain('2002-12-14'), plain('190:20:30')]).toEqual(['2002-12-14', '190:20:30']);
  });

  it('on thousands of randomly damaged files: each is refused or read exactly as the precise way reads it', () => {
    const base = `${inventoryYaml(8)}x:\n  a: "q\\tz"\n  b: |\n    blk\n  c: [1, {d: e}]\n  'k': v # c\n`;
    const chars = [...' \t\n:-#"\'[]{},|>?!&*%@`\\a0.~\r'];
    // A fixed linear congruential sequence: the same files on every run.
    let seed = 12345;
    const random = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
    let fast = 0;
    for (let i = 0; i < 3000; i++) {
      let text = base;
      for (let k = 0; k < 1 + random(3); k++) {
        const at = random(text.length);
        const c = chars[random(chars.length)]!;
        const op = random(3);
        text = text.slice(0, at) + (op === 0 ? '' : c) + text.slice(op === 1 ? at : at + 1);
      }
      const got = readYamlFast('f.yaml', text, {});
      if (!got) continue;
      fast++;
      const precise = readYaml('f.yaml', text, {});
      expect(precise.issues, text).toEqual([]);
      expect(got.data, text).toStrictEqual(precise.data);
    }
    expect(fast).toBeGreaterThan(1000);
  });

  it('an empty file and a file of comments are {} both ways', () => {
    expectSameData('');
    expectSameData('# nothing yet\n');
  });
});

describe('files the fast way leaves to the precise way', () => {
  it.each([
    ['an anchor and an alias', 'a: &x [1]\nb: *x\n'],
    ['an anchor alone', 'a: &x 1\n'],
    ['an explicit tag', 'a: !!int "5"\n'],
    ['a local tag', 'a: !custom 5\n'],
    ['the non-specific tag', "'k': ! # empty\n"],
    ['a %YAML directive', '%YAML 1.1\n---\na: yes\n'],
    ['a duplicate key', 'a: 1\na: 2\n'],
    ['a syntax error', 'a: [1, 2\n'],
    ['a quoted scalar over two lines', 'a: "x\n  y"\n'],
    ['a plain scalar over two lines', 'a: x\n  y\n'],
    ['a flow collection over two lines', 'a: [1,\n  2]\n'],
    ['a collection as a key', '? [a, b]\n: 1\n'],
    ['a null key', '~: 1\n'],
    ['a __proto__ key', '__proto__: { a: 1 }\n'],
    ['an interpolation problem', 'a: ${NOT_SET}\n'],
    ['${ENV} below a key that might be a number', '1: ${PORT}\n'],
    ['two documents', 'a: 1\n---\nb: 2\n'],
  ])('%s', (_what, text) => {
    expect(readYamlFast('f.yaml', text, ENV)).toBeNull();
  });
});

// Large enough for the worker thread (over 256 kB), so the whole way a reload takes is covered.
describe('problems in a large probe file still get their exact positions', { timeout: 180_000 }, () => {
  let dir: string;
  let paths: ConfigPaths;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'incidentd-fast-'));
    cpSync(path.join(FIXTURES, 'ok'), dir, { recursive: true });
    rmSync(path.join(dir, 'probes', 'ok.yaml'));
    paths = { config: path.join(dir, 'incidentd.yaml'), probesDir: path.join(dir, 'probes'), rulesDir: path.join(dir, 'rules') };
    file = path.join(dir, 'probes', 'inventory.yaml');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function issuesOf(text: string): Promise<string[]> {
    writeFileSync(file, text);
    try {
      await loadConfig(paths, {});
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      return err.issues.map(formatIssue);
    }
    throw new Error('the configuration loaded');
  }

  /** The inventory with `replacement` instead of the line `line`; returns the text and that line's number. */
  function withLine(line: string, replacement: string): { text: string; at: number } {
    const text = inventoryYaml(3_000);
    const lines = text.split('\n');
    const i = lines.indexOf(line);
    expect(i).toBeGreaterThan(1000);
    lines[i] = replacement;
    return { text: lines.join('\n'), at: i + 1 };
  }

  it('a duplicate key', async () => {
    const { text, at } = withLine('    labels: { customer: customer-50, contract: silver }', '    labels: { customer: customer-50, customer: gold }');
    const column = '    labels: { customer: customer-50, customer: gold }'.indexOf('customer: gold') + 1;
    expect(await issuesOf(text)).toEqual([`${file}:${at}:${column}: YAML syntax error: duplicate key "customer" (each key may appear once per mapping)`]);
  });

  it('a syntax error', async () => {
    const { text, at } = withLine('  - id: site-0050-srv1', '  - id: site-0050-srv1: x');
    const issues = await issuesOf(text);
    expect(issues[0]).toMatch(new RegExp(`^${file}:${at}:\\d+: YAML syntax error: `));
    // Exactly what the precise way says on its own.
    const precise = readYaml(file, text, {}).issues.map(formatIssue);
    expect(issues).toEqual(precise);
  });

  it('a schema problem and a duplicate target id', async () => {
    const dup = withLine('  - id: site-0050-srv1', '  - id: site-0050-srv0');
    const at = dup.at;
    const text = dup.text.replace('  - id: site-0060-prn0\n', '  - id: site-0060-prn0\n    colour: red\n');
    const colour = text.split('\n').indexOf('    colour: red') + 1;
    const first = text.split('\n').indexOf('  - id: site-0050-srv0') + 1;
    expect(await issuesOf(text)).toEqual([
      `${file}:${at}:9: duplicate target id "site-0050-srv0" (first defined at ${file}:${first}:9)`,
      `${file}:${colour}:5: unknown key "colour" (allowed: id, kind, name, site, labels, depends_on, tenant, trap_sources, checks)`,
    ]);
  });

  it('targets loaded in the worker thread keep the file they are written in', async () => {
    writeFileSync(file, inventoryYaml(3_000));
    const loaded = await loadConfig(paths, {});
    expect(loaded.targets.length).toBeGreaterThan(1000);
    expect(new Set(loaded.targets.map((t) => t.file))).toEqual(new Set([file]));
  });

  it('an alias bomb after thousands of valid targets', async () => {
    const issues = await issuesOf(`${inventoryYaml(3_000)}bomb:\n${aliasBomb().replace(/^/gm, '  ')}\n`);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(new RegExp(`^${file}:\\d+:\\d+: .*alias`));
  });

  it('a valid large file loads the fast way with ${ENV} interpolated', async () => {
    writeFileSync(file, inventoryYaml(3_000).replace('community: monitoring', 'community: "${SNMP_COMMUNITY}"'));
    const loaded = await loadConfig(paths, ENV);
    expect(loaded.targets).toHaveLength(3_000);
    expect(loaded.targets[0]!.checks[1]!.spec).toMatchObject({ community: 'c0mmunity' });
  });
});
