// The alert examples of the README against the shipped config/incidentd.yaml and rules/, over real
// HTTP: a sender's severity word (critical, P1, Alertmanager's severity label, PagerDuty's four)
// picks the severity class, and titles and targets come from where each format carries them.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app/app.js';
import { SystemClock } from '../../src/shared/clock.js';
import type { Logger } from '../../src/shared/logger.js';

const ROOT = resolve(import.meta.dirname, '..', '..');

let dir: string;
let app: App | null = null;
let logged: string[] = [];

function capturingLogger(): Logger {
  logged = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logged.push(chunk.toString('utf8'));
      done();
    },
  });
  return pino({ level: 'info' }, sink);
}

/** The shipped config with only the database moved into the test's folder; the shipped rules. */
async function start(env: Record<string, string> = {}): Promise<App> {
  if (app !== null) {
    // A restart: the same files and database.
    await app.stop();
    app = null;
    app = await createApp({
      paths: { config: join(dir, 'incidentd.yaml'), probesDir: join(dir, 'probes'), rulesDir: join(ROOT, 'rules') },
      clock: new SystemClock(),
      logger: capturingLogger(),
      env,
      watch: false,
      port: 0,
    });
    return app;
  }
  const shipped = readFileSync(join(ROOT, 'config', 'incidentd.yaml'), 'utf8');
  const text = shipped.replace('path: ../data/incidentd.db', `path: ${join(dir, 'incidentd.db')}`);
  expect(text).not.toBe(shipped);
  writeFileSync(join(dir, 'incidentd.yaml'), text);
  mkdirSync(join(dir, 'probes'));
  writeFileSync(join(dir, 'probes', 'none.yaml'), 'targets: []\n');
  app = await createApp({
    paths: { config: join(dir, 'incidentd.yaml'), probesDir: join(dir, 'probes'), rulesDir: join(ROOT, 'rules') },
    clock: new SystemClock(),
    logger: capturingLogger(),
    env,
    watch: false,
    port: 0,
  });
  return app;
}

async function post(path: string, token: string | null, body: unknown): Promise<number> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${app!.url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
  await res.text();
  return res.status;
}

async function incidents(query = ''): Promise<any[]> {
  const res = await fetch(`${app!.url}/api/v1/incidents${query}`, { headers: { authorization: 'Bearer change-me' } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { items: any[] }).items;
}

/** The incidents once `n` exist: a 2xx means journalled, committed to the store right after. */
async function settled(n: number, query = ''): Promise<any[]> {
  const end = Date.now() + 5000;
  for (;;) {
    const items = await incidents(query);
    if (items.length >= n || Date.now() > end) return items;
    await new Promise((r) => setTimeout(r, 25));
  }
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'incidentd-vocab-'));
});

afterEach(async () => {
  await app?.stop();
  app = null;
  rmSync(dir, { recursive: true, force: true });
});

