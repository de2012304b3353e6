// The per-fingerprint state machine: consecutive counts, flap detection. Pure functions over
// FingerprintState so the rules are easy to read and to test without a store.
import type { FingerprintState } from '../store/types.js';

export interface FlapPolicy {
  windowMs: number;
  threshold: number;
}

export function newState(fingerprint: string, targetId: string): FingerprintState {
  return {
    fingerprint,
    targetId,
    openAfter: 1,
    resolveAfter: 1,
    // Every field is set here, so all states share one shape and keep their fields in-object.
    severity: undefined,
    fails: 0,
    oks: 0,
    lastStatus: 'ok',
    transitions: [],
    flapping: false,
    active: null,
    heldBy: null,
    firing: [],
    releasedBy: null,
    ruleId: null,
  };
}

export interface Observation {
  /** Flapping began or ended with this observation. */
  flappingChanged: boolean;
}

/**
 * Records one ok/fail observation. Counts saturate at the rule's thresholds so an incident that
 * keeps failing does not rewrite its state on every repeat.
 *
 * Flapping starts at `threshold` ok↔fail changes within the window and ends when fewer than half
 * that many remain in it (Nagios-style low/high thresholds, so it does not flap about flapping).
 */
export function observe(
  st: FingerprintState,
  status: 'ok' | 'fail',
  at: number,
  flap: FlapPolicy,
  /** Consecutive signals this observation stands for (coalesced while the store was away). */
  weight = 1,
): Observation {
  // concat rather than push: push grows the backing store to 17 slots, and there are as many
  // of these arrays as remembered fingerprints.
  if (st.lastStatus !== status) st.transitions = st.transitions.concat(at);
  st.lastStatus = status;
  const since = at - flap.windowMs;
  if (st.transitions.length > 0 && st.transitions[0]! < since) {
    st.transitions = st.transitions.filter((t) => t >= since);
  }
  if (status === 'fail') {
    st.oks = 0;
    st.fails = Math.min(st.fails + weight, st.openAfter);
  } else {
    st.fails = 0;
    st.oks = Math.min(st.oks + weight, st.resolveAfter);
  }
  const n = st.transitions.length;
  if (!st.flapping && n >= flap.threshold) {
    st.flapping = true;
    return { flappingChanged: true };
  }
  if (st.flapping && n < Math.ceil(flap.threshold / 2)) {
    st.flapping = false;
    return { flappingChanged: true };
  }
  return { flappingChanged: false };
}

/** Nothing left worth remembering: no incident, no held-back failure, no recent changes. */
export function forgettable(st: FingerprintState): boolean {
  return (
    st.active === null &&
    st.heldBy === null &&
    st.fails === 0 &&
    !st.flapping &&
    st.transitions.length === 0 &&
    st.firing.length === 0
  );
}

/**
 * A cheap summary that changes whenever the state does, to skip writing unchanged states. It is
 * taken before and after one signal, which adds or removes at most one series of `firing`: its
 * length tells whether it changed, at a cost that does not grow with thousands of series.
 */
export function stateKey(st: FingerprintState): string {
  return `${st.fails}|${st.oks}|${st.lastStatus}|${st.flapping}|${typeof st.active === 'string' ? st.active : st.active === null ? '' : 'pending'}|${st.heldBy}|${st.transitions.length}|${st.transitions[0]}|${st.openAfter}|${st.resolveAfter}|${st.severity}|${st.firing.length}|${st.releasedBy}|${st.ruleId}`;
}
