// `incidentd validate` on rule tests and rule types, and `incidentd rules explain`, as an admin runs
// them: a real process (the CLI compiled once with esbuild, as in cli.test.ts), real files, stdin.
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { compileCli as buildCli } from './cli-build.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const SPAWN_TIMEOUT = 60_000;
let CLI = '';
let built = '';
let dir = '';

async function compileCli(): Promise<void> {
  ({ cli: CLI, dir: built } = await buildCli('cli-rules'));
}

/** Runs the CLI in `cwd` with an explicit environment, writing `stdin` (if any) to it. */
function incidentd(args: string[], cwd: string, stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

/** A fresh copy of the shipped config, probes, rules and examples, as a clone has them. */
function clone(): string {
  const d = mkdtempSync(join(dir, 'clone-'));
  for (const sub of ['config', 'probes', 'rules', 'examples']) cpSync(join(ROOT, sub), join(d, sub), { recursive: true });
  return d;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'incidentd-cli-rules-'));
  await compileCli();
}, SPAWN_TIMEOUT);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (built) rmSync(built, { recursive: true, force: true });
});

describe('incidentd validate: rule tests and rule types', { timeout: SPAWN_TIMEOUT }, () => {
  it('fails on a misspelt key in rules/tests, at its position, with a did-you-mean', async () => {
    const d = clone();
    const file = join(d, 'rules', 'tests', 'examples.yaml');
    const text = readFileSync(file, 'utf8');
    const lines = text.split('\n');
    const at = lines.findIndex((l) => l.trim() === 'priority: P1');
    writeFileSync(file, text.replace('priority: P1', 'priorty: P1'));
    const r = await incidentd(['validate'], d);
    expect(r.code).toBe(1);
    const column = lines[at]!.indexOf('priority') + 1;
    expect(r.stderr).toContain(`rules/tests/examples.yaml:${at + 1}:${column}: unknown key "priorty" (did you mean "priority"?)`);
    expect(r.stdout).toBe('');
  });

  it('fails on a measurement compared with a number in quotes, at the operator, naming the types', async () => {
    const d = clone();
    writeFileSync(
      join(d, 'rules', 'zz-latency.yaml'),
      [
        'rules:',
        '  - id: slow-connect',
        '    when: check.type == "tcp" && values.connectMs > "100"',
        '    classify: { category: network.latency, severity: minor, impact: single-user, tier: L1 }',
        '    title: "{{target.name}} connects slowly"',
        '',
      ].join('\n'),
    );
    const r = await incidentd(['validate'], d);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "rules/zz-latency.yaml:3:51: when: '>' compares values.connectMs (a measurement: double when the signal carries a number, " +
        'as probes record them) with a string ("100"), so the rule never matches; write 100 without quotes',
    );
  });
});

describe('incidentd rules explain', { timeout: SPAWN_TIMEOUT }, () => {
  it('explains the shipped example signal, as the README shows, from a fresh clone', async () => {
    const r = await incidentd(['rules', 'explain', 'examples/signal.json'], clone());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/host-unreachable\s+MATCH/);
    expect(r.stdout).toContain('title: This machine does not answer ping');
  });

  it('reads the signal from stdin with -', async () => {
    const signal = readFileSync(join(ROOT, 'examples', 'signal.json'), 'utf8');
    const r = await incidentd(['rules', 'explain', '-'], clone(), signal);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/host-unreachable\s+MATCH/);
  });

  it('lists a later rule that also matches as shadowed, and names the rule that wins', async () => {
    const d = clone();
    writeFileSync(
      join(d, 'rules', 'zz-ping.yaml'),
      [
        'rules:',
        '  - id: any-ping-failure',
        '    when: check.name == "ping"',
        '    classify: { category: network.reachability, severity: major, impact: site, tier: L2 }',
        '    title: "{{target.name}}: ping failing"',
        '',
      ].join('\n'),
    );
    const r = await incidentd(['rules', 'explain', 'examples/signal.json'], d);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/host-unreachable\s+MATCH/);
    expect(r.stdout).toMatch(/any-ping-failure\s+SHADOWED\s+host-unreachable matches first and wins/);
    expect(r.stdout).not.toContain('rule any-ping-failure');
  });

  it('says where broken JSON is broken, in one line without a stack', async () => {
    const r = await incidentd(['rules', 'explain', '-'], clone(), '{\n  "target": { "id": "x" },\n  "check": { "name": "ping", }\n}\n');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('<stdin>:3:30: not JSON: Expected double-quoted property name\n');
  });

  it('names the missing fields and misspelt ones of a signal', async () => {
    const d = clone();
    writeFileSync(join(d, 'bad-signal.json'), JSON.stringify({ target: { name: 'x' }, chek: { name: 'ping' } }));
    const r = await incidentd(['rules', 'explain', 'bad-signal.json'], d);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')).toEqual([
      'bad-signal.json: missing required fields: target.id, check (a signal needs at least {"target": {"id": "..."}, "check": {"name": "..."}})',
      'bad-signal.json: unknown field "chek" (did you mean "check"?)',
      '',
    ]);
  });

  it('runs from another folder with the paths given, reading the signal relative to that folder', async () => {
    const d = clone();
    const elsewhere = join(dir, 'elsewhere');
    mkdirSync(elsewhere, { recursive: true });
    cpSync(join(d, 'examples', 'signal.json'), join(elsewhere, 'signal.json'));
    const r = await incidentd(
      ['rules', 'explain', 'signal.json', '--config', join(d, 'config', 'incidentd.yaml'), '--probes', join(d, 'probes'), '--rules', join(d, 'rules')],
      elsewhere,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/host-unreachable\s+MATCH/);
  });

  it('from another folder without paths, says that the defaults (those of run) are relative to it', async () => {
    const elsewhere = mkdtempSync(join(dir, 'empty-'));
    const r = await incidentd(['rules', 'explain', '-'], elsewhere, readFileSync(join(ROOT, 'examples', 'signal.json'), 'utf8'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('config/incidentd.yaml:1:1: file does not exist');
    expect(r.stderr).toContain(`config/incidentd.yaml, probes, rules not found under ${elsewhere}: paths are relative to the current folder`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
