// The production store: MongoDB, shared by any number of incidentd instances.
import { randomUUID } from 'node:crypto';
import type {
  AnyBulkWriteOperation,
  ClientSession,
  Collection,
  Db,
  Filter,
  MongoClientOptions,
  UpdateFilter,
} from 'mongodb';
import {
  MongoClient,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from 'mongodb';
import type { Severity } from '../../domain/classification.js';
import { SEVERITIES, severityRank } from '../../domain/classification.js';
import type { EscalationState, Incident } from '../../domain/incident.js';
import { emptyEscalation, incidentNumber, parseIncidentNumber, retitledMessage } from '../../domain/incident.js';
import type { Clock } from '../../shared/clock.js';
import { SystemClock } from '../../shared/clock.js';
import { DEFAULT_MAX_SUBSCRIBERS, planSubscribers, subscriberLimitNote } from '../../domain/subscribers.js';
import {
  IncidentNotFoundError,
  InvalidTransitionError,
  StoreUnavailableError,
  SubscriberLimitError,
} from '../../shared/errors.js';
import type {
  Delivery,
  DeliveryOutcome,
  EscalationChange,
  FingerprintState,
  IncidentFilter,
  IncidentStore,
  OpResult,
  OutboxEvent,
  OutboxEventType,
  Page,
  StoreOp,
} from '../types.js';
import { deliveryId, escalationEvent, outboxEventId } from '../types.js';
import type { CommitDoc, CounterDoc, DeliveryDoc, FingerprintStateDoc, IncidentDoc } from './documents.js';
import {
  docToDelivery,
  docToIncident,
  newDeliveryDoc,
  newIncidentDoc,
  relatedDoc,
  timelineDoc,
} from './documents.js';
import { InvalidCursorError, MongoUriError } from './errors.js';
import { ACTIVE, COLLECTIONS, ensureSchema } from './schema.js';

export interface MongoStoreOptions {
  /** Connection string, e.g. `mongodb://db1,db2,db3/?replicaSet=rs0`. May carry credentials. */
  uri: string;
  /** Database holding the incidentd collections. */
  database: string;
  clock?: Clock;
  /** How long ping() waits for an answer before reporting the store unreachable; default 2 s. */
  pingTimeoutMs?: number;
}

/** Largest page `list` returns, whatever the caller asks for (as the SQLite store). */
export const MAX_PAGE_SIZE = 1000;

/**
 * Unless the connection string says otherwise: an unreachable server fails an operation after 5 s
 * (the driver's default is 30 s, long enough to stall the pipeline and /readyz).
 */
const DEFAULT_SERVER_SELECTION_TIMEOUT_MS = 5000;

/**
 * How many times a fail op (without a transaction) or a whole commit (with one) is run again after
 * another instance won the race to open the same fingerprint. One retry normally suffices: the
 * winner's incident is then found as a repeat.
 */
const MAX_RACE_RETRIES = 5;

/** Per commit: a number taken from the counter whose insert lost a race, reused by the next insert. */
interface CommitContext {
  session: ClientSession | undefined;
  spareSeq: number | null;
}

const NO_SESSION: CommitContext = { session: undefined, spareSeq: null };

/** An event of a person's action (API), named like the ones commits name. */
function personEvent(number: string, type: OutboxEvent['type'], at: number, actor: string, message: string): OutboxEvent {
  const event: OutboxEvent = { id: outboxEventId(number, type, at), type, at, number, actor };
  if (message !== '') event.message = message;
  return event;
}

export class MongoStore implements IncidentStore {
  private readonly uri: string;
  private readonly database: string;
  private readonly clock: Clock;
  private readonly pingTimeoutMs: number;
  private readonly clientOptions: MongoClientOptions;
  /** `host:port[,host:port…]` without credentials, for messages. */
  private readonly where: string;
  private readonly password: string | undefined;
  private client: MongoClient;
  private db: Db | null = null;
  private transactions = false;
  /** Writes of this instance run one after another, in call order. */
  private tail: Promise<unknown> = Promise.resolve();
  /** The id of each batch handed to commit(), kept while the caller holds on to it (retries). */
  private readonly batchIds = new WeakMap<StoreOp[], string>();

  constructor(opts: MongoStoreOptions) {
    this.uri = opts.uri;
    this.database = opts.database;
    this.clock = opts.clock ?? new SystemClock();
    this.pingTimeoutMs = opts.pingTimeoutMs ?? 2000;
    this.clientOptions = {
      appName: 'incidentd',
      // An optional field left undefined must stay absent (FingerprintState is stored as given),
      // not turn into null.
      ignoreUndefined: true,
      ...(/[?&]serverSelectionTimeoutMS=/i.test(opts.uri)
        ? {}
        : { serverSelectionTimeoutMS: DEFAULT_SERVER_SELECTION_TIMEOUT_MS }),
    };
    // The constructor parses the string without connecting, so a bad one fails here, at start-up.
    this.client = this.newClient();
    const o = this.client.options;
    this.where = o.srvHost ?? o.hosts.map((h) => h.toString()).join(',');
    this.password = o.credentials?.password || undefined;
  }

  describe(): string {
    return `mongodb:${this.where}/${this.database}`;
  }

  /** Whether commits run in multi-document transactions (replica set or sharded cluster). */
  get usesTransactions(): boolean {
    return this.transactions;
  }

  async open(): Promise<void> {
    if (this.db) return;
    const db = this.client.db(this.database);
    try {
      await this.client.connect();
      const hello = await db.admin().command({ hello: 1 });
      // Transactions need sessions and a replica set (setName) or a mongos (isdbgrid).
      this.transactions =
        hello.logicalSessionTimeoutMinutes != null && (typeof hello.setName === 'string' || hello.msg === 'isdbgrid');
      await ensureSchema(db, this.describe(), this.clock.now());
    } catch (err) {
      await this.client.close().catch(() => undefined);
      this.client = this.newClient();
      if (!(err instanceof MongoServerError) && !isConnectionError(err)) throw err;
      throw new StoreUnavailableError(
        `cannot open MongoDB database ${this.database} at ${this.where}: ${this.scrub(err)}; ` +
          'check that the server is running and reachable, and the user name, password and authSource in store.uri',
        { cause: err },
      );
    }
    this.db = db;
  }

  async close(): Promise<void> {
    if (!this.db) return;
    await this.tail.catch(() => undefined);
    this.db = null;
    const client = this.client;
    // A fresh client, so open() may be called again after close().
    this.client = this.newClient();
    await client.close();
  }

  async ping(): Promise<boolean> {
    if (!this.db) return false;
    try {
      const r = await this.db.command({ ping: 1 }, { signal: AbortSignal.timeout(this.pingTimeoutMs) });
      return r.ok === 1;
    } catch {
      return false;
    }
  }

  async commit(ops: StoreOp[]): Promise<OpResult[]> {
    if (ops.length === 0) return [];
    return this.write('commit', async () => {
      if (!this.transactions) return this.applyOps(ops, { session: undefined, spareSeq: null });
      // The manager retries a failed commit with the same ops array. If the failure was only the
      // answer getting lost (the transaction did commit), the batch id written with it makes the
      // retry return the first results instead of counting every repeat twice.
      let batchId = this.batchIds.get(ops);
      if (batchId === undefined) {
        batchId = randomUUID();
        this.batchIds.set(ops, batchId);
      }
      const id = batchId;
      for (let attempt = 1; ; attempt++) {
        const session = this.client.startSession();
        try {
          // withTransaction itself runs the callback again on transient errors (write conflicts
          // with another instance); a lost race for a fingerprint aborts it and lands below.
          return await session.withTransaction(
            async () => {
              const done = await this.commits().findOne({ _id: id }, { session });
              if (done) return done.results;
              const results = await this.applyOps(ops, { session, spareSeq: null });
              await this.commits().insertOne({ _id: id, at: new Date(this.clock.now()), results }, { session });
              return results;
            },
            { readConcern: { level: 'snapshot' }, writeConcern: { w: 'majority' } },
          );
        } catch (err) {
          if (!isFingerprintRace(err) || attempt >= MAX_RACE_RETRIES) throw err;
          // Another instance opened one of our fingerprints first; run the whole batch again, where
          // that fail now finds the winner's incident and repeats it.
        } finally {
          await session.endSession();
        }
      }
    });
  }

  async intakeMark(journal: string): Promise<number> {
    return this.read('intakeMark', async () => (await this.counters().findOne({ _id: `intake:${journal}` }))?.value ?? 0);
  }

  /** Fingerprint states live in the active incident's document, or in fingerprint_state without one. */
  async loadState(): Promise<FingerprintState[]> {
    return this.read('loadState', async () => {
      const byFp = new Map<string, FingerprintState>();
      for await (const d of this.states().find({}).sort({ _id: 1 })) byFp.set(d.data.fingerprint, d.data);
      const active = this.incidents().find(
        { status: { $in: ACTIVE }, state: { $exists: true } },
        { projection: { state: 1 } },
      );
      for await (const d of active) if (d.state) byFp.set(d.state.fingerprint, d.state);
      return [...byFp.values()];
    });
  }

  async get(number: string): Promise<Incident | null> {
    const seq = parseIncidentNumber(number);
    if (seq === null) return null;
    return this.read('get', async () => {
      const d = await this.incidents().findOne({ _id: seq }, { projection: { state: 0 } });
      return d ? docToIncident(d, true) : null;
    });
  }

  async list(filter: IncidentFilter, limit: number, cursor?: string | null): Promise<Page<Incident>> {
    const size = Math.max(1, Math.min(MAX_PAGE_SIZE, Math.floor(limit) || 1));
    const q: Filter<IncidentDoc> = {};
    if (filter.status && filter.status.length > 0) q.status = { $in: filter.status };
    if (filter.severity && filter.severity.length > 0) q.severity = { $in: filter.severity };
    if (filter.category !== undefined) q.category = filter.category;
    if (filter.site !== undefined) q['target.site'] = filter.site;
    if (filter.target !== undefined) q['target.id'] = filter.target;
    if (filter.fingerprint !== undefined) q.fingerprint = filter.fingerprint;
    if (cursor) q._id = { $lt: decodeCursor(cursor) };
    return this.read('list', async () => {
      // One document more than asked tells whether another page exists, so `next` is null on the last.
      const docs = await this.incidents()
        .find(q, { projection: { timeline: 0, state: 0 } })
        .sort({ _id: -1 })
        .limit(size + 1)
        .toArray();
      const more = docs.length > size;
      const items = docs.slice(0, size).map((d) => docToIncident(d, false));
      const last = items[items.length - 1];
      return { items, next: more && last ? encodeCursor(last.seq) : null };
    });
  }

  async acknowledge(number: string, actor: string, message: string, at: number, notify: string[] = []): Promise<Incident> {
    return this.write('acknowledge', async () => {
      const seq = requireSeq(number);
      const d = await this.incidents().findOneAndUpdate(
        { _id: seq, status: 'open' },
        {
          $set: { status: 'acknowledged', acknowledgedAt: new Date(at), acknowledgedBy: actor },
          $push: { timeline: timelineDoc(at, actor, 'acknowledged', message) },
        },
        { returnDocument: 'after', projection: { state: 0 } },
      );
      if (d) {
        // Without a transaction the deliveries follow right after the change (as for commits).
        await this.insertDeliveries(personEvent(number, 'incident.acknowledged', at, actor, message), notify, at, NO_SESSION);
        return docToIncident(d, true);
      }
      const status = await this.statusOf(seq, number);
      throw new InvalidTransitionError(`incident ${number} is ${status}; only open incidents can be acknowledged`);
    });
  }

  async resolve(number: string, actor: string, message: string, at: number, notify: string[] = []): Promise<Incident> {
    return this.write('resolve', async () => {
      const seq = requireSeq(number);
      const d = await this.incidents().findOneAndUpdate(
        { _id: seq, status: { $in: ACTIVE } },
        {
          $set: { status: 'resolved', resolvedAt: new Date(at), resolvedBy: actor },
          $unset: { state: '' },
          $push: { timeline: timelineDoc(at, actor, 'resolved', message) },
        },
        { returnDocument: 'after', projection: { state: 0 } },
      );
      if (d) {
        await this.insertDeliveries(personEvent(number, 'incident.resolved', at, actor, message), notify, at, NO_SESSION);
        return docToIncident(d, true);
      }
      const status = await this.statusOf(seq, number);
      throw new InvalidTransitionError(
        `incident ${number} is already ${status}; only open or acknowledged incidents can be resolved`,
      );
    });
  }

  async comment(number: string, actor: string, text: string, at: number): Promise<Incident> {
    return this.write('comment', async () => {
      const seq = requireSeq(number);
      const d = await this.incidents().findOneAndUpdate(
        { _id: seq },
        { $push: { timeline: timelineDoc(at, actor, 'commented', text) } },
        { returnDocument: 'after', projection: { state: 0 } },
      );
      if (!d) throw new IncidentNotFoundError(number);
      return docToIncident(d, true);
    });
  }

  async countActive(): Promise<Record<Severity, number>> {
    return this.read('countActive', async () => {
      const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
      const rows = this.incidents().aggregate<{ _id: string; n: number }>([
        { $match: { status: { $in: ACTIVE } } },
        { $group: { _id: '$severity', n: { $sum: 1 } } },
      ]);
      for await (const r of rows) {
        if ((SEVERITIES as readonly string[]).includes(r._id)) counts[r._id as Severity] = r.n;
      }
      return counts;
    });
  }

  async dueEscalations(now: number, limit: number): Promise<Incident[]> {
    const size = Math.max(1, Math.min(MAX_PAGE_SIZE, Math.floor(limit) || 1));
    return this.read('dueEscalations', async () => {
      const docs = await this.incidents()
        .find({ status: { $in: ACTIVE }, nextTimerAt: { $type: 'date', $lte: new Date(now) } }, { projection: { timeline: 0, state: 0 } })
        .sort({ nextTimerAt: 1, _id: 1 })
        .limit(size)
        .toArray();
      return docs.map((d) => docToIncident(d, false));
    });
  }

  async applyEscalation(number: string, change: EscalationChange): Promise<{ applied: boolean; events: string[] }> {
    return this.write('applyEscalation', () =>
      // The change and its announcement together, as in SQLite: a retry after a cut between the
      // two would find the timer moved and never write the event.
      this.inTransaction(async (ctx) => {
        const seq = parseIncidentNumber(number);
        if (seq === null) return { applied: false, events: [] };
        const x = change.expect;
        const next = change.escalation.nextTimerAt;
        // Compare-and-set: applies only to the incident as the sweep saw it.
        const r = await this.incidents().updateOne(
          {
            _id: seq,
            status: x.status,
            severity: x.severity,
            nextTimerAt: x.nextTimerAt === null ? null : new Date(x.nextTimerAt),
          },
          {
            $set: { tier: change.tier, escalation: change.escalation, nextTimerAt: next === null ? null : new Date(next) },
            $push: { timeline: { $each: change.timeline.map((t) => timelineDoc(change.at, t.actor, t.action, t.message)) } },
          },
          { session: ctx.session },
        );
        if (r.modifiedCount === 0) return { applied: false, events: [] };
        const events: string[] = [];
        if (change.announce) {
          const event = escalationEvent(number, { ...change, announce: change.announce });
          await this.insertDeliveries(event, change.announce.channels, change.at, ctx);
          events.push(event.id);
        }
        return { applied: true, events };
      }),
    );
  }

  /** Runs fn in one transaction where the deployment has them; op by op on a standalone server. */
  private async inTransaction<T>(fn: (ctx: CommitContext) => Promise<T>): Promise<T> {
    if (!this.transactions) return fn(NO_SESSION);
    const session = this.client.startSession();
    try {
      return await session.withTransaction(() => fn({ session, spareSeq: null }), {
        readConcern: { level: 'snapshot' },
        writeConcern: { w: 'majority' },
      });
    } finally {
      await session.endSession();
    }
  }

  async closeResolved(resolvedBefore: number, at: number, limit: number): Promise<string[]> {
    const size = Math.max(1, Math.min(MAX_PAGE_SIZE, Math.floor(limit) || 1));
    return this.write('closeResolved', async () => {
      const due = await this.incidents()
        .find({ status: 'resolved', resolvedAt: { $lte: new Date(resolvedBefore) } }, { projection: { _id: 1 } })
        .sort({ _id: 1 })
        .limit(size)
        .toArray();
      const closed: string[] = [];
      for (const d of due) {
        // One by one with the status in the filter: another instance may be closing the same ones.
        const r = await this.incidents().updateOne(
          { _id: d._id, status: 'resolved' },
          {
            $set: { status: 'closed', closedAt: new Date(at) },
            $push: { timeline: timelineDoc(at, 'system', 'closed', 'closed after its resolution') },
          },
        );
        if (r.modifiedCount > 0) closed.push(incidentNumber(d._id));
      }
      return closed;
    });
  }

  async subscribe(number: string, address: string, actor: string, at: number, maxSubscribers = DEFAULT_MAX_SUBSCRIBERS): Promise<Incident> {
    return this.write('subscribe', async () => {
      const seq = requireSeq(number);
      const refused = await this.addSubscribers(seq, [address], actor, at, maxSubscribers, NO_SESSION);
      if (refused > 0) throw new SubscriberLimitError(number, maxSubscribers);
      const d = await this.incidents().findOne({ _id: seq }, { projection: { state: 0 } });
      if (!d) throw new IncidentNotFoundError(number);
      return docToIncident(d, true);
    });
  }

  /**
   * Adds people to keep informed, as many as `max` allows (planSubscribers decides); each new one
   * gets a timeline entry, and filling the list one note. Returns how many were refused.
   *
   * The write only applies to the list as it was read: when another writer (another instance, or
   * a subscribe outside a transaction) changed it in between, the plan is made again on the new
   * list, so the cap holds however many write at once.
   */
  private async addSubscribers(seq: number, addresses: string[], actor: string, at: number, max: number, ctx: CommitContext): Promise<number> {
    for (let attempt = 1; attempt <= 20; attempt++) {
      const d = await this.incidents().findOne({ _id: seq }, { projection: { subscribers: 1 }, session: ctx.session });
      if (!d) return 0;
      const current = d.subscribers ?? [];
      const plan = planSubscribers(current, addresses, max);
      if (plan.added.length === 0) return plan.refused.length;
      const entries = plan.added.map((a) => timelineDoc(at, actor, 'subscribed', `${a} is kept informed`));
      if (plan.filled) entries.push(timelineDoc(at, 'system', 'subscribers-limit', subscriberLimitNote(max, plan.refused.length)));
      const r = await this.incidents().updateOne(
        { _id: seq, subscribers: d.subscribers === undefined ? { $exists: false } : current },
        { $push: { subscribers: { $each: plan.added }, timeline: { $each: entries } } },
        { session: ctx.session },
      );
      if (r.matchedCount > 0) return plan.refused.length;
    }
    throw new StoreUnavailableError(`the subscribers of incident ${incidentNumber(seq)} kept changing while adding ${addresses.length}; retry`);
  }

  async claimDeliveries(now: number, limit: number, leaseMs: number, owner: string): Promise<Delivery[]> {
    const size = Math.max(1, Math.min(MAX_PAGE_SIZE, Math.floor(limit) || 1));
    return this.write('claimDeliveries', async () => {
      const claimed: Delivery[] = [];
      // One findOneAndUpdate per delivery: each is atomic on its document, so two instances never
      // claim the same one (MongoDB has no multi-document UPDATE … RETURNING).
      // A delivery waits while an older one for the same incident and channel is still pending, so
      // a helpdesk hears of an incident in order.
      const skip: string[] = [];
      while (claimed.length < size) {
        const due = { status: 'pending' as const, nextAt: { $lte: new Date(now) } };
        const candidate = await this.deliveries().findOne({ ...due, _id: { $nin: skip } }, { sort: { nextAt: 1, _id: 1 } });
        if (!candidate) break;
        skip.push(candidate._id);
        const older = await this.deliveries().findOne(
          {
            status: 'pending',
            channelId: candidate.channelId,
            'event.number': candidate.event.number,
            createdAt: { $lt: candidate.createdAt },
          },
          { projection: { _id: 1 } },
        );
        if (older) continue;
        const d = await this.deliveries().findOneAndUpdate(
          { _id: candidate._id, ...due },
          { $inc: { attempts: 1 }, $set: { leaseOwner: owner, nextAt: new Date(now + leaseMs) } },
          { returnDocument: 'after' },
        );
        if (d) claimed.push(docToDelivery(d)); // else another instance claimed it first
      }
      return claimed.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
    });
  }

  async releaseLeases(owner: string, at: number): Promise<number> {
    return this.write('releaseLeases', async () => {
      const r = await this.deliveries().updateMany(
        { status: 'pending', leaseOwner: owner },
        { $set: { leaseOwner: null }, $min: { nextAt: new Date(at) } },
      );
      return r.modifiedCount;
    });
  }

  async completeDelivery(id: string, outcome: DeliveryOutcome): Promise<boolean> {
    return this.write('completeDelivery', async () => {
      let update: { $set: Partial<DeliveryDoc> };
      if ('delivered' in outcome) {
        update = {
          $set: {
            status: 'delivered',
            reference: outcome.reference ?? null,
            finishedAt: new Date(outcome.at),
            leaseOwner: null,
            lastError: null,
          },
        };
      } else if ('dead' in outcome) {
        update = { $set: { status: 'dead', lastError: outcome.error, finishedAt: new Date(outcome.at), leaseOwner: null } };
      } else {
        update = { $set: { nextAt: new Date(outcome.retryAt), lastError: outcome.error, leaseOwner: null } };
      }
      return this.inTransaction(async (ctx) => {
        const r = await this.deliveries().findOneAndUpdate({ _id: id, status: 'pending' }, update, {
          projection: { channelId: 1, 'event.number': 1 },
          session: ctx.session,
        });
        const seq = r ? parseIncidentNumber(r.event.number) : null;
        if (r && seq !== null && 'delivered' in outcome && outcome.reference !== undefined) {
          // The first reference a channel answers for an incident is its ticket there. $setField,
          // not a dotted path: channel ids may contain dots.
          const tickets = { $ifNull: ['$tickets', {}] };
          const field = { $literal: r.channelId };
          await this.incidents().updateOne(
            { _id: seq },
            [
              {
                $set: {
                  tickets: {
                    $setField: {
                      field,
                      input: tickets,
                      value: { $ifNull: [{ $getField: { field, input: tickets } }, { $literal: outcome.reference }] },
                    },
                  },
                },
              },
            ],
            { session: ctx.session },
          );
        }
        return r !== null;
      });
    });
  }

  async listDeadLetters(limit: number, cursor?: string | null): Promise<Page<Delivery>> {
    const size = Math.max(1, Math.min(MAX_PAGE_SIZE, Math.floor(limit) || 1));
    const q: Filter<DeliveryDoc> = { status: 'dead' };
    if (cursor) {
      const c = decodeDeadCursor(cursor);
      const at = new Date(c.at);
      q.$or = [{ finishedAt: { $lt: at } }, { finishedAt: at, _id: { $lt: c.id } }];
    }
    return this.read('listDeadLetters', async () => {
      const docs = await this.deliveries()
        .find(q)
        .sort({ finishedAt: -1, _id: -1 })
        .limit(size + 1)
        .toArray();
      const more = docs.length > size;
      const items = docs.slice(0, size).map(docToDelivery);
      const last = items[items.length - 1];
      return { items, next: more && last ? encodeDeadCursor(last.finishedAt ?? 0, last.id) : null };
    });
  }

  async countDeliveries(): Promise<{ pending: number; dead: number }> {
    return this.read('countDeliveries', async () => {
      const [pending, dead] = await Promise.all([
        this.deliveries().countDocuments({ status: 'pending' }),
        this.deliveries().countDocuments({ status: 'dead' }),
      ]);
      return { pending, dead };
    });
  }

  // --- internals ---------------------------------------------------------------------------------

  private newClient(): MongoClient {
    try {
      return new MongoClient(this.uri, this.clientOptions);
    } catch (err) {
      throw new MongoUriError((err as Error).message, { cause: err });
    }
  }

  private conn(): Db {
    if (!this.db) {
      throw new StoreUnavailableError(`MongoDB store ${this.describe()} is not open; call open() first`);
    }
    return this.db;
  }

  private incidents(): Collection<IncidentDoc> {
    return this.conn().collection<IncidentDoc>(COLLECTIONS.incidents);
  }

  private states(): Collection<FingerprintStateDoc> {
    return this.conn().collection<FingerprintStateDoc>(COLLECTIONS.fingerprintState);
  }

  private deliveries(): Collection<DeliveryDoc> {
    return this.conn().collection<DeliveryDoc>(COLLECTIONS.deliveries);
  }

  /**
   * One pending delivery per channel told before and per channel in `channels`, which all count as
   * told from now on; one that exists already (a retried commit) is kept as it is.
   */
  private async insertDeliveries(event: OutboxEvent, channels: string[], at: number, ctx: CommitContext): Promise<void> {
    const seq = parseIncidentNumber(event.number);
    if (seq === null) return;
    const before = await this.incidents().findOneAndUpdate(
      { _id: seq },
      { $addToSet: { notified: { $each: [...new Set(channels)] } } },
      { projection: { notified: 1 }, returnDocument: 'after', session: ctx.session },
    );
    const all = new Set([...(before?.notified ?? []), ...channels]);
    const writes: AnyBulkWriteOperation<DeliveryDoc>[] = [...all].map((channel) => {
      const id = deliveryId(event.id, channel);
      return { updateOne: { filter: { _id: id }, update: { $setOnInsert: newDeliveryDoc(id, event, channel, at) }, upsert: true } };
    });
    if (writes.length > 0) await this.deliveries().bulkWrite(writes, { ordered: true, session: ctx.session });
  }

  private commits(): Collection<CommitDoc> {
    return this.conn().collection<CommitDoc>(COLLECTIONS.commits);
  }

  private counters(): Collection<CounterDoc> {
    return this.conn().collection<CounterDoc>(COLLECTIONS.counters);
  }

  /** A driver error from a lost connection becomes StoreUnavailableError, which callers retry. */
  private async read<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.unavailable(what, err);
    }
  }

  /** Runs fn queued behind this instance's earlier writes, so they apply in call order. */
  private write<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const run = (): Promise<T> => this.read(what, fn);
    const result = this.tail.then(run, run);
    this.tail = result.catch(() => undefined);
    return result;
  }

  private unavailable(what: string, err: unknown): unknown {
    if (!isConnectionError(err)) return err;
    return new StoreUnavailableError(
      `MongoDB ${what} on ${this.describe()} failed: ${this.scrub(err)}; check that the server is reachable`,
      { cause: err },
    );
  }

  /** The driver's message, with the password cut out should it ever appear there. */
  private scrub(err: unknown): string {
    const msg = err instanceof Error ? err.message : String(err);
    if (!this.password) return msg;
    return msg
      .split(this.password)
      .join('***')
      .split(encodeURIComponent(this.password))
      .join('***');
  }

  private async statusOf(seq: number, number: string): Promise<string> {
    const d = await this.incidents().findOne({ _id: seq }, { projection: { status: 1 } });
    if (!d) throw new IncidentNotFoundError(number);
    return d.status;
  }

  /**
   * Applies ops in order. Inside a transaction (ctx.session set) any error must propagate so the
   * driver aborts it; without one, a lost race for a fingerprint is retried op by op.
   */
  private async applyOps(ops: StoreOp[], ctx: CommitContext): Promise<OpResult[]> {
    ctx.spareSeq = null;
    const results: OpResult[] = [];
    // The last announceable change per fingerprint, for the notify op that follows it.
    const changes = new Map<string, Change>();
    for (const op of ops) {
      switch (op.kind) {
        case 'fail': {
          const r = await this.applyFail(op, ctx);
          if (r.kind === 'fail' && op.draft.subscribers !== undefined && op.draft.subscribers.length > 0) {
            const max = op.maxSubscribers ?? DEFAULT_MAX_SUBSCRIBERS;
            await this.addSubscribers(parseIncidentNumber(r.number)!, op.draft.subscribers, op.draft.ruleId, op.at, max, ctx);
          }
          if (r.kind === 'fail' && r.outcome !== 'repeated') {
            const type = r.outcome === 'opened' ? 'incident.opened' : 'incident.reopened';
            changes.set(r.fingerprint, { number: r.number, type, at: op.at });
          }
          results.push(r);
          break;
        }
        case 'resolve': {
          const d = await this.incidents().findOneAndUpdate(
            { fingerprint: op.fingerprint, status: { $in: ACTIVE } },
            {
              $set: { status: 'resolved', resolvedAt: new Date(op.at), resolvedBy: op.actor },
              // The state moves to fingerprint_state with the manager's next state op.
              $unset: { state: '' },
              $push: { timeline: timelineDoc(op.at, op.actor, 'resolved', op.message) },
            },
            { projection: { _id: 1 }, session: ctx.session },
          );
          if (d) changes.set(op.fingerprint, { number: incidentNumber(d._id), type: 'incident.resolved', at: op.at });
          results.push({ kind: 'resolve', number: d ? incidentNumber(d._id) : null, fingerprint: op.fingerprint });
          break;
        }
        case 'flapping': {
          // Only a change of the flag is worth a timeline entry.
          const action = op.flapping ? 'flapping-started' : 'flapping-stopped';
          const changed = await this.incidents().findOneAndUpdate(
            { fingerprint: op.fingerprint, status: { $in: ACTIVE }, flapping: { $ne: op.flapping } },
            { $set: { flapping: op.flapping }, $push: { timeline: timelineDoc(op.at, 'system', action, op.message) } },
            { projection: { _id: 1 }, session: ctx.session },
          );
          if (changed) changes.set(op.fingerprint, { number: incidentNumber(changed._id), type: `incident.${action}`, at: op.at });
          const seq = changed?._id ?? (await this.activeSeq(op.fingerprint, ctx));
          results.push({ kind: 'flapping', number: seq === null ? null : incidentNumber(seq), fingerprint: op.fingerprint });
          break;
        }
        case 'relate': {
          const added = await this.incidents().findOneAndUpdate(
            { fingerprint: op.fingerprint, status: { $in: ACTIVE }, 'related.targetId': { $ne: op.related.targetId } },
            {
              $push: {
                related: relatedDoc(op.related),
                timeline: timelineDoc(op.at, 'system', 'dependent-failing', op.message),
              },
            },
            { projection: { _id: 1 }, session: ctx.session },
          );
          const seq = added?._id ?? (await this.activeSeq(op.fingerprint, ctx));
          results.push({ kind: 'relate', number: seq === null ? null : incidentNumber(seq), fingerprint: op.fingerprint });
          break;
        }
        case 'state':
          await this.applyState(op, ctx);
          results.push({ kind: 'state' });
          break;
        case 'intake':
          // Beside the incident counter: a small document per journal, only ever raised.
          await this.counters().updateOne({ _id: `intake:${op.journal}` }, { $max: { value: op.lsn } }, { upsert: true, session: ctx.session });
          results.push({ kind: 'intake' });
          break;
        case 'notify': {
          const change = changes.get(op.fingerprint);
          changes.delete(op.fingerprint);
          const events: string[] = [];
          if (change && op.quiet) {
            // Counted as told, without an event (see NotifyOp.quiet).
            const seq = parseIncidentNumber(change.number);
            if (seq !== null && op.channels.length > 0) {
              await this.incidents().updateOne({ _id: seq }, { $addToSet: { notified: { $each: op.channels } } }, { session: ctx.session });
            }
          } else if (change) {
            const event = changeEvent(change, op);
            await this.insertDeliveries(event, op.channels, change.at, ctx);
            events.push(event.id);
          }
          results.push({ kind: 'notify', events, fingerprint: op.fingerprint });
          break;
        }
      }
    }
    return results;
  }

  /** Repeat the active incident, else reopen a recently resolved one, else open a new one. */
  private async applyFail(op: Extract<StoreOp, { kind: 'fail' }>, ctx: CommitContext): Promise<OpResult> {
    const d = op.draft;
    const fingerprint = d.fingerprint;
    const at = new Date(op.at);
    for (let attempt = 1; ; attempt++) {
      const repeated = await this.incidents().findOneAndUpdate(
        { fingerprint, status: { $in: ACTIVE } },
        { $inc: { occurrences: op.count }, $max: { lastSeen: at }, $set: { lastMessage: d.message } },
        { projection: { _id: 1, severity: 1, title: 1, description: 1 }, session: ctx.session },
      );
      const reclassified = repeated !== null && severityRank(d.classification.severity) > severityRank(repeated.severity);
      if (repeated && !reclassified && op.retitle === true && (d.title !== repeated.title || d.description !== repeated.description)) {
        // Title and description follow the current condition; a new title goes on the timeline.
        const update: UpdateFilter<IncidentDoc> = { $set: { title: d.title, description: d.description } };
        if (d.title !== repeated.title) update.$push = { timeline: timelineDoc(op.at, d.ruleId, 'updated', retitledMessage(repeated.title, d.title)) };
        await this.incidents().updateOne({ _id: repeated._id }, update, { session: ctx.session });
      }
      if (repeated && reclassified) {
        // A rule raised the severity: reclassify, and let the sweep re-evaluate tier and SLA now.
        const c = d.classification;
        await this.incidents().updateOne(
          { _id: repeated._id },
          {
            $set: {
              category: c.category,
              severity: c.severity,
              impact: c.impact,
              priority: c.priority,
              title: d.title,
              description: d.description,
              runbook: d.runbook,
              ruleId: d.ruleId,
              nextTimerAt: at,
            },
            $push: {
              timeline: timelineDoc(op.at, d.ruleId, 'reclassified', `severity raised from ${repeated.severity} to ${c.severity}: ${d.title}`),
            },
          },
          { session: ctx.session },
        );
      }
      if (repeated) return { kind: 'fail', outcome: 'repeated', number: incidentNumber(repeated._id), fingerprint };
      try {
        // A reopened incident starts over as open: it needs acknowledging again; the timeline
        // keeps who acknowledged and resolved it before. Closed incidents never reopen.
        const reopened = await this.incidents().findOneAndUpdate(
          { fingerprint, status: 'resolved', resolvedAt: { $gte: new Date(op.at - op.reopenWindowMs) } },
          {
            $set: {
              status: 'open',
              resolvedAt: null,
              resolvedBy: null,
              acknowledgedAt: null,
              acknowledgedBy: null,
              lastMessage: d.message,
              // A reopening is classified by the rule that fires now; its escalation was planned with it.
              category: d.classification.category,
              severity: d.classification.severity,
              impact: d.classification.impact,
              priority: d.classification.priority,
              title: d.title,
              description: d.description,
              runbook: d.runbook,
              ruleId: d.ruleId,
              tier: d.classification.tier,
              escalation: d.escalation ?? emptyEscalation(),
              nextTimerAt: timerDate(d.escalation, op.at),
            },
            $inc: { reopenCount: 1, occurrences: op.count },
            $max: { lastSeen: at },
            $push: { timeline: timelineDoc(op.at, d.ruleId, 'reopened', d.message) },
          },
          { sort: { resolvedAt: -1, _id: -1 }, projection: { _id: 1 }, session: ctx.session },
        );
        if (reopened) return { kind: 'fail', outcome: 'reopened', number: incidentNumber(reopened._id), fingerprint };

        const seq = ctx.spareSeq ?? (await this.nextSeq(ctx));
        ctx.spareSeq = null;
        try {
          await this.incidents().insertOne(newIncidentDoc(seq, d, op.at, op.count), { session: ctx.session });
        } catch (err) {
          if (isFingerprintRace(err)) ctx.spareSeq = seq;
          throw err;
        }
        return { kind: 'fail', outcome: 'opened', number: incidentNumber(seq), fingerprint };
      } catch (err) {
        // The unique index refused a second active incident: another instance opened or reopened
        // this fingerprint between our repeat attempt and our write. Go round again as a repeat.
        if (ctx.session || !isFingerprintRace(err)) throw err;
        if (attempt >= MAX_RACE_RETRIES) {
          throw new StoreUnavailableError(
            `fingerprint ${fingerprint} kept changing under concurrent writers on ${this.describe()} ` +
              `after ${attempt} attempts; the batch will be retried`,
            { cause: err },
          );
        }
      }
    }
  }

  /** The next incident number, from a counter every instance increments atomically. */
  private async nextSeq(ctx: CommitContext): Promise<number> {
    const c = await this.counters().findOneAndUpdate(
      { _id: 'incident' },
      { $inc: { value: 1 } },
      { upsert: true, returnDocument: 'after', session: ctx.session },
    );
    if (!c) throw new StoreUnavailableError(`MongoDB returned no incident counter on ${this.describe()}`);
    return c.value;
  }

  private async activeSeq(fingerprint: string, ctx: CommitContext): Promise<number | null> {
    const d = await this.incidents().findOne(
      { fingerprint, status: { $in: ACTIVE } },
      { projection: { _id: 1 }, session: ctx.session },
    );
    return d ? d._id : null;
  }

  /**
   * A fingerprint with an active incident keeps its state in that incident's document (it goes
   * away with the incident's resolution); any other in fingerprint_state. One query finds which
   * fingerprints have an active incident, then two bulk writes apply everything in op order.
   */
  private async applyState(op: Extract<StoreOp, { kind: 'state' }>, ctx: CommitContext): Promise<void> {
    const claimed = [...new Set(op.fingerprints.filter((f) => f.active !== null).map((f) => f.fingerprint))];
    const withIncident = new Set<string>();
    if (claimed.length > 0) {
      const docs = this.incidents().find(
        { fingerprint: { $in: claimed }, status: { $in: ACTIVE } },
        { projection: { fingerprint: 1 }, session: ctx.session },
      );
      for await (const d of docs) withIncident.add(d.fingerprint);
    }
    const incidentWrites: AnyBulkWriteOperation<IncidentDoc>[] = [];
    const stateWrites: AnyBulkWriteOperation<FingerprintStateDoc>[] = [];
    for (const f of op.fingerprints) {
      if (f.active !== null && withIncident.has(f.fingerprint)) {
        incidentWrites.push({
          updateOne: { filter: { fingerprint: f.fingerprint, status: { $in: ACTIVE } }, update: { $set: { state: f } } },
        });
        stateWrites.push({ deleteOne: { filter: { _id: f.fingerprint } } });
      } else {
        stateWrites.push({ replaceOne: { filter: { _id: f.fingerprint }, replacement: { data: f }, upsert: true } });
      }
    }
    for (const fp of op.forget) stateWrites.push({ deleteOne: { filter: { _id: fp } } });
    if (incidentWrites.length > 0) await this.incidents().bulkWrite(incidentWrites, { ordered: true, session: ctx.session });
    if (stateWrites.length > 0) await this.states().bulkWrite(stateWrites, { ordered: true, session: ctx.session });
  }
}

