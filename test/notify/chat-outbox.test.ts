// The chat channels through the real outbox and a real SQLite file, posting to real HTTP receivers on
// 127.0.0.1: Retry-After honoured, a refusal dead-lettered with the receiver's answer, and the
// webhook URL (a secret) in no stored error and no log line, at debug level. The FakeClock drives
// the backoff; HTTP runs in real time.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Outbox } from '../../src/notify/outbox.js';
import { channelConfigSchema, createChannel } from '../../src/notify/registry.js';
import type { Channel } from '../../src/notify/types.js';
import { FakeClock } from '../../src/shared/clock.js';
import type { Logger } from '../../src/shared/logger.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import type { StoreOp } from '../../src/store/types.js';
import { closedPort } from '../probe-kinds/helpers.js';
import { vendorServer, type Reply, type VendorServer } from './vendor-server.js';

const T0 = Date.UTC(2026, 0, 1, 8, 0, 0);
const SECRET = 'T0001/B0002/s3cr3tW3bh00kT0k3n';

const cleanup: (() => Promise<void>)[] = [];
let dir: string;
let clock: FakeClock;
let lines: string[];
let logger: Logger;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'incidentd-chat-outbox-'));
  clock = new FakeClock(T0);
  lines = [];
  // Everything the channel and the outbox log, at the most talkative level they use.
  logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
});

afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
  await rm(dir, { recursive: true, force: true });
});

async function receiver(route: (n: number) => Reply): Promise<VendorServer> {
  let n = 0;
  const s = await vendorServer(() => route(++n));
  cleanup.push(() => s.close());
  return s;
}

async function openStore(name = 'incidentd'): Promise<SqliteStore> {
  const s = new SqliteStore({ path: join(dir, `${name}.db`), clock });
  await s.open();
  cleanup.push(() => s.close());
  return s;
}

function chat(type: 'slack' | 'teams', url: string): Channel {
  const ch = createChannel(channelConfigSchema.parse({ id: 'chat', type, url, timeout: '2s' }), { clock, logger });
  cleanup.push(async () => ch.close?.());
  return ch;
}

function openOps(fp: string): StoreOp[] {
  return [
    {
      kind: 'fail',
      at: T0,
      count: 1,
      reopenWindowMs: 0,
      draft: {
        fingerprint: fp,
        classification: { category: 'network', severity: 'major', impact: 'site', tier: 'L2', priority: 'P1' },
        title: `${fp} is down`,
        description: 'Ping fails',
        runbook: '',
        ruleId: 'host-down',
        source: 'probe',
        target: { id: fp, kind: 'server', name: fp, site: 'hq', labels: {} },
        check: { name: 'ping', type: 'icmp' },
        labels: {},
        message: 'request timed out',
      },
    },
    { kind: 'notify', fingerprint: fp, channels: ['chat'] },
  ];
}

function outbox(store: SqliteStore, channel: Channel) {
  const counts = { delivered: 0, retried: 0, dead: 0 };
  const box = new Outbox({
    store,
    channels: () => new Map([[channel.id, channel]]),
    clock,
    logger,
    baseDelayMs: 5000,
    maxDelayMs: 3_600_000,
    leaseMs: 60_000,
    deliveryTimeoutMs: 5000,
    pollMs: 3_600_000,
    random: () => 0.5,
    onDelivered: () => void (counts.delivered += 1),
    onRetry: () => void (counts.retried += 1),
    onDead: () => void (counts.dead += 1),
  });
  cleanup.push(() => box.stop());
  box.start();
  return { box, counts };
}

async function advance(box: Outbox, ms: number): Promise<void> {
  await clock.advance(ms);
  await box.kick();
}

function expectNoSecretLogged(): void {
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) expect(line).not.toContain(SECRET);
  for (const line of lines) expect(line).not.toContain('s3cr3t');
}

describe.each([
  { type: 'slack' as const, path: `/services/${SECRET}`, ok: { status: 200, body: 'ok' }, refused: { status: 404, body: 'no_service' }, said: /answered 404: no_service; the webhook no longer exists/ },
  {
    type: 'teams' as const,
    path: `/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig=${SECRET}`,
    ok: { status: 202, body: '' },
    refused: { status: 404, body: { error: { code: 'WorkflowNotFound', message: 'The workflow could not be found.' } } },
    said: /answered 404: WorkflowNotFound: The workflow could not be found\.; no workflow at this URL/,
  },
])('$type channel through the outbox', ({ type, path, ok, refused, said }) => {
  it('waits as long as a 429 answer asks (Retry-After), then delivers once', async () => {
    const r = await receiver((n) => (n === 1 ? { status: 429, body: 'rate_limited', headers: { 'Retry-After': '30' } } : ok));
    const store = await openStore();
    await store.commit(openOps('fp-a'));
    const { box, counts } = outbox(store, chat(type, `${r.url}${path}`));
    await box.kick();
    expect(r.requests).toHaveLength(1);
    // The outbox's own first retry would come after 2.5 s; the receiver asked for 30.
    await advance(box, 29_999);
    expect(r.requests).toHaveLength(1);
    await advance(box, 1);
    expect(r.requests).toHaveLength(2);
    expect(counts).toEqual({ delivered: 1, retried: 1, dead: 0 });
    expect(await store.countDeliveries()).toEqual({ pending: 0, dead: 0 });
    await advance(box, 3_600_000);
    expect(r.requests).toHaveLength(2);
    expectNoSecretLogged();
    expect(lines.some((l) => l.includes('"retryInMs":30000'))).toBe(true);
  });

  it('dead-letters a 404 at once with the receiver\'s answer, never sends it again, and keeps the URL out', async () => {
    const r = await receiver(() => refused);
    const store = await openStore();
    await store.commit(openOps('fp-a'));
    const { box, counts } = outbox(store, chat(type, `${r.url}${path}`));
    await box.kick();
    await advance(box, 3_600_000);
    expect(r.requests).toHaveLength(1);
    expect(counts).toEqual({ delivered: 0, retried: 0, dead: 1 });
    const { items } = await store.listDeadLetters(10);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ channelId: 'chat', status: 'dead', attempts: 1 });
    expect(items[0]!.lastError).toMatch(said);
    expect(items[0]!.lastError).toContain(`${r.url}/…`);
    expect(items[0]!.lastError).not.toContain('s3cr3t');
    expectNoSecretLogged();
    expect(lines.some((l) => l.includes('dead-lettered'))).toBe(true);
  });

  it('retries while the receiver is down or failing, and logs no URL on the way', async () => {
    const port = await closedPort();
    const store = await openStore();
    await store.commit(openOps('fp-a'));
    const { box, counts } = outbox(store, chat(type, `http://127.0.0.1:${port}${path}`));
    await box.kick();
    await advance(box, 60_000);
    expect(counts.retried).toBeGreaterThanOrEqual(2);
    const failing = await receiver(() => ({ status: 500, body: `internal error at ${path}` }));
    const store2 = await openStore('second');
    await store2.commit(openOps('fp-b'));
    const second = outbox(store2, chat(type, `${failing.url}${path}`));
    await second.box.kick();
    expect(second.counts.retried).toBe(1);
    const [pending] = (await store2.listDeadLetters(10)).items;
    expect(pending).toBeUndefined();
    expectNoSecretLogged();
    expect(lines.some((l) => l.includes('connection refused'))).toBe(true);
    expect(lines.some((l) => l.includes('answered 500'))).toBe(true);
  });
});
