// The embedded default store: one SQLite file. Several connections may share it safely (the store's
// contract tests run two); the daemon opens it `exclusive`, for itself alone.
import { mkdirSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import type { Severity } from '../../domain/classification.js';
import { SEVERITIES } from '../../domain/classification.js';
import { changeEvent, commentEvent, compareDeliveries, deliveryId, escalationEvent, settleDelivery, type OutboxEvent } from '../../domain/events.js';
import type { Incident } from '../../domain/incident.js';
import { incidentNumber, parseIncidentNumber } from '../../domain/incident.js';
import { decodeDeadCursor, encodeDeadCursor, pageFrom, pageSize } from '../../domain/paging.js';
import { DEFAULT_MAX_SUBSCRIBERS } from '../../domain/subscribers.js';
import { assertCanAcknowledge, assertCanResolve, closedEntry, sameProblemActive } from '../../domain/transitions.js';
import type { Clock } from '../../shared/clock.js';
import { SystemClock } from '../../shared/clock.js';
import {
  IncidentChangedError,
  IncidentNotFoundError,
  InstanceLockedError,
  InvalidTransitionError,
  StoreUnavailableError,
  SubscriberLimitError,
} from '../../shared/errors.js';
import { pidLocking } from '../../shared/lock-file.js';
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
  ReportFiling,
  StoreGuarantees,
  StoreOp,
  SilencePosition,
} from '../types.js';
import { isBusy } from './errors.js';
import { applyPragmas } from './pragmas.js';
import type { DeliveryRow, IncidentRow, TimelineRow } from './rows.js';
import { openedEntry, rowToDelivery, rowToIncident, rowToTimelineEntry } from './rows.js';
import { revisionTimeline } from '../revision-timeline.js';
import type { Statements } from './statements.js';
import { ACTIVE, prepareStatements } from './statements.js';
import { addSubscribers, addTimeline, applyOps, insertDeliveries } from './writes.js';
import { migrate } from './schema.js';
import { SqliteIncidentList } from './list.js';
import { expireSilenceRow, insertSilence, countSilenceRows, selectSilences } from './silences.js';
import type { Silence, SilenceState } from '../../domain/silence.js';
import type { AuditEntry, SessionRecord, User, UserChange } from '../../domain/account.js';
import {
  changeUser,
  deleteSessionRow,
  deleteEndedSessionRows,
  deleteUserSessions,
  insertAudit,
  insertSession,
  insertUser,
  selectAudit,
  selectSession,
  selectUser,
  selectUserByName,
  selectUsers,
  touchSessionRow,
} from './accounts.js';
import type { BacklogQuery, EscalationCount, EscalationQuery, HandlingStamps, FingerprintRow, HandlingTimeQuery, HandlingTimeRow, HeatCell, HeatmapQuery, PeriodCount, PeriodCountQuery, RangeQuery, SlaBreach, SlaQuery, SlaRow, TargetRow } from '../../domain/reports.js';
import type { ProblemReport } from '../../domain/problem-report.js';
import { countReporters, insertReport, selectReport, selectReports } from './problem-reports.js';
import { backlog, countByPeriod, escalations, handlingTimeStamps, handlingTimes, heatmap, slaBreaches, slaCompliance, topFingerprints, topTargets } from './reports.js';

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
export { MAX_PAGE_SIZE } from '../../domain/paging.js';

export class SqliteStore implements IncidentStore {
  private readonly path: string;
  private readonly clock: Clock;
  private readonly busyTimeoutMs: number;
  private readonly lockTimeoutMs: number;
  private readonly exclusive: boolean;
  private db: Database.Database | null = null;
  private st: Statements | null = null;
  /** The incident list's statements, made on first use for the open connection. */
  private lister: SqliteIncidentList | null = null;
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
    this.lister = null;
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

  /** Every commit is one SQLite transaction. */
  guarantees(): StoreGuarantees {
    return { atomicCommits: true, warning: null };
  }

