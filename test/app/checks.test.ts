// GET /api/v1/checks and the per-check metrics, through the real daemon: YAML files in a temp dir,
// real HTTP services on loopback, the real scheduler, the API read over HTTP.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app/app.js';
import { SystemClock } from '../../src/shared/clock.js';
import type { Logger } from '../../src/shared/logger.js';
import { silentLogger } from '../../src/shared/logger.js';

const TOKEN = 'checks-secret-4b1d';

let dir: string;
let app: App | null = null;
let service: Server | null = null;
let savedPath: string | undefined;

function paths() {
  return { config: join(dir, 'incidentd.yaml'), probesDir: join(dir, 'probes'), rulesDir: join(dir, 'rules') };
}

function writeFiles(probes: string, rules = 'rules: []\n') {
  mkdirSync(join(dir, 'probes'), { recursive: true });
  mkdirSync(join(dir, 'rules'), { recursive: true });
  writeFileSync(
    paths().config,
    `listen: { host: 127.0.0.1, port: 9740 }
store: { type: sqlite, path: ${join(dir, 'incidentd.db')} }
api: { tokens: [ { name: ops, token: "${TOKEN}" } ] }
scheduler: { concurrency: 4, jitter: 0.1 }
`,
  );
  writeFileSync(join(dir, 'probes', 'p.yaml'), probes);
  writeFileSync(join(dir, 'rules', 'r.yaml'), rules);
}

