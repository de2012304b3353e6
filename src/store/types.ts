// The boundary between the incident manager and persistence. SQLite (embedded default) and
// MongoDB implement it; test/store/contract.ts is the one suite both must pass.
import type { Impact, Priority, Severity, Tier } from '../domain/classification.js';
import type { DeliveryOutcome, DeliveryStatus, OutboxEvent } from '../domain/events.js';
import type { EscalationState, Incident, IncidentBrief, IncidentStatus, RelatedTarget, TimelineEntry } from '../domain/incident.js';
import type { IncidentDraft } from '../domain/transitions.js';
import type { IncidentSort, Page } from '../domain/paging.js';
import type { Silence, SilenceState } from '../domain/silence.js';
import type { AuditEntry, SessionRecord, User, UserChange } from '../domain/account.js';
import type {
  BacklogQuery,
  EscalationCount,
  EscalationQuery,
  HandlingStamps,
  FingerprintRow,
  HandlingTimeQuery,
  HandlingTimeRow,
  HeatCell,
  HeatmapQuery,
  PeriodCount,
  PeriodCountQuery,
  RangeQuery,
  SlaBreach,
  SlaQuery,
  SlaRow,
  TargetRow,
} from '../domain/reports.js';
import type { ProblemReport } from '../domain/problem-report.js';

// Types of the incident policy (src/domain) that are part of this interface, re-exported so callers
// keep importing them from here.
export type { IncidentDraft } from '../domain/transitions.js';
export type { DeliveryOutcome, DeliveryStatus, OutboxEvent, OutboxEventType } from '../domain/events.js';
export { deliveryId, escalationEventId, outboxEventId } from '../domain/events.js';
export type { IncidentSort, Page } from '../domain/paging.js';

/**
 * Operations applied in order, atomically, by `commit`. Dedup lives in the store: a `fail` for a
 * fingerprint with an active incident is always a repeat, whatever the caller believed.
 */
export type StoreOp =
  | {
      kind: 'fail';
      at: number;
      /** How many failing signals this op stands for (repeats in one batch are coalesced). */
      count: number;
      /** A resolved (not closed) incident of this fingerprint resolved within this window is reopened. */
      reopenWindowMs: number;
      /**
       * A repeat takes the draft's title and description (a new title goes on the timeline): they
       * describe the current condition. Not set when several series fire the fingerprint, whose
       * renderings would take turns.
       */
      retitle?: boolean;
      /**
       * Most subscribers the incident keeps (incidents.max_subscribers); the draft's subscribers
       * beyond it are dropped. Default DEFAULT_MAX_SUBSCRIBERS.
       */
      maxSubscribers?: number;
      draft: IncidentDraft;
    }
  | { kind: 'resolve'; at: number; fingerprint: string; actor: string; message: string }
  | { kind: 'flapping'; at: number; fingerprint: string; flapping: boolean; message: string }
  | { kind: 'relate'; at: number; fingerprint: string; related: RelatedTarget; message: string }
  | { kind: 'state'; fingerprints: FingerprintState[]; forget: string[] }
  | IntakeOp
  | NotifyOp;

/**
 * Records that every intake journal record up to `lsn` is committed (src/incidents/intake-journal.ts),
 * in the same transaction as the ops that commit them. A lower lsn than the one recorded changes
 * nothing.
 */
export interface IntakeOp {
  kind: 'intake';
  journal: string;
  lsn: number;
}

/**
 * Announces what the ops before it in the same commit did to the fingerprint's
 * incident. The outcome, not the caller, names the event (planNotify in src/domain/events.ts): a fail that opened or
 * reopened an incident is `incident.opened` / `incident.reopened` (a repeat is nothing), a resolve
 * that resolved one is `incident.resolved`, a flapping op that changed the flag is
 * `incident.flapping-started` / `-stopped`. So the incident number (only known after the insert)
 * is filled in by the store, and a commit run twice (a retry after an unclear failure) announces
 * nothing the second time: its fail is then a repeat. With nothing to announce the op writes
 * nothing. The event and one delivery per channel are written in the same transaction as the
 * change: an event exists if and only if its change was committed.
 *
 * Who hears of it: every channel told of the incident before (`Incident.notified`: whoever heard
 * of an incident hears of its end) plus `channels`; all of them count as told afterwards.
 */
