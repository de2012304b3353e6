// The boundary between the incident manager and persistence. SQLite (embedded default) and
// MongoDB implement it; test/store/contract.ts is the one suite both must pass.
import type { Classification, Severity } from '../domain/classification.js';
import type {
  Incident,
  IncidentStatus,
  IncidentTarget,
  RelatedTarget,
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
      draft: IncidentDraft;
    }
  | { kind: 'resolve'; at: number; fingerprint: string; actor: string; message: string }
  | { kind: 'flapping'; at: number; fingerprint: string; flapping: boolean; message: string }
  | { kind: 'relate'; at: number; fingerprint: string; related: RelatedTarget; message: string }
  | { kind: 'state'; fingerprints: FingerprintState[]; forget: string[] };

export type OpResult =
  | { kind: 'fail'; outcome: 'opened' | 'repeated' | 'reopened'; number: string; fingerprint: string }
  /** `number` is null when no incident of that fingerprint was active. */
  | { kind: 'resolve'; number: string | null; fingerprint: string }
  | { kind: 'flapping'; number: string | null; fingerprint: string }
  | { kind: 'relate'; number: string | null; fingerprint: string }
  | { kind: 'state' };

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

  get(number: string): Promise<Incident | null>;
  /** Newest first. Items carry an empty timeline; `get` returns it in full. */
  list(filter: IncidentFilter, limit: number, cursor?: string | null): Promise<Page<Incident>>;
  /** Throws IncidentNotFoundError, or InvalidTransitionError when not open. */
  acknowledge(number: string, actor: string, message: string, at: number): Promise<Incident>;
  /** Manual resolution; throws IncidentNotFoundError, or InvalidTransitionError when not active. */
  resolve(number: string, actor: string, message: string, at: number): Promise<Incident>;
  comment(number: string, actor: string, text: string, at: number): Promise<Incident>;
  countActive(): Promise<Record<Severity, number>>;
}
