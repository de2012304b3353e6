// Round trips of the MongoDB outbox, counted with the driver's command monitoring: every command
// the store sends is one request and one answer on the wire. Needs a server, as mongo.test.ts:
// `MONGODB_URI=mongodb://127.0.0.1:27017/?replicaSet=rs0 npx vitest run test/store/mongo-outbox.test.ts`.
import { randomBytes } from 'node:crypto';
import type { CommandStartedEvent } from 'mongodb';
import { MongoClient } from 'mongodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MongoStore } from '../../src/store/mongo/index.js';
import { withDatabase } from '../../src/store/mongo/uri.js';
import type { StoreOp } from '../../src/store/types.js';
import { fail } from './ops.js';

const MONGODB_URI = process.env.MONGODB_URI ?? '';
const T0 = Date.UTC(2026, 0, 1);
const LEASE = 60_000;

function resolve(fp: string, at: number): StoreOp {
  return { kind: 'resolve', at, fingerprint: fp, actor: 'system', message: 'ok' };
}

function notify(fp: string, channels: string[]): StoreOp {
  return { kind: 'notify', fingerprint: fp, channels };
}

describe.runIf(MONGODB_URI !== '')('MongoDB outbox queues and their round trips', () => {
  const database = `incidentd_test_${randomBytes(6).toString('hex')}`;
  let store: MongoStore;
  const commands: string[] = [];

  /** The commands `fn` sent, by name. */
  async function sent(fn: () => Promise<unknown>): Promise<string[]> {
    commands.length = 0;
    await fn();
    return [...commands];
  }

  beforeEach(async () => {
    const uri = withDatabase(MONGODB_URI, database);
    store = new MongoStore({ uri: `${uri}${uri.includes('?') ? '&' : '?'}monitorCommands=true` });
    await store.open();
    // The store keeps its client to itself; the test listens to it for the commands it sends.
    const client = (store as unknown as { client: MongoClient }).client;
    client.on('commandStarted', (e: CommandStartedEvent) => {
      if (e.databaseName === database) commands.push(e.commandName);
    });
  });

  afterEach(async () => {
    await store.close();
    const c = new MongoClient(MONGODB_URI, { serverSelectionTimeoutMS: 5000 });
    try {
      await c.db(database).dropDatabase();
    } finally {
      await c.close();
    }
  });

  it('claims the heads of 20 queues in 20 round trips, one per delivery', async () => {
    for (let i = 0; i < 20; i++) await store.commit([fail(`fp-${i}`, T0 + i), notify(`fp-${i}`, ['hook'])]);
    const claimed: unknown[] = [];
    const cmds = await sent(async () => claimed.push(...(await store.claimDeliveries(T0 + 100, 20, LEASE, 'w'))));
    expect(claimed).toHaveLength(20);
    expect(cmds).toHaveLength(20);
  });

  it('claims what is due in one round trip per delivery plus one that finds nothing more', async () => {
    // One queue of three events (opened, resolved, reopened) and two single-delivery queues.
    await store.commit([fail('fp-a', T0), notify('fp-a', ['hook'])]);
    await store.commit([resolve('fp-a', T0 + 1), notify('fp-a', ['hook'])]);
    await store.commit([fail('fp-a', T0 + 2), notify('fp-a', ['hook'])]);
    await store.commit([fail('fp-b', T0 + 3), notify('fp-b', ['hook', 'mail'])]);
    let got = 0;
    const cmds = await sent(async () => (got = (await store.claimDeliveries(T0 + 100, 10, LEASE, 'w')).length));
    // The heads: fp-a's opening, fp-b's two.
    expect(got).toBe(3);
    expect(cmds.length).toBeLessThanOrEqual(got + 1);
    // Nothing due: one round trip.
    expect(await sent(() => store.claimDeliveries(T0 + 200, 10, LEASE, 'w'))).toHaveLength(1);
  });

  it('upgrades a version 5 database: its pending deliveries keep their order, and the old claim index goes', async () => {
    // Two queues: fp-a/hook with three events, fp-b/hook with one.
    await store.commit([fail('fp-a', T0), notify('fp-a', ['hook'])]);
    await store.commit([resolve('fp-a', T0 + 1), notify('fp-a', ['hook'])]);
    await store.commit([fail('fp-a', T0 + 2), notify('fp-a', ['hook'])]);
    await store.commit([fail('fp-b', T0 + 3), notify('fp-b', ['hook'])]);
    await store.close();
    // What version 5 wrote: no head or next, and the `due` index.
    const raw = new MongoClient(MONGODB_URI, { serverSelectionTimeoutMS: 5000 });
    try {
      const db = raw.db(database);
      await db.collection('deliveries').updateMany({}, { $unset: { head: '', next: '' } });
      await db.collection('deliveries').dropIndex('claim');
      await db.collection('deliveries').createIndex({ status: 1, nextAt: 1, _id: 1 }, { name: 'due' });
      await db.collection('meta').updateOne({ _id: 'schema' as never }, { $set: { version: 5 } });
    } finally {
      await raw.close();
    }
    await store.open();
    const types: string[] = [];
    for (let round = 0; round < 5; round++) {
      for (const d of await store.claimDeliveries(T0 + 10, 10, LEASE, 'w')) {
        types.push(`${d.event.number === 'INC-000001' ? 'a' : 'b'}:${d.event.type}`);
        await store.completeDelivery(d.id, { delivered: true, at: T0 + 10 });
      }
    }
    expect(types).toEqual(['a:incident.opened', 'b:incident.opened', 'a:incident.resolved', 'a:incident.reopened']);
    const check = new MongoClient(MONGODB_URI, { serverSelectionTimeoutMS: 5000 });
    try {
      const names = (await check.db(database).collection('deliveries').listIndexes().toArray()).map((i: { name: string }) => i.name);
      expect(names).toContain('claim');
      expect(names).not.toContain('due');
    } finally {
      await check.close();
    }
  });

  it('lets the next delivery of a queue out once the head is delivered or dead-lettered, not while it waits for a retry', async () => {
    await store.commit([fail('fp-a', T0), notify('fp-a', ['hook'])]);
    await store.commit([resolve('fp-a', T0 + 1), notify('fp-a', ['hook'])]);
    await store.commit([fail('fp-a', T0 + 2), notify('fp-a', ['hook'])]);
    const claimType = async (now: number): Promise<string[]> => (await store.claimDeliveries(now, 10, LEASE, 'w')).map((d) => d.event.type);
    const [opened] = await store.claimDeliveries(T0 + 10, 10, LEASE, 'w');
    expect(opened!.event.type).toBe('incident.opened');
    await store.completeDelivery(opened!.id, { retryAt: T0 + 20, error: 'HTTP 503' });
    expect(await claimType(T0 + 15)).toEqual([]);
    const [again] = await store.claimDeliveries(T0 + 20, 10, LEASE, 'w');
    expect(again).toMatchObject({ id: opened!.id, attempts: 2 });
    await store.completeDelivery(again!.id, { dead: true, at: T0 + 21, error: 'HTTP 400' });
    const [resolved] = await store.claimDeliveries(T0 + 21, 10, LEASE, 'w');
    expect(resolved!.event.type).toBe('incident.resolved');
    await store.completeDelivery(resolved!.id, { delivered: true, at: T0 + 22 });
    expect(await claimType(T0 + 22)).toEqual(['incident.reopened']);
  });
});