export interface NotifyOp {
  kind: 'notify';
  fingerprint: string;
  channels: string[];
  actor?: string;
  message?: string;
  /**
   * Count `channels` as told of the change without writing an event: an opening kept quiet because
   * the fingerprint is flapping still owes them the flapping-stopped and resolution notices.
   */
  quiet?: boolean;
}

/**
 * What the escalation sweep decided for one incident. The store applies it only if the incident is
 * still as `expect` says (compare-and-set): of several instances sweeping at once, or a sweep racing
 * an acknowledgement or a raised severity, exactly one outcome sticks, so no timer fires twice.
 */
export interface EscalationChange {
  at: number;
  /** `tier`, when given, must match too: a person's escalation moves the tier and nothing else. */
  expect: { nextTimerAt: number | null; status: IncidentStatus; severity: Severity; tier?: Tier };
  tier: Tier;
  escalation: EscalationState;
  timeline: Omit<TimelineEntry, 'at'>[];
  /** Written with the change, to the channels told before plus `channels` (see NotifyOp). */
  announce: { type: 'incident.opened' | 'incident.escalated'; channels: string[]; tier: Tier; message: string } | null;
}

/**
 * A person's change to one incident (escalate, change severity or impact, reopen), decided above
 * the store (src/incidents/actions.ts). The store writes it only while the incident is still as
 * `expect` says, else throws IncidentChangedError and writes nothing; with the change it writes the
 * timeline entries and the event (to the channels told before plus `announce.channels`).
 */
export interface IncidentRevision {
  at: number;
  expect: { status: IncidentStatus; severity: Severity; tier: Tier; nextTimerAt: number | null };
  /** Fields to set; those left out keep their value. */
  set: {
    severity?: Severity;
    impact?: Impact;
    priority?: Priority;
    tier?: Tier;
    /** nextTimerAt follows it. */
    escalation?: EscalationState;
    /**
     * Reopen: status open, reopenCount + 1, no acknowledgement or resolution any more (the timeline
     * keeps who did them). Refused with InvalidTransitionError when another incident of the same
     * fingerprint is active (at most one is).
     */
    reopen?: true;
  };
  timeline: Omit<TimelineEntry, 'at'>[];
  announce: { event: OutboxEvent; channels: string[] } | null;
}

/** One event on its way to one channel. */
export interface Delivery {
  /** `${eventId}:${channelId}`. */
  id: string;
  eventId: string;
  channelId: string;
  event: OutboxEvent;
  status: DeliveryStatus;
  /** How often it was claimed for delivery, including the current claim. */
  attempts: number;
  /** When it is next due; while claimed, when the claim (lease) runs out. */
  nextAttemptAt: number;
  /** Who holds the current claim, until nextAttemptAt. */
  leaseOwner: string | null;
  lastError: string | null;
  /** What the channel answered on success (a Message-ID, a ticket id). */
  reference: string | null;
  createdAt: number;
  /** When it was delivered or dead-lettered. */
  finishedAt: number | null;
}

export type OpResult =
  | {
      kind: 'fail';
      outcome: 'opened' | 'repeated' | 'reopened';
      number: string;
      fingerprint: string;
      /** A repeat whose rule raised the severity: the severity before (the draft has the new one). */
      raisedFrom?: Severity;
    }
  /**
   * `number` is null when no incident of that fingerprint was active; else `incident` describes
   * the incident resolved (for the log line).
   */
  | { kind: 'resolve'; number: string | null; fingerprint: string; incident?: IncidentBrief; /** When the incident resolved was opened (firstSeen), for the time-to-resolve metric. */ openedAt?: number }
  | { kind: 'flapping'; number: string | null; fingerprint: string }
  | { kind: 'relate'; number: string | null; fingerprint: string }
  | { kind: 'state' }
  | { kind: 'intake' }
  /** The ids of the events written (empty when there was nothing to announce). */
  | { kind: 'notify'; events: string[]; fingerprint: string };

/**
 * Hysteresis and flap state of one fingerprint, kept so a restart neither re-pages nor forgets.
 * Opaque to stores: they read only `fingerprint` and keep the rest as one JSON document (the
 * manager may add fields), beside the fingerprint's active incident when it has one.
 */
