// The outbox worker against a real SQLite file and the real webhook channel posting to real HTTP
// servers on 127.0.0.1. The FakeClock drives backoff; HTTP itself runs in real time.
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Outbox, OutboxConfigError, type OutboxOptions } from '../../src/notify/outbox.js';
import { createChannel } from '../../src/notify/registry.js';
import type { Channel } from '../../src/notify/types.js';
import { webhookChannelSchema } from '../../src/notify/webhook.js';
import { FakeClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import type { IncidentDraft, StoreOp } from '../../src/store/types.js';
import { closedPort, serve, type Running } from '../probe-kinds/helpers.js';

const T0 = Date.UTC(2026, 0, 1, 8, 0, 0);
const LEASE = 60_000;

interface Received {
  key: string;
  event: string;
  status: number;
}

/** A webhook receiver on 127.0.0.1 that answers with `answer(n)` for its n-th request (from 1). */
async function receiver(answer: (n: number) => number | { status: number; headers: Record<string, string> }, port = 0) {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const a = answer(received.length + 1);
      const { status, headers } = typeof a === 'number' ? { status: a, headers: {} } : a;
      received.push({ key: String(req.headers['idempotency-key']), event: String(req.headers['x-incidentd-event']), status });
      res.writeHead(status, headers).end(status >= 400 ? 'no' : '');
    });
  });
  let running: Running;
  if (port === 0) {
    running = await serve(server);
  } else {
    // A fixed port: the one a channel was pointed at while nothing listened there.
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    running = {
      port,
      close: () => {
        server.closeAllConnections();
        return new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
  }
  cleanup.push(() => running.close());
  return { port: running.port, received };
}

function webhook(id: string, port: number, clock: FakeClock): Channel {
  const config = webhookChannelSchema.parse({ id, type: 'webhook', url: `http://127.0.0.1:${port}/hook`, secret: 'shared-secret-of-the-hook', timeout: '2s' });
  return createChannel(config, { clock, logger: silentLogger() });
}

function draft(fp: string): IncidentDraft {
  return {
    fingerprint: fp,
    classification: { category: 'network', severity: 'major', impact: 'site', tier: 'L2', priority: 'P1' },
    title: `${fp} is down`,
    description: 'Ping fails',
    runbook: 'Check the switch port.',
    ruleId: 'host-down',
    source: 'probe',
    target: { id: fp, kind: 'server', name: fp, site: 'hq', labels: {} },
    check: { name: 'ping', type: 'icmp' },
    labels: {},
    message: 'request timed out',
  };
}

function openOps(fp: string, at: number, channels: string[]): StoreOp[] {
  return [
    { kind: 'fail', at, count: 1, reopenWindowMs: 0, draft: draft(fp) },
    { kind: 'notify', fingerprint: fp, channels },
  ];
}

const cleanup: (() => Promise<void>)[] = [];
let dir: string;
let path: string;
let clock: FakeClock;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'incidentd-outbox-'));
  path = join(dir, 'incidentd.db');
  clock = new FakeClock(T0);
});

afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
  await rm(dir, { recursive: true, force: true });
});

async function openStore(): Promise<SqliteStore> {
  const s = new SqliteStore({ path, clock });
  await s.open();
  cleanup.push(() => s.close());
  return s;
}

interface Counts {
  delivered: string[];
  retried: string[];
  dead: string[];
}

function outbox(store: SqliteStore, channels: Channel[], over: Partial<OutboxOptions> = {}): { box: Outbox; counts: Counts } {
  const counts: Counts = { delivered: [], retried: [], dead: [] };
  const map = new Map(channels.map((c) => [c.id, c]));
  const box = new Outbox({
    store,
    channels: () => map,
    clock,
    logger: silentLogger(),
    baseDelayMs: 5000,
    maxDelayMs: 60_000,
    leaseMs: LEASE,
    deliveryTimeoutMs: 5000,
    pollMs: 3_600_000,
    random: () => 0.5,
    onDelivered: (c) => counts.delivered.push(c),
    onRetry: (c) => counts.retried.push(c),
    onDead: (c) => counts.dead.push(c),
    ...over,
  });
  cleanup.push(() => box.stop());
  box.start();
  return { box, counts };
}

/** Moves the fake clock and lets the outbox look for what fell due. */
async function advance(box: Outbox, ms: number): Promise<void> {
  await clock.advance(ms);
  await box.kick();
}

