// What the daemon says while it runs, and what happens to incidents whose check leaves the
// configuration: the real daemon, YAML files in a temp dir, a TCP port on loopback that is closed
// and then opened, a webhook receiver on loopback, the log read back line by line.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app/app.js';
import { SystemClock } from '../../src/shared/clock.js';
import type { Logger } from '../../src/shared/logger.js';
import { freePort } from '../shared/free-port.js';

const TOKEN = 'transitions-secret-7c2e';
const HOOK_TOKEN = 'transitions-hook-91d4';

type Line = Record<string, unknown> & { msg: string; level: number };

let dir: string;
let app: App | null = null;
let port: Server | null = null;
let receiver: HttpServer | null = null;
let logged: string[] = [];

function paths() {
  return { config: join(dir, 'incidentd.yaml'), probesDir: join(dir, 'probes'), rulesDir: join(dir, 'rules') };
}

function lines(): Line[] {
  return logged
    .join('')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Line);
}

function capturingLogger(): Logger {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logged.push(chunk.toString('utf8'));
      done();
    },
  });
  return pino({ level: 'info' }, sink);
}

async function openPort(p: number): Promise<void> {
  port = createServer((socket) => socket.end());
  await new Promise<void>((r) => port!.listen(p, '127.0.0.1', r));
}

function probes(checkPort: number, withPortCheck = true): string {
  const check = withPortCheck ? `      - { type: tcp, name: admin-port, host: 127.0.0.1, port: ${checkPort} }\n` : '';
  return `defaults: { interval: 500ms, timeout: 450ms }
targets:
  - id: web-1
    name: Intranet
    checks:
${check}      - { type: tcp, name: other-port, host: 127.0.0.1, port: ${checkPort}, interval: 1h }
`;
}

function writeFiles(checkPort: number, extra = '') {
  mkdirSync(join(dir, 'probes'), { recursive: true });
  mkdirSync(join(dir, 'rules'), { recursive: true });
  writeFileSync(
    paths().config,
    `listen: { host: 127.0.0.1, port: 9740 }
store: { type: sqlite, path: ${join(dir, 'incidentd.db')} }
api: { tokens: [ { name: ops, token: "${TOKEN}" } ] }
scheduler: { concurrency: 4, jitter: 0.1 }
sources:
  - { id: webhook, type: generic, tokens: ["${HOOK_TOKEN}"], labels: {}, target: { kind: server } }
${extra}`,
  );
  writeFileSync(join(dir, 'probes', 'web.yaml'), probes(checkPort));
  writeFileSync(
    join(dir, 'rules', 'web.yaml'),
    `rules:
  - id: admin-port-closed
    when: 'check.name == "admin-port"'
    classify: { category: service.admin, severity: severe, impact: multiple-users, tier: L2 }
    title: "{{target.name}} admin port closed"
    open_after: 1
    resolve_after: 1
`,
  );
}

async function start(): Promise<App> {
  app = await createApp({ paths: paths(), clock: new SystemClock(), logger: capturingLogger(), env: {}, watch: false, port: 0 });
  return app;
}