export interface FingerprintState {
  fingerprint: string;
  targetId: string;
  /** Hysteresis of the rule that last fired this fingerprint (rules can change on reload). */
  openAfter: number;
  resolveAfter: number;
  /** Severity of the active incident, for metrics on resolution. */
  severity?: Severity | undefined;
  /** Consecutive failing / ok observations (saturating). */
  fails: number;
  oks: number;
  lastStatus: 'ok' | 'fail';
  /** Times (epoch ms) of recent ok↔fail changes, within the flapping window. */
  transitions: number[];
  flapping: boolean;
  /**
   * The active incident: its number; `{ numberPending: true }` in the state written by the same
   * commit that opens it (only the store numbers incidents, so that commit cannot know it yet;
   * the planner puts the number in from the commit's result, and the next state write stores it);
   * null when none is active.
   */
  active: string | { numberPending: true } | null;
  /** Fingerprint of the parent incident this failure is held back under, or null. */
  heldBy: string | null;
  /**
   * Series (source + target + check) whose latest signal fired this fingerprint. Several series
   * can fire one fingerprint (e.g. `dedup_by: [target.site]`); it recovers only when all stop.
   */
  firing: string[];
  /** The series whose recovery left `firing` empty; its ok signals count towards resolution. */
  releasedBy: string | null;
  /**
   * The rule that last fired it: a failing signal that does not fire it counts as an ok only when
   * this rule's condition was evaluated on it. Absent in states written before it was recorded.
   */
  ruleId?: string | null;
}

export interface IncidentFilter {
  /**
   * Only incidents of these tenants. An empty list matches nothing (a scope that sees no tenant);
   * absent: every tenant.
   */
  tenant?: readonly string[];
  status?: IncidentStatus[];
  severity?: Severity[];
  category?: string;
  site?: string;
  target?: string;
  fingerprint?: string;
  priority?: Priority[];
  /** Current support tier. */
  tier?: Tier[];
  /** Opened (firstSeen) at or after this time, epoch ms: inclusive. */
  openedAfter?: number;
  /** Opened (firstSeen) before this time, epoch ms: exclusive, so ranges chain without overlap. */
  openedBefore?: number;
  /** Text in the title or the description, case-insensitive, taken literally (no wildcards). */
  text?: string;
}

/**
 * One commit's identity and durability, chosen by the caller.
 * - `id`: the batch's id. A commit run again with the same id (a retry after an unclear failure,
 *   e.g. the answer was lost) returns the first run's results instead of applying the ops again.
 *   Without an id the store makes one up, and a retry is a new batch.
 * - `durable`: whether the commit must be on disk when it returns (default true). The intake path
 *   passes false while its journal still holds what the batch writes (a power loss is repaired by
 *   the journal's replay); a store may then skip its own sync for this commit.
 */
export interface CommitOptions {
  id?: string;
  durable?: boolean;
}

/** Connection life cycle, which every role below shares. */
export interface StoreLifecycle {
  /** Connects, creates tables/indexes idempotently, migrates. */
  open(): Promise<void>;
  close(): Promise<void>;
  /** Cheap reachability check for /readyz. */
  ping(): Promise<boolean>;
  /** A human description for the start-up log, e.g. `sqlite:/var/lib/incidentd/incidentd.db`. */
  describe(): string;
  /**
   * What the deployment guarantees, for the start-up log: `atomic` when each commit is one
   * transaction (a failed commit leaves nothing behind), false when ops apply one by one (a
   * standalone MongoDB server); then a retried batch id is still recognised, but a commit that fails
   * half-way leaves its first ops applied until the retry completes it. Known after open().
   */
  guarantees(): StoreGuarantees;
}

export interface StoreGuarantees {
  atomicCommits: boolean;
  /** Why commits are not atomic, for a warning at start; null when they are. */
  warning: string | null;
}