  /**
   * A commit runs in this process: when it throws it has rolled back, and when it returns its
   * answer cannot be lost, so a batch id (CommitOptions.id) never meets a retry of a committed
   * batch and is not recorded. A commit that need not be durable skips the WAL fsync.
   */
  async commit(ops: StoreOp[], options: CommitOptions = {}): Promise<OpResult[]> {
    if (ops.length === 0) return [];
    return this.write(() => applyOps(this.conn().st, ops), options.durable === false);
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

  async list(filter: IncidentFilter, limit: number, cursor?: string | null, sort?: IncidentSort): Promise<Page<Incident>> {
    return this.incidentList().list(filter, limit, cursor, sort);
  }

  /** EXPLAIN QUERY PLAN of what `list` runs with these arguments (tests and benchmarks). */
  explainList(filter: IncidentFilter, limit: number, cursor?: string | null, sort?: IncidentSort): string[] {
    return this.incidentList().queryPlan(filter, limit, cursor, sort);
  }

  private incidentList(): SqliteIncidentList {
    this.lister ??= new SqliteIncidentList(this.conn().db);
    return this.lister;
  }

  async acknowledge(number: string, actor: string, message: string, at: number, notify: string[] = []): Promise<Incident> {
    return this.write(() => {
      const { st } = this.conn();
      const row = this.requireRow(number);
      assertCanAcknowledge(number, row.status);
      st.acknowledge.run(at, actor, row.seq);
      st.timelineAdd.run(row.seq, at, actor, 'acknowledged', message, null);
      insertDeliveries(st, row.seq, changeEvent(number, 'incident.acknowledged', at, actor, message), notify, at);
      return this.readIncident(row.seq)!;
    });
  }

  async resolve(number: string, actor: string, message: string, at: number, notify: string[] = []): Promise<Incident> {
    return this.write(() => {
      const { st } = this.conn();
      const row = this.requireRow(number);
      assertCanResolve(number, row.status);
      st.resolveManual.run(at, actor, row.seq);
      st.timelineAdd.run(row.seq, at, actor, 'resolved', message, null);
      insertDeliveries(st, row.seq, changeEvent(number, 'incident.resolved', at, actor, message), notify, at);
      return this.readIncident(row.seq)!;
    });
  }

  async comment(number: string, actor: string, text: string, at: number): Promise<Incident> {
    return this.write(() => {
      const { st } = this.conn();
      const row = this.requireRow(number);
      st.timelineAdd.run(row.seq, at, actor, 'commented', text, null);
      const inc = this.readIncident(row.seq)!;
      // A note for every channel told of the incident (the helpdesk's ticket); no new channel.
      insertDeliveries(st, row.seq, commentEvent(number, at, inc.timeline.length, actor, text), [], at);
      return inc;
    });
  }

  async revise(number: string, revision: IncidentRevision): Promise<Incident> {
    return this.write(() => {
      const { st } = this.conn();
      const row = this.requireRow(number);
      const x = revision.expect;
      const set = revision.set;
      let changes: number;
      try {
        changes = st.revise.run({
          seq: row.seq,
          severity: set.severity ?? null,
          impact: set.impact ?? null,
          priority: set.priority ?? null,
          tier: set.tier ?? null,
          escalation: set.escalation === undefined ? null : JSON.stringify(set.escalation),
          next_timer_at: set.escalation?.nextTimerAt ?? null,
          reopen: set.reopen === true ? 1 : 0,
          x_status: x.status,
          x_severity: x.severity,
          x_tier: x.tier,
          x_next: x.nextTimerAt,
        }).changes;
      } catch (err) {
        // The dedup index: another incident of the fingerprint is active, so this one cannot be.
        if ((err as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
          const active = st.activeByFingerprint.get(row.fingerprint) as { seq: number } | undefined;
          throw new InvalidTransitionError(sameProblemActive(number, active === undefined ? null : incidentNumber(active.seq)));
        }
        throw err;
      }
      if (changes === 0) throw new IncidentChangedError(number);
      addTimeline(st, row.seq, revisionTimeline(revision));
      const a = revision.announce;
      if (a) insertDeliveries(st, row.seq, a.event, a.channels, revision.at);
      return this.readIncident(row.seq)!;
    });
  }

  async countActive(tenants?: readonly string[]): Promise<Record<Severity, number>> {
    const { db, st } = this.conn();
    const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
    if (tenants !== undefined && tenants.length === 0) return counts;
    const rows =
      tenants === undefined
        ? st.countActive.all()
        : db
            .prepare(
              `SELECT severity, COUNT(*) AS n FROM incidents INDEXED BY incidents_active_tenant_severity
               WHERE tenant IN (${tenants.map(() => '?').join(', ')}) AND ${ACTIVE} GROUP BY tenant, severity`,
            )
            .all(...tenants);
    for (const r of rows as { severity: string; n: number }[]) {
      // One row per tenant and severity: summed here.
      if ((SEVERITIES as readonly string[]).includes(r.severity)) counts[r.severity as Severity] += r.n;
    }
    return counts;
  }

  async incidentSpans(tenant: string, from: number, to: number, limit: number): Promise<IncidentSpan[]> {
    const { db } = this.conn();
    // Reads the tenant's (tenant, first_seen) index; severity ranks from SEVERITIES (lowest first) so the worst come first.
    const rank = `CASE severity ${SEVERITIES.map((s, i) => `WHEN '${s}' THEN ${i}`).join(' ')} ELSE -1 END`;
    const rows = db
      .prepare(
        `SELECT severity, first_seen AS start, resolved_at AS end FROM incidents
         WHERE tenant = ? AND first_seen < ? AND (resolved_at IS NULL OR resolved_at >= ?)
         ORDER BY ${rank} DESC, first_seen DESC, seq DESC LIMIT ?`,
      )
      .all(tenant, to, from, Math.max(0, Math.floor(limit))) as { severity: string; start: number; end: number | null }[];
    return rows.flatMap((r) =>
      (SEVERITIES as readonly string[]).includes(r.severity) ? [{ severity: r.severity as Severity, start: r.start, end: r.end }] : [],
    );
  }

  async dueEscalations(now: number, limit: number): Promise<Incident[]> {
    const { st } = this.conn();
    const size = pageSize(limit);
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
        x.tier ?? null,
        x.tier ?? null,
      );
      if (r.changes === 0) return { applied: false, events: [] };
      addTimeline(st, seq, change.timeline.map((t) => ({ at: change.at, ...t })));
      const events: string[] = [];
      if (change.announce) {
        const event = escalationEvent(number, change.at, change.escalation.level, change.announce);
        insertDeliveries(st, seq, event, change.announce.channels, change.at);
        events.push(event.id);
      }
      return { applied: true, events };
    });
  }

  async closeResolved(resolvedBefore: number, at: number, limit: number): Promise<string[]> {
    const size = pageSize(limit);
    return this.write(() => {
      const { st } = this.conn();
      const rows = st.closeResolved.all(at, resolvedBefore, size) as { seq: number }[];
      for (const r of rows) addTimeline(st, r.seq, [closedEntry(at)]);
      return rows.map((r) => incidentNumber(r.seq));
    });
  }

  async subscribe(number: string, address: string, actor: string, at: number, maxSubscribers = DEFAULT_MAX_SUBSCRIBERS): Promise<Incident> {
    return this.write(() => {
      const row = this.requireRow(number);
      const refused = addSubscribers(this.conn().st, row.seq, [address], actor, at, maxSubscribers);
      if (refused > 0) throw new SubscriberLimitError(number, maxSubscribers);
      return this.readIncident(row.seq)!;
    });
  }

  async claimDeliveries(now: number, limit: number, leaseMs: number, owner: string): Promise<Delivery[]> {
    const size = pageSize(limit);
    // The IMMEDIATE transaction of write() holds the write lock from the SELECT to the UPDATE, so
    // two instances cannot pick the same row.
    return this.write(() => {
      const { st } = this.conn();
      const rows = st.deliveryClaim.all(owner, now + leaseMs, now, size) as DeliveryRow[];
      return rows.map(rowToDelivery).sort(compareDeliveries);
    });
  }

  async enqueueDelivery(event: OutboxEvent, channelId: string, at: number): Promise<boolean> {
    return this.write(() => this.conn().st.deliveryInsert.run(deliveryId(event.id, channelId), event.id, channelId, JSON.stringify(event), at, at, event.number).changes > 0);
  }

  async releaseLeases(owner: string, at: number): Promise<number> {
    return this.write(() => this.conn().st.deliveryRelease.run(at, owner).changes);
  }

  async completeDelivery(id: string, outcome: DeliveryOutcome): Promise<boolean> {
    return this.write(() => {
      const { st } = this.conn();
      const s = settleDelivery(outcome);
      let r: Database.RunResult;
      if (s.status === 'delivered') {
        r = st.deliveryDone.run(s.reference, s.finishedAt, id);
        if (r.changes > 0 && s.reference !== null) {
          // The first reference a channel answers for an incident is its ticket there.
          const d = st.deliveryTarget.get(id) as { channel_id: string; number: string } | undefined;
          const seq = d ? parseIncidentNumber(d.number) : null;
          if (d && seq !== null) st.ticketSet.run(d.channel_id, s.reference, seq);
        }
      } else if (s.status === 'dead') r = st.deliveryDead.run(s.lastError, s.finishedAt, id);
      else r = st.deliveryRetry.run(s.nextAt, s.lastError, id);
      return r.changes > 0;
    });
  }

  async listDeadLetters(limit: number, cursor?: string | null): Promise<Page<Delivery>> {
    const { db } = this.conn();
    const size = pageSize(limit);
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
    return pageFrom(rows.map(rowToDelivery), size, (last) => encodeDeadCursor(last.finishedAt ?? 0, last.id));
  }

  async countDeliveries(): Promise<{ pending: number; dead: number }> {
    const { st } = this.conn();
    const counts = { pending: 0, dead: 0 };
    for (const r of st.deliveryCount.all() as { status: string; n: number }[]) {
      if (r.status === 'pending' || r.status === 'dead') counts[r.status] = r.n;
    }
    return counts;
  }

  async createSilence(silence: Silence): Promise<void> {
    await this.write(() => insertSilence(this.conn().db, silence));
  }

  async listSilences(
    states: readonly SilenceState[],
    now: number,
    limit: number,
    after: SilencePosition | null = null,
    tenants?: readonly string[],
  ): Promise<Silence[]> {
    return selectSilences(this.conn().db, states, now, limit, after, tenants);
  }

  async countSilences(now: number): Promise<Record<SilenceState, number>> {
    return countSilenceRows(this.conn().db, now);
  }

  async expireSilence(id: string, at: number, tenants?: readonly string[]): Promise<Silence> {
    return this.write(() => expireSilenceRow(this.conn().db, id, at, tenants));
  }

  async createUser(user: User): Promise<void> {
    await this.write(() => insertUser(this.conn().db, user));
  }

  async getUserByName(name: string): Promise<User | null> {
    return selectUserByName(this.conn().db, name);
  }

  async getUser(id: string): Promise<User | null> {
    return selectUser(this.conn().db, id);
  }

  async listUsers(): Promise<User[]> {
    return selectUsers(this.conn().db);
  }

  async updateUser(id: string, change: UserChange): Promise<User> {
    return this.write(() => changeUser(this.conn().db, id, change));
  }

  async createSession(session: SessionRecord): Promise<void> {
    await this.write(() => insertSession(this.conn().db, session));
  }

  async getSession(id: string): Promise<SessionRecord | null> {
    return selectSession(this.conn().db, id);
  }

  async touchSession(id: string, at: number): Promise<boolean> {
    // Unsynced: losing the last activity time in a power cut only ends a session a little early.
    return this.write(() => touchSessionRow(this.conn().db, id, at), true);
  }

  async deleteSession(id: string): Promise<void> {
    await this.write(() => deleteSessionRow(this.conn().db, id));
  }

  async deleteSessionsForUser(userId: string): Promise<number> {
    return this.write(() => deleteUserSessions(this.conn().db, userId));
  }

  async deleteEndedSessions(lastSeenBefore: number, createdBefore: number): Promise<number> {
    return this.write(() => deleteEndedSessionRows(this.conn().db, lastSeenBefore, createdBefore));
  }

  async fileProblemReport(filing: ReportFiling): Promise<{ reporters: number }> {
    const { report, entry, subscriber, maxSubscribers, receipt } = filing;
    return this.write(() => {
      const { db, st } = this.conn();
      // The same report again (a retry whose answer was lost) is stored once, as in MongoDB.
      const before = selectReport(db, report.id);
      if (before !== null) return { reporters: before.incident === null ? 0 : (countReporters(db, [before.incident]).get(before.incident) ?? 0) };
      if (report.incident === null) {
        insertReport(db, report);
        return { reporters: 0 };
      }
      const row = this.requireRow(report.incident);
      insertReport(db, report);
      if (entry !== null) addTimeline(st, row.seq, [entry]);
      // A full list keeps the report; the person simply is not mailed (planSubscription notes it).
      if (subscriber !== null) addSubscribers(st, row.seq, [subscriber], report.reporterName, report.createdAt, maxSubscribers);
      if (receipt !== null) insertDeliveries(st, row.seq, receipt.event, receipt.channels, report.createdAt);
      return { reporters: countReporters(db, [report.incident]).get(report.incident) ?? 0 };
    });
  }

  async getProblemReport(id: string): Promise<ProblemReport | null> {
    return selectReport(this.conn().db, id);
  }

  async listProblemReports(reporterId: string, limit: number, cursor?: string | null): Promise<Page<ProblemReport>> {
    return selectReports(this.conn().db, reporterId, limit, cursor);
  }

  async countReporters(numbers: readonly string[]): Promise<Map<string, number>> {
    return countReporters(this.conn().db, numbers);
  }

  async appendAudit(entry: AuditEntry): Promise<void> {
    await this.write(() => insertAudit(this.conn().db, entry));
  }

  async listAudit(limit: number, cursor?: string | null): Promise<Page<AuditEntry>> {
    return selectAudit(this.conn().db, limit, cursor);
  }

  async countByPeriod(query: PeriodCountQuery): Promise<PeriodCount[]> {
    return countByPeriod(this.conn().db, query);
  }

  async handlingTimes(query: HandlingTimeQuery): Promise<HandlingTimeRow[]> {
    return handlingTimes(this.conn().db, query);
  }

  async slaCompliance(query: SlaQuery): Promise<SlaRow[]> {
    return slaCompliance(this.conn().db, query);
  }

  async slaBreaches(query: Omit<SlaQuery, 'groupBy'>, limit: number): Promise<SlaBreach[]> {
    return slaBreaches(this.conn().db, query, limit);
  }

  async topFingerprints(query: RangeQuery, limit: number): Promise<FingerprintRow[]> {
    return topFingerprints(this.conn().db, query, limit);
  }

  async topTargets(query: RangeQuery & { now: number }, limit: number): Promise<TargetRow[]> {
    return topTargets(this.conn().db, query, limit);
  }

  async heatmap(query: HeatmapQuery): Promise<HeatCell[]> {
    return heatmap(this.conn().db, query);
  }

  async backlog(query: BacklogQuery): Promise<number[]> {
    return backlog(this.conn().db, query);
  }

handlingTimeStamps(query: HandlingTimeQuery): AsyncIterable<HandlingStamps> {
    return handlingTimeStamps(this.conn().db, query);
  }

    async escalations(query: EscalationQuery): Promise<EscalationCount[]> {
    return escalations(this.conn().db, query);
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
    const timeline = (st.timelineOf.all(seq) as TimelineRow[]).map(rowToTimelineEntry);
    const opened = openedEntry(row);
    return rowToIncident(row, opened === null ? timeline : [opened, ...timeline]);
  }
}
