// The working record of one batch being planned: its ops so far, which of them are announced and
// to which channels, and which states to write or forget. Made fresh for every batch by the
// planner and turned into the commit's ops by `announced`; nothing in it outlives the batch.
import { tenantOf, type Signal } from '../domain/signal.js';
import type { RuleMatch } from '../rules/types.js';
import type { FingerprintState, IncidentDraft, StoreOp } from '../store/types.js';
import type { EscalationContext } from './escalation.js';

export interface BatchDraft {
  readonly ops: StoreOp[];
  /** Index of the last op about each fingerprint in this batch, to coalesce repeats. */
  readonly lastOp: Map<string, number>;
  /** Ops whose change, if the store makes one, is announced. */
  readonly announce: Set<StoreOp>;
  /** Channels an opening op is announced to (its tier's). */
  readonly openingChannels: Map<StoreOp, string[]>;
  /** Openings kept quiet (flapping): their channels count as told, so they hear its end. */
  readonly quietOpenings: Set<StoreOp>;
  /** States changed by the batch, to write. */
  readonly dirty: Map<string, FingerprintState>;
  /** Fingerprints with nothing left worth remembering, to delete. */
  readonly forget: Set<string>;
}

/** One failing observation of one fingerprint. */
export interface FailObservation {
  st: FingerprintState;
  match: RuleMatch;
  signal: Signal;
  weight: number;
  /** The state's consecutive failures before this signal (its count is capped at open_after). */
  failsBefore: number;
  flappingChanged: boolean;
}

export function newDraft(): BatchDraft {
  return {
    ops: [],
    lastOp: new Map(),
    announce: new Set(),
    openingChannels: new Map(),
    quietOpenings: new Set(),
    dirty: new Map(),
    forget: new Set(),
  };
}

/**
 * `changed`: the flag changed with this signal (announced once each way), rather than being
 * carried over to an incident that opens while flapping (which nobody was told of).
 */
export function pushFlapping(batch: BatchDraft, st: FingerprintState, at: number, changed: boolean): void {
  batch.lastOp.set(st.fingerprint, batch.ops.length);
  const op: StoreOp = {
    kind: 'flapping',
    at,
    fingerprint: st.fingerprint,
    flapping: st.flapping,
    message: st.flapping
      ? `flapping: ${st.transitions.length} state changes within the window; notifications muted`
      : 'stopped flapping',
  };
  batch.ops.push(op);
  if (changed) batch.announce.add(op);
}

/**
 * The batch's ops with a notify op right after each op whose change is to be announced. The store
 * names the event from what the op actually did (a fail that turned out a repeat announces
 * nothing) and fills in the incident number, which only it knows for a new incident; the event is
 * written in the same commit as the change. Called after planning, so coalescing repeats (which
 * edits ops in place by index) is done by then.
 */
export function announced(batch: BatchDraft, ctx: EscalationContext | null): StoreOp[] {
  const { ops, announce, quietOpenings, openingChannels } = batch;
  if ((announce.size === 0 && quietOpenings.size === 0) || ctx === null || ctx.channelIds.length === 0) return ops;
  const out: StoreOp[] = [];
  for (const op of ops) {
    out.push(op);
    if (op.kind === 'fail' && quietOpenings.has(op)) {
      out.push({ kind: 'notify', fingerprint: op.draft.fingerprint, channels: openingChannels.get(op) ?? [], quiet: true });
      continue;
    }
    if (!announce.has(op)) continue;
    if (op.kind === 'fail') {
      // The opening's channels (its tier's); a repeat announces nothing, whatever is listed.
      out.push({ kind: 'notify', fingerprint: op.draft.fingerprint, channels: openingChannels.get(op) ?? [] });
    } else if (op.kind === 'resolve' || op.kind === 'flapping') {
      out.push({ kind: 'notify', fingerprint: op.fingerprint, channels: [] });
    }
  }
  return out;
}

/**
 * Folds a repeat into the fingerprint's fail op already in the batch, as long as nothing else
 * about the fingerprint (a flapping change) was queued after it. False: no such op.
 */
export function coalesceRepeat(batch: BatchDraft, o: FailObservation): boolean {
  const { st, match: m, signal } = o;
  const i = batch.lastOp.get(st.fingerprint);
  const op = i === undefined ? undefined : batch.ops[i];
  if (op?.kind !== 'fail') return false;
  op.count += o.weight;
  op.at = signal.at;
  op.draft.message = signal.message;
  // The last signal's rendering: the incident's title follows the current condition.
  op.retitle = st.firing.length === 1;
  if (op.retitle) {
    op.draft.title = m.title;
    op.draft.description = m.description;
  }
  if (signal.subscribers) op.draft.subscribers = [...new Set([...(op.draft.subscribers ?? []), ...signal.subscribers])];
  if (o.flappingChanged) pushFlapping(batch, st, signal.at, true);
  return true;
}

/** The incident a rule match describes, as the store writes it. */
export function draftOf(m: RuleMatch, s: Signal): IncidentDraft {
  const draft = new LazyDraft(m, s);
  if (s.subscribers) draft.subscribers = s.subscribers;
  return draft;
}

/**
 * A draft whose title, description and runbook are read from the match (which renders them) only
 * when the store uses them: an opening, a reopening, a reclassification or a repeat that may
 * retitle. A class: an object literal with accessors costs about 1 µs to make.
 */
class LazyDraft implements IncidentDraft {
  fingerprint: string;
  classification: IncidentDraft['classification'];
  ruleId: string;
  source: string;
  target: IncidentDraft['target'];
  tenant: string;
  check: IncidentDraft['check'];
  labels: Record<string, string>;
  message: string;
  declare escalation?: NonNullable<IncidentDraft['escalation']>;
  declare subscribers?: string[];
  declare heldBack?: string;
  readonly #match: RuleMatch;
  #title: string | undefined = undefined;
  #description: string | undefined = undefined;
  #runbook: string | undefined = undefined;

  constructor(m: RuleMatch, s: Signal) {
    this.fingerprint = m.fingerprint;
    this.classification = m.classification;
    this.ruleId = m.ruleId;
    this.source = s.source;
    this.target = { id: s.target.id, kind: s.target.kind, name: s.target.name, site: s.target.site, labels: s.target.labels };
    this.tenant = tenantOf(s.target);
    this.check = s.check;
    this.labels = s.labels;
    this.message = s.message;
    this.#match = m;
  }

  get title(): string {
    return (this.#title ??= this.#match.title);
  }

  set title(v: string) {
    this.#title = v;
  }

  get description(): string {
    return (this.#description ??= this.#match.description);
  }

  set description(v: string) {
    this.#description = v;
  }

  get runbook(): string {
    return (this.#runbook ??= this.#match.runbook);
  }

  set runbook(v: string) {
    this.#runbook = v;
  }

  /** The plain draft, rendered: what JSON sees. */
  toJSON(): IncidentDraft {
    return { ...this, title: this.title, description: this.description, runbook: this.runbook };
  }
}

/** The commit's ops: the announced ones, then the state writes and deletions, if any. */
export function batchOps(batch: BatchDraft, escalation: EscalationContext | null): StoreOp[] {
  const ops = announced(batch, escalation);
  if (batch.dirty.size > 0 || batch.forget.size > 0) {
    ops.push({ kind: 'state', fingerprints: [...batch.dirty.values()], forget: [...batch.forget] });
  }
  return ops;
}