/** The incident log: what the pipeline and people change, each commit in one transaction. */
export interface IncidentLog {
  /** Applies ops in order in one transaction; resolves once durable (see CommitOptions). */
  commit(ops: StoreOp[], options?: CommitOptions): Promise<OpResult[]>;
  loadState(): Promise<FingerprintState[]>;
  /** The highest lsn an `intake` op recorded for the journal, 0 if none. */
  intakeMark(journal: string): Promise<number>;
  /**
   * Throws IncidentNotFoundError, or InvalidTransitionError when not open. `notify` names the
   * channels that hear of it: their outbox deliveries are written with the change.
   */
  acknowledge(number: string, actor: string, message: string, at: number, notify?: string[]): Promise<Incident>;
  /** Manual resolution; throws IncidentNotFoundError, or InvalidTransitionError when not active. */
  resolve(number: string, actor: string, message: string, at: number, notify?: string[]): Promise<Incident>;
  /**
   * Adds a person's comment to the timeline, and an `incident.commented` event for the channels
   * told of the incident (a note on the helpdesk's ticket). Throws IncidentNotFoundError.
   */
  comment(number: string, actor: string, text: string, at: number): Promise<Incident>;
  /**
   * Adds a person to keep informed of an incident (receipt, status changes, resolution). Returns
   * the incident; adding someone already subscribed changes nothing. The incident keeps at most
   * `maxSubscribers` (default DEFAULT_MAX_SUBSCRIBERS; the decision is planSubscribers'): past it,
   * throws SubscriberLimitError. Throws IncidentNotFoundError.
   */
  subscribe(number: string, address: string, actor: string, at: number, maxSubscribers?: number): Promise<Incident>;
  /**
   * Writes a person's change (see IncidentRevision) and returns the incident as changed. Throws
   * IncidentNotFoundError, or IncidentChangedError when it is no longer as expected.
   */
  revise(number: string, revision: IncidentRevision): Promise<Incident>;
}

/** Reads for the API and metrics. */
export interface IncidentQueries {
  get(number: string): Promise<Incident | null>;
  /**
   * In `sort` order (default DEFAULT_INCIDENT_SORT, newest opened first; see INCIDENT_SORTS). Items
   * carry an empty timeline; `get` returns it in full. A cursor handed out for another sort throws
   * InvalidCursorError.
   */
  list(filter: IncidentFilter, limit: number, cursor?: string | null, sort?: IncidentSort): Promise<Page<Incident>>;
  /** Active incidents per severity; of the given tenants only when `tenants` is given (empty: none). */
  countActive(tenants?: readonly string[]): Promise<Record<Severity, number>>;
  /**
   * The incidents of `tenant` that were active at some time in [from, to): opened before `to` and
   * not resolved before `from`. Worst severity first, then the latest opened, at most `limit`, so a
   * cut keeps what decides a day's worst state (the status page's history).
   */
  incidentSpans(tenant: string, from: number, to: number, limit: number): Promise<IncidentSpan[]>;
}

/** When an incident was active: from its first signal to its resolution (null: still active). */
export interface IncidentSpan {
  severity: Severity;
  start: number;
  end: number | null;
}

/** Durable escalation and SLA timers (src/incidents/escalator.ts). */
export interface EscalationTimers {
  /** Active incidents whose next escalation/SLA timer is due at `now`, earliest first, without timelines. */
  dueEscalations(now: number, limit: number): Promise<Incident[]>;
  /** Applies a sweep's decision if the incident is still as it expects; see EscalationChange. */
  applyEscalation(number: string, change: EscalationChange): Promise<{ applied: boolean; events: string[] }>;
  /**
   * Closes up to `limit` incidents resolved at or before `resolvedBefore` (timeline `closed` at
   * `at`); returns their numbers. A closed incident never reopens.
   */
  closeResolved(resolvedBefore: number, at: number, limit: number): Promise<string[]>;
}

