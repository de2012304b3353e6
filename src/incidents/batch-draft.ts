// The working record of one batch being planned: its ops so far, which of them are announced and
// to which channels, and which states to write or forget. Made fresh for every batch by the
// planner and turned into the commit's ops by `announced`; nothing in it outlives the batch.
import type { FingerprintState, StoreOp } from '../store/types.js';
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
