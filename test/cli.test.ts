// The command line as an admin runs it: a real process, real files, exit codes and output.
import { execFile, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aliasBomb } from './config/helpers.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'src', 'cli.ts');
// The tests run the CLI from other folders, where `--import tsx` would not resolve.
const TSX = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

async function incidentd(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', TSX, CLI, ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent' },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

let dir: string;
beforeAll(() => {
  // A copy of the shipped examples, so the tests can break them.
  dir = mkdtempSync(join(tmpdir(), 'incidentd-cli-'));
  for (const d of ['config', 'probes', 'rules']) cpSync(join(ROOT, d), join(dir, d), { recursive: true });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('incidentd validate', () => {
  it('accepts the shipped examples', async () => {
    const r = await incidentd(['validate'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ok: \d+ files, 2 targets, 3 checks, \d+ rules/);
  });

  it('prints every error as FILE:LINE:COLUMN and exits non-zero', async () => {
    const bad = join(dir, 'probes-bad');
    cpSync(join(dir, 'probes'), bad, { recursive: true });
    writeFileSync(
      join(bad, 'zz.yaml'),
      'targets:\n  - id: printer-1\n    kind: printer\n    checks:\n      - { type: tcp, host: 127.0.0.1, port: 9100, intervall: 30s }\n  - id: printer-1\n    checks: []\n',
    );
    const r = await incidentd(['validate', '--probes', bad], dir);
    expect(r.code).toBe(1);
    const file = join(bad, 'zz.yaml');
    expect(r.stderr).toContain(`${file}:5:51: unknown key "intervall" (did you mean "interval"?)`);
    expect(r.stderr).toContain(`${file}:6:9: duplicate target id "printer-1" (first defined at ${file}:2:9)`);
  });
});

describe('incidentd validate: hostile files', () => {
  // Each prints FILE:LINE:COLUMN: message like any other config error: no stack trace.
  const noStack = (stderr: string) => expect(stderr).not.toMatch(/^\s+at |node:internal|Error:/m);

  it('an alias bomb', async () => {
    const probes = join(dir, 'probes-bomb');
    cpSync(join(dir, 'probes'), probes, { recursive: true });
    writeFileSync(join(probes, 'bomb.yaml'), aliasBomb());
    const r = await incidentd(['validate', '--probes', probes], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`${join(probes, 'bomb.yaml')}:\\d+:\\d+: YAML aliases expand to more than 1000 nodes`));
    noStack(r.stderr);
  });

  it('a symbolic link loop', async () => {
    const probes = join(dir, 'probes-loop');
    cpSync(join(dir, 'probes'), probes, { recursive: true });
    symlinkSync(join(probes, 'loop.yaml'), join(probes, 'loop.yaml'));
    const r = await incidentd(['validate', '--probes', probes], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${join(probes, 'loop.yaml')}:1:1: symbolic link loop`);
    noStack(r.stderr);
  });

  it('a dangling symbolic link', async () => {
    const rules = join(dir, 'rules-dangling');
    cpSync(join(dir, 'rules'), rules, { recursive: true });
    symlinkSync(join(dir, 'gone.yaml'), join(rules, 'gone.yaml'));
    const r = await incidentd(['validate', '--rules', rules], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${join(rules, 'gone.yaml')}:1:1: dangling symbolic link: it points at ${join(dir, 'gone.yaml')}`);
    noStack(r.stderr);
  });
});

describe('incidentd validate: rule cost', () => {
  it('warns (and still accepts) a condition with comprehensions nested over signal data', async () => {
    const rules = join(dir, 'rules-costly');
    cpSync(join(dir, 'rules'), rules, { recursive: true });
    writeFileSync(
      join(rules, 'zz.yaml'),
      'rules:\n  - id: costly\n    when: labels.x.split("").exists(a, labels.x.split("").exists(b, a != b))\n' +
        '    classify: { category: x, severity: minor, impact: single-user, tier: L1 }\n    title: t\n',
    );
    const r = await incidentd(['validate', '--rules', rules], dir);
    expect(r.code).toBe(0);
    // Column 58 is the inner comprehension, the one whose cost multiplies the outer one's.
    expect(r.stderr).toContain(`${join(rules, 'zz.yaml')}:3:58: warning: when: comprehensions nested over signal data`);
  });
});

describe('incidentd rules', () => {
  it('explain names the matching rule and why earlier rules did not match, storing nothing', async () => {
    const signal = join(dir, 'signal.json');
    writeFileSync(
      signal,
      JSON.stringify({
        target: { id: 'web-1', kind: 'server', name: 'Intranet' },
        check: { name: 'healthz', type: 'http' },
        status: 'fail',
        message: 'HTTP 503',
        values: { status: 503 },
      }),
    );
    const r = await incidentd(['rules', 'explain', signal], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/MATCH/);
    expect(r.stdout).toMatch(/severity\s*:?\s*severe/);
    expect(r.stdout).toMatch(/fingerprint/);
    expect(r.stdout).toMatch(/no match/);
  });

  it('test passes on the shipped rule tests and fails on a wrong expectation', async () => {
    const ok = await incidentd(['rules', 'test'], dir);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/\d+ passed, 0 failed/);

    writeFileSync(
      join(dir, 'rules', 'tests', 'wrong.yaml'),
      'tests:\n  - name: ping of a server is surely minor\n    signal: { target: { id: s1, kind: server }, check: { name: ping, type: icmp }, status: fail }\n    expect:\n      - { rule: host-unreachable, severity: minor }\n',
    );
    const bad = await incidentd(['rules', 'test'], dir);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('FAIL');
    expect(bad.stdout).toMatch(/expected severity minor, got \w+/);
    rmSync(join(dir, 'rules', 'tests', 'wrong.yaml'));
  });
});

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

describe('incidentd run', () => {
  it('logs its store and API address, serves, and exits 0 on SIGTERM after closing the store', async () => {
    const port = await freePort();
    const cfg = join(dir, 'run.yaml');
    writeFileSync(cfg, `listen: { host: 127.0.0.1, port: ${port} }\nstore: { type: sqlite, path: ${join(dir, 'run.db')} }\n`);
    const child = spawn(process.execPath, ['--import', TSX, CLI, 'run', '--config', cfg], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const deadline = Date.now() + 15_000;
    while (!out.includes('API listening') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(out).toContain(`"store":"sqlite:${join(dir, 'run.db')}"`);
    expect(out).toContain(`"url":"http://127.0.0.1:${port}"`);
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(res.status).toBe(200);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toContain('"msg":"stopped"');
  });
});