/** The notification outbox queue (written by `notify` ops, drained by src/notify/outbox.ts). */
export interface OutboxQueue {
  /**
   * Atomically claims up to `limit` pending deliveries due at `now` (including ones whose claim by
   * a crashed instance ran out): each gets attempts + 1, `leaseOwner = owner` and is not due again
   * before `now + leaseMs`. Two instances never get the same delivery from one round of claims.
   * Oldest due first.
   */
  claimDeliveries(now: number, limit: number, leaseMs: number, owner: string): Promise<Delivery[]>;
  /**
   * Ends every claim `owner` holds on a pending delivery: each becomes unclaimed and due at `at`
   * (or earlier, if it was due earlier). Returns how many. Claims of other owners are untouched.
   */
  releaseLeases(owner: string, at: number): Promise<number>;
  /**
   * Records how a claimed delivery went. Returns false (and changes nothing) when the delivery is
   * unknown or no longer pending (another instance already finished it). A delivery's `reference`
   * becomes the incident's ticket for that channel (`Incident.tickets`) unless it has one already.
   */
  completeDelivery(id: string, outcome: DeliveryOutcome): Promise<boolean>;
  /**
   * Queues an event that is about no incident (a report mail) for one channel, under its event id:
   * false (and nothing written) when a delivery of that event and channel exists already, so the
   * same report queued twice (a restart, two instances) goes out once.
   */
  enqueueDelivery(event: OutboxEvent, channelId: string, at: number): Promise<boolean>;
  /** Dead deliveries, most recently dead-lettered first. */
  listDeadLetters(limit: number, cursor?: string | null): Promise<Page<Delivery>>;
  countDeliveries(): Promise<{ pending: number; dead: number }>;
}


/** Silences (src/domain/silence.ts): written by the API, read into memory by src/incidents/silences.ts. */
/** A place in the silence list: the end and id of the silence a page ended with. */
export interface SilencePosition {
  endsAt: number;
  id: string;
}

export interface SilenceStore {
  /** Stores a new silence (its id is new). */
  createSilence(silence: Silence): Promise<void>;
  /**
   * Silences in the given states at `now` (all states when empty), soonest-ending first for pending
   * and active ones, most recently ended first for expired ones, ties by id; at most `limit` (expired
   * ones pile up). `after`: only those that come after that silence (its end and id) in this order.
   */
  listSilences(
    states: readonly SilenceState[],
    now: number,
    limit: number,
    after?: SilencePosition | null,
    /** Only silences of these tenants (empty: none); absent: every tenant's. */
    tenants?: readonly string[],
  ): Promise<Silence[]>;
  /** How many silences are in each state at `now` (for the incidentd_silences gauge). */
  countSilences(now: number): Promise<Record<SilenceState, number>>;
  /**
   * Ends the silence at `at` (a pending one never starts) and, in the same transaction, makes the
   * escalation timer of every active incident it holds back (`escalation.silencedBy`) due at `at`,
   * so the sweep announces them now rather than at the silence's old end. Returns the silence as
   * changed. Throws SilenceNotFoundError, or SilenceExpiredError when it has ended already.
   * `tenants`: a silence of another tenant is not found (and not changed); absent: any tenant's.
   */
  expireSilence(id: string, at: number, tenants?: readonly string[]): Promise<Silence>;
}

/** Local accounts (src/domain/account.ts). Names are unique without regard to case. */
export interface UserStore {
  /** Throws UserExistsError when the name (in any case) is taken. */
  createUser(user: User): Promise<void>;
  /** By name, in any case. */
  getUserByName(name: string): Promise<User | null>;
  getUser(id: string): Promise<User | null>;
  /** Every account, by name. */
  listUsers(): Promise<User[]>;
  /** Applies the change and returns the account as changed; throws UserNotFoundError. */
  updateUser(id: string, change: UserChange): Promise<User>;
}

/** Server-side browser sessions; expiry is decided above the store (sessionExpired). */
export interface SessionStore {
  createSession(session: SessionRecord): Promise<void>;
  getSession(id: string): Promise<SessionRecord | null>;
  /** Records activity at `at`; false when the session is gone. */
  touchSession(id: string, at: number): Promise<boolean>;
  deleteSession(id: string): Promise<void>;
  /** Ends every session of the account (disabled, password or roles changed); returns how many. */
  deleteSessionsForUser(userId: string): Promise<number>;
  /**
   * Removes sessions last seen at or before `lastSeenBefore` or created at or before
   * `createdBefore` (the periodic sweep of abandoned ones); returns how many.
   */
  deleteEndedSessions(lastSeenBefore: number, createdBefore: number): Promise<number>;
}

/** The audit log of security events; append-only. */
export interface AuditLog {
  appendAudit(entry: AuditEntry): Promise<void>;
  /** Newest first (ties by id descending). A cursor from elsewhere throws InvalidCursorError. */
  listAudit(limit: number, cursor?: string | null): Promise<Page<AuditEntry>>;
}