describe('Outbox', () => {
  it('backs off exponentially with jitter while the receiver fails, then delivers once', async () => {
    const r = await receiver((n) => (n <= 2 ? 503 : 204));
    const store = await openStore();
    const [opened] = await store.commit(openOps('fp-a', T0, ['hook']));
    const number = opened?.kind === 'fail' ? opened.number : '';
    expect(number).toBe('INC-000001');
    const { box, counts } = outbox(store, [webhook('hook', r.port, clock)]);

    await box.kick();
    expect(r.received.map((x) => x.status)).toEqual([503]);
    // First retry: half (random 0.5) of the 5 s base.
    await advance(box, 2499);
    expect(r.received).toHaveLength(1);
    await advance(box, 1);
    expect(r.received.map((x) => x.status)).toEqual([503, 503]);
    // Second retry: half of 10 s.
    await advance(box, 4999);
    expect(r.received).toHaveLength(2);
    await advance(box, 1);
    expect(r.received.map((x) => x.status)).toEqual([503, 503, 204]);

    const key = `${number}:incident.opened:${T0}`;
    expect(new Set(r.received.map((x) => x.key))).toEqual(new Set([key]));
    expect(r.received[0]!.event).toBe('incident.opened');
    expect(counts).toEqual({ delivered: ['hook'], retried: ['hook', 'hook'], dead: [] });
    await advance(box, 3_600_000);
    expect(r.received).toHaveLength(3);
    expect(await store.countDeliveries()).toEqual({ pending: 0, dead: 0 });
  });

  it('loses nothing while a receiver is down and delivers exactly once when it comes up', async () => {
    const port = await closedPort();
    const store = await openStore();
    await store.commit(openOps('fp-a', T0, ['hook']));
    await store.commit(openOps('fp-b', T0, ['hook']));
    const { box, counts } = outbox(store, [webhook('hook', port, clock)]);

    await box.kick();
    await advance(box, 60_000);
    await advance(box, 60_000);
    expect(counts.retried).toHaveLength(6);
    expect(await store.countDeliveries()).toEqual({ pending: 2, dead: 0 });

    const r = await receiver(() => 204, port);
    await advance(box, 60_000);
    await advance(box, 60_000);
    expect(r.received.map((x) => x.key).sort()).toEqual([
      `INC-000001:incident.opened:${T0}`,
      `INC-000002:incident.opened:${T0}`,
    ]);
    expect(counts.delivered).toEqual(['hook', 'hook']);
    expect(await store.countDeliveries()).toEqual({ pending: 0, dead: 0 });
  });

  it('honours a Retry-After answer instead of its own backoff', async () => {
    const r = await receiver((n) => (n === 1 ? { status: 429, headers: { 'Retry-After': '120' } } : 204));
    const store = await openStore();
    await store.commit(openOps('fp-a', T0, ['hook']));
    const { box } = outbox(store, [webhook('hook', r.port, clock)], { maxDelayMs: 3_600_000 });
    await box.kick();
    await advance(box, 119_999);
    expect(r.received).toHaveLength(1);
    await advance(box, 1);
    expect(r.received.map((x) => x.status)).toEqual([429, 204]);
  });

  it('dead-letters a refused event at once, lists it, and never sends it again', async () => {
    const r = await receiver(() => 400);
    const store = await openStore();
    await store.commit(openOps('fp-a', T0, ['hook']));
    const { box, counts } = outbox(store, [webhook('hook', r.port, clock)]);
    await box.kick();
    await advance(box, 3_600_000);
    expect(r.received).toHaveLength(1);
    expect(counts).toEqual({ delivered: [], retried: [], dead: ['hook'] });
    expect(await store.countDeliveries()).toEqual({ pending: 0, dead: 1 });
    const { items } = await store.listDeadLetters(10);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ channelId: 'hook', status: 'dead', attempts: 1 });
    expect(items[0]!.lastError).toMatch(/answered 400/);
  });

  it('dead-letters after maxAttempts retryable failures', async () => {
    const r = await receiver(() => 503);
    const store = await openStore();
    await store.commit(openOps('fp-a', T0, ['hook']));
    const { box, counts } = outbox(store, [webhook('hook', r.port, clock)], { maxAttempts: 3 });
    await box.kick();
    for (let i = 0; i < 10; i++) await advance(box, 60_000);
    expect(r.received).toHaveLength(3);
    expect(counts.dead).toEqual(['hook']);
    const [dead] = (await store.listDeadLetters(10)).items;
    expect(dead!.lastError).toMatch(/^gave up after 3 attempts; last: .*503/);
  });

  it('dead-letters deliveries for a channel that is no longer configured, and delivers the others', async () => {
    const r = await receiver(() => 204);
    const store = await openStore();
    await store.commit(openOps('fp-a', T0, ['hook', 'removed']));
    const { box, counts } = outbox(store, [webhook('hook', r.port, clock)]);
    await box.kick();
    expect(counts).toEqual({ delivered: ['hook'], retried: [], dead: ['removed'] });
    const [dead] = (await store.listDeadLetters(10)).items;
    expect(dead!.lastError).toMatch(/channel "removed" is not configured/);
  });

  it('restarted mid-way, loses nothing and sends nothing twice', async () => {
    const tries = new Map<string, number>();
    const r = await receiver(() => 204);
    const store = await openStore();
    for (let i = 1; i <= 6; i++) await store.commit(openOps(`fp-${i}`, T0 + i, ['hook']));
    await clock.advance(10);

    // A first worker: a receiver that is down makes everything wait for a retry.
    const down = await closedPort();
    const first = outbox(store, [webhook('hook', down, clock)]);
    await first.box.kick();
    expect(first.counts.retried).toHaveLength(6);
    // A third party claimed one delivery and crashed before recording anything.
    await clock.advance(60_000);
    const [crashed] = await store.claimDeliveries(clock.now(), 1, LEASE, 'crashed-instance');
    await first.box.stop();
    await store.close();

    // The restart: a new store connection and a new worker, now with the receiver up.
    const store2 = await openStore();
    const second = outbox(store2, [webhook('hook', r.port, clock)]);
    await second.box.kick();
    expect(r.received).toHaveLength(5);
    expect(r.received.map((x) => x.key)).not.toContain(crashed!.eventId);
    // The crashed claim runs out, and its delivery goes out too.
    await advance(second.box, LEASE);
    for (const x of r.received) tries.set(x.key, (tries.get(x.key) ?? 0) + 1);
    expect([...tries.keys()].sort()).toEqual(
      Array.from({ length: 6 }, (_, i) => `INC-00000${i + 1}:incident.opened:${T0 + i + 1}`).sort(),
    );
    expect([...tries.values()]).toEqual([1, 1, 1, 1, 1, 1]);
    await advance(second.box, 3_600_000);
    expect(r.received).toHaveLength(6);
    expect(await store2.countDeliveries()).toEqual({ pending: 0, dead: 0 });
  });

  it('restarted under the same owner, takes back its predecessor’s claims at once; another instance’s wait out their lease', async () => {
    const r = await receiver(() => 204);
    const store = await openStore();
    await store.commit(openOps('fp-a', T0, ['hook']));
    await store.commit(openOps('fp-b', T0, ['hook']));
    await clock.advance(10);
    // The predecessor (killed mid-delivery) holds one claim, a live second instance the other.
    const [left] = await store.claimDeliveries(clock.now(), 1, LEASE, 'instance-a');
    const [held] = await store.claimDeliveries(clock.now(), 1, LEASE, 'instance-b');

    const restarted = outbox(store, [webhook('hook', r.port, clock)], { owner: 'instance-a' });
    await restarted.box.kick();
    expect(r.received.map((x) => x.key)).toEqual([left!.eventId]);
    await advance(restarted.box, LEASE - 1);
    expect(r.received).toHaveLength(1);
    await advance(restarted.box, 1);
    expect(r.received.map((x) => x.key)).toEqual([left!.eventId, held!.eventId]);
    expect(restarted.counts.delivered).toEqual(['hook', 'hook']);
  });

  it('delivers the events of one incident to a channel in the order they happened', async () => {
    const r = await receiver(() => 204);
    const store = await openStore();
    await store.commit([
      ...openOps('fp-a', T0, ['hook']),
      { kind: 'resolve', at: T0 + 1, fingerprint: 'fp-a', actor: 'system', message: 'ok' },
      { kind: 'notify', fingerprint: 'fp-a', channels: ['hook'] },
    ]);
    await clock.advance(1);
    const { box } = outbox(store, [webhook('hook', r.port, clock)]);
    await box.kick();
    expect(r.received.map((x) => x.event)).toEqual(['incident.opened', 'incident.resolved']);
  });

  it('refuses a lease no longer than the delivery timeout', () => {
    expect(
      () => new Outbox({ store: null as never, channels: () => new Map(), clock, logger: silentLogger(), leaseMs: 1000, deliveryTimeoutMs: 1000 }),
    ).toThrow(OutboxConfigError);
  });

  it('keeps delivering to other channels while one receiver takes its time (a sliding window, not batch by batch)', async () => {
    const store = await openStore();
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    const slowCalls: string[] = [];
    const slow: Channel = {
      id: 'slow-desk',
      type: 'test',
      deliver: async (e) => {
        slowCalls.push(e.incident.number);
        await held;
        return { outcome: 'ok' };
      },
    };
    const fast = await receiver(() => 200);
    await store.commit(openOps('a', T0, ['slow-desk']));
    await store.commit(openOps('b', T0 + 1, ['hook']));
    await store.commit(openOps('c', T0 + 2, ['hook']));
    await clock.advance(10);
    const { box, counts } = outbox(store, [slow, webhook('hook', fast.port, clock)], { batchSize: 2 });
    // Two slots: the slow desk holds one; the hook gets b, then c in the freed slot.
    const deadline = Date.now() + 5000;
    // Counted once the outbox has the receiver's answer, which comes after the receiver saw the request.
    while (counts.delivered.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    try {
      expect(fast.received.map((r) => r.key)).toEqual([`INC-000002:incident.opened:${T0 + 1}`, `INC-000003:incident.opened:${T0 + 2}`]);
      expect(slowCalls).toEqual(['INC-000001']);
      expect(counts.delivered).toEqual(['hook', 'hook']);
    } finally {
      // Even when an expectation fails, so the slow delivery ends and the outbox can stop.
      release();
    }
    await box.kick();
    await box.stop();
    expect(counts.delivered.sort()).toEqual(['hook', 'hook', 'slow-desk']);
  });
});
