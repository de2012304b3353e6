// The command line as an admin runs it: a real process, real files, exit codes and output.
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { compileCli as buildCli } from './cli-build.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aliasBomb, FIXTURES } from './config/helpers.js';
import { freePort } from './shared/free-port.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..');
// Each test starts a Node process that loads the whole daemon. Through tsx every start compiled
// the sources again (4 s on a quiet machine, past the 20 s default on a loaded 2-core one when a
// test starts it twice); the sources are compiled once below and each start loads plain
// JavaScript (1.5 s quiet). The margin is for machines shared with other jobs.
const SPAWN_TIMEOUT = 60_000;
let CLI = '';
let built = '';

async function compileCli(): Promise<void> {
  ({ cli: CLI, dir: built } = await buildCli('cli'));
}

async function incidentd(
  args: string[],
  cwd: string,
  env: Record<string, string> = { LOG_LEVEL: 'silent' },
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '', ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

let dir: string;
beforeAll(async () => {
  // A copy of the shipped examples, so the tests can break them.
  dir = mkdtempSync(join(tmpdir(), 'incidentd-cli-'));
  for (const d of ['config', 'probes', 'rules']) cpSync(join(ROOT, d), join(dir, d), { recursive: true });
  await compileCli();
}, SPAWN_TIMEOUT);
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  if (built) rmSync(built, { recursive: true, force: true });
});

describe('incidentd validate', { timeout: SPAWN_TIMEOUT }, () => {
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

  it('prints every problem of a multiply broken config and probe file in one run, sorted by file and line', async () => {
    const fx = join(FIXTURES, 'multi-broken');
    const r = await incidentd(['validate', '--config', join(fx, 'incidentd.yaml'), '--probes', join(fx, 'probes'), '--rules', join(FIXTURES, 'ok', 'rules')], dir);
    expect(r.code).toBe(1);
    const config = join(fx, 'incidentd.yaml');
    const probes = join(fx, 'probes', 'broken.yaml');
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      'configuration has 7 errors:',
      `${config}:10:20: folder not found: ${join(fx, 'mail-templates')} (mail-templates is relative to the folder of incidentd.yaml)`,
      `${config}:15:14: file not found: ${join(fx, 'certs', 'tickets-ca.pem')} (certs/tickets-ca.pem is relative to the folder of incidentd.yaml)`,
      `${config}:18:17: expected one of "L1", "L2", "L3" or null, got the string "L4"`,
      `${probes}:6:27: expected a number or a list, got the string "200" (write the number without quotes: 200)`,
      `${probes}:12:9: duplicate target id "db" (first defined at ${probes}:7:9)`,
      `${probes}:23:18: timeout 30s must be shorter than the interval 10s`,
      `${probes}:25:18: depends_on names unknown target "swtich-floor2" (did you mean "switch-floor2"?)`,
    ]);
  });
});

