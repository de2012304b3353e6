// The daemon end to end: YAML files in a temp dir, a real HTTP service on loopback that we stop and
// start, the real scheduler and probes, the real SQLite file, and the API read over HTTP.
import { createSocket } from 'node:dgram';
import { appendFileSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app/app.js';
import { SystemClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { SqliteStore } from '../../src/store/sqlite/store.js';
import type { IncidentStore } from '../../src/store/types.js';
import { sig, target } from '../incidents/harness.js';

const TOKEN = 'e2e-secret';

let dir: string;
let app: App | null = null;
let service: Server | null = null;

function paths() {
  return { config: join(dir, 'incidentd.yaml'), probesDir: join(dir, 'probes'), rulesDir: join(dir, 'rules') };
}

function writeConfig(servicePort: number) {
  mkdirSync(join(dir, 'probes'), { recursive: true });
  mkdirSync(join(dir, 'rules'), { recursive: true });
  writeFileSync(
    paths().config,
    `listen: { host: 127.0.0.1, port: 9740 }
store: { type: sqlite, path: ${join(dir, 'incidentd.db')} }
api: { tokens: [ { name: e2e, token: "\${E2E_TOKEN}" } ] }
scheduler: { concurrency: 4, jitter: 0.1 }
`,
  );
  writeFileSync(
    join(dir, 'probes', 'web.yaml'),
    `defaults: { interval: 150ms, timeout: 100ms }
targets:
  - id: web-1
    name: Intranet
    site: hq
    checks:
      - { type: http, name: healthz, url: "http://127.0.0.1:${servicePort}/healthz", expect: { status: 200, body: ok } }
`,
  );
  writeFileSync(
    join(dir, 'rules', 'web.yaml'),
    `rules:
  - id: web-down
    when: 'check.type == "http"'
    classify: { category: service.http, severity: severe, impact: multiple-users, tier: L2 }
    title: "{{target.name}} is down"
    open_after: 3
    resolve_after: 2
`,
  );
}

async function startService(port = 0): Promise<number> {
  service = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => service!.listen(port, '127.0.0.1', r));
  return (service.address() as AddressInfo).port;
}

async function stopService() {
  await new Promise<void>((r) => service!.close(() => r()));
  service!.closeAllConnections();
  service = null;
}

async function start(): Promise<App> {
  app = await createApp({
    paths: paths(),
    clock: new SystemClock(),
    logger: silentLogger(),
    env: { E2E_TOKEN: TOKEN },
    watch: false,
    port: 0,
  });
  return app;
}

async function api(path: string) {
  const res = await fetch(`${app!.url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return { status: res.status, body: (await res.json()) as any };
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

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'incidentd-e2e-'));
});

afterEach(async () => {
  await app?.stop();
  app = null;
  if (service) await stopService();
  rmSync(dir, { recursive: true, force: true });
});

describe('daemon end to end', () => {
  it('opens one incident when a service stops, counts repeats, resolves when it is back', async () => {
    const port = await startService();
    writeConfig(port);
    await start();
    // Healthy for a while: nothing opens.
    await new Promise((r) => setTimeout(r, 600));
    expect((await api('/api/v1/incidents')).body.items).toEqual([]);

    await stopService();
    const opened = await until('an open incident', async () => {
      const { body } = await api('/api/v1/incidents?status=open');
      return body.items.length > 0 ? body.items : null;
    });
    expect(opened).toHaveLength(1);
    expect(opened[0]).toMatchObject({
      number: 'INC-000001',
      title: 'Intranet is down',
      category: 'service.http',
      severity: 'severe',
      priority: 'P3',
      tier: 'L2',
      target: { id: 'web-1', site: 'hq' },
    });
    expect(opened[0].occurrences).toBeGreaterThanOrEqual(3);

    const repeated = await until('repeats', async () => {
      const { body } = await api('/api/v1/incidents/INC-000001');
      return body.occurrences >= opened[0].occurrences + 3 ? body : null;
    });
    expect(repeated.status).toBe('open');

    await startService(port);
    const resolved = await until('resolution', async () => {
      const { body } = await api('/api/v1/incidents/INC-000001');
      return body.status === 'resolved' ? body : null;
    });
    expect(resolved.timeline.map((e: { action: string }) => e.action)).toEqual(['opened', 'resolved']);
    // Exactly one incident over the whole outage.
    expect((await api('/api/v1/incidents')).body.items).toHaveLength(1);
  });

  it('keeps one incident across a daemon restart while the service stays down', async () => {
    const port = await startService();
    writeConfig(port);
    await stopService();
    await start();
    await until('an open incident', async () => (await api('/api/v1/incidents?status=open')).body.items.length > 0);
    await app!.stop();
    app = null;

    await start();
    const before = (await api('/api/v1/incidents/INC-000001')).body.occurrences;
    await until('repeats after restart', async () => (await api('/api/v1/incidents/INC-000001')).body.occurrences > before + 2);
    const all = (await api('/api/v1/incidents')).body.items;
    expect(all.map((i: { number: string; status: string }) => [i.number, i.status])).toEqual([['INC-000001', 'open']]);
  });

  it('a reload with a broken file keeps the last good configuration', async () => {
    const port = await startService();
    writeConfig(port);
    await start();
    writeFileSync(
      join(dir, 'rules', 'web.yaml'),
      `rules:\n  - id: web-down\n    when: 'check.type ==== "http"'\n    classify: { category: x, severity: severe, impact: site, tier: L2 }\n    title: t\n`,
    );
    const err = await app!.reload();
    expect(err).not.toBeNull();
    expect(err!.message).toContain(`${join(dir, 'rules', 'web.yaml')}:3:`);
    // Still the old rules: a failure is classified by web-down, not as uncategorized.
    expect(app!.config().engine.ruleCount).toBe(1);
    await stopService();
    const [inc] = await until('an open incident', async () => {
      const items = (await api('/api/v1/incidents?status=open')).body.items;
      return items.length > 0 ? items : null;
    });
    expect(inc.category).toBe('service.http');
    const metrics = await (await fetch(`${app!.url}/metrics`)).text();
    expect(metrics).toMatch(/incidentd_config_reloads_total\{result="error"\} 1/);

    // A good edit is picked up.
    writeFileSync(
      join(dir, 'rules', 'web.yaml'),
      `rules:\n  - id: web-down\n    when: 'check.type == "http"'\n    classify: { category: service.web, severity: major, impact: site, tier: L3 }\n    title: t\n  - id: other\n    when: 'false'\n    classify: { category: x, severity: minor, impact: site, tier: L1 }\n    title: t\n`,
    );
    expect(await app!.reload()).toBeNull();
    expect(app!.config().engine.ruleCount).toBe(2);

    // A new ingest.max_queue reaches the queue behind the alert endpoints, not only the config.
    writeFileSync(paths().config, `${readFileSync(paths().config, 'utf8')}ingest: { max_queue: 2 }\n`);
    expect(await app!.reload()).toBeNull();
    const limit = await (await fetch(`${app!.url}/metrics`)).text();
    expect(limit).toMatch(/^incidentd_signal_queue_limit 2$/m);
    const three = [1, 2, 3].map((n) => sig(target(`srv-${n}`), 'fail', Date.now()));
    await expect(app!.manager.submitMany(three)).rejects.toThrow(/signal queue is full \(2 signals/);
  });
});

describe('store selection and a database that is down', () => {
  it('MONGODB_URI selects MongoDB; while it is unreachable the daemon runs, says not ready, queues signals, and stops cleanly', async () => {
    const port = await startService();
    writeConfig(port);
    app = await createApp({
      paths: paths(),
      clock: new SystemClock(),
      logger: silentLogger(),
      // A closed loopback port: MongoDB "down". The file itself names SQLite.
      env: { E2E_TOKEN: TOKEN, MONGODB_URI: 'mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=200' },
      watch: false,
      port: 0,
    });
    expect(app.store.describe()).toBe('mongodb:127.0.0.1:1/incidentd');
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${app.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ checks: { store: 'unreachable' } });
    // Probing goes on; its results wait for the store.
    await until('queued probe results', async () => app!.manager.queued() >= 2);
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toMatch(/incidentd_signal_queue_signals [1-9]/);
    const stopped = app.stop().then(() => 'stopped');
    app = null;
    expect(await stopped).toBe('stopped');
  });
});

describe('SNMP traps in the running daemon', () => {
  it('turns a trap from a device into an incident and counts the datagram', async () => {
    const port = await startService();
    writeConfig(port);
    const trapPort = await new Promise<number>((resolve) => {
      const sock = createSocket('udp4');
      sock.bind(0, '127.0.0.1', () => {
        const p = sock.address().port;
        sock.close(() => resolve(p));
      });
    });
    appendFileSync(paths().config, `snmp_traps: { enabled: true, port: ${trapPort}, communities: [e2e-traps] }\n`);
    await start();

    const snmp = createRequire(import.meta.url)('net-snmp');
    const session = snmp.createSession('127.0.0.1', 'e2e-traps', { trapPort, version: snmp.Version2c });
    try {
      await new Promise<void>((resolve, reject) =>
        session.trap(snmp.TrapType.LinkDown, [], {}, (err: Error | null) => (err ? reject(err) : resolve())),
      );
    } finally {
      session.close();
    }
    const [inc] = await until('a trap incident', async () => {
      const items = (await api('/api/v1/incidents?status=open')).body.items;
      return items.length > 0 ? items : null;
    });
    expect(inc).toMatchObject({ source: 'snmp-trap', check: { name: 'linkDown' }, target: { id: '127.0.0.1' } });
    const metrics = await (await fetch(`${app!.url}/metrics`)).text();
    expect(metrics).toMatch(/incidentd_snmp_trap_packets_total\{outcome="accepted"\} 1/);
  });
});

describe('SNMP informs while the store is away', () => {
  it('past ingest.max_queue leaves an inform unanswered, and answers its retry once there is room', async () => {
    mkdirSync(join(dir, 'probes'));
    mkdirSync(join(dir, 'rules'));
    writeFileSync(join(dir, 'probes', 'none.yaml'), 'targets: []\n');
    writeFileSync(join(dir, 'rules', 'none.yaml'), 'rules: []\n');
    const trapPort = await new Promise<number>((resolve) => {
      const sock = createSocket('udp4');
      sock.bind(0, '127.0.0.1', () => {
        const p = sock.address().port;
        sock.close(() => resolve(p));
      });
    });
    writeFileSync(
      paths().config,
      `listen: { host: 127.0.0.1, port: 9740 }
store: { type: sqlite, path: ${join(dir, 'incidentd.db')} }
ingest: { max_queue: 2 }
snmp_traps: { enabled: true, port: ${trapPort}, communities: [e2e-traps] }
`,
    );
    // Every commit fails while `down`: the journaled traps wait in the queue.
    const state = { down: true };
    app = await createApp({
      paths: paths(),
      clock: new SystemClock(),
      logger: silentLogger(),
      env: {},
      watch: false,
      port: 0,
      makeStore: (cfg) => {
        const raw = new SqliteStore({ path: cfg.type === 'sqlite' ? cfg.path : '' });
        return new Proxy(raw, {
          get(obj, prop, recv) {
            if (prop === 'commit') {
              return (ops: Parameters<IncidentStore['commit']>[0]) =>
                state.down ? Promise.reject(new Error('SQLITE_IOERR: disk I/O error')) : obj.commit(ops);
            }
            const v = Reflect.get(obj, prop, recv);
            return typeof v === 'function' ? v.bind(obj) : v;
          },
        });
      },
    });

    const snmp = createRequire(import.meta.url)('net-snmp');
    const session = snmp.createSession('127.0.0.1', 'e2e-traps', { trapPort, version: snmp.Version2c, timeout: 500, retries: 0 });
    const inform = (n: number) =>
      new Promise<boolean>((resolve) => session.inform(`1.3.6.1.4.1.9999.0.${n}`, [], {}, (err: Error | null) => resolve(!err)));
    try {
      // Informs until one goes unanswered: that happens once two wait for the store (the batch the
      // store keeps refusing is not counted, as for the alert endpoints).
      let refused: { n: number; queued: number } | null = null;
      for (let n = 1; n <= 10 && refused === null; n++) {
        const queued = app.manager.queued();
        if (!(await inform(n))) refused = { n, queued };
      }
      expect(refused).not.toBeNull();
      expect(refused!.queued).toBe(2);
      const metrics = await (await fetch(`${app.url}/metrics`)).text();
      expect(metrics).toMatch(/incidentd_signals_refused_total\{source="snmp-trap"\} [1-9]/);

      state.down = false;
      await until('the queue drained', async () => app!.manager.queued() === 0);
      // The sender's retry of the refused inform is answered now.
      expect(await inform(refused!.n)).toBe(true);
    } finally {
      session.close();
    }
  });
});

describe('notifications', () => {
  it('a webhook channel hears of the opening and of the resolution, each once, even after being down for a while', async () => {
    const port = await startService();
    writeConfig(port);
    // The receiver starts late: the outbox must keep the events and retry.
    const receiverPort = await new Promise<number>((resolve) => {
      const probe = createServer();
      probe.listen(0, '127.0.0.1', () => {
        const p = (probe.address() as AddressInfo).port;
        probe.close(() => resolve(p));
      });
    });
    appendFileSync(
      paths().config,
      `channels:\n  - { id: helpdesk, type: webhook, url: "http://127.0.0.1:${receiverPort}/hook", secret: "0123456789abcdef-e2e" }\n`,
    );
    await start();
    await stopService();
    await until('an open incident', async () => (await api('/api/v1/incidents?status=open')).body.items.length > 0);

    const received: { type: string; key: string }[] = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        received.push({ type: JSON.parse(body).type, key: String(req.headers['idempotency-key']) });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(receiverPort, '127.0.0.1', r));
    try {
      // Kick the outbox instead of waiting for its 5 s poll: a new commit does that.
      await startService(port);
      await until('opened and resolved delivered', async () => received.length >= 2, 20_000);
      expect(received.map((r) => r.type)).toEqual(['incident.opened', 'incident.resolved']);
      expect(new Set(received.map((r) => r.key)).size).toBe(2);
      const metrics = await (await fetch(`${app!.url}/metrics`)).text();
      expect(metrics).toMatch(/incidentd_notifications_delivered_total\{channel="helpdesk"\} 2/);
      expect((await api('/api/v1/notifications/dead')).body).toEqual({ items: [], next: null });
    } finally {
      await new Promise((r) => receiver.close(r));
    }
  });

  it('escalates an unacknowledged incident to the next tier through its channel, and counts the breach', async () => {
    const port = await startService();
    writeConfig(port);
    const received: { channel: string; type: string; tier?: string }[] = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const e = JSON.parse(body);
        received.push({ channel: req.url!.slice(1), type: e.type, tier: e.tier });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const rp = (receiver.address() as AddressInfo).port;
    appendFileSync(
      paths().config,
      `channels:
  - { id: l2, type: webhook, url: "http://127.0.0.1:${rp}/l2", secret: "0123456789abcdef-e2e" }
  - { id: l3, type: webhook, url: "http://127.0.0.1:${rp}/l3", secret: "0123456789abcdef-e2e" }
escalation:
  sweep_interval: 100ms
  severities:
    severe: { tier: L2, ack: 400ms, resolve: 1h }
  tiers:
    L1: { channels: [] }
    L2: { channels: [l2], escalate_after: 400ms, next: L3 }
    L3: { channels: [l3], escalate_after: null }
`,
    );
    try {
      await start();
      await stopService();
      await until('escalated to L3', async () => received.some((r) => r.channel === 'l3'), 15_000);
      const inc = (await api('/api/v1/incidents?status=open')).body.items[0];
      expect(inc).toMatchObject({ tier: 'L3', escalation: { level: 1 }, notified: ['l2', 'l3'] });
      expect(inc.sla.ackBreachedAt).not.toBeNull();
      await until('both heard the escalation', async () => received.length >= 3);
      expect(received).toEqual(
        expect.arrayContaining([
          { channel: 'l2', type: 'incident.opened', tier: null },
          { channel: 'l2', type: 'incident.escalated', tier: 'L3' },
          { channel: 'l3', type: 'incident.escalated', tier: 'L3' },
        ]),
      );
      const metrics = await (await fetch(`${app!.url}/metrics`)).text();
      expect(metrics).toMatch(/incidentd_escalations_total\{tier="L3",severity="severe"\} 1/);
      // Breached while L2 was responsible, in the installation's one tenant.
      expect(metrics).toMatch(/incidentd_sla_breaches_total\{sla="ack",severity="severe",tier="L2",tenant="default"\} 1/);
      expect(metrics).toMatch(/incidentd_time_to_acknowledge_seconds_count\{severity="severe"\} 0/);

      // Acknowledged by a person, resolved by the service coming back: one observation each, in
      // the buckets of their real durations (well under a minute here).
      const ack = await fetch(`${app!.url}/api/v1/incidents/${inc.number}/ack`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ message: 'on it' }),
      });
      expect(ack.status).toBe(200);
      await startService(port);
      await until('resolution', async () => (await api(`/api/v1/incidents/${inc.number}`)).body.status === 'resolved');
      const after = await (await fetch(`${app!.url}/metrics`)).text();
      expect(after).toMatch(/incidentd_time_to_acknowledge_seconds_count\{severity="severe"\} 1\n/);
      expect(after).toMatch(/incidentd_time_to_acknowledge_seconds_bucket\{le="60",severity="severe"\} 1\n/);
      expect(after).toMatch(/incidentd_time_to_resolve_seconds_count\{severity="severe"\} 1\n/);
      expect(after).toMatch(/incidentd_time_to_resolve_seconds_bucket\{le="60",severity="severe"\} 1\n/);
      expect(after).toMatch(/incidentd_time_to_resolve_seconds_count\{severity="major"\} 0\n/);
    } finally {
      await new Promise((r) => receiver.close(r));
    }
  });
});
