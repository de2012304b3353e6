// The production store: MongoDB, shared by any number of incidentd instances.
import { randomUUID } from 'node:crypto';
import type { ClientSession, Collection, Db, Filter, MongoClientOptions } from 'mongodb';
import { MongoClient, MongoServerError } from 'mongodb';
import type { Severity } from '../../domain/classification.js';
import { SEVERITIES } from '../../domain/classification.js';
import { changeEvent, commentEvent, deliveryId, type OutboxEvent } from '../../domain/events.js';
import type { Incident } from '../../domain/incident.js';
import { parseIncidentNumber } from '../../domain/incident.js';
import { decodeAuditCursor, decodeIncidentCursor, DEFAULT_INCIDENT_SORT, pageSize } from '../../domain/paging.js';
import { DEFAULT_MAX_SUBSCRIBERS } from '../../domain/subscribers.js';
import { ACKNOWLEDGEABLE, assertCanAcknowledge, assertCanResolve, RESOLVABLE } from '../../domain/transitions.js';
import type { Clock } from '../../shared/clock.js';
import { SystemClock } from '../../shared/clock.js';
import { IncidentNotFoundError, StoreUnavailableError, SubscriberLimitError } from '../../shared/errors.js';
import type {
  IncidentSpan,
  CommitOptions,
  Delivery,
  DeliveryOutcome,
  EscalationChange,
  FingerprintState,
  IncidentFilter,
  IncidentRevision,
  IncidentSort,
  IncidentStore,
  OpResult,
  Page,
  StoreGuarantees,
  StoreOp,
  SilencePosition,
} from '../types.js';
import type { CommitDoc, CounterDoc, DeliveryDoc, FingerprintStateDoc, IncidentDoc } from './documents.js';
import { docToIncident, newDeliveryDoc, tenantMatch, timelineDoc } from './documents.js';
import { isConnectionError, MongoUriError, requireSeq } from './errors.js';
import { ACTIVE, COLLECTIONS, ensureSchema } from './schema.js';
import { expireSilenceDoc, countSilenceDocs, findSilences, insertSilence } from './silences.js';
import type { Silence, SilenceState } from '../../domain/silence.js';
import { databaseInUri } from './uri.js';
import type { AuditEntry, SessionRecord, User, UserChange } from '../../domain/account.js';
import { decodeReportCursor, type ProblemReport } from '../../domain/problem-report.js';
import type { ReportFiling } from '../types.js';
import { countReporters, findReport, findReports, insertReport } from './problem-reports.js';
import {
  changeUser,
  deleteSessionDoc,
  deleteEndedSessionDocs,
  deleteUserSessions,
  findAudit,
  findSession,
  findUser,
  findUserByName,
  findUsers,
  insertAudit,
  insertSession,
  insertUser,
  touchSessionDoc,
} from './accounts.js';
import type { BacklogQuery, EscalationCount, EscalationQuery, HandlingStamps, FingerprintRow, HandlingTimeQuery, HandlingTimeRow, HeatCell, HeatmapQuery, PeriodCount, PeriodCountQuery, RangeQuery, SlaBreach, SlaQuery, SlaRow, TargetRow } from '../../domain/reports.js';
import { backlog, countByPeriod, escalations, handlingTimeStamps, handlingTimes, heatmap, slaBreaches, slaCompliance, topFingerprints, topTargets } from './reports.js';
import type { WriteContext } from './writes.js';
import { listIncidents } from './list.js';
import { claimDeliveries, completeDelivery, countDeliveries, deadLetterQuery, listDeadLetters } from './outbox.js';
import { applyEscalation, closeResolved } from './timers.js';
import { reviseIncident } from './revise.js';
import { addSubscribers, applyOps, inSession, insertDeliveries, isFingerprintRace, MAX_RACE_RETRIES } from './writes.js';

export interface MongoStoreOptions {
  /** Connection string, e.g. `mongodb://db1,db2,db3/?replicaSet=rs0`. May carry credentials. */
  uri: string;
  /**
   * Database holding the incidentd collections when the connection string names none in its path
   * (`mongodb://host/incidentd`, which wins: the MongoDB convention); default `incidentd`.
   */
  database?: string;
  clock?: Clock;
  /** How long ping() waits for an answer before reporting the store unreachable; default 2 s. */
  pingTimeoutMs?: number;
}

/** Largest page `list` returns, whatever the caller asks for (as the SQLite store). */
export { MAX_PAGE_SIZE } from '../../domain/paging.js';