/** An announceable change a commit made to a fingerprint's incident. */
interface Change {
  number: string;
  type: OutboxEventType;
  at: number;
}

function changeEvent(change: Change, op: Extract<StoreOp, { kind: 'notify' }>): OutboxEvent {
  const event: OutboxEvent = {
    id: outboxEventId(change.number, change.type, change.at),
    type: change.type,
    at: change.at,
    number: change.number,
  };
  if (op.actor !== undefined) event.actor = op.actor;
  if (op.message !== undefined) event.message = op.message;
  return event;
}

function encodeDeadCursor(at: number, id: string): string {
  return Buffer.from(`dead:${at}:${id}`, 'utf8').toString('base64url');
}

function decodeDeadCursor(cursor: string): { at: number; id: string } {
  const m = /^dead:(\d{1,15}):(.+)$/s.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw new InvalidCursorError(cursor);
  return { at: Number(m[1]), id: m[2]! };
}

function requireSeq(number: string): number {
  const seq = parseIncidentNumber(number);
  if (seq === null) throw new IncidentNotFoundError(number);
  return seq;
}

/** Errors that mean "the server could not be reached", as opposed to "the server said no". */
function isConnectionError(err: unknown): boolean {
  return (
    err instanceof MongoNetworkError ||
    err instanceof MongoServerSelectionError ||
    err instanceof MongoTopologyClosedError ||
    err instanceof MongoNotConnectedError
  );
}

/** A duplicate key on the active-fingerprint index: another writer has an active incident for it. */
function isFingerprintRace(err: unknown): boolean {
  if (!(err instanceof MongoServerError) || err.code !== 11000) return false;
  const keyPattern = err.keyPattern as Record<string, unknown> | undefined;
  if (keyPattern) return 'fingerprint' in keyPattern;
  return err.message.includes('active_fingerprint');
}

/** The stored next timer of an opening: the planned one, or due at once when none was planned. */
function timerDate(e: EscalationState | undefined, at: number): Date | null {
  if (!e) return new Date(at);
  return e.nextTimerAt === null ? null : new Date(e.nextTimerAt);
}

function encodeCursor(seq: number): string {
  return Buffer.from(`seq:${seq}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): number {
  const m = /^seq:(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw new InvalidCursorError(cursor);
  return Number(m[1]);
}