/**
 * Reports (src/domain/reports.ts), aggregated in the store: SQL GROUP BY and window functions in
 * SQLite, an aggregation pipeline in MongoDB. Only the figures come back, never the incidents.
 */
export interface ReportStore {
  /** Incidents opened per period and value of the dimension. */
  countByPeriod(query: PeriodCountQuery): Promise<PeriodCount[]>;
  /** Time to acknowledge and to resolve, per group, ordered by key then measure. */
  handlingTimes(query: HandlingTimeQuery): Promise<HandlingTimeRow[]>;
  /** SLA compliance per group, ordered by key then measure. */
  slaCompliance(query: SlaQuery): Promise<SlaRow[]>;
  /** The SLAs missed (see SlaRow), oldest opening first, at most `limit` (capped at MAX_BREACHES). */
  slaBreaches(query: Omit<SlaQuery, 'groupBy'>, limit: number): Promise<SlaBreach[]>;
  /** Fingerprints by openings + reopenings of their incidents opened in the range, most first (then by fingerprint); at most `limit` (capped at MAX_TOP). */
  topFingerprints(query: RangeQuery, limit: number): Promise<FingerprintRow[]>;
  /** Targets by incidents opened in the range, most first (then downtime, then id); downtime up to `now` for unresolved ones. */
  topTargets(query: RangeQuery & { now: number }, limit: number): Promise<TargetRow[]>;
  /** Openings per local weekday and hour, ordered by weekday then hour. */
  heatmap(query: HeatmapQuery): Promise<HeatCell[]>;
  /** Incidents open at the end of each period (see BacklogQuery): one number per period. */
  backlog(query: BacklogQuery): Promise<number[]>;
  /**
   * The instants handling times are made of, of the incidents opened in the range (HandlingStamps),
   * streamed with a cursor: for business time, which needs the calendars the stores do not know.
   */
  handlingTimeStamps(query: HandlingTimeQuery): AsyncIterable<HandlingStamps>;
  /** Escalations into each tier per period (see EscalationCount), ordered by period then tier. */
  escalations(query: EscalationQuery): Promise<EscalationCount[]>;
}

/** A report to store, and what it does to its incident (ProblemReportStore.fileProblemReport). */
export interface ReportFiling {
  report: ProblemReport;
  /** Appended to the incident's timeline ("reported by …"). */
  entry: TimelineEntry | null;
  /** The reporter's mail address, added to the incident's subscribers. */
  subscriber: string | null;
  /** incidents.max_subscribers. */
  maxSubscribers: number;
  /**
   * The reporter's receipt, written to the outbox with the report like any event (to the channels
   * told of the incident before plus `channels`); `event.to` names the reporter, so only channels
   * that mail people send it.
   */
  receipt: { event: OutboxEvent; channels: string[] } | null;
}

/** What employees report (src/domain/problem-report.ts), each about the incident it opened or joined. */
export interface ProblemReportStore {
  /**
   * Stores the report and, in the same transaction, when it names an incident: appends `entry` to
   * that incident's timeline, adds `subscriber` (when given) to its subscribers unless it is there
   * or the list holds `maxSubscribers` already (then the report is kept and the person not added),
   * and writes the receipt to the outbox. Returns how many distinct people reported that incident (0 without one). Throws
   * IncidentNotFoundError for an incident that does not exist (and stores nothing).
   */
  fileProblemReport(filing: ReportFiling): Promise<{ reporters: number }>;
  getProblemReport(id: string): Promise<ProblemReport | null>;
  /** The reporter's reports, newest first (ties by id descending). A foreign cursor throws InvalidCursorError. */
  listProblemReports(reporterId: string, limit: number, cursor?: string | null): Promise<Page<ProblemReport>>;
  /** Distinct people who reported each of the incidents; incidents nobody reported are left out. */
  countReporters(numbers: readonly string[]): Promise<Map<string, number>>;
}

/** Everything a store does; SqliteStore and MongoStore each implement every role in one class. */
export type IncidentStore = StoreLifecycle &
  IncidentLog &
  IncidentQueries &
  EscalationTimers &
  OutboxQueue &
  SilenceStore &
  UserStore &
  SessionStore &
  AuditLog &
  ReportStore &
  ProblemReportStore;
