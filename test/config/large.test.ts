// Issue 12, finding 7: large probe files load in linear time, off the event loop, with duplicate
// keys still reported at their positions, and a size limit with a clear message. Behaviour only:
// the speed targets are measured by `npm run bench:config`.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, type ConfigPaths } from '../../src/config/load.js';
import { ConfigError, formatIssue } from '../../src/shared/errors.js';
import { inventoryYaml } from '../../bench/inventory.js';
import { FIXTURES } from './helpers.js';

let dir: string;
let paths: ConfigPaths;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'incidentd-large-'));
  cpSync(path.join(FIXTURES, 'ok'), dir, { recursive: true });
  rmSync(path.join(dir, 'probes', 'ok.yaml'));
  paths = { config: path.join(dir, 'incidentd.yaml'), probesDir: path.join(dir, 'probes'), rulesDir: path.join(dir, 'rules') };
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function issuesOf(): Promise<string[]> {
  try {
    await loadConfig(paths, {});
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.issues.map(formatIssue);
  }
  throw new Error('the configuration loaded');
}

/** 1-based line of the first line of `text` that equals `line`, searching from line `after`. */
function lineOf(text: string, line: string, after = 1): number {
  const lines = text.split('\n');
  const i = lines.findIndex((l, n) => n + 1 >= after && l === line);
  if (i === -1) throw new Error(`no line ${JSON.stringify(line)}`);
  return i + 1;
}

// Loading a few MB takes seconds on a busy machine; these tests assert what is loaded, not how fast.
describe('a large inventory', { timeout: 180_000 }, () => {
  it('loads 20,000 targets with their labels, dependencies and checks', async () => {
    writeFileSync(path.join(dir, 'probes', 'inventory.yaml'), inventoryYaml(20_000));
    const loaded = await loadConfig(paths, {});
    expect(loaded.targets).toHaveLength(20_000);
    const byId = new Map(loaded.targets.map((t) => [t.id, t]));
    const ap = byId.get('site-0003-ap2-0')!;
    expect(ap).toMatchObject({ kind: 'wifi-ap', site: 'site-0003', labels: { customer: 'customer-3', contract: 'gold' }, dependsOn: ['site-0003-sw2'] });
    expect(ap.checks.map((c) => c.type)).toEqual(['icmp', 'snmp']);
    expect(ap.checks[1]!.spec).toMatchObject({ community: 'monitoring', get: { clients: '1.3.6.1.4.1.14179.2.1.1.1.38' } });
    expect(ap.checks[0]!.intervalMs).toBe(60_000);
    const server = byId.get('site-0100-srv1')!;
    expect(server.checks.map((c) => c.type)).toEqual(['icmp', 'tcp', 'http']);
    expect(server.checks[1]!.name).toBe('port-22');
    expect(server.checks[2]!.intervalMs).toBe(120_000);
  });

  it('reports duplicate keys deep in a large file at their line and column', async () => {
    let text = inventoryYaml(8_000);
    // A second `kind:` in one target far down the file, and a repeated key in a flow mapping.
    const at = text.indexOf('  - id: site-0200-srv0\n');
    text = `${text.slice(0, at)}  - id: site-0200-srv0\n    kind: server\n${text.slice(at + '  - id: site-0200-srv0\n'.length)}`;
    const duplicated = '    labels: { customer: customer-10, customer: x }';
    text = text.replace('    labels: { customer: customer-10, contract: silver }\n', `${duplicated}\n`);
    const file = path.join(dir, 'probes', 'inventory.yaml');
    writeFileSync(file, text);
    const kindLine = lineOf(text, '  - id: site-0200-srv0') + 2;
    const labelLine = lineOf(text, duplicated);
    expect(await issuesOf()).toEqual([
      `${file}:${labelLine}:${duplicated.indexOf('customer: x') + 1}: YAML syntax error: duplicate key "customer" (each key may appear once per mapping)`,
      `${file}:${kindLine}:5: YAML syntax error: duplicate key "kind" (each key may appear once per mapping)`,
    ]);
  });

  it('reports validation problems in a large file at their positions', async () => {
    let text = inventoryYaml(8_000);
    text = text.replace('  - id: site-0200-prn1\n', '  - id: site-0400-prn1\n    colour: red\n');
    const file = path.join(dir, 'probes', 'inventory.yaml');
    writeFileSync(file, text);
    expect(await issuesOf()).toEqual([`${file}:${lineOf(text, '    colour: red')}:5: unknown key "colour" (allowed: id, kind, name, site, labels, depends_on, tenant, trap_sources, checks)`]);
  });

  it('keeps the event loop turning while it loads', async () => {
    writeFileSync(path.join(dir, 'probes', 'inventory.yaml'), inventoryYaml(8_000));
    let turns = 0;
    const timer = setInterval(() => turns++, 1);
    try {
      await loadConfig(paths, {});
    } finally {
      clearInterval(timer);
    }
    // Parsed on this thread, the file would hold the loop for the whole parse: a handful of turns.
    expect(turns).toBeGreaterThan(50);
  });
});

