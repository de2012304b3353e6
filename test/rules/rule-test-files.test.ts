// validate reads rules/tests/*.yaml too: strict keys with a did-you-mean, positions, and the rule
// ids and test names the expectations refer to. Real files in a temporary folder.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, loadRuleTests } from '../../src/config/load.js';
import { readRuleTestFiles } from '../../src/rules/rule-test-files.js';
import { ConfigError, formatIssue } from '../../src/shared/errors.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const made: string[] = [];

/** A copy of the shipped config, probes and rules, so a test can break it. */
function shippedCopy(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'incidentd-rule-tests-'));
  made.push(dir);
  for (const d of ['config', 'probes', 'rules']) cpSync(path.join(ROOT, d), path.join(dir, d), { recursive: true });
  return dir;
}

function pathsOf(dir: string) {
  return { config: path.join(dir, 'config', 'incidentd.yaml'), probesDir: path.join(dir, 'probes'), rulesDir: path.join(dir, 'rules') };
}

async function issueLines(dir: string): Promise<string[]> {
  const err = await loadConfig(pathsOf(dir), {}, { ruleTests: true }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return (err as ConfigError).issues.map((i) => formatIssue({ ...i, file: path.relative(dir, i.file) }));
}

afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

const BROKEN = `tests:
  - name: server down
    signal:
      target: { id: srv-1 }
      check: { name: ping, type: icmp }
    expect:
      - rule: host-unreachable
        priorty: P4
  - name: gateway
    signal:
      target: { id: gw-1, kind: gateway }
      check: { name: ping, type: icmp }
    expect:
      - rule: site-unreachabel
        fingerprint_same_as: server dwon
`;

describe('rule test files in validate', () => {
  it('the shipped ones pass', async () => {
    const dir = shippedCopy();
    const cfg = await loadConfig(pathsOf(dir), {}, { ruleTests: true });
    expect(cfg.files.filter((f) => f.includes(`${path.sep}tests${path.sep}`)).length).toBeGreaterThan(0);
  });

  it('a misspelt key, an unknown rule id and an unknown test name are all reported in one run, with positions', async () => {
    const dir = shippedCopy();
    writeFileSync(path.join(dir, 'rules', 'tests', 'zz-broken.yaml'), BROKEN);
    expect(await issueLines(dir)).toEqual([
      'rules/tests/zz-broken.yaml:8:9: unknown key "priorty" (did you mean "priority"?)',
      'rules/tests/zz-broken.yaml:14:15: no rule has the id "site-unreachabel" (did you mean "site-unreachable"?)',
      'rules/tests/zz-broken.yaml:15:30: no test in this file is named "server dwon" (did you mean "server down"?)',
    ]);
  });

  it('a typo in the shipped examples fails validate at its line and column', async () => {
    const dir = shippedCopy();
    const file = path.join(dir, 'rules', 'tests', 'examples.yaml');
    const text = readFileSync(file, 'utf8');
    const lines = text.split('\n');
    const at = lines.findIndex((l) => l.trim() === 'priority: P1');
    expect(at).toBeGreaterThan(0);
    writeFileSync(file, text.replace('priority: P1', 'priorty: P1'));
    const column = lines[at]!.indexOf('priority') + 1;
    expect(await issueLines(dir)).toEqual([`rules/tests/examples.yaml:${at + 1}:${column}: unknown key "priorty" (did you mean "priority"?)`]);
  });

  it('are not read when the daemon loads its configuration: a broken test file does not stop a start', async () => {
    const dir = shippedCopy();
    writeFileSync(path.join(dir, 'rules', 'tests', 'zz-broken.yaml'), BROKEN);
    const cfg = await loadConfig(pathsOf(dir), {});
    expect(cfg.engine.ruleCount).toBeGreaterThan(0);
  });

  it('a rule that failed to load is not reported a second time as unknown by the tests that name it', async () => {
    const dir = shippedCopy();
    const file = path.join(dir, 'rules', 'network.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('check.type == "icmp" && target.kind in', 'check.typo == "icmp" && target.kind in'));
    const lines = await issueLines(dir);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^rules\/network\.yaml:\d+:\d+: when: check has no field 'typo'/);
  });

  it('a rules folder without tests has none, and that is no problem', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'incidentd-no-tests-'));
    made.push(dir);
    mkdirSync(path.join(dir, 'rules'));
    expect(await readRuleTestFiles(path.join(dir, 'rules'), { ruleIds: [] })).toEqual({ files: [], read: [], issues: [] });
    expect(await loadRuleTests(path.join(dir, 'rules'), {})).toEqual([]);
  });
});
