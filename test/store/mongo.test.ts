// The MongoDB store. The contract suite and the server tests need a real MongoDB (a replica set to
// cover transactions): `MONGODB_URI=mongodb://127.0.0.1:27017/?replicaSet=rs0 npx vitest run test/store`.
// Without MONGODB_URI they are reported as skipped; the tests that need no server always run.
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/shared/errors.js';
import { emptyEscalation } from '../../src/domain/incident.js';
import {
  InvalidCursorError,
  MongoSchemaTooNewError,
  MongoStore,
  MongoUriError,
  SCHEMA_VERSION,
} from '../../src/store/mongo/index.js';
import type { OpResult, StoreOp } from '../../src/store/types.js';
import { draft, fail } from './ops.js';
import { databaseInUri, withDatabase } from '../../src/store/mongo/uri.js';
import type { StoreHarness } from './contract.js';
import { storeContract } from './contract.js';
import { silenceContract } from './silence-contract.js';
import { tenantContract } from './tenant-contract.js';
import { revisionContract } from './revision-contract.js';
import { userContract } from './user-contract.js';
import { historyContract } from './history-contract.js';
import { reportContract } from './report-contract.js';
import { problemReportContract } from './problem-report-contract.js';
import { mailOutboxContract, reportBatchContract } from './bulk-contract.js';
import { receiptContract } from './receipt-contract.js';

const MONGODB_URI = process.env.MONGODB_URI ?? '';
const HAS_MONGO = MONGODB_URI !== '';
if (!HAS_MONGO) {
  console.warn(
    'MongoDB store tests SKIPPED: set MONGODB_URI=mongodb://127.0.0.1:27017/?replicaSet=rs0 to run them',
  );
}

const T0 = Date.UTC(2026, 0, 1);
/** A loopback port nothing listens on: connections are refused at once. */
const CLOSED = 'mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=500';

function freshDatabase(): string {
  return `incidentd_test_${randomBytes(6).toString('hex')}`;
}

async function withRawClient<T>(fn: (c: MongoClient) => Promise<T>): Promise<T> {
  const c = new MongoClient(MONGODB_URI, { serverSelectionTimeoutMS: 5000 });
  try {
    await c.connect();
    return await fn(c);
  } finally {
    await c.close();
  }
}

/** Every instance is another MongoStore (another client) on the same, freshly named database. */
async function makeMongo(): Promise<StoreHarness> {
  const database = freshDatabase();
  const opened: MongoStore[] = [];
  const make = async (): Promise<MongoStore> => {
    const s = new MongoStore({ uri: withDatabase(MONGODB_URI, database) });
    opened.push(s);
    await s.open();
    return s;
  };
  return {
    store: await make(),
    another: make,
    reopen: make,
    cleanup: async () => {
      for (const s of opened) await s.close();
      await withRawClient((c) => c.db(database).dropDatabase());
    },
  };
}