describe('config.max_file_bytes', { timeout: 180_000 }, () => {
  it('refuses a probe file larger than the limit, saying how large each is', async () => {
    writeFileSync(paths.config, `${'listen:\n  port: 19740\n'}config:\n  max_file_bytes: 2000000\n`);
    const file = path.join(dir, 'probes', 'inventory.yaml');
    const text = inventoryYaml(20_000);
    writeFileSync(file, text);
    const mb = (Buffer.byteLength(text) / 1_000_000).toFixed(1);
    expect(await issuesOf()).toEqual([
      `${file}:1:1: file is ${mb} MB, larger than config.max_file_bytes (2.0 MB); split it into several files or raise the limit`,
    ]);
  });

  it('defaults to 8 MB', async () => {
    const loaded = await loadConfig({ ...paths, probesDir: path.join(FIXTURES, 'ok', 'probes') }, {});
    expect(loaded.daemon.config.maxFileBytes).toBe(8_000_000);
  });
});

describe('dependencies in a large inventory', { timeout: 180_000 }, () => {
  it('loads a depends_on chain 20,000 targets long (no recursion per link)', async () => {
    const lines = ['targets:'];
    for (let i = 0; i < 20_000; i++) {
      lines.push(`  - { id: t${i}, ${i > 0 ? `depends_on: [t${i - 1}], ` : ''}checks: [{ type: tcp, host: 127.0.0.1, port: 9 }] }`);
    }
    writeFileSync(path.join(dir, 'probes', 'chain.yaml'), `${lines.join('\n')}\n`);
    const loaded = await loadConfig(paths, {});
    expect(loaded.targets).toHaveLength(20_000);
    expect(loaded.targets[19_999]!.dependsOn).toEqual(['t19998']);
  });

  it('reports a cycle at the end of a long chain', async () => {
    const lines = ['targets:'];
    for (let i = 0; i < 20_000; i++) lines.push(`  - { id: t${i}, depends_on: [t${(i + 1) % 20_000}] }`);
    const file = path.join(dir, 'probes', 'ring.yaml');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const issues = await issuesOf();
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(new RegExp(`^${file}:2:\\d+: dependency cycle: t0 -> t1 -> .* -> t19999 -> t0;`));
  });

  it('reports every unknown depends_on of thousands, suggesting names only for the first ones', async () => {
    const lines = ['targets:'];
    for (let i = 0; i < 5_000; i++) lines.push(`  - { id: target-${i}, depends_on: [missing-${i}] }`);
    writeFileSync(path.join(dir, 'probes', 'unknown.yaml'), `${lines.join('\n')}\n`);
    const issues = await issuesOf();
    expect(issues).toHaveLength(5_000);
    expect(issues[4_999]).toMatch(/depends_on names unknown target "missing-4999"$/);
  });
});
