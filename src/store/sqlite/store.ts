// The embedded default store: one SQLite file. Several connections may share it safely (the store's
// contract tests run two); the daemon opens it `exclusive`, for itself alone.
import { mkdirSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import type { Severity } from '../../domain/classification.js';
import { SEVERITIES, severityRank } from '../../domain/classification.js';
import type { Incident, RelatedTarget, TimelineEntry } from '../../domain/incident.js';
import { incidentNumber, parseIncidentNumber, retitledMessage } from '../../domain/incident.js';
import type { Clock } from '../../shared/clock.js';
import { SystemClock } from '../../shared/clock.js';
import { DEFAULT_MAX_SUBSCRIBERS, planSubscribers, subscriberLimitNote } from '../../domain/subscribers.js';
import {
  IncidentNotFoundError,
  InstanceLockedError,
  InvalidTransitionError,
  StoreUnavailableError,
  SubscriberLimitError,
} from '../../shared/errors.js';
import { pidLocking } from '../../shared/lock-file.js';
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
import { InvalidCursorError } from './errors.js';
import { applyPragmas } from './pragmas.js';
import type { DeliveryRow, IncidentRow, TimelineRow } from './rows.js';
import { draftParams, rowToDelivery, rowToIncident } from './rows.js';
import { migrate } from './schema.js';

export interface SqliteStoreOptions {
  /** Database file; its directory is created if missing. `:memory:` works for throwaway use. */
  path: string;
  clock?: Clock;
  /**
   * How long one attempt waits inside SQLite for another connection's write lock. It blocks the
   * event loop, so it stays short; default 100 ms.
   */
  busyTimeoutMs?: number;
  /** How long a write keeps retrying a locked database before StoreUnavailableError; default 15 s. */
  lockTimeoutMs?: number;
  /**
   * Hold the database for this connection alone while open (SQLite's EXCLUSIVE locking mode; the
   * daemon's single-instance guard): another connection, in this process or another, cannot read
   * or write it, and open() fails with InstanceLockedError while another holds it.
   */
  exclusive?: boolean;
}

/** Largest page `list` returns, whatever the caller asks for. */
export const MAX_PAGE_SIZE = 1000;

// Spelt exactly as in the partial indexes' WHERE clauses, so SQLite can use them.
const ACTIVE = "status IN ('open', 'acknowledged')";
const INACTIVE = "status IN ('resolved', 'closed')";

type Stmt = Database.Statement<unknown[], unknown>;

/** Statements prepared once at open(); preparing per call would dominate the hot path. */
interface Statements {
  syncNormal: Stmt;
  syncFull: Stmt;
  findFingerprint: Stmt;
  intakeMark: Stmt;
  intakeMarkGet: Stmt;
  counterGet: Stmt;
  counterSet: Stmt;
  repeat: Stmt;
  retitle: Stmt;
  reopen: Stmt;
  insert: Stmt;
  timelineAdd: Stmt;
  resolveActive: Stmt;
  activeByFingerprint: Stmt;
  setFlapping: Stmt;
  setRelated: Stmt;
  fpStateUpsert: Stmt;
  fpStateDelete: Stmt;
  activeStateSet: Stmt;
  fpStateAll: Stmt;
  activeStateAll: Stmt;
  bySeq: Stmt;
  timelineOf: Stmt;
  acknowledge: Stmt;
  resolveManual: Stmt;
  countActive: Stmt;
  ping: Stmt;
  deliveryInsert: Stmt;
  deliveryClaim: Stmt;
  deliveryRelease: Stmt;
  deliveryDone: Stmt;
  deliveryRetry: Stmt;
  deliveryDead: Stmt;
  deliveryCount: Stmt;
  reclassify: Stmt;
  notifiedGet: Stmt;
  notifiedSet: Stmt;
  dueTimers: Stmt;
  escalationApply: Stmt;
  deliveryTarget: Stmt;
  ticketSet: Stmt;
  subscribersSet: Stmt;
  subscribersGet: Stmt;
  closeResolved: Stmt;
}

export class SqliteStore implements IncidentStore {
  private readonly path: string;
  private readonly clock: Clock;
  private readonly busyTimeoutMs: number;
  private readonly lockTimeoutMs: number;
  private readonly exclusive: boolean;
  private db: Database.Database | null = null;
  private st: Statements | null = null;
  private readonly listStatements = new Map<string, Stmt>();
  /** Writes of this instance run one after another, in call order, even while one waits on a lock. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(opts: SqliteStoreOptions) {
    this.path = opts.path === ':memory:' ? opts.path : resolvePath(opts.path);
    this.clock = opts.clock ?? new SystemClock();
    this.busyTimeoutMs = opts.busyTimeoutMs ?? 100;
    this.lockTimeoutMs = opts.lockTimeoutMs ?? 15_000;
    this.exclusive = opts.exclusive ?? false;
  }

  describe(): string {
    return `sqlite:${this.path}`;
  }

  async open(): Promise<void> {
    if (this.db) return;
    let db: Database.Database;
    try {
      if (this.path !== ':memory:') mkdirSync(dirname(this.path), { recursive: true });
      db = new Database(this.path);
    } catch (err) {
      throw new StoreUnavailableError(
        `cannot open SQLite database ${this.path}: ${(err as Error).message}; check that the directory is writable by incidentd`,
        { cause: err },
      );
    }
    try {
      if (this.exclusive) {
        await this.openExclusive(db);
      } else {
        // Switching to WAL and migrating both need the write lock another instance may hold.
        await this.withLockRetry(() => {
          applyPragmas(db, this.busyTimeoutMs);
          migrate(db, this.path, this.clock.now());
        });
      }
      this.st = prepareStatements(db);
    } catch (err) {
      db.close();
      throw err;
    }
    this.db = db;
  }

  /**
   * Takes the database's lock for good before anything else: set before the first WAL access,
   * EXCLUSIVE mode keeps the WAL index in this process's memory and never releases the file lock.
   * Another holder is waited for a moment (an sqlite3 shell's short transaction), then refused.
   */
  private async openExclusive(db: Database.Database): Promise<void> {
    const deadline = Math.min(this.lockTimeoutMs, 1000);
    for (let waited = 0; ; waited += this.busyTimeoutMs + 50) {
      try {
        db.pragma('locking_mode = EXCLUSIVE');
        applyPragmas(db, this.busyTimeoutMs);
        db.exec('BEGIN EXCLUSIVE; COMMIT');
        migrate(db, this.path, this.clock.now());
        return;
      } catch (err) {
        if (!isBusy(err)) throw err;
        if (waited >= deadline) {
          const pid = pidLocking(this.path);
          throw new InstanceLockedError(
            `another incidentd (${pid === null ? 'pid unknown' : `pid ${pid}`}) holds the SQLite database ${this.path}; ` +
              'the embedded store serves one daemon: for several instances use MongoDB (store.type: mongodb or MONGODB_URI)',
            { cause: err },
          );
        }
        await sleep(50);
      }
    }
  }

  async close(): Promise<void> {
    const db = this.db;
    if (!db) return;
    await this.tail.catch(() => undefined);
    this.db = null;
    this.st = null;
    this.listStatements.clear();
    db.close();
  }

  async ping(): Promise<boolean> {
    if (!this.db || !this.st) return false;
    try {
      const row = this.st.ping.get() as { ok: number } | undefined;
      return row?.ok === 1;
    } catch {
      return false;
    }
  }

  async commit(ops: StoreOp[]): Promise<OpResult[]> {
    if (ops.length === 0) return [];
    // A commit of journaled alerts (see IntakeOp.sync) skips the WAL fsync: the journal has them.
    const intake = ops.find((op) => op.kind === 'intake');
    return this.write(() => this.applyOps(ops), intake !== undefined && !intake.sync);
  }

  /** Fingerprint states live in the active incident's row, or in fingerprint_state without one. */
  async intakeMark(journal: string): Promise<number> {
    const { st } = this.conn();
    const row = st.intakeMarkGet.get(`intake:${journal}`) as { value: string } | undefined;
    return row ? Number(row.value) : 0;
  }

  async loadState(): Promise<FingerprintState[]> {
    const { db, st } = this.conn();
    return db.transaction(() => {
      const byFp = new Map<string, FingerprintState>();
      for (const r of st.fpStateAll.all() as { data: string }[]) {
        const f = JSON.parse(r.data) as FingerprintState;
        byFp.set(f.fingerprint, f);
      }
      for (const r of st.activeStateAll.all() as { data: string }[]) {
        const f = JSON.parse(r.data) as FingerprintState;
        byFp.set(f.fingerprint, f);
      }
      return [...byFp.values()];
    })();
  }

  async get(number: string): Promise<Incident | null> {
    const seq = parseIncidentNumber(number);
    if (seq === null) return null;
    const { db } = this.conn();
    // A read transaction, so the row and its timeline come from the same snapshot.
    return db.transaction(() => this.readIncident(seq))();
  }

  async list(filter: IncidentFilter, limit: number, cursor?: string | null): Promise<Page<Incident>> {
    const { db } = this.conn();
    const size = Math.max(1, Math.min(MAX_PAGE_SIZE, Math.floor(limit) || 1));
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.status && filter.status.length > 0) {
      where.push(`status IN (${filter.status.map(() => '?').join(', ')})`);
      params.push(...filter.status);
    }
    if (filter.severity && filter.severity.length > 0) {
      where.push(`severity IN (${filter.severity.map(() => '?').join(', ')})`);
      params.push(...filter.severity);
    }
    if (filter.category !== undefined) {
      where.push('category = ?');
      params.push(filter.category);
    }
    if (filter.site !== undefined) {
      where.push('target_site = ?');
      params.push(filter.site);
    }
    if (filter.target !== undefined) {
      where.push('target_id = ?');
      params.push(filter.target);
    }
    if (filter.fingerprint !== undefined) {
      // Through the two partial indexes that together cover every status (see schema.ts).
      where.push(
        `seq IN (SELECT seq FROM incidents WHERE fingerprint = ? AND ${ACTIVE}
                 UNION ALL SELECT seq FROM incidents WHERE fingerprint = ? AND ${INACTIVE})`,
      );
      params.push(filter.fingerprint, filter.fingerprint);
    }
    if (cursor) {
      where.push('seq < ?');
      params.push(decodeCursor(cursor));
    }
    const sql =
      'SELECT * FROM incidents' +
      (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
      ' ORDER BY seq DESC LIMIT ?';
    params.push(size + 1);
    let stmt = this.listStatements.get(sql);
    if (!stmt) {
      stmt = db.prepare(sql);
      this.listStatements.set(sql, stmt);
    }
    // One row more than asked tells whether another page exists, so `next` is null on the last one.
    const rows = stmt.all(...params) as IncidentRow[];
    const more = rows.length > size;
    const items = rows.slice(0, size).map((r) => rowToIncident(r, []));
    const last = items[items.length - 1];
    return { items, next: more && last ? encodeCursor(last.seq) : null };
  }

  async acknowledge(number: string, actor: string, message: string, at: number, notify: string[] = []): Promise<Incident> {
    return this.write(() => {
      const { st } = this.conn();
      const row = this.requireRow(number);
      if (row.status !== 'open') {
        throw new InvalidTransitionError(
          `incident ${number} is ${row.status}; only open incidents can be acknowledged`,
        );
      }
      st.acknowledge.run(at, actor, row.seq);
      st.timelineAdd.run(row.seq, at, actor, 'acknowledged', message);
      this.insertDeliveries(row.seq, personEvent(row.seq, 'incident.acknowledged', at, actor, message), notify, at);
      return this.readIncident(row.seq)!;
    });
  }

  async resolve(number: string, actor: string, message: string, at: number, notify: string[] = []): Promise<Incident> {
    return this.write(() => {
      const { st } = this.conn();
      const row = this.requireRow(number);
      if (row.status !== 'open' && row.status !== 'acknowledged') {
        throw new InvalidTransitionError(
          `incident ${number} is already ${row.status}; only open or acknowledged incidents can be resolved`,
        );
      }
      st.resolveManual.run(at, actor, row.seq);
      st.timelineAdd.run(row.seq, at, actor, 'resolved', message);
      this.insertDeliveries(row.seq, personEvent(row.seq, 'incident.resolved', at, actor, message), notify, at);
      return this.readIncident(row.seq)!;
    });
  }

  async comment(number: string, actor: string, text: string, at: number): Promise<Incident> {
    return this.write(() => {
      const { st } = this.conn();
      const row = this.requireRow(number);
      st.timelineAdd.run(row.seq, at, actor, 'commented', text);
      return this.readIncident(row.seq)!;
    });
  }

  async countActive(): Promise<Record<Severity, number>> {
    const { st } = this.conn();
    const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
    for (const r of st.countActive.all() as { severity: string; n: number }[]) {
      if ((SEVERITIES as readonly string[]).includes(r.severity)) counts[r.severity as Severity] = r.n;
    }
    return counts;
  }

  async dueEscalations(now: number, limit: number): Promise<Incident[]> {
    const { st } = this.conn();
    const size = Math.max(1, Math.min(MAX_PAGE_SIZE, Math.floor(limit) || 1));
    return (st.dueTimers.all(now, size) as IncidentRow[]).map((r) => rowToIncident(r, []));
  }

  async applyEscalation(number: string, change: EscalationChange): Promise<{ applied: boolean; events: string[] }> {
    return this.write(() => {
      const { st } = this.conn();
      const seq = parseIncidentNumber(number);
      if (seq === null) return { applied: false, events: [] };
      const x = change.expect;
      const r = st.escalationApply.run(
        change.tier,
        JSON.stringify(change.escalation),
        change.escalation.nextTimerAt,
        seq,
        x.status,
        x.severity,
        x.nextTimerAt,
      );
      if (r.changes === 0) return { applied: false, events: [] };
      for (const t of change.timeline) st.timelineAdd.run(seq, change.at, t.actor, t.action, t.message);
      const events: string[] = [];
      if (change.announce) {
        const event = escalationEvent(number, { ...change, announce: change.announce });
        this.insertDeliveries(seq, event, change.announce.channels, change.at);
        events.push(event.id);
      }
      return { applied: true, events };
    });
  }

  async closeResolved(resolvedBefore: number, at: number, limit: number): Promise<string[]> {
    const size = Math.max(1, Math.min(MAX_PAGE_SIZE, Math.floor(limit) || 1));
    return this.write(() => {
      const { st } = this.conn();
      const rows = st.closeResolved.all(at, resolvedBefore, size) as { seq: number }[];
      for (const r of rows) st.timelineAdd.run(r.seq, at, 'system', 'closed', 'closed after its resolution');
      return rows.map((r) => num(r.seq));
    });
  }

  async subscribe(number: string, address: string, actor: string, at: number, maxSubscribers = DEFAULT_MAX_SUBSCRIBERS): Promise<Incident> {
    return this.write(() => {
      const row = this.requireRow(number);
      const refused = this.addSubscribers(row.seq, [address], actor, at, maxSubscribers);
      if (refused > 0) throw new SubscriberLimitError(number, maxSubscribers);
      return this.readIncident(row.seq)!;
    });
  }

  async claimDeliveries(now: number, limit: number, leaseMs: number, owner: string): Promise<Delivery[]> {
    const size = Math.max(1, Math.min(MAX_PAGE_SIZE, Math.floor(limit) || 1));
    // The IMMEDIATE transaction of write() holds the write lock from the SELECT to the UPDATE, so
    // two instances cannot pick the same row.
    return this.write(() => {
      const { st } = this.conn();
      const rows = st.deliveryClaim.all(owner, now + leaseMs, now, size) as DeliveryRow[];
      return rows.map(rowToDelivery).sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
    });
  }

  async releaseLeases(owner: string, at: number): Promise<number> {
    return this.write(() => this.conn().st.deliveryRelease.run(at, owner).changes);
  }

  async completeDelivery(id: string, outcome: DeliveryOutcome): Promise<boolean> {
    return this.write(() => {
      const { st } = this.conn();
      let r: Database.RunResult;
      if ('delivered' in outcome) {
        r = st.deliveryDone.run(outcome.reference ?? null, outcome.at, id);
        if (r.changes > 0 && outcome.reference !== undefined) {
          // The first reference a channel answers for an incident is its ticket there.
          const d = st.deliveryTarget.get(id) as { channel_id: string; number: string } | undefined;
          const seq = d ? parseIncidentNumber(d.number) : null;
          if (d && seq !== null) st.ticketSet.run(d.channel_id, outcome.reference, seq);
        }
      }
      else if ('dead' in outcome) r = st.deliveryDead.run(outcome.error, outcome.at, id);
      else r = st.deliveryRetry.run(outcome.retryAt, outcome.error, id);
      return r.changes > 0;
    });
  }

  async listDeadLetters(limit: number, cursor?: string | null): Promise<Page<Delivery>> {
    const { db } = this.conn();
    const size = Math.max(1, Math.min(MAX_PAGE_SIZE, Math.floor(limit) || 1));
    const params: unknown[] = [];
    let where = "status = 'dead'";
    if (cursor) {
      const c = decodeDeadCursor(cursor);
      where += ' AND (finished_at < ? OR (finished_at = ? AND id < ?))';
      params.push(c.at, c.at, c.id);
    }
    params.push(size + 1);
    const rows = db
      .prepare(`SELECT * FROM deliveries WHERE ${where} ORDER BY finished_at DESC, id DESC LIMIT ?`)
      .all(...params) as DeliveryRow[];
    const more = rows.length > size;
    const items = rows.slice(0, size).map(rowToDelivery);
    const last = items[items.length - 1];
    return { items, next: more && last ? encodeDeadCursor(last.finishedAt ?? 0, last.id) : null };
  }

  async countDeliveries(): Promise<{ pending: number; dead: number }> {
    const { st } = this.conn();
    const counts = { pending: 0, dead: 0 };
    for (const r of st.deliveryCount.all() as { status: string; n: number }[]) {
      if (r.status === 'pending' || r.status === 'dead') counts[r.status] = r.n;
    }
    return counts;
  }

  // --- internals ---------------------------------------------------------------------------------

  private conn(): { db: Database.Database; st: Statements } {
    if (!this.db || !this.st) {
      throw new StoreUnavailableError(`SQLite store ${this.path} is not open; call open() first`);
    }
    return { db: this.db, st: this.st };
  }

  /**
   * Runs fn in a BEGIN IMMEDIATE transaction, queued behind this instance's earlier writes.
   * `unsynced`: commit without fsyncing the WAL (synchronous = NORMAL for this one transaction);
   * the next synced commit or checkpoint makes it durable.
   */
  private write<T>(fn: () => T, unsynced = false): Promise<T> {
    const run = (): Promise<T> => {
      const { db, st } = this.conn();
      const tx = db.transaction(fn);
      if (!unsynced) return this.withLockRetry(() => tx.immediate());
      return this.withLockRetry(() => {
        st.syncNormal.run();
        try {
          return tx.immediate();
        } finally {
          st.syncFull.run();
        }
      });
    };
    const result = this.tail.then(run, run);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /**
   * Another process holding the write lock yields SQLITE_BUSY after busy_timeout. The transaction
   * has rolled back by then, so running it again is safe. The pauses are wall time spent waiting on
   * another process, not domain time, hence timers rather than the Clock.
   */
  private async withLockRetry<T>(fn: () => T): Promise<T> {
    let waited = 0;
    let pause = 5;
    for (;;) {
      try {
        return fn();
      } catch (err) {
        if (!isBusy(err)) throw err;
        waited += this.busyTimeoutMs + pause;
        if (waited > this.lockTimeoutMs) {
          throw new StoreUnavailableError(
            `SQLite database ${this.path} stayed locked by another connection for over ${this.lockTimeoutMs} ms; ` +
              'check for a stuck incidentd or sqlite3 shell holding a write transaction on it',
            { cause: err },
          );
        }
        await sleep(pause);
        pause = Math.min(pause * 2, 200);
      }
    }
  }

  /** Repeat the active incident, else reopen a recently resolved one, else open a new one. */
  private applyFail(
    op: Extract<StoreOp, { kind: 'fail' }>,
    changes: Map<string, Change>,
    counter: number | null,
    states: Map<string, FingerprintState>,
    insertedWithState: Set<FingerprintState>,
  ): { counter: number | null; seq: number; result: OpResult } {
    const { st } = this.conn();
    const d = op.draft;
    // One indexed read finds what the op does to the fingerprint; the update then goes by seq. A new
    // fingerprint (the costly case) costs one read instead of two failed updates.
    const found = st.findFingerprint.get(d.fingerprint, d.fingerprint, op.at - op.reopenWindowMs) as
      | { seq: number; severity: Severity; active: 0 | 1; title: string; description: string }
      | undefined;
    if (found?.active === 1) {
      st.repeat.run(op.count, op.at, d.message, found.seq);
      if (severityRank(d.classification.severity) > severityRank(found.severity)) {
        // A rule raised the severity: reclassify, and let the sweep re-evaluate tier and SLA now.
        const c = d.classification;
        st.reclassify.run(c.category, c.severity, c.impact, c.priority, d.title, d.description, d.runbook, d.ruleId, op.at, found.seq);
        st.timelineAdd.run(found.seq, op.at, d.ruleId, 'reclassified', `severity raised from ${found.severity} to ${c.severity}: ${d.title}`);
      } else if (op.retitle === true && (d.title !== found.title || d.description !== found.description)) {
        // Title and description follow the current condition; a new title goes on the timeline.
        st.retitle.run(d.title, d.description, found.seq);
        if (d.title !== found.title) st.timelineAdd.run(found.seq, op.at, d.ruleId, 'updated', retitledMessage(found.title, d.title));
      }
      return { counter, seq: found.seq, result: { kind: 'fail', outcome: 'repeated', number: num(found.seq), fingerprint: d.fingerprint } };
    }
    if (found !== undefined) {
      const esc = d.escalation ?? null;
      const c = d.classification;
      // A reopening is classified by the rule that fires now; its escalation was planned with it.
      st.reopen.run(
        op.count,
        op.at,
        d.message,
        c.tier,
        esc === null ? '{}' : JSON.stringify(esc),
        esc === null ? op.at : esc.nextTimerAt,
        c.category,
        c.severity,
        c.impact,
        c.priority,
        d.title,
        d.description,
        d.runbook,
        d.ruleId,
        found.seq,
      );
      st.timelineAdd.run(found.seq, op.at, d.ruleId, 'reopened', d.message);
      changes.set(d.fingerprint, { seq: found.seq, type: 'incident.reopened', at: op.at });
      return { counter, seq: found.seq, result: { kind: 'fail', outcome: 'reopened', number: num(found.seq), fingerprint: d.fingerprint } };
    }
    // Read only when a commit inserts: a batch of repeats leaves the counter row alone.
    counter = (counter ?? (st.counterGet.get() as { value: number }).value) + 1;
    // The state op at the end of the commit carries the new incident's state: written with the row
    // rather than by a second update of it.
    const state = states.get(d.fingerprint);
    st.insert.run(draftParams(counter, d, op.at, op.count, state === undefined ? null : JSON.stringify(state)));
    if (state !== undefined) insertedWithState.add(state);
    st.timelineAdd.run(counter, op.at, d.ruleId, 'opened', d.message);
    changes.set(d.fingerprint, { seq: counter, type: 'incident.opened', at: op.at });
    return { counter, seq: counter, result: { kind: 'fail', outcome: 'opened', number: num(counter), fingerprint: d.fingerprint } };
  }

  /**
   * Adds people to keep informed, as many as `max` allows (planSubscribers decides); each new one
   * gets a timeline entry, and filling the list one note. Returns how many were refused.
   */
  private addSubscribers(seq: number, addresses: string[], actor: string, at: number, max: number): number {
    const { st } = this.conn();
    const row = st.subscribersGet.get(seq) as { subscribers: string } | undefined;
    if (!row) return 0;
    const current = JSON.parse(row.subscribers) as string[];
    const plan = planSubscribers(current, addresses, max);
    if (plan.added.length > 0) {
      st.subscribersSet.run(JSON.stringify([...current, ...plan.added]), seq);
      for (const a of plan.added) st.timelineAdd.run(seq, at, actor, 'subscribed', `${a} is kept informed`);
    }
    if (plan.filled) st.timelineAdd.run(seq, at, 'system', 'subscribers-limit', subscriberLimitNote(max, plan.refused.length));
    return plan.refused.length;
  }

  /** Runs inside the commit transaction. */
  private applyOps(ops: StoreOp[]): OpResult[] {
    const { st } = this.conn();
    // The counter is read once per transaction and written back at its end; the IMMEDIATE lock
    // keeps other connections from taking numbers in between.
    let counter: number | null = null;
    const results: OpResult[] = [];
    // The last announceable change per fingerprint, for the notify op that follows it.
    const changes = new Map<string, Change>();
    // States of active fingerprints from this commit's state op; an insert takes its own out.
    const newStates = new Map<string, FingerprintState>();
    const stateOp = ops.findLast((op) => op.kind === 'state');
    if (stateOp?.kind === 'state') for (const f of stateOp.fingerprints) if (f.active !== null) newStates.set(f.fingerprint, f);
    const insertedWithState = new Set<FingerprintState>();
    for (const op of ops) {
      switch (op.kind) {
        case 'fail': {
          const r = this.applyFail(op, changes, counter, newStates, insertedWithState);
          counter = r.counter;
          results.push(r.result);
          if (op.draft.subscribers !== undefined && op.draft.subscribers.length > 0) {
            this.addSubscribers(r.seq, op.draft.subscribers, op.draft.ruleId, op.at, op.maxSubscribers ?? DEFAULT_MAX_SUBSCRIBERS);
          }
          break;
        }
        case 'resolve': {
          const row = st.resolveActive.get(op.at, op.actor, op.fingerprint) as { seq: number } | undefined;
          if (row) {
            st.timelineAdd.run(row.seq, op.at, op.actor, 'resolved', op.message);
            changes.set(op.fingerprint, { seq: row.seq, type: 'incident.resolved', at: op.at });
          }
          results.push({ kind: 'resolve', number: row ? num(row.seq) : null, fingerprint: op.fingerprint });
          break;
        }
        case 'flapping': {
          const row = st.activeByFingerprint.get(op.fingerprint) as ActiveRow | undefined;
          // Only a change of the flag is worth a timeline entry.
          if (row && (row.flapping !== 0) !== op.flapping) {
            st.setFlapping.run(op.flapping ? 1 : 0, row.seq);
            const action = op.flapping ? 'flapping-started' : 'flapping-stopped';
            st.timelineAdd.run(row.seq, op.at, 'system', action, op.message);
            changes.set(op.fingerprint, { seq: row.seq, type: `incident.${action}`, at: op.at });
          }
          results.push({ kind: 'flapping', number: row ? num(row.seq) : null, fingerprint: op.fingerprint });
          break;
        }
        case 'relate': {
          const row = st.activeByFingerprint.get(op.fingerprint) as ActiveRow | undefined;
          if (row) {
            const related = JSON.parse(row.related) as RelatedTarget[];
            if (!related.some((r) => r.targetId === op.related.targetId)) {
              related.push(op.related);
              st.setRelated.run(JSON.stringify(related), row.seq);
              st.timelineAdd.run(row.seq, op.at, 'system', 'dependent-failing', op.message);
            }
          }
          results.push({ kind: 'relate', number: row ? num(row.seq) : null, fingerprint: op.fingerprint });
          break;
        }
        case 'state': {
          // A fingerprint with an active incident keeps its state in that incident's row: a new
          // incident is appended in seq order, where a separate table keyed by the (random)
          // fingerprint would rewrite pages all over the file at every commit.
          for (const f of op.fingerprints) {
            if (insertedWithState.has(f)) {
              // Written with its new row; an older fingerprint_state row (counting towards
              // open_after) is gone now.
              st.fpStateDelete.run(f.fingerprint);
              continue;
            }
            const data = JSON.stringify(f);
            const inRow = f.active !== null && st.activeStateSet.run(data, f.fingerprint).changes > 0;
            if (inRow) st.fpStateDelete.run(f.fingerprint);
            else st.fpStateUpsert.run(f.fingerprint, data);
          }
          for (const fp of op.forget) st.fpStateDelete.run(fp);
          results.push({ kind: 'state' });
          break;
        }
        case 'intake':
          st.intakeMark.run(`intake:${op.journal}`, String(op.lsn));
          results.push({ kind: 'intake' });
          break;
        case 'notify': {
          const change = changes.get(op.fingerprint);
          changes.delete(op.fingerprint);
          const events: string[] = [];
          if (change && op.quiet) {
            this.addNotified(change.seq, op.channels);
          } else if (change) {
            const event = changeEvent(change, op);
            this.insertDeliveries(change.seq, event, op.channels, change.at);
            events.push(event.id);
          }
          results.push({ kind: 'notify', events, fingerprint: op.fingerprint });
          break;
        }
      }
    }
    if (counter !== null) st.counterSet.run(counter);
    return results;
  }

  /** Counts `channels` as told of the incident, without an event; returns everyone told now. */
  private addNotified(seq: number, channels: string[]): string[] {
    const { st } = this.conn();
    const before = JSON.parse((st.notifiedGet.get(seq) as { notified: string }).notified) as string[];
    const all = new Set([...before, ...channels]);
    if (all.size !== before.length) st.notifiedSet.run(JSON.stringify([...all]), seq);
    return [...all];
  }

  /**
   * One pending delivery per channel told before and per channel in `channels`, which all count as
   * told from now on. A delivery that exists already (a retried commit) is kept.
   */
  private insertDeliveries(seq: number, event: OutboxEvent, channels: string[], at: number): void {
    const { st } = this.conn();
    const all = this.addNotified(seq, channels);
    if (all.length === 0) return;
    const json = JSON.stringify(event);
    for (const channel of all) {
      st.deliveryInsert.run(deliveryId(event.id, channel), event.id, channel, json, at, at, event.number);
    }
  }

  private requireRow(number: string): IncidentRow {
    const { st } = this.conn();
    const seq = parseIncidentNumber(number);
    const row = seq === null ? undefined : (st.bySeq.get(seq) as IncidentRow | undefined);
    if (!row) throw new IncidentNotFoundError(number);
    return row;
  }

  private readIncident(seq: number): Incident | null {
    const { st } = this.conn();
    const row = st.bySeq.get(seq) as IncidentRow | undefined;
    if (!row) return null;
    const timeline = st.timelineOf.all(seq) as TimelineRow[] as TimelineEntry[];
    return rowToIncident(row, timeline);
  }
}

/** An announceable change a commit made to a fingerprint's incident. */
interface Change {
  seq: number;
  type: OutboxEventType;
  at: number;
}

/** An event of a person's action (API), named like the ones commits name. */
function personEvent(seq: number, type: OutboxEvent['type'], at: number, actor: string, message: string): OutboxEvent {
  const number = num(seq);
  const event: OutboxEvent = { id: outboxEventId(number, type, at), type, at, number, actor };
  if (message !== '') event.message = message;
  return event;
}

function changeEvent(change: Change, op: Extract<StoreOp, { kind: 'notify' }>): OutboxEvent {
  const number = num(change.seq);
  const event: OutboxEvent = { id: outboxEventId(number, change.type, change.at), type: change.type, at: change.at, number };
  if (op.actor !== undefined) event.actor = op.actor;
  if (op.message !== undefined) event.message = op.message;
  return event;
}

interface ActiveRow {
  seq: number;
  flapping: number;
  related: string;
}

const num = incidentNumber;

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_'));
}

function encodeCursor(seq: number): string {
  return Buffer.from(`seq:${seq}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): number {
  const m = /^seq:(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw new InvalidCursorError(cursor);
  return Number(m[1]);
}

function encodeDeadCursor(at: number, id: string): string {
  return Buffer.from(`dead:${at}:${id}`, 'utf8').toString('base64url');
}

function decodeDeadCursor(cursor: string): { at: number; id: string } {
  const m = /^dead:(\d{1,15}):(.+)$/s.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw new InvalidCursorError(cursor);
  return { at: Number(m[1]), id: m[2]! };
}

function prepareStatements(db: Database.Database): Statements {
  const p = (sql: string): Stmt => db.prepare(sql);
  return {
    counterGet: p("SELECT value FROM counters WHERE name = 'incident'"),
    counterSet: p("UPDATE counters SET value = ? WHERE name = 'incident'"),
    // The active incident of a fingerprint, else the latest one resolved (not closed) since the
    // given time: the one a fail repeats or reopens. The status IN terms name the partial indexes'
    // conditions, which SQLite needs to see literally to use them; INDEXED BY makes sure it does.
    // Prepared once: db.pragma() prepares its statement on every call.
    syncNormal: p('PRAGMA synchronous = NORMAL'),
    syncFull: p('PRAGMA synchronous = FULL'),
    findFingerprint: p(
      `SELECT seq, severity, 1 AS active, title, description FROM incidents WHERE fingerprint = ? AND ${ACTIVE}
       UNION ALL
       SELECT * FROM (SELECT seq, severity, 0 AS active, title, description FROM incidents INDEXED BY incidents_inactive_fingerprint
                      WHERE fingerprint = ? AND status IN ('resolved', 'closed') AND status = 'resolved' AND resolved_at >= ?
                      ORDER BY resolved_at DESC, seq DESC LIMIT 1)
       LIMIT 1`,
    ),
    repeat: p('UPDATE incidents SET occurrences = occurrences + ?, last_seen = max(last_seen, ?), last_message = ? WHERE seq = ?'),
    retitle: p('UPDATE incidents SET title = ?, description = ? WHERE seq = ?'),
    // A reopened incident starts over as open: it needs acknowledging again; the timeline keeps
    // who acknowledged and resolved it before.
    reopen: p(
      `UPDATE incidents SET status = 'open', reopen_count = reopen_count + 1,
         resolved_at = NULL, resolved_by = NULL, acknowledged_at = NULL, acknowledged_by = NULL,
         occurrences = occurrences + ?, last_seen = max(last_seen, ?), last_message = ?,
         tier = ?, escalation = ?, next_timer_at = ?,
         category = ?, severity = ?, impact = ?, priority = ?, title = ?, description = ?, runbook = ?, rule_id = ?
       WHERE seq = ?`,
    ),
    insert: p(
      `INSERT INTO incidents (seq, fingerprint, status, category, severity, impact, tier, priority, title,
         description, runbook, rule_id, source, target_id, target_kind, target_name, target_site,
         target_labels, check_name, check_type, labels, first_seen, last_seen, occurrences, last_message,
         escalation, next_timer_at, hysteresis)
       VALUES (@seq, @fingerprint, 'open', @category, @severity, @impact, @tier, @priority, @title,
         @description, @runbook, @rule_id, @source, @target_id, @target_kind, @target_name, @target_site,
         @target_labels, @check_name, @check_type, @labels, @at, @at, @occurrences, @last_message,
         @escalation, @next_timer_at, @hysteresis)`,
    ),
    timelineAdd: p('INSERT INTO timeline (incident_seq, at, actor, action, message) VALUES (?, ?, ?, ?, ?)'),
    resolveActive: p(
      `UPDATE incidents SET status = 'resolved', resolved_at = ?, resolved_by = ?
       WHERE fingerprint = ? AND ${ACTIVE} RETURNING seq`,
    ),
    activeByFingerprint: p(`SELECT seq, flapping, related FROM incidents WHERE fingerprint = ? AND ${ACTIVE}`),
    setFlapping: p('UPDATE incidents SET flapping = ? WHERE seq = ?'),
    setRelated: p('UPDATE incidents SET related = ? WHERE seq = ?'),
    fpStateUpsert: p(
      'INSERT INTO fingerprint_state (fingerprint, data) VALUES (?, ?) ON CONFLICT (fingerprint) DO UPDATE SET data = excluded.data',
    ),
    fpStateDelete: p('DELETE FROM fingerprint_state WHERE fingerprint = ?'),
    activeStateSet: p(`UPDATE incidents SET hysteresis = ? WHERE fingerprint = ? AND ${ACTIVE}`),
    fpStateAll: p('SELECT data FROM fingerprint_state ORDER BY fingerprint'),
    activeStateAll: p(`SELECT hysteresis AS data FROM incidents WHERE ${ACTIVE} AND hysteresis IS NOT NULL`),
    bySeq: p('SELECT * FROM incidents WHERE seq = ?'),
    timelineOf: p('SELECT at, actor, action, message FROM timeline WHERE incident_seq = ? ORDER BY id'),
    acknowledge: p("UPDATE incidents SET status = 'acknowledged', acknowledged_at = ?, acknowledged_by = ? WHERE seq = ?"),
    resolveManual: p("UPDATE incidents SET status = 'resolved', resolved_at = ?, resolved_by = ? WHERE seq = ?"),
    // INDEXED BY: the planner otherwise prefers the status index and reads every active row.
    countActive: p(
      `SELECT severity, COUNT(*) AS n FROM incidents INDEXED BY incidents_active_severity
       WHERE ${ACTIVE} GROUP BY severity`,
    ),
    ping: p('SELECT 1 AS ok'),
    intakeMark: p(
      `INSERT INTO meta (key, value) VALUES (?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value WHERE CAST(excluded.value AS INTEGER) > CAST(value AS INTEGER)`,
    ),
    intakeMarkGet: p('SELECT value FROM meta WHERE key = ?'),
    deliveryInsert: p(
      `INSERT INTO deliveries (id, event_id, channel_id, event, status, next_at, created_at, incident)
       VALUES (?, ?, ?, ?, 'pending', ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
    ),
    // A helpdesk must hear of an incident in order: a delivery waits while an older one for the same
    // incident and channel is still pending (e.g. the opening is being retried).
    deliveryClaim: p(
      `UPDATE deliveries SET attempts = attempts + 1, lease_owner = ?, next_at = ?
       WHERE id IN (SELECT d.id FROM deliveries d WHERE d.status = 'pending' AND d.next_at <= ?
                      AND NOT EXISTS (SELECT 1 FROM deliveries o INDEXED BY deliveries_order
                                      WHERE o.status = 'pending' AND o.channel_id = d.channel_id
                                        AND o.incident = d.incident AND o.created_at < d.created_at)
                    ORDER BY d.next_at, d.id LIMIT ?)
       RETURNING *`,
    ),
    deliveryRelease: p(
      "UPDATE deliveries SET lease_owner = NULL, next_at = MIN(next_at, ?) WHERE status = 'pending' AND lease_owner = ?",
    ),
    deliveryDone: p(
      `UPDATE deliveries SET status = 'delivered', reference = ?, finished_at = ?, lease_owner = NULL, last_error = NULL
       WHERE id = ? AND status = 'pending'`,
    ),
    deliveryRetry: p(
      "UPDATE deliveries SET next_at = ?, last_error = ?, lease_owner = NULL WHERE id = ? AND status = 'pending'",
    ),
    deliveryDead: p(
      `UPDATE deliveries SET status = 'dead', last_error = ?, finished_at = ?, lease_owner = NULL
       WHERE id = ? AND status = 'pending'`,
    ),
    deliveryCount: p("SELECT status, COUNT(*) AS n FROM deliveries WHERE status IN ('pending', 'dead') GROUP BY status"),
    reclassify: p(
      `UPDATE incidents SET category = ?, severity = ?, impact = ?, priority = ?, title = ?, description = ?,
         runbook = ?, rule_id = ?, next_timer_at = ? WHERE seq = ?`,
    ),
    notifiedGet: p('SELECT notified FROM incidents WHERE seq = ?'),
    notifiedSet: p('UPDATE incidents SET notified = ? WHERE seq = ?'),
    dueTimers: p(
      `SELECT * FROM incidents INDEXED BY incidents_timers
       WHERE next_timer_at IS NOT NULL AND ${ACTIVE} AND next_timer_at <= ?
       ORDER BY next_timer_at, seq LIMIT ?`,
    ),
    // Compare-and-set: applies only to the incident as the sweep saw it (IS: null-safe equality).
    escalationApply: p(
      `UPDATE incidents SET tier = ?, escalation = ?, next_timer_at = ?
       WHERE seq = ? AND status = ? AND severity = ? AND next_timer_at IS ? AND ${ACTIVE}`,
    ),
    deliveryTarget: p('SELECT channel_id, incident AS number FROM deliveries WHERE id = ?'),
    // json_insert leaves an existing key alone: the first reference stays the ticket.
    ticketSet: p(`UPDATE incidents SET tickets = json_insert(tickets, '$."' || ? || '"', ?) WHERE seq = ?`),
    subscribersSet: p('UPDATE incidents SET subscribers = ? WHERE seq = ?'),
    subscribersGet: p('SELECT subscribers FROM incidents WHERE seq = ?'),
    closeResolved: p(
      `UPDATE incidents SET status = 'closed', closed_at = ?
       WHERE seq IN (SELECT seq FROM incidents WHERE status = 'resolved' AND resolved_at <= ? ORDER BY seq LIMIT ?)
       RETURNING seq`,
    ),
  };
}
