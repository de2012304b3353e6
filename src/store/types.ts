// The boundary between the incident manager and persistence. SQLite (embedded default) and
// MongoDB implement it; test/store/contract.ts is the one suite both must pass.
import type { Classification, Severity, Tier } from '../domain/classification.js';
import type { IncidentEventType } from '../domain/events.js';
import type {
  EscalationState,
  Incident,
  IncidentStatus,
  IncidentTarget,
  RelatedTarget,
  TimelineEntry,
} from '../domain/incident.js';

/** What the manager knows about an incident it wants opened (or repeated, or reopened). */
export interface IncidentDraft {
  fingerprint: string;
  classification: Classification;
  title: string;
  description: string;
  runbook: string;
  ruleId: string;
  source: string;
  target: IncidentTarget;
  check: { name: string; type: string };
  labels: Record<string, string>;
  message: string;
  /**
   * Escalation planned for the incident if this op opens or reopens one (its tier is the
   * classification's). Without it the incident's timer is due at once, so the escalation sweep
   * plans and announces it.
   */
  escalation?: EscalationState;
  /** People to keep informed; added to the incident's subscribers whatever the op turns out to be. */
  subscribers?: string[];
}

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
  /**
   * The caller deletes journal records up to `lsn` once this commit returns, so it must be on disk.
   * Without it a store may skip its own sync for the commit: a power loss then only loses what the
   * journal still holds and replays (a later synced commit makes it durable too).
   */
  sync: boolean;
}

/**
 * Announces what the ops before it in the same commit did to the fingerprint's
 * incident. The store, not the caller, names the event from the outcome: a fail that opened or
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

/** What happened to an incident, as stored in the outbox. The incident itself is loaded at delivery. */
export interface OutboxEvent {
  /** `${number}:${type}:${at}`: the same change always gets the same id (the idempotency key). */
  id: string;
  type: OutboxEventType;
  at: number;
  number: string;
  actor?: string;
  message?: string;
  tier?: Tier;
}

/** What happened to an incident: the one list in src/domain/events.ts. */
export type OutboxEventType = IncidentEventType;

/**
 * What the escalation sweep decided for one incident. The store applies it only if the incident is
 * still as `expect` says (compare-and-set): of several instances sweeping at once, or a sweep racing
 * an acknowledgement or a raised severity, exactly one outcome sticks, so no timer fires twice.
 */
export interface EscalationChange {
  at: number;
  expect: { nextTimerAt: number | null; status: IncidentStatus; severity: Severity };
  tier: Tier;
  escalation: EscalationState;
  timeline: { actor: string; action: TimelineEntry['action']; message: string }[];
  /** Written with the change, to the channels told before plus `channels` (see NotifyOp). */
  announce: { type: 'incident.opened' | 'incident.escalated'; channels: string[]; tier: Tier; message: string } | null;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'dead';

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

export type DeliveryOutcome =
  | { delivered: true; at: number; reference?: string }
  | { retryAt: number; error: string }
  | { dead: true; at: number; error: string };

export type OpResult =
  | { kind: 'fail'; outcome: 'opened' | 'repeated' | 'reopened'; number: string; fingerprint: string }
  /** `number` is null when no incident of that fingerprint was active. */
  | { kind: 'resolve'; number: string | null; fingerprint: string }
  | { kind: 'flapping'; number: string | null; fingerprint: string }
  | { kind: 'relate'; number: string | null; fingerprint: string }
  | { kind: 'state' }
  | { kind: 'intake' }
  /** The ids of the events written (empty when there was nothing to announce). */
  | { kind: 'notify'; events: string[]; fingerprint: string };

/**
 * Hysteresis and flap state of one fingerprint, kept so a restart neither re-pages nor forgets.
 * Stores should keep it as one opaque JSON document per fingerprint: the manager may add fields.
 */
export interface FingerprintState {
  fingerprint: string;
  targetId: string;
  /** Hysteresis of the rule that last fired this fingerprint (rules can change on reload). */
  openAfter: number;
  resolveAfter: number;
  /** Severity of the active incident, for metrics on resolution. */
  severity?: Severity;
  /** Consecutive failing / ok observations (saturating). */
  fails: number;
  oks: number;
  lastStatus: 'ok' | 'fail';
  /** Times (epoch ms) of recent ok↔fail changes, within the flapping window. */
  transitions: number[];
  flapping: boolean;
  /** Number of the active incident, `?` while its opening is being committed, or null. */
  active: string | null;
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
  status?: IncidentStatus[];
  severity?: Severity[];
  category?: string;
  site?: string;
  target?: string;
  fingerprint?: string;
}

export interface Page<T> {
  items: T[];
  /** Opaque cursor for the next page, or null at the end. */
  next: string | null;
}

export interface IncidentStore {
  /** Connects, creates tables/indexes idempotently, migrates. */
  open(): Promise<void>;
  close(): Promise<void>;
  /** Cheap reachability check for /readyz. */
  ping(): Promise<boolean>;
  /** A human description for the start-up log, e.g. `sqlite:/var/lib/incidentd/incidentd.db`. */
  describe(): string;

