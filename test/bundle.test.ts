// The daemon as it ships: `npm start`, the systemd unit and the Docker image run the bundle that
// build/bundle.ts makes of the compiled sources. The bundle changes where each module's
// import.meta.url points, so what the code finds from it is checked here on a real process: the
// package.json (--version), the probe worker's file (an inventory large enough to be read in the
// worker), the portal's folder, and packages required on first use from node_modules.
import { spawn, execFile, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleDaemon } from '../build/bundle.js';
import { compileCli } from './cli-build.js';
import { freePort } from './shared/free-port.js';

const ROOT = resolve(import.meta.dirname, '..');
const SPAWN_TIMEOUT = 90_000;
let built = '';
let CLI = '';
let dir = '';

beforeAll(async () => {
  const compiled = await compileCli('bundle');
  built = compiled.dir;
  // Laid out as the project: the bundle in dist/bundle/, the portal in dist/portal/, package.json
  // and node_modules at the top.
  await bundleDaemon(join(built, 'src'), join(built, 'dist', 'bundle'));
  CLI = join(built, 'dist', 'bundle', 'cli.js');
  dir = mkdtempSync(join(tmpdir(), 'incidentd-bundle-'));
}, SPAWN_TIMEOUT);
afterAll(() => {
  if (built) rmSync(built, { recursive: true, force: true });
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the bundled daemon', { timeout: SPAWN_TIMEOUT }, () => {
  it('prints the version of package.json', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const { stdout } = await promisify(execFile)(process.execPath, [CLI, '--version'], { cwd: dir });
    expect(stdout).toBe(`${version}\n`);
  });

  it('loads a large inventory in its worker, turns an alert into an incident, serves the portal and stops cleanly', async () => {
    const port = await freePort();
    const closed = await freePort();
    // The shipped config with its port and store moved here.
    const shipped = readFileSync(join(ROOT, 'config', 'incidentd.yaml'), 'utf8');
    const config = shipped.replace(/^ {2}port: 9740$/m, `  port: ${port}`).replace(/^ {2}path: \.\.\/data\/incidentd\.db$/m, `  path: ${join(dir, 'incidentd.db')}`);
    expect(config).toContain(`port: ${port}`);
    expect(config).toContain(join(dir, 'incidentd.db'));
    writeFileSync(join(dir, 'incidentd.yaml'), config);
    // Over the 256 kB from which probe files are read in a worker thread (src/config/probe-worker-spawn.ts).
    const probes = join(dir, 'probes');
    mkdirSync(probes, { recursive: true });
    const targets = Array.from(
      { length: 3000 },
      (_, i) => `  - id: bundle-host-${i}\n    kind: server\n    checks:\n      - { type: tcp, host: 127.0.0.1, port: ${closed}, interval: 1h }\n`,
    );
    writeFileSync(join(probes, 'inventory.yaml'), `targets:\n${targets.join('')}`);
    expect(readFileSync(join(probes, 'inventory.yaml')).length).toBeGreaterThan(256 * 1024);
    const portal = join(built, 'dist', 'portal');
    mkdirSync(portal, { recursive: true });
    writeFileSync(join(portal, 'index.html'), '<!doctype html><title>incidentd bundle</title>');
    cpSync(join(ROOT, 'rules'), join(dir, 'rules'), { recursive: true });

    const child: ChildProcessWithoutNullStreams = spawn(
      process.execPath,
      [CLI, 'run', '--config', join(dir, 'incidentd.yaml'), '--probes', probes, '--rules', join(dir, 'rules'), '--log-format', 'json'],
      { cwd: dir, env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info' } },
    );
    child.stdin.end();
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      const deadline = Date.now() + 60_000;
      while (!out.includes('"msg":"incidentd running"') && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(out, out.slice(-3000)).toContain('"msg":"incidentd running"');
      const api = (path: string, init: RequestInit = {}) => fetch(`http://127.0.0.1:${port}${path}`, init);
      const admin = { authorization: 'Bearer change-me' };

      const checks = await api('/api/v1/checks', { headers: admin });
      const body = await checks.text();
      expect(checks.status, body.slice(0, 500)).toBe(200);
      // The worker's 3,000 targets.
      const ids = new Set((JSON.parse(body) as { items: { target: { id: string } }[] }).items.map((c) => c.target.id));
      expect(ids.size).toBe(3000);
      expect(ids.has('bundle-host-2999')).toBe(true);

      const posted = await api('/api/v1/alerts', {
        method: 'POST',
        headers: { authorization: 'Bearer change-me-webhook', 'content-type': 'application/json' },
        body: JSON.stringify({ alerts: [{ name: 'DiskFull', target: 'fileserver', status: 'firing', severity: 'critical' }] }),
      });
      expect(posted.status).toBe(200);
      let titles: string[] = [];
      for (let i = 0; i < 100 && !titles.includes('DiskFull on fileserver'); i++) {
        await new Promise((r) => setTimeout(r, 50));
        const page = (await (await api('/api/v1/incidents', { headers: admin })).json()) as { items: { title: string }[] };
        titles = page.items.map((x) => x.title);
      }
      expect(titles).toContain('DiskFull on fileserver');

      const page = await api('/incidents');
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<title>incidentd bundle</title>');

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