/**
 * Unless the connection string says otherwise: an unreachable server fails an operation after 5 s
 * (the driver's default is 30 s, long enough to stall the pipeline and /readyz).
 */
const DEFAULT_SERVER_SELECTION_TIMEOUT_MS = 5000;

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

  constructor(opts: MongoStoreOptions) {
    this.uri = opts.uri;
    this.database = databaseInUri(opts.uri) ?? opts.database ?? 'incidentd';
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

  /** Transactions need a replica set or a sharded cluster; known after open(). */
  guarantees(): StoreGuarantees {
    if (this.transactions) return { atomicCommits: true, warning: null };
    return {
      atomicCommits: false,
      warning:
        `MongoDB at ${this.where} is a standalone server without transactions: a commit that fails half-way ` +
        'leaves its first operations applied until its retry completes it (no delivery is ever written twice); ' +
        'run a replica set (even of one member) for atomic commits',
    };
  }

  /**
   * The batch id is recorded with the batch's results. A retry of a batch whose answer was lost
   * returns the first results instead of counting every repeat twice. With transactions the record
   * is part of the commit; on a standalone it is written after the ops, so a batch that failed
   * half-way is completed by its retry (each op is then applied at least once).
   */
  async commit(ops: StoreOp[], options: CommitOptions = {}): Promise<OpResult[]> {
    if (ops.length === 0) return [];
    const id = options.id ?? randomUUID();
    return this.write('commit', async () => {
      if (!this.transactions) {
        const done = await this.commits().findOne({ _id: id });
        if (done) return done.results;
        const results = await applyOps(ops, this.context(undefined));
        await this.commits().updateOne({ _id: id }, { $setOnInsert: { at: new Date(this.clock.now()), results } }, { upsert: true });
        return results;
      }
      for (let attempt = 1; ; attempt++) {
        const session = this.client.startSession();
        try {
          // withTransaction itself runs the callback again on transient errors (write conflicts
          // with another instance); a lost race for a fingerprint aborts it and lands below.
          return await session.withTransaction(
            async () => {
              const done = await this.commits().findOne({ _id: id }, { session });
              if (done) return done.results;
              const results = await applyOps(ops, this.context(session));
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

  private context(session: ClientSession | undefined): WriteContext {
    return {
      incidents: this.incidents(),
      states: this.states(),
      counters: this.counters(),
      deliveries: this.deliveries(),
      session,
      where: this.describe(),
      spareSeq: null,
    };
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

  async list(filter: IncidentFilter, limit: number, cursor?: string | null, sort?: IncidentSort): Promise<Page<Incident>> {
    // A cursor it did not hand out is the caller's mistake, told before the database is needed.
    if (cursor) decodeIncidentCursor(cursor, sort ?? DEFAULT_INCIDENT_SORT);
    return this.read('list', () => listIncidents(this.incidents(), filter, limit, cursor, sort));
  }

  async acknowledge(number: string, actor: string, message: string, at: number, notify: string[] = []): Promise<Incident> {
    return this.write('acknowledge', async () => {
      const seq = requireSeq(number);
      const d = await this.incidents().findOneAndUpdate(
        { _id: seq, status: { $in: [...ACKNOWLEDGEABLE] } },
        {
          $set: { status: 'acknowledged', acknowledgedAt: new Date(at), acknowledgedBy: actor },
          $push: { timeline: timelineDoc(at, actor, 'acknowledged', message) },
        },
        { returnDocument: 'after', projection: { state: 0 } },
      );
      if (d) {
        // Without a transaction the deliveries follow right after the change (as for commits).
        await insertDeliveries(changeEvent(number, 'incident.acknowledged', at, actor, message), notify, at, this.context(undefined));
        return docToIncident(d, true);
      }
      assertCanAcknowledge(number, await this.statusOf(seq, number));
      throw new StoreUnavailableError(`incident ${number} changed while being acknowledged; retry`);
    });
  }

  async resolve(number: string, actor: string, message: string, at: number, notify: string[] = []): Promise<Incident> {
    return this.write('resolve', async () => {
      const seq = requireSeq(number);
      const d = await this.incidents().findOneAndUpdate(
        { _id: seq, status: { $in: [...RESOLVABLE] } },
        {
          $set: { status: 'resolved', resolvedAt: new Date(at), resolvedBy: actor },
          $unset: { state: '' },
          $push: { timeline: timelineDoc(at, actor, 'resolved', message) },
        },
        { returnDocument: 'after', projection: { state: 0 } },
      );
      if (d) {
        await insertDeliveries(changeEvent(number, 'incident.resolved', at, actor, message), notify, at, this.context(undefined));
        return docToIncident(d, true);
      }
      assertCanResolve(number, await this.statusOf(seq, number));
      throw new StoreUnavailableError(`incident ${number} changed while being resolved; retry`);
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
      // A note for every channel told of the incident (the helpdesk's ticket); no new channel.
      await insertDeliveries(commentEvent(number, at, d.timeline.length, actor, text), [], at, this.context(undefined));
      return docToIncident(d, true);
    });
  }

  async revise(number: string, revision: IncidentRevision): Promise<Incident> {
    return this.write('revise', async () => {
      const seq = requireSeq(number);
      // The change and its event together, as in SQLite, where the deployment has transactions.
      const d = await this.inTransaction((ctx) => reviseIncident(seq, revision, ctx));
      return docToIncident(d, true);
    });
  }

  async countActive(tenants?: readonly string[]): Promise<Record<Severity, number>> {
    return this.read('countActive', async () => {
      const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
      if (tenants !== undefined && tenants.length === 0) return counts;
      const match: Filter<IncidentDoc> = { status: { $in: ACTIVE }, ...(tenants === undefined ? {} : tenantMatch(tenants)) };
      const rows = this.incidents().aggregate<{ _id: string; n: number }>([
        { $match: match },
        { $group: { _id: '$severity', n: { $sum: 1 } } },
      ]);
      for await (const r of rows) {
        if ((SEVERITIES as readonly string[]).includes(r._id)) counts[r._id as Severity] = r.n;
      }
      return counts;
    });
  }

  async incidentSpans(tenant: string, from: number, to: number, limit: number): Promise<IncidentSpan[]> {
    const size = Math.max(0, Math.floor(limit));
    if (size === 0) return [];
    return this.read('incidentSpans', async () => {
      const match: Filter<IncidentDoc> = {
        ...tenantMatch([tenant]),
        firstSeen: { $lt: new Date(to) },
        $or: [{ resolvedAt: null }, { resolvedAt: { $gte: new Date(from) } }],
      };
      // Severity ranks from SEVERITIES (lowest first) so the worst come first.
      const rank = { $switch: { branches: SEVERITIES.map((s, i) => ({ case: { $eq: ['$severity', s] }, then: i })), default: -1 } };
      const rows = this.incidents().aggregate<{ severity: string; firstSeen: Date; resolvedAt: Date | null }>([
        { $match: match },
        { $project: { severity: 1, firstSeen: 1, resolvedAt: 1, rank } },
        { $sort: { rank: -1, firstSeen: -1, _id: -1 } },
        { $limit: size },
      ]);
      const spans: IncidentSpan[] = [];
      for await (const r of rows) {
        if (!(SEVERITIES as readonly string[]).includes(r.severity)) continue;
        spans.push({ severity: r.severity as Severity, start: r.firstSeen.getTime(), end: r.resolvedAt === null || r.resolvedAt === undefined ? null : r.resolvedAt.getTime() });
      }
      return spans;
    });
  }

  async countByPeriod(query: PeriodCountQuery): Promise<PeriodCount[]> {
    return this.read('countByPeriod', () => countByPeriod(this.incidents(), query));
  }

  async handlingTimes(query: HandlingTimeQuery): Promise<HandlingTimeRow[]> {
    return this.read('handlingTimes', () => handlingTimes(this.incidents(), query));
  }

  async slaCompliance(query: SlaQuery): Promise<SlaRow[]> {
    return this.read('slaCompliance', () => slaCompliance(this.incidents(), query));
  }

  async slaBreaches(query: Omit<SlaQuery, 'groupBy'>, limit: number): Promise<SlaBreach[]> {
    return this.read('slaBreaches', () => slaBreaches(this.incidents(), query, limit));
  }

  async topFingerprints(query: RangeQuery, limit: number): Promise<FingerprintRow[]> {
    return this.read('topFingerprints', () => topFingerprints(this.incidents(), query, limit));
  }

  async topTargets(query: RangeQuery & { now: number }, limit: number): Promise<TargetRow[]> {
    return this.read('topTargets', () => topTargets(this.incidents(), query, limit));
  }

  async heatmap(query: HeatmapQuery): Promise<HeatCell[]> {
    return this.read('heatmap', () => heatmap(this.incidents(), query));
  }

  async backlog(query: BacklogQuery): Promise<number[]> {
    return this.read('backlog', () => backlog(this.incidents(), query));
  }

handlingTimeStamps(query: HandlingTimeQuery): AsyncIterable<HandlingStamps> {
    return handlingTimeStamps(this.incidents(), query);
  }

    async escalations(query: EscalationQuery): Promise<EscalationCount[]> {
    return this.read('escalations', () => escalations(this.incidents(), query));
  }

  async dueEscalations(now: number, limit: number): Promise<Incident[]> {
    const size = pageSize(limit);
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
        return applyEscalation(number, change, ctx);
      }),
    );
  }

  /** Runs fn in one transaction where the deployment has them; op by op on a standalone server. */
  private async inTransaction<T>(fn: (ctx: WriteContext) => Promise<T>): Promise<T> {
    if (!this.transactions) return fn(this.context(undefined));
    const session = this.client.startSession();
    try {
      return await session.withTransaction(() => fn(this.context(session)), {
        readConcern: { level: 'snapshot' },
        writeConcern: { w: 'majority' },
      });
    } finally {
      await session.endSession();
    }
  }

  async closeResolved(resolvedBefore: number, at: number, limit: number): Promise<string[]> {
    const size = pageSize(limit);
    return this.write('closeResolved', async () => {
      return closeResolved(this.context(undefined), resolvedBefore, at, size);
    });
  }

  async subscribe(number: string, address: string, actor: string, at: number, maxSubscribers = DEFAULT_MAX_SUBSCRIBERS): Promise<Incident> {
    return this.write('subscribe', async () => {
      const seq = requireSeq(number);
      const refused = await addSubscribers(seq, [address], actor, at, maxSubscribers, this.context(undefined));
      if (refused > 0) throw new SubscriberLimitError(number, maxSubscribers);
      const d = await this.incidents().findOne({ _id: seq }, { projection: { state: 0 } });
      if (!d) throw new IncidentNotFoundError(number);
      return docToIncident(d, true);
    });
  }

  async claimDeliveries(now: number, limit: number, leaseMs: number, owner: string): Promise<Delivery[]> {
    const size = pageSize(limit);
    return this.write('claimDeliveries', async () => {
      return claimDeliveries(this.deliveries(), now, size, leaseMs, owner);
    });
  }

  async enqueueDelivery(event: OutboxEvent, channelId: string, at: number): Promise<boolean> {
    return this.write('enqueueDelivery', async () => {
      try {
        // Its `number` names this one report: a queue of its own, so it is its head.
        await this.deliveries().insertOne(newDeliveryDoc(deliveryId(event.id, channelId), event, channelId, at));
        return true;
      } catch (err) {
        if (err instanceof MongoServerError && err.code === 11000) return false;
        throw err;
      }
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
      return completeDelivery(id, outcome, (fn) => this.inTransaction(fn));
    });
  }

  async listDeadLetters(limit: number, cursor?: string | null): Promise<Page<Delivery>> {
    const size = pageSize(limit);
    const q = deadLetterQuery(cursor);
    return this.read('listDeadLetters', () => listDeadLetters(this.deliveries(), q, size));
  }

  async countDeliveries(): Promise<{ pending: number; dead: number }> {
    return this.read('countDeliveries', () => countDeliveries(this.deliveries()));
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

  private async statusOf(seq: number, number: string): Promise<IncidentDoc['status']> {
    const d = await this.incidents().findOne({ _id: seq }, { projection: { status: 1 } });
    if (!d) throw new IncidentNotFoundError(number);
    return d.status;
  }

  async createSilence(silence: Silence): Promise<void> {
    await this.write('createSilence', () => insertSilence(this.conn(), silence));
  }

  async countSilences(now: number): Promise<Record<SilenceState, number>> {
    return this.read('countSilences', () => countSilenceDocs(this.conn(), now));
  }

  async listSilences(
    states: readonly SilenceState[],
    now: number,
    limit: number,
    after: SilencePosition | null = null,
    tenants?: readonly string[],
  ): Promise<Silence[]> {
    return this.read('listSilences', () => findSilences(this.conn(), states, now, limit, after, tenants));
  }

  async expireSilence(id: string, at: number, tenants?: readonly string[]): Promise<Silence> {
    return this.write('expireSilence', () => this.inTransaction((ctx) => expireSilenceDoc(this.conn(), ctx.session, id, at, tenants)));
  }

  async createUser(user: User): Promise<void> {
    await this.write('createUser', () => insertUser(this.conn(), user));
  }

  async getUserByName(name: string): Promise<User | null> {
    return this.read('getUserByName', () => findUserByName(this.conn(), name));
  }

  async getUser(id: string): Promise<User | null> {
    return this.read('getUser', () => findUser(this.conn(), id));
  }

  async listUsers(): Promise<User[]> {
    return this.read('listUsers', () => findUsers(this.conn()));
  }

  async updateUser(id: string, change: UserChange): Promise<User> {
    return this.write('updateUser', () => changeUser(this.conn(), id, change));
  }

  async createSession(session: SessionRecord): Promise<void> {
    await this.write('createSession', () => insertSession(this.conn(), session));
  }

  async getSession(id: string): Promise<SessionRecord | null> {
    return this.read('getSession', () => findSession(this.conn(), id));
  }

  async touchSession(id: string, at: number): Promise<boolean> {
    return this.write('touchSession', () => touchSessionDoc(this.conn(), id, at));
  }

  async deleteSession(id: string): Promise<void> {
    await this.write('deleteSession', () => deleteSessionDoc(this.conn(), id));
  }

  async deleteSessionsForUser(userId: string): Promise<number> {
    return this.write('deleteSessionsForUser', () => deleteUserSessions(this.conn(), userId));
  }

  async deleteEndedSessions(lastSeenBefore: number, createdBefore: number): Promise<number> {
    return this.write('deleteEndedSessions', () => deleteEndedSessionDocs(this.conn(), lastSeenBefore, createdBefore));
  }

  async fileProblemReport(filing: ReportFiling): Promise<{ reporters: number }> {
    const { report, entry, subscriber, maxSubscribers, receipt } = filing;
    return this.write('fileProblemReport', () =>
      // The report, its timeline entry, the reporter's subscription and the receipt together, as in
      // SQLite: a cut between them would leave a report its incident never shows.
      this.inTransaction(async (ctx) => {
        const db = this.conn();
        const session = ctx.session;
        // Asked before the write: a duplicate _id would abort the transaction. The same report
        // again is a retry whose answer was lost; it is stored once.
        const before = await findReport(db, report.id, session);
        const number = report.incident;
        if (before !== null) {
          if (before.incident === null) return { reporters: 0 };
          return { reporters: (await countReporters(db, [before.incident], session)).get(before.incident) ?? 0 };
        }
        if (number === null) {
          await insertReport(db, report, session);
          return { reporters: 0 };
        }
        const seq = requireSeq(number);
        // The timeline entry first: it is also what tells that the incident exists.
        const found =
          entry === null
            ? await ctx.incidents.findOne({ _id: seq }, { projection: { _id: 1 }, ...inSession(session) })
            : await ctx.incidents.findOneAndUpdate(
                { _id: seq },
                { $push: { timeline: timelineDoc(entry.at, entry.actor, entry.action, entry.message) } },
                { projection: { _id: 1 }, ...inSession(session) },
              );
        if (!found) throw new IncidentNotFoundError(number);
        await insertReport(db, report, session);
        // A full list keeps the report; the person simply is not mailed (planSubscription notes it).
        if (subscriber !== null) await addSubscribers(seq, [subscriber], report.reporterName, report.createdAt, maxSubscribers, ctx);
        if (receipt !== null) await insertDeliveries(receipt.event, receipt.channels, report.createdAt, ctx);
        return { reporters: (await countReporters(db, [number], session)).get(number) ?? 0 };
      }),
    );
  }

  async getProblemReport(id: string): Promise<ProblemReport | null> {
    return this.read('getProblemReport', () => findReport(this.conn(), id));
  }

  async listProblemReports(reporterId: string, limit: number, cursor?: string | null): Promise<Page<ProblemReport>> {
    if (cursor) decodeReportCursor(cursor); // a foreign cursor is refused before the database
    return this.read('listProblemReports', () => findReports(this.conn(), reporterId, limit, cursor));
  }

  async countReporters(numbers: readonly string[]): Promise<Map<string, number>> {
    return this.read('countReporters', () => countReporters(this.conn(), numbers));
  }

  async appendAudit(entry: AuditEntry): Promise<void> {
    await this.write('appendAudit', () => insertAudit(this.conn(), entry));
  }

  async listAudit(limit: number, cursor?: string | null): Promise<Page<AuditEntry>> {
    if (cursor) decodeAuditCursor(cursor); // a foreign cursor is refused before the database
    return this.read('listAudit', () => findAudit(this.conn(), limit, cursor));
  }
}