describe('MongoStore without a server', () => {
  it('fails open() fast with StoreUnavailableError naming the unreachable host', async () => {
    const s = new MongoStore({ uri: CLOSED, database: 'incidentd_test_closed' });
    const err = await s.open().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect((err as Error).message).toContain('127.0.0.1:1');
    expect((err as Error).message).toContain('incidentd_test_closed');
    expect(await s.ping()).toBe(false);
    await s.close();
  });

  it('never shows the password, neither in describe() nor in the open() error', async () => {
    const uri = 'mongodb://incidentd:pw-Sup3r%40secret@127.0.0.1:1/?serverSelectionTimeoutMS=500&authSource=admin';
    const s = new MongoStore({ uri, database: 'incidents' });
    expect(s.describe()).toBe('mongodb:127.0.0.1:1/incidents');
    const err = await s.open().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect((err as Error).message).toContain('127.0.0.1:1');
    expect((err as Error).message).not.toMatch(/Sup3r|secret/);
  });

  it('uses the database named in the connection string, else the one configured, else incidentd', () => {
    expect(new MongoStore({ uri: 'mongodb://db.invalid/ops?replicaSet=rs0', database: 'x' }).describe()).toBe('mongodb:db.invalid:27017/ops');
    expect(new MongoStore({ uri: 'mongodb://db.invalid/?replicaSet=rs0', database: 'x' }).describe()).toBe('mongodb:db.invalid:27017/x');
    expect(new MongoStore({ uri: 'mongodb://db.invalid' }).describe()).toBe('mongodb:db.invalid:27017/incidentd');
    expect(databaseInUri('mongodb://u:p%2Fq@h1,h2:27018/my%20db?authSource=admin')).toBe('my db');
    expect(withDatabase('mongodb://h/old?replicaSet=rs0', 'new')).toBe('mongodb://h/new?replicaSet=rs0');
    expect(withDatabase('mongodb://h', 'new')).toBe('mongodb://h/new');
  });

  it('describes a replica set by all its hosts', () => {
    const s = new MongoStore({ uri: 'mongodb://db1.invalid:27017,db2.invalid:27018/?replicaSet=rs0', database: 'x' });
    expect(s.describe()).toBe('mongodb:db1.invalid:27017,db2.invalid:27018/x');
  });

  it('rejects a malformed connection string when constructed, without repeating it', () => {
    const make = () =>
      new MongoStore({ uri: 'mongodb://u:topsecret@127.0.0.1/?serverSelectionTimeoutMS=soon', database: 'x' });
    expect(make).toThrow(MongoUriError);
    expect(make).toThrow(/serverSelectionTimeoutMS/);
    expect(make).not.toThrow(/topsecret/);
    expect(() => new MongoStore({ uri: 'postgres://127.0.0.1/x', database: 'x' })).toThrow(MongoUriError);
  });

  it('refuses work before open()', async () => {
    const s = new MongoStore({ uri: CLOSED, database: 'x' });
    expect(await s.ping()).toBe(false);
    await expect(s.commit([fail('fp', T0)])).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(s.list({}, 10)).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(s.acknowledge('INC-000001', 'a', 'm', T0)).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it('rejects a cursor it did not hand out before touching the database', async () => {
    const s = new MongoStore({ uri: CLOSED, database: 'x' });
    const err = await s.list({}, 10, 'bm90LWEtY3Vyc29y').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidCursorError);
    expect((err as Error).name).toBe('InvalidCursorError');
  });
});

describe.runIf(HAS_MONGO)('MongoStore against MONGODB_URI', () => {
  storeContract('mongodb', makeMongo);
  silenceContract('mongodb', makeMongo);
  tenantContract('mongodb', makeMongo);
  revisionContract('mongodb', makeMongo);
  userContract('mongodb', makeMongo);
  historyContract('mongodb', makeMongo);
  reportContract('mongodb', makeMongo);
  problemReportContract('mongodb', makeMongo);
  mailOutboxContract('mongodb', makeMongo);
  reportBatchContract('mongodb', makeMongo);
  receiptContract('mongodb', makeMongo);

  describe('on the server', () => {
    async function withStore(fn: (s: MongoStore, database: string) => Promise<void>): Promise<void> {
      const database = freshDatabase();
      const stores: MongoStore[] = [];
      const open = async () => {
        const s = new MongoStore({ uri: withDatabase(MONGODB_URI, database) });
        stores.push(s);
        await s.open();
        return s;
      };
      try {
        await fn(await open(), database);
        // Opening again is harmless: indexes and meta are created idempotently.
        const again = await open();
        expect(await again.ping()).toBe(true);
      } finally {
        for (const s of stores) await s.close();
        await withRawClient((c) => c.db(database).dropDatabase());
      }
    }

    it('enforces one active incident per fingerprint in MongoDB itself, not only in store code', async () => {
      await withStore(async (s, database) => {
        await s.commit([fail('fp', T0)]);
        await withRawClient(async (c) => {
          const incidents = c.db(database).collection<{ _id: number }>('incidents');
          const copy = { ...(await incidents.findOne({ _id: 1 }))!, _id: 2 };
          await expect(incidents.insertOne(copy)).rejects.toMatchObject({ code: 11000 });
          await s.commit([{ kind: 'resolve', at: T0 + 1, fingerprint: 'fp', actor: 'system', message: 'ok' }]);
          // With the first one resolved, a second incident of the fingerprint is allowed.
          await expect(incidents.insertOne(copy)).resolves.toMatchObject({ insertedId: 2 });
        });
      });
    });

    it('a batch retried under its id after it was committed returns its results and applies nothing twice (with or without transactions)', async () => {
      await withStore(async (s) => {
        await s.commit([fail('fp', T0)]);
        const first = await s.commit([fail('fp', T0 + 1), fail('other', T0 + 1)], { id: 'batch-1' });
        // The manager's retry after an unclear failure names the same batch id; the ops are rebuilt.
        const again = await s.commit([fail('fp', T0 + 1), fail('other', T0 + 1)], { id: 'batch-1' });
        expect(again).toEqual(first);
        const inc = (await s.list({ fingerprint: 'fp' }, 10)).items[0]!;
        expect(inc.occurrences).toBe(2);
        expect((await s.list({}, 10)).items).toHaveLength(2);
      });
    });

    it('stores escalation times as BSON dates, and still reads the numbers older versions wrote', async () => {
      await withStore(async (s, database) => {
        const escalation = { ...emptyEscalation(), startedAt: T0, ackDueAt: T0 + 60_000, nextTimerAt: T0 + 60_000, severity: 'major' as const };
        await s.commit([{ ...fail('fp', T0), draft: { ...draft('fp'), escalation } } as StoreOp]);
        await withRawClient(async (c) => {
          const incidents = c.db(database).collection('incidents');
          const doc = await incidents.findOne({ _id: 1 as never });
          expect(doc!.escalation.startedAt).toBeInstanceOf(Date);
          expect(doc!.escalation.ackDueAt).toEqual(new Date(T0 + 60_000));
          expect(doc!.escalation.resolveDueAt).toBeNull();
          // A document of schema 4 kept epoch milliseconds.
          await incidents.updateOne({ _id: 1 as never }, { $set: { 'escalation.ackDueAt': T0 + 5, 'escalation.startedAt': T0 } });
        });
        const inc = await s.get('INC-000001');
        expect(inc!.escalation).toMatchObject({ startedAt: T0, ackDueAt: T0 + 5, nextTimerAt: T0 + 60_000, level: 0, severity: 'major' });
      });
    });

    it('says at open whether commits are atomic, with a warning to log on a standalone server', async () => {
      await withStore(async (s) => {
        const replicaSet = await withRawClient(async (c) => Boolean((await c.db('admin').command({ hello: 1 })).setName));
        const g = s.guarantees();
        expect(g.atomicCommits).toBe(replicaSet);
        if (replicaSet) expect(g.warning).toBeNull();
        else expect(g.warning).toMatch(/standalone server without transactions.*replica set/);
      });
    });

    it('stores times as BSON dates and the schema version in meta', async () => {
      await withStore(async (s, database) => {
        const [r] = await s.commit([fail('fp', T0)]);
        const number = (r as Extract<OpResult, { kind: 'fail' }>).number;
        await s.resolve(number, 'alice', 'fixed', T0 + 5);
        await withRawClient(async (c) => {
          const db = c.db(database);
          const doc = await db.collection('incidents').findOne({ _id: 1 as never });
          expect(doc!.firstSeen).toBeInstanceOf(Date);
          expect((doc!.firstSeen as Date).getTime()).toBe(T0);
          expect((doc!.resolvedAt as Date).getTime()).toBe(T0 + 5);
          expect(doc!.timeline[0].at).toBeInstanceOf(Date);
          const meta = await db.collection('meta').findOne({ _id: 'schema' as never });
          expect(meta!.version).toBe(SCHEMA_VERSION);
          const indexes = await db.collection('incidents').listIndexes().toArray();
          const dedup = indexes.find((i) => i.name === 'active_fingerprint');
          expect(dedup).toMatchObject({
            unique: true,
            key: { fingerprint: 1 },
            partialFilterExpression: { status: { $in: ['open', 'acknowledged'] } },
          });
        });
      });
    });

    it('refuses a database written by a newer schema, saying what to do', async () => {
      await withStore(async (_s, database) => {
        await withRawClient((c) =>
          c.db(database).collection('meta').updateOne({ _id: 'schema' as never }, { $set: { version: 999 } }),
        );
        const newer = new MongoStore({ uri: withDatabase(MONGODB_URI, database) });
        const err = await newer.open().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(MongoSchemaTooNewError);
        expect((err as Error).message).toMatch(/upgrade incidentd/);
        expect(await newer.ping()).toBe(false);
        await withRawClient((c) =>
          c.db(database).collection('meta').updateOne({ _id: 'schema' as never }, { $set: { version: SCHEMA_VERSION } }),
        );
      });
    });
  });
});