function capturingLogger(): { logger: Logger; lines: () => Array<Record<string, unknown>> } {
  const out: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      out.push(chunk.toString('utf8'));
      done();
    },
  });
  return {
    logger: pino({ level: 'info' }, sink),
    lines: () =>
      out
        .join('')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

async function start(logger: Logger = silentLogger()): Promise<App> {
  app = await createApp({ paths: paths(), clock: new SystemClock(), logger, env: {}, watch: false, port: 0 });
  return app;
}

async function api(path: string, token: string | null = TOKEN) {
  const res = await fetch(`${app!.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, body: (await res.json()) as any };
}

async function metricsText(): Promise<string> {
  return (await fetch(`${app!.url}/metrics`)).text();
}

async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function startService(): Promise<number> {
  service = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => service!.listen(0, '127.0.0.1', r));
  return (service.address() as AddressInfo).port;
}

/** A loopback port with nothing listening. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'incidentd-checks-'));
  savedPath = process.env.PATH;
});

afterEach(async () => {
  process.env.PATH = savedPath;
  await app?.stop();
  app = null;
  if (service) {
    await new Promise<void>((r) => service!.close(() => r()));
    service = null;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('GET /api/v1/checks', () => {
  it('lists every check with its state, filters by state and target, and needs a token', async () => {
    const up = await startService();
    const down = await closedPort();
    writeFiles(`defaults: { interval: 300ms, timeout: 250ms }
targets:
  - id: web-2
    name: Shop
    checks:
      - { type: tcp, name: shop-port, host: 127.0.0.1, port: ${down} }
  - id: web-1
    name: Intranet
    checks:
      - { type: http, name: healthz, url: "http://127.0.0.1:${up}/healthz", expect: { status: 200, body: ok } }
      - { type: tcp, name: admin-port, host: 127.0.0.1, port: ${down} }
`);
    const startedAt = Date.now();
    await start();

    const settled = await until('every check run at least twice', async () => {
      const { body } = await api('/api/v1/checks');
      const byId = new Map(body.items.map((c: any) => [c.id, c]));
      const ready =
        (byId.get('web-1/healthz') as any)?.state === 'up' &&
        ['web-1/admin-port', 'web-2/shop-port'].every((id) => (byId.get(id) as any)?.consecutiveFailures >= 2);
      return ready ? body : null;
    });
    // Ordered by target id, then check name, whatever the order in the file.
    expect(settled.items.map((c: any) => c.id)).toEqual(['web-1/admin-port', 'web-1/healthz', 'web-2/shop-port']);
    const healthz = settled.items[1];
    expect(healthz).toMatchObject({ target: { id: 'web-1', name: 'Intranet' }, check: 'healthz', kind: 'http', state: 'up', consecutiveFailures: 0 });
    expect(typeof healthz.latencyMs).toBe('number');
    expect(Date.parse(healthz.since)).toBeGreaterThanOrEqual(startedAt - 1000);
    expect(Date.parse(healthz.lastRun)).toBeGreaterThanOrEqual(Date.parse(healthz.since));
    const admin = settled.items[0];
    expect(admin).toMatchObject({ kind: 'tcp', state: 'down' });
    expect(admin.lastError).toMatch(/refused/i);
    expect(admin.consecutiveFailures).toBeGreaterThanOrEqual(2);
    expect(settled.counts).toEqual({ up: 1, down: 2, unknown: 0, 'cannot-run': 0 });

    expect((await api('/api/v1/checks?state=down')).body.items.map((c: any) => c.id)).toEqual(['web-1/admin-port', 'web-2/shop-port']);
    expect((await api('/api/v1/checks?state=down&target=web-2')).body.items.map((c: any) => c.id)).toEqual(['web-2/shop-port']);
    expect((await api('/api/v1/checks?state=up,unknown')).body.items.map((c: any) => c.id)).toEqual(['web-1/healthz']);
    const bad = await api('/api/v1/checks?state=green');
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('state: must be one of up, down, unknown, cannot-run');
    expect((await api('/api/v1/checks?sort=name')).status).toBe(400);
    expect((await api('/api/v1/checks', null)).status).toBe(401);
    expect((await api('/api/v1/checks', 'wrong-token')).status).toBe(401);
  });

  it('exposes incidentd_check_up and _duration_seconds per check, and drops the series of a check removed by a reload', async () => {
    const up = await startService();
    const down = await closedPort();
    const healthz = `      - { type: http, name: healthz, url: "http://127.0.0.1:${up}/healthz" }\n`;
    const admin = `      - { type: tcp, name: admin-port, host: 127.0.0.1, port: ${down} }\n`;
    const probes = (checks: string) => `defaults: { interval: 300ms, timeout: 250ms }
targets:
  - id: web-1
    name: Intranet
    checks:
${checks}`;
    writeFiles(probes(healthz + admin));
    await start();

    const text = await until('both series', async () => {
      const t = await metricsText();
      return t.includes('incidentd_check_up{target="web-1",check="admin-port",kind="tcp"} 0') &&
        t.includes('incidentd_check_up{target="web-1",check="healthz",kind="http"} 1')
        ? t
        : null;
    });
    expect(text).toMatch(/incidentd_check_duration_seconds\{target="web-1",check="healthz",kind="http"\} \d/);
    expect(text).toContain('incidentd_checks{state="down"} 1');

    writeFiles(probes(healthz));
    expect(await app!.reload()).toBeNull();
    // A run of the removed check still in flight must not bring its series back.
    await new Promise((r) => setTimeout(r, 400));
    const after = await metricsText();
    expect(after).not.toContain('check="admin-port"');
    expect(after).toContain('incidentd_check_up{target="web-1",check="healthz",kind="http"} 1');
    expect(after).toContain('incidentd_checks{state="down"} 0');
    expect((await api('/api/v1/checks')).body.items.map((c: any) => c.id)).toEqual(['web-1/healthz']);
  });
});

describe('a machine without the ping program', () => {
  it('warns once at start-up, shows the icmp check as cannot-run, and opens no incident about the target', async () => {
    writeFiles(
      `targets:
  - id: gw-1
    name: Gateway
    checks:
      - { type: icmp, name: ping, host: 127.0.0.1, interval: 1100ms, timeout: 1s }
`,
      // Any failing ping would open an incident at its first signal.
      `rules:
  - id: host-down
    when: 'check.type == "icmp"'
    classify: { category: network, severity: major, impact: site, tier: L1 }
    title: "{{target.name}} does not answer ping"
    open_after: 1
`,
    );
    // The ping package spawns "ping" by name, so the process's PATH decides; this folder has no ping.
    const emptyBin = join(dir, 'bin');
    mkdirSync(emptyBin);
    process.env.PATH = emptyBin;
    const log = capturingLogger();
    await start(log.logger);

    // Known before the first run: the start-up check marks it.
    const first = (await api('/api/v1/checks')).body;
    expect(first.items[0]).toMatchObject({ id: 'gw-1/ping', state: 'cannot-run' });
    expect(first.items[0].lastError).toContain('apt-get install fping iputils-ping');

    // Several runs happen, each finding ping missing.
    const runs: string[] = [];
    await until('three runs', async () => {
      const c = (await api('/api/v1/checks')).body.items[0];
      if (c.lastRun !== null && !runs.includes(c.lastRun)) runs.push(c.lastRun);
      return runs.length >= 3;
    });
    const check = (await api('/api/v1/checks?state=cannot-run')).body.items[0];
    expect(check).toMatchObject({ state: 'cannot-run', consecutiveFailures: 0, latencyMs: null });
    expect(check.lastError).toContain('"ping" is not on PATH');

    await app!.manager.flush();
    expect((await api('/api/v1/incidents')).body.items).toEqual([]);
    const metrics = await metricsText();
    expect(metrics).not.toMatch(/incidentd_signals_total\{source="probe",status="fail"\} [1-9]/);
    expect(metrics).not.toContain('incidentd_check_up{');
    expect(metrics).toContain('incidentd_checks{state="cannot-run"} 1');

    const warnings = log.lines().filter((l) => l.level === 40 && String(l.msg).includes('cannot run on this machine'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toContain('apt-get install fping iputils-ping');
    expect(String(warnings[0]!.msg)).not.toContain('\n');

    // Installing ping heals it without a restart.
    process.env.PATH = savedPath;
    await until('the check up once ping is back', async () => (await api('/api/v1/checks?state=up')).body.items.length === 1);
  });
});