describe('the shipped config on 127.0.0.1', () => {
  it('starts and answers with its change-me tokens, warning about each one by file, line and key', async () => {
    await start();
    expect(app!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // The example API token works on loopback (a first try on this machine).
    expect(await incidents()).toEqual([]);
    const warnings = logged
      .map((l) => JSON.parse(l) as { level: number; msg: string })
      .filter((l) => l.level === 40 && l.msg.includes('example secret'))
      .map((l) => l.msg.replace(`${dir}/`, ''));
    expect(warnings).toHaveLength(4);
    expect(warnings[0]).toMatch(/^configuration warning: incidentd\.yaml:\d+:\d+: api\.tokens\[0\]\.token is an example secret .*127\.0\.0\.1 \(loopback\)/);
    expect(warnings.slice(1).map((w) => /: (sources\S+) is an example secret/.exec(w)?.[1])).toEqual([
      'sources[0].tokens[0]',
      'sources[1].tokens[0]',
      'sources[2].routing_keys[0]',
    ]);
  });
});

describe('alerts of the README against the shipped config and rules', () => {
  it('the generic example with "severity": "critical" is a major incident named after the alert and its target', async () => {
    await start();
    // Verbatim from the README ("Alerts in").
    const status = await post('/api/v1/alerts', 'change-me-webhook', {
      alerts: [{ name: 'DiskFull', target: 'fileserver', status: 'firing', severity: 'critical' }],
    });
    expect(status).toBe(200);
    const [inc] = await settled(1);
    expect(inc).toMatchObject({
      title: 'DiskFull on fileserver',
      severity: 'major',
      priority: 'P2',
      category: 'alert',
      target: { id: 'fileserver' },
    });
  });

  it('a PagerDuty critical event is titled by its summary, lands on its source host and is major', async () => {
    await start();
    const status = await post('/v2/enqueue', null, {
      routing_key: 'change-me-routing-key',
      event_action: 'trigger',
      dedup_key: 'db-primary-replication',
      payload: {
        summary: 'Replication lag on db-1.example.org above 5 minutes',
        source: 'db-1.example.org',
        severity: 'critical',
        component: 'postgres',
        group: 'prod-datapipe',
        class: 'replication',
      },
    });
    expect(status).toBe(202);
    const [inc] = await settled(1);
    expect(inc).toMatchObject({
      title: 'Replication lag on db-1.example.org above 5 minutes',
      severity: 'major',
      priority: 'P2',
      category: 'alert',
      target: { id: 'db-1.example.org', name: 'db-1.example.org', kind: 'service' },
    });
    // Filtering by host finds it.
    expect((await incidents('?target=db-1.example.org')).map((i) => i.number)).toEqual([inc.number]);

    // Resolve events carry only the dedup_key, and still resolve it.
    expect(await post('/v2/enqueue', null, { routing_key: 'change-me-routing-key', event_action: 'resolve', dedup_key: 'db-primary-replication' })).toBe(202);
    const end = Date.now() + 5000;
    while ((await incidents('?status=open')).length > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
    expect(await incidents('?status=open')).toEqual([]);
  });

  it('a PagerDuty resolve after a restart still finds the incident its trigger opened on the host', async () => {
    await start();
    const event = (action: string, payload?: object) => ({ routing_key: 'change-me-routing-key', event_action: action, dedup_key: 'ups-low', ...(payload ? { payload } : {}) });
    expect(await post('/v2/enqueue', null, event('trigger', { summary: 'UPS battery low', source: 'ups-1.example.org', severity: 'warning' }))).toBe(202);
    const [inc] = await settled(1);
    expect(inc).toMatchObject({ title: 'UPS battery low', severity: 'medium', target: { id: 'ups-1.example.org' } });

    await start();
    expect(await post('/v2/enqueue', null, event('resolve'))).toBe(202);
    const end = Date.now() + 5000;
    while ((await incidents('?status=open')).length > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
    const [after] = await incidents();
    expect(after).toMatchObject({ number: inc.number, status: 'resolved', target: { id: 'ups-1.example.org' } });
  });

  it('an Alertmanager warning is medium, titled by alertname and summary, on the instance', async () => {
    await start();
    const status = await post('/api/v1/alertmanager', 'change-me-alertmanager', {
      version: '4',
      status: 'firing',
      alerts: [
        {
          status: 'firing',
          labels: { alertname: 'NodeFilesystemAlmostFull', instance: 'files-1.example.org:9100', severity: 'warning' },
          annotations: { summary: 'Filesystem /srv has less than 10% space left' },
          startsAt: '2026-12-05T05:00:00Z',
        },
      ],
    });
    expect(status).toBe(200);
    const [inc] = await settled(1);
    expect(inc).toMatchObject({
      title: 'NodeFilesystemAlmostFull: Filesystem /srv has less than 10% space left',
      severity: 'medium',
      category: 'alert',
      target: { id: 'files-1.example.org:9100' },
    });
  });
});
