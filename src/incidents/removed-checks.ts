// Probe checks removed from the configuration: which series they are, and the commit that lets go
// of them (resolving the incidents only they fired). Run when the checks change, not per batch.
import type { StoreOp, FingerprintState } from '../store/types.js';
import type { DependencyIndex } from './dependency-index.js';
import type { EscalationContext } from './escalation.js';
import { forgettable, StateMark } from './hysteresis.js';
import { batchOps, newDraft } from './batch-draft.js';

/** The configured probe checks, by target id and check name. */
export interface ProbeCheckSet {
  has(targetId: string, checkName: string): boolean;
}

/** The (target id, check name) of a probe series key (see seriesKey), or null for other sources. */
export function probeCheckOf(key: string): { targetId: string; checkName: string } | null {
  const [source, targetId, checkName] = key.split('\u0000');
  if (source !== 'probe' || targetId === undefined || checkName === undefined) return null;
  return { targetId, checkName };
}

/** The planner's in-memory state that a removal changes. */
export interface PlannerStates {
  states: Map<string, FingerprintState>;
  dependencies: DependencyIndex;
  /** Takes a series out of a state's firing list and out of the series index. */
  dropSeries(st: FingerprintState, key: string): void;
}

/**
 * Resolves every active incident that only probe checks no longer configured fire (a reload or a
 * restart removed them from the probe files), with `message(check)` on its timeline; channels told
 * of it hear of the end. Series of removed checks also stop holding incidents that other series
 * still fire. Alerts, traps and reports are never touched. Walks every state.
 */
export function planRemovedChecks(
  p: PlannerStates,
  ctx: { escalation: EscalationContext | null; probeChecks: ProbeCheckSet },
  at: number,
  message: (check: { targetId: string; checkName: string }) => string,
): StoreOp[] {
  const batch = newDraft();
  const gone = (key: string) => {
    const c = probeCheckOf(key);
    return c !== null && !ctx.probeChecks.has(c.targetId, c.checkName) ? c : null;
  };
  for (const st of [...p.states.values()]) {
    const before = new StateMark(st);
    const removed = st.firing.filter((k) => gone(k) !== null);
    // Recovering: no series fires it, and the one that let go counts the oks towards resolve_after.
    const released = st.releasedBy !== null ? gone(st.releasedBy) : null;
    if (removed.length === 0 && released === null) continue;
    const allGone = removed.length === st.firing.length;
    const check = removed.length > 0 ? gone(removed[0]!)! : released!;
    for (const key of removed) p.dropSeries(st, key);
    if (released !== null) {
      p.dropSeries(st, st.releasedBy!);
      st.releasedBy = null;
    }
    if (st.active !== null && allGone) {
      const op: StoreOp = { kind: 'resolve', at, fingerprint: st.fingerprint, actor: 'system', message: message(check) };
      batch.ops.push(op);
      batch.announce.add(op);
      p.dependencies.setActive(st, false);
      st.active = null;
    }
    if (st.firing.length === 0) {
      // Nothing observes it any more: no count towards open_after, no flapping history.
      st.fails = 0;
      st.oks = 0;
      st.heldBy = null;
      st.flapping = false;
      st.transitions = [];
    }
    if (forgettable(st)) {
      p.states.delete(st.fingerprint);
      batch.forget.add(st.fingerprint);
    } else if (before.changed(st)) {
      batch.dirty.set(st.fingerprint, st);
    }
  }
  return batchOps(batch, ctx.escalation);
}