  /** Applies ops in order in one transaction; resolves once durable. */
  commit(ops: StoreOp[]): Promise<OpResult[]>;
  loadState(): Promise<FingerprintState[]>;
  /** The highest lsn an `intake` op recorded for the journal, 0 if none. */
  intakeMark(journal: string): Promise<number>;

  get(number: string): Promise<Incident | null>;
  /** Newest first. Items carry an empty timeline; `get` returns it in full. */
  list(filter: IncidentFilter, limit: number, cursor?: string | null): Promise<Page<Incident>>;
  /**
   * Throws IncidentNotFoundError, or InvalidTransitionError when not open. `notify` names the
   * channels that hear of it: their outbox deliveries are written with the change.
   */
  acknowledge(number: string, actor: string, message: string, at: number, notify?: string[]): Promise<Incident>;
  /** Manual resolution; throws IncidentNotFoundError, or InvalidTransitionError when not active. */
  resolve(number: string, actor: string, message: string, at: number, notify?: string[]): Promise<Incident>;
  comment(number: string, actor: string, text: string, at: number): Promise<Incident>;
  countActive(): Promise<Record<Severity, number>>;

  // --- escalation (src/incidents/escalator.ts) ------------------------------------------------------

  /** Active incidents whose next escalation/SLA timer is due at `now`, earliest first, without timelines. */
  dueEscalations(now: number, limit: number): Promise<Incident[]>;
  /** Applies a sweep's decision if the incident is still as it expects; see EscalationChange. */
  applyEscalation(number: string, change: EscalationChange): Promise<{ applied: boolean; events: string[] }>;
  /**
   * Closes up to `limit` incidents resolved at or before `resolvedBefore` (timeline `closed` at
   * `at`); returns their numbers. A closed incident never reopens.
   */
  closeResolved(resolvedBefore: number, at: number, limit: number): Promise<string[]>;
  /**
   * Adds a person to keep informed of an incident (receipt, status changes, resolution). Returns
   * the incident; adding someone already subscribed changes nothing. The incident keeps at most
   * `maxSubscribers` (default DEFAULT_MAX_SUBSCRIBERS; the decision is planSubscribers'): past it,
   * throws SubscriberLimitError. Throws IncidentNotFoundError.
   */
  subscribe(number: string, address: string, actor: string, at: number, maxSubscribers?: number): Promise<Incident>;

  // --- the notification outbox (written by `notify` ops, drained by src/notify/outbox.ts) --------

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
  /** Dead deliveries, most recently dead-lettered first. */
  listDeadLetters(limit: number, cursor?: string | null): Promise<Page<Delivery>>;
  countDeliveries(): Promise<{ pending: number; dead: number }>;
}

/** The id of the event a notify op writes for a change; see OutboxEvent.id. */
export function outboxEventId(number: string, type: OutboxEventType, at: number): string {
  return `${number}:${type}:${at}`;
}

/**
 * The id of an event the escalation sweep writes. A late sweep may climb several tiers at one
 * instant, so the escalation level is part of it.
 */
export function escalationEventId(number: string, type: OutboxEventType, at: number, level: number): string {
  return `${outboxEventId(number, type, at)}:${level}`;
}

/** The outbox event an escalation change announces (see EscalationChange.announce). */
export function escalationEvent(number: string, change: EscalationChange & { announce: NonNullable<EscalationChange['announce']> }): OutboxEvent {
  const a = change.announce;
  const event: OutboxEvent = {
    id: escalationEventId(number, a.type, change.at, change.escalation.level),
    type: a.type,
    at: change.at,
    number,
    actor: 'escalation',
    tier: a.tier,
  };
  if (a.message !== '') event.message = a.message;
  return event;
}

export function deliveryId(eventId: string, channelId: string): string {
  return `${eventId}:${channelId}`;
}
