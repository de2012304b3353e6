// Alert requests in the intake journal: the generic and Alertmanager endpoints journal the body as
// received (with the source's settings, never its tokens), and reading the journal back after a
// restart yields exactly the signals the endpoint made of the request when it answered.
import Fastify, { type FastifyInstance } from 'fastify';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alertRoutes } from '../../src/api/alerts.js';
import type { Signal } from '../../src/domain/signal.js';
import { IntakeJournal } from '../../src/incidents/intake-journal.js';
import { SystemClock } from '../../src/shared/clock.js';
import { silentLogger, type Logger } from '../../src/shared/logger.js';
import type { AlertIngest } from '../../src/sources/types.js';
import { AM_TOKEN, GENERIC_TOKEN, ROUTING_KEY, SOURCES, source } from './harness.js';

let dir: string;
let app: FastifyInstance | null = null;
let journal: IntakeJournal | null = null;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'incidentd-journal-requests-'));
});
afterEach(async () => {
  await app?.close();
  await journal?.close();
  app = null;
  journal = null;
  rmSync(dir, { recursive: true, force: true });
});

/** The alert routes over a journal only: what each request handed in, and each record's lsn. */
async function serve(): Promise<{ url: string; handed: { lsn: number; signals: Signal[] }[] }> {
  const j = await IntakeJournal.open({ dir, logger: silentLogger() });
  journal = j;
  const handed: { lsn: number; signals: Signal[] }[] = [];
  const ingest: AlertIngest = {
    async submitMany(signals, request) {
      const { lsn, durable } = j.append(signals, request);
      handed.push({ lsn, signals });
      await durable;
    },
    queued: () => 0,
    acknowledgeSeries: () => Promise.resolve(),
  };
  app = Fastify({ logger: false });
  await app.register(
    alertRoutes({
      ingest,
      sources: () => SOURCES,
      apiTokens: () => [],
      limits: () => ({ maxQueue: 10_000, maxBodyBytes: 1024 * 1024, journalDir: null }),
      clock: new SystemClock(),
      logger: silentLogger(),
    }),
  );
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, handed };
}

async function post(url: string, body: string, token?: string): Promise<number> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  return (await fetch(url, { method: 'POST', headers, body })).status;
}

const GENERIC = JSON.stringify({
  alerts: [
    {
      name: 'DiskFull',
      target: { id: 'fs-01', kind: 'server', site: 'Köln' },
      status: 'firing',
      severity: 'critical',
      labels: { mount: '/var' },
      annotations: { summary: 'Platte voll 🗄️' },
      values: { usedPct: 97.5 },
      startsAt: '2026-12-06T07:00:00Z',
      dedup_key: 'fs-01/var',
      subscribers: ['ops@example.org'],
    },
    { name: 'Backup', target: 'nas-1', status: 'resolved' },
  ],
});

// Spaces and key order as a sender might write them: the journal keeps them as they came.
const ALERTMANAGER = `{ "version": "4", "status": "firing", "receiver": "incidentd",
  "alerts": [ { "status": "firing", "labels": { "alertname": "ProbeFailure", "instance": "web-1", "dc": "eu-west-1", "severity": "warning" },
    "annotations": { "summary": "probe failed" }, "startsAt": "2026-12-06T06:59:00Z", "endsAt": "0001-01-01T00:00:00Z",
    "generatorURL": "http://prometheus.invalid:9090/graph", "fingerprint": "1a30ba71cca2921f" } ] }`;

const PAGERDUTY = JSON.stringify({
  routing_key: ROUTING_KEY,
  event_action: 'trigger',
  dedup_key: 'db-replication',
  payload: { summary: 'replication lag', source: 'db-1', severity: 'error' },
});

describe('alert requests in the intake journal', () => {
  it('are kept as received, without any credential, and read back into the signals the endpoint made of them', async () => {
    const { url, handed } = await serve();
    expect(await post(`${url}/api/v1/alerts`, GENERIC, GENERIC_TOKEN)).toBe(200);
    expect(await post(`${url}/api/v1/alertmanager`, ALERTMANAGER, AM_TOKEN)).toBe(200);
    expect(await post(`${url}/v2/enqueue`, PAGERDUTY)).toBe(202);
    expect(handed).toHaveLength(3);
    // The source's labels and target settings are part of the signals (webhook: team=ops; prom: site from dc).
    expect(handed[0]!.signals[0]!.labels.team).toBe('ops');
    expect(handed[1]!.signals[0]!.target.site).toBe('eu-west-1');

    const files = readdirSync(dir).filter((f) => f.endsWith('.log'));
    const disk = files.map((f) => readFileSync(join(dir, f), 'utf8')).join('');
    expect(disk).toContain(GENERIC);
    expect(disk).toContain(ALERTMANAGER);
    for (const secret of [GENERIC_TOKEN, AM_TOKEN, ROUTING_KEY]) expect(disk).not.toContain(secret);

    // Read back after a restart: what each request handed in, record by record.
    await app!.close();
    app = null;
    await journal!.close();
    journal = await IntakeJournal.open({ dir, logger: silentLogger() });
    expect(journal.takeRecovered()).toEqual(handed);
  });

  it('keeps the body of a request that no longer turns into signals in a file, says so, and replays the rest', async () => {
    const errors: { obj: Record<string, unknown>; msg: string }[] = [];
    const logger: Logger = {
      info: () => {},
      warn: () => {},
      error: (obj, msg) => errors.push({ obj: obj as Record<string, unknown>, msg: msg ?? '' }),
      debug: () => {},
      child: () => logger,
    };
    const webhook = source({ id: 'webhook', type: 'generic', tokens: [GENERIC_TOKEN] });
    const first = await IntakeJournal.open({ dir, logger });
    // As if an older version had taken this body (an empty batch, which this version refuses).
    const lost = first.append([], { type: 'generic', source: webhook, at: 1_000, body: '{"alerts":[]}' });
    const kept = first.append([], { type: 'generic', source: webhook, at: 2_000, body: '{"alerts":[{"name":"Up","target":"a","status":"firing"}]}' });
    await Promise.all([lost.durable, kept.durable]);
    await first.close();

    journal = await IntakeJournal.open({ dir, logger });
    const records = journal.takeRecovered();
    expect(records.map((r) => [r.lsn, r.signals.length])).toEqual([
      [lost.lsn, 0],
      [kept.lsn, 1],
    ]);
    expect(errors).toHaveLength(1);
    const file = join(dir, `unreplayable-${lost.lsn}.json`);
    expect(errors[0]!.obj.file).toBe(file);
    expect(errors[0]!.msg).toMatch(/post it again/);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ request: { type: 'generic', at: 1_000, source: { id: 'webhook' } }, body: { alerts: [] } });
  });

  it('turns only records past the store mark into signals: one already stored is not read again', async () => {
    const errors: unknown[] = [];
    const logger: Logger = { info: () => {}, warn: () => {}, error: (o) => errors.push(o), debug: () => {}, child: () => logger };
    const first = await IntakeJournal.open({ dir, logger });
    const stored = first.append([], { type: 'generic', source: SOURCES[0]!, at: 1_000, body: '{"alerts":[]}' });
    await stored.durable;
    await first.close();
    journal = await IntakeJournal.open({ dir, logger });
    expect(journal.takeRecovered(stored.lsn)).toEqual([]);
    expect(errors).toEqual([]);
    expect(readdirSync(dir).filter((f) => f.startsWith('unreplayable-'))).toEqual([]);
  });
});