describe('incidentd validate: hostile files', { timeout: SPAWN_TIMEOUT }, () => {
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

describe('incidentd validate: rule cost', { timeout: SPAWN_TIMEOUT }, () => {
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

describe('incidentd rules', { timeout: SPAWN_TIMEOUT }, () => {
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

/** A daemon started the way an admin starts it, with its output collected. */
function startDaemon(args: string[], env: Record<string, string> = { LOG_LEVEL: 'info' }) {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [CLI, ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  child.stdin.end();
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on('exit', (code, signal) => r({ code, signal })),
  );
  let gone = false;
  void exited.then(() => (gone = true));
  return {
    child,
    exited,
    output: () => out,
    /** Waits until the output holds `text` (true) or the daemon exits or 45 s pass (false). */
    async waitFor(text: string | RegExp): Promise<boolean> {
      const deadline = Date.now() + 45_000;
      const has = () => (typeof text === 'string' ? out.includes(text) : text.test(out));
      while (!has() && !gone && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      return has();
    },
  };
}

describe('incidentd: one clear line for a wrong start', { timeout: SPAWN_TIMEOUT }, () => {
  const noStack = (stderr: string) => expect(stderr).not.toMatch(/^\s+at |node:internal|Error:|"level"|\{"/m);

  it('--version prints the version of package.json', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = await incidentd(['--version'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${version}\n`);
  });

  it('LOG_LEVEL=verbose names the levels there are and exits 2', async () => {
    const r = await incidentd(['run'], dir, { LOG_LEVEL: 'verbose' });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'incidentd: LOG_LEVEL "verbose" is not a log level; use one of fatal, error, warn, info, debug, trace, silent\n',
    );
    expect(r.stdout).toBe('');
  });

  it('an API port another program holds is named, with the setting that moves it', async () => {
    const other: Server = createServer();
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    const port = (other.address() as { port: number }).port;
    try {
      const cfg = join(dir, 'taken.yaml');
      writeFileSync(cfg, `listen: { host: 127.0.0.1, port: ${port} }\nstore: { type: sqlite, path: ${join(dir, 'taken.db')} }\n`);
      // At level error: warnings about the example config are not what this test looks at.
      const r = await incidentd(['run', '--config', cfg, '--probes', join(dir, 'probes'), '--rules', join(dir, 'rules')], dir, {
        LOG_LEVEL: 'error',
      });
      expect(r.code).not.toBe(0);
      const lines = r.stderr.split('\n').filter((l) => l.startsWith('incidentd:'));
      expect(lines).toEqual([
        `incidentd: port 127.0.0.1:${port} is in use by another program; set listen.port (or listen.host) in ${cfg} to a free one, or stop the other program`,
      ]);
      noStack(r.stderr);
      noStack(r.stdout);
    } finally {
      await new Promise((r) => other.close(r));
    }
  });
});

describe('incidentd run: SIGHUP', { timeout: SPAWN_TIMEOUT }, () => {
  it('reloads the files, logs it once, and keeps running', async () => {
    const port = await freePort();
    const home = join(dir, 'hup');
    const probes = join(home, 'probes');
    const elsewhere = join(home, 'elsewhere');
    mkdirSync(probes, { recursive: true });
    mkdirSync(elsewhere, { recursive: true });
    const cfg = join(home, 'incidentd.yaml');
    writeFileSync(cfg, `listen: { host: 127.0.0.1, port: ${port} }\nstore: { type: sqlite, path: ${join(home, 'hup.db')} }\n`);
    // The probe file is a link to a file in a folder nobody watches, so only SIGHUP can reload its
    // change: the file watcher sees nothing.
    const target = (id: string) =>
      `  - id: ${id}\n    checks: [{ type: tcp, host: 127.0.0.1, port: ${port}, interval: 1h }]\n`;
    const real = join(elsewhere, 'targets.yaml');
    writeFileSync(real, `targets:\n${target('one')}`);
    symlinkSync(real, join(probes, 'targets.yaml'));

    const d = startDaemon(['run', '--config', cfg, '--probes', probes, '--rules', join(dir, 'rules')]);
    try {
      expect(await d.waitFor('"msg":"incidentd running"'), d.output()).toBe(true);

      writeFileSync(real, `targets:\n${target('one')}${target('two')}${target('three')}`);
      await new Promise((r) => setTimeout(r, 1000));
      expect(d.output()).not.toContain('configuration reloaded');

      d.child.kill('SIGHUP');
      expect(await d.waitFor(/"targets":3[,}].*"msg":"configuration reloaded"/), d.output()).toBe(true);
      expect(d.output().match(/SIGHUP received: reloading the configuration/g)).toHaveLength(1);
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(res.status).toBe(200);

      d.child.kill('SIGTERM');
      expect(await d.exited).toEqual({ code: 0, signal: null });
    } finally {
      d.child.kill('SIGKILL');
    }
  });
});

describe('incidentd run', { timeout: SPAWN_TIMEOUT }, () => {
  it('logs its store and API address, serves, and exits 0 on SIGTERM after closing the store', async () => {
    const port = await freePort();
    const cfg = join(dir, 'run.yaml');
    writeFileSync(cfg, `listen: { host: 127.0.0.1, port: ${port} }\nstore: { type: sqlite, path: ${join(dir, 'run.db')} }\n`);
    const child = spawn(process.execPath, [CLI, 'run', '--config', cfg], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const deadline = Date.now() + 45_000;
    while (!out.includes('API listening') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(out).toContain(`"store":"sqlite:${join(dir, 'run.db')}"`);
    expect(out).toContain(`"url":"http://127.0.0.1:${port}"`);
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(res.status).toBe(200);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toContain('"msg":"stopped"');
  });

  it('stops cleanly on a SIGTERM that arrives while it is still starting (not killed by the default action)', async () => {
    const port = await freePort();
    const cfg = join(dir, 'early.yaml');
    writeFileSync(cfg, `listen: { host: 127.0.0.1, port: ${port} }\nstore: { type: sqlite, path: ${join(dir, 'early.db')} }\n`);
    const child = spawn(process.execPath, [CLI, 'run', '--config', cfg], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let signalled = false;
    // The first log line comes from the start-up itself: the daemon is not running yet.
    const onData = (d: Buffer) => {
      out += d.toString();
      if (!signalled) {
        signalled = true;
        child.kill('SIGTERM');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(out).toContain('"msg":"stopped"');
  });
});

describe('incidentd run: log format', { timeout: SPAWN_TIMEOUT }, () => {
  it('--log-format pretty writes readable lines, not JSON, even when stdout is not a terminal', async () => {
    const port = await freePort();
    const cfg = join(dir, 'pretty.yaml');
    writeFileSync(cfg, `listen: { host: 127.0.0.1, port: ${port} }\nstore: { type: sqlite, path: ${join(dir, 'pretty.db')} }\n`);
    const d = startDaemon(['run', '--config', cfg, '--log-format', 'pretty']);
    try {
      expect(await d.waitFor('incidentd running'), d.output()).toBe(true);
      const line = d.output().split('\n').find((l) => l.includes('incidentd running'))!;
      // `[2026-12-05 08:05:41.981] INFO: incidentd running {"config":…}`: time, level, message first.
      expect(line).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] INFO: incidentd running /);
      expect(d.output()).not.toMatch(/^\{"level"/m);
      // No colour codes into a pipe.
      expect(d.output()).not.toContain('\u001b[');
      d.child.kill('SIGTERM');
      expect(await d.exited).toEqual({ code: 0, signal: null });
      // Written synchronously: the last line before the exit is there.
      expect(d.output()).toMatch(/\] INFO: stopped/);
    } finally {
      d.child.kill('SIGKILL');
    }
  });

  it('an unknown --log-format or LOG_FORMAT is one line and exit 2', async () => {
    const r = await incidentd(['run', '--log-format', 'yaml'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('incidentd: --log-format "yaml" is not a log format; use one of json, pretty\n');
    const env = await incidentd(['run'], dir, { LOG_LEVEL: 'silent', LOG_FORMAT: 'logfmt' });
    expect(env.code).toBe(2);
    expect(env.stderr).toBe('incidentd: LOG_FORMAT "logfmt" is not a log format; use one of json, pretty\n');
  });
});

// Issue 19: at 1,000 checks most of the heap is loaded code, so modules that only some requests
// need load on first use. NODE_DEBUG=module logs each CommonJS file node loads (`load "<path>"`),
// whether required or imported; luxon is required (src/shared/luxon.ts), so its line shows too.
describe('incidentd run: modules that load on first use', { timeout: SPAWN_TIMEOUT }, () => {
  const loaded = (output: string, pkg: string) => new RegExp(`^MODULE \\d+: load "[^"]*/node_modules/${pkg}/`, 'm').test(output);

  it('luxon loads with the first report and @fastify/send with the first page of the portal, commander not at all', async () => {
    const port = await freePort();
    const cfg = join(dir, 'lazy.yaml');
    writeFileSync(cfg, `listen: { host: 127.0.0.1, port: ${port} }\nstore: { type: sqlite, path: ${join(dir, 'lazy.db')} }\n`);
    // A built portal where the compiled CLI looks for one (dist/portal beside its src/).
    const portal = join(built, 'dist', 'portal');
    mkdirSync(portal, { recursive: true });
    writeFileSync(join(portal, 'index.html'), '<!doctype html><title>incidentd</title>');
    const token = 'lazy-modules-test-token';
    const d = startDaemon(['run', '--config', cfg], { LOG_LEVEL: 'info', NODE_DEBUG: 'module', INCIDENTD_API_TOKEN: token });
    try {
      expect(await d.waitFor('"msg":"incidentd running"'), d.output().slice(-2000)).toBe(true);
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBe(200);
      // The check of the helper itself: fastify is loaded the same way at start-up.
      expect(loaded(d.output(), 'fastify')).toBe(true);
      expect(loaded(d.output(), 'luxon')).toBe(false);
      expect(loaded(d.output(), '@fastify/send')).toBe(false);
      expect(loaded(d.output(), '@fastify/static')).toBe(false);
      expect(loaded(d.output(), 'glob')).toBe(false);
      // `run` with plain options is read without the command line parser.
      expect(loaded(d.output(), 'commander')).toBe(false);

      const res = await fetch(`http://127.0.0.1:${port}/api/v1/reports/counts?period=week&zone=Europe/Berlin`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      expect(loaded(d.output(), 'luxon')).toBe(true);

      const page = await fetch(`http://127.0.0.1:${port}/incidents`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<title>incidentd</title>');
      expect(loaded(d.output(), '@fastify/send')).toBe(true);

      d.child.kill('SIGTERM');
      expect((await d.exited).code).toBe(0);
    } finally {
      d.child.kill('SIGKILL');
      rmSync(join(built, 'dist'), { recursive: true, force: true });
    }
  });

  it('no source file imports luxon, the OpenTelemetry API or axios itself, only through src/shared/', () => {
    // A static `import { DateTime } from 'luxon'` would load luxon at start-up again, and one of
    // '@opentelemetry/api' its ES build beside the CommonJS one prom-client requires (ES modules
    // do not show under NODE_DEBUG=module); axios is required on first use, as its CommonJS
    // bundle. `import type` loads nothing.
    const files = readdirSync(join(ROOT, 'src'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    const importing = files.filter((f) => /^import (?!type )[^;]*from '(?:luxon|@opentelemetry\/api|axios)';/m.test(readFileSync(join(ROOT, 'src', f), 'utf8')));
    expect(importing).toEqual([]);
  });
});