async function api(path: string, init: { method?: string; body?: unknown; token?: string } = {}) {
  const headers: Record<string, string> = { authorization: `Bearer ${init.token ?? TOKEN}` };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${app!.url}${path}`, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as any };
}

async function until<T>(what: string, fn: () => Promise<T | null | undefined | false> | T | null | undefined | false, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; logged:\n${logged.join('')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const lineOf = (event: string, more: (l: Line) => boolean = () => true) => () => lines().find((l) => l.event === event && more(l));

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'incidentd-transitions-'));
  logged = [];
});

afterEach(async () => {
  await app?.stop();
  app = null;
  if (port) await new Promise<void>((r) => port!.close(() => r()));
  port = null;
  if (receiver) await new Promise<void>((r) => receiver!.close(() => r()));
  receiver = null;
  rmSync(dir, { recursive: true, force: true });
});

describe('the log says what happens', () => {
  it('logs a check going down and up, and its incident opened, acknowledged and resolved, at info', async () => {
    const p = await freePort();
    writeFiles(p);
    await start();

    const down = await until('check down', lineOf('check.down', (l) => l.check === 'admin-port'));
    expect(down).toMatchObject({ level: 30, target: 'web-1', targetName: 'Intranet', kind: 'tcp', from: 'unknown' });
    expect(down.why).toMatch(/refused/i);
    expect(down.msg).toMatch(/^check admin-port of Intranet \(web-1, tcp\) is down: .*refused/i);

    const opened = await until('incident opened', lineOf('incident.opened'));
    expect(opened).toMatchObject({
      level: 30,
      incident: 'INC-000001',
      title: 'Intranet admin port closed',
      target: 'web-1',
      targetName: 'Intranet',
      severity: 'severe',
      tier: 'L2',
    });
    expect(opened.msg).toBe('INC-000001 opened: "Intranet admin port closed" on Intranet (web-1), severe, tier L2');

    const ack = await api('/api/v1/incidents/INC-000001/ack', { method: 'POST', body: { message: 'looking at the firewall' } });
    expect(ack.status).toBe(200);
    const acked = await until('incident acknowledged', lineOf('incident.acknowledged'));
    expect(acked).toMatchObject({ incident: 'INC-000001', by: 'ops', why: 'looking at the firewall', severity: 'severe', tier: 'L2' });
    expect(acked.msg).toBe(
      'INC-000001 acknowledged by ops (looking at the firewall): "Intranet admin port closed" on Intranet (web-1), severe, tier L2',
    );

    await openPort(p);
    const up = await until('check up', lineOf('check.up', (l) => l.check === 'admin-port'));
    expect(up).toMatchObject({ level: 30, target: 'web-1', from: 'down' });
    expect(up.msg).toMatch(/^check admin-port of Intranet \(web-1, tcp\) is up again after [\d.]+s down$/);
    expect(typeof up.downForMs).toBe('number');

    const resolved = await until('incident resolved', lineOf('incident.resolved'));
    expect(resolved).toMatchObject({ level: 30, incident: 'INC-000001', by: 'system', title: 'Intranet admin port closed', target: 'web-1', severity: 'severe' });
    expect(resolved.why).toMatch(/^recovered after 1 ok signal/);
    expect(resolved.msg).toMatch(/^INC-000001 resolved by system: "Intranet admin port closed" on Intranet \(web-1\): recovered after 1 ok signal/);

    // In the order they happened, each once.
    const order = lines()
      .filter((l) => typeof l.event === 'string' && (l.check === 'admin-port' || String(l.event).startsWith('incident.')))
      .map((l) => l.event);
    expect(order).toEqual(['check.down', 'incident.opened', 'incident.acknowledged', 'check.up', 'incident.resolved']);
  });

  it('logs an escalation with the tier it climbed to', async () => {
    const p = await freePort();
    writeFiles(
      p,
      `escalation:
  sweep_interval: 100ms
  severities:
    severe: { tier: L2, ack: 300ms, resolve: 1h }
  tiers:
    L1: { channels: [] }
    L2: { channels: [], escalate_after: 300ms, next: L3 }
    L3: { channels: [], escalate_after: null }
`,
    );
    await start();
    const escalated = await until('escalated', lineOf('incident.escalated'));
    expect(escalated).toMatchObject({ level: 30, incident: 'INC-000001', tier: 'L3', fromTier: 'L2', severity: 'severe', title: 'Intranet admin port closed' });
    expect(escalated.msg).toMatch(/^INC-000001 escalated from L2 to L3: "Intranet admin port closed" on Intranet \(web-1\), severe/);
  });
});

describe('a check removed from the configuration', () => {
  async function webhookReceiver(): Promise<{ port: number; events: { type: string; number: string }[] }> {
    const events: { type: string; number: string }[] = [];
    receiver = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const e = JSON.parse(body) as { type: string; incident: { number: string } };
        events.push({ type: e.type, number: e.incident.number });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => receiver!.listen(0, '127.0.0.1', r));
    return { port: (receiver.address() as AddressInfo).port, events };
  }

  /** A failing probe check and a firing alert, both about web-1: two open incidents. */
  async function twoIncidents(): Promise<{ probe: any; alert: any }> {
    await until('the probe incident', async () => (await api('/api/v1/incidents?status=open')).body.items.length > 0);
    const sent = await api('/api/v1/alerts', { method: 'POST', token: HOOK_TOKEN, body: { alerts: [{ name: 'DiskFull', target: 'web-1', status: 'firing' }] } });
    expect(sent.status).toBe(200);
    const items = await until('both incidents', async () => {
      const list = (await api('/api/v1/incidents?status=open')).body.items as any[];
      return list.length === 2 ? list : null;
    });
    const probe = items.find((i) => i.source === 'probe');
    const alert = items.find((i) => i.source !== 'probe');
    expect(probe).toMatchObject({ target: { id: 'web-1' }, title: 'Intranet admin port closed' });
    expect(alert).toMatchObject({ target: { id: 'web-1' } });
    return { probe, alert };
  }

  it('at a reload: its probe incident is resolved with a timeline entry and announced; an alert incident on the target stays open', async () => {
    const p = await freePort();
    const hook = await webhookReceiver();
    writeFiles(p, `channels:\n  - { id: helpdesk, type: webhook, url: "http://127.0.0.1:${hook.port}/hook", secret: "0123456789abcdef-logs" }\n`);
    await start();
    const { probe, alert } = await twoIncidents();

    writeFileSync(join(dir, 'probes', 'web.yaml'), probes(p, false));
    expect(await app!.reload()).toBeNull();

    const resolved = await until('resolved', async () => {
      const inc = (await api(`/api/v1/incidents/${probe.number}`)).body;
      return inc.status === 'resolved' ? inc : null;
    });
    const entry = resolved.timeline.at(-1);
    expect(entry).toMatchObject({ actor: 'system', action: 'resolved' });
    expect(entry.message).toBe(
      `check admin-port of target web-1 was removed from the configuration (probe file web.yaml); nothing watches it any more`,
    );
    expect((await api(`/api/v1/incidents/${alert.number}`)).body.status).toBe('open');

    const line = await until('the resolution logged', lineOf('incident.resolved'));
    expect(line).toMatchObject({ incident: probe.number, by: 'system', why: entry.message, target: 'web-1' });
    // The channel that heard of the opening hears of the end, through the outbox.
    await until('resolution delivered', () => hook.events.some((e) => e.type === 'incident.resolved' && e.number === probe.number));
    expect(hook.events.filter((e) => e.number === probe.number).map((e) => e.type)).toEqual(['incident.opened', 'incident.resolved']);

    // The port stays closed and other checks keep running: nothing reopens it.
    await new Promise((r) => setTimeout(r, 600));
    expect((await api(`/api/v1/incidents/${probe.number}`)).body.status).toBe('resolved');
    expect((await api('/api/v1/incidents?status=open')).body.items.map((i: any) => i.number)).toEqual([alert.number]);
  });

  it('at a restart with the check gone: the incident is resolved at start-up, the alert incident stays open', async () => {
    const p = await freePort();
    writeFiles(p);
    await start();
    const { probe, alert } = await twoIncidents();
    await app!.stop();
    app = null;

    writeFileSync(join(dir, 'probes', 'web.yaml'), probes(p, false));
    await start();
    const resolved = await until('resolved at start-up', async () => {
      const inc = (await api(`/api/v1/incidents/${probe.number}`)).body;
      return inc.status === 'resolved' ? inc : null;
    });
    // The target is still configured (only its check went): its file is named.
    expect(resolved.timeline.at(-1).message).toBe(
      'check admin-port of target web-1 was removed from the configuration (probe file web.yaml); nothing watches it any more',
    );
    expect((await api(`/api/v1/incidents/${alert.number}`)).body.status).toBe('open');
  });
});
