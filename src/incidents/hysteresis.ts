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

function activeMark(active: FingerprintState['active']): string {
  return typeof active === 'string' ? active : active === null ? '' : 'pending';
}

/**
 * What a state was before one signal, to skip writing states the signal left unchanged: its fields
 * copied, and compared one by one afterwards (a summary string cost about 25 times as much). A
 * signal adds or removes at most one series of `firing` and one transition at a time, so their
 * lengths (and the oldest transition) tell whether they changed, at a cost flat in their size.
 */
export class StateMark {
  private readonly fails: number;
  private readonly oks: number;
  private readonly lastStatus: FingerprintState['lastStatus'];
  private readonly flapping: boolean;
  private readonly active: string;
  private readonly heldBy: string | null;
  private readonly transitions: number;
  private readonly oldestTransition: number | undefined;
  private readonly openAfter: number;
  private readonly resolveAfter: number;
  private readonly severity: FingerprintState['severity'];
  private readonly firing: number;
  private readonly releasedBy: string | null;
  private readonly ruleId: FingerprintState['ruleId'];

  constructor(st: FingerprintState) {
    this.fails = st.fails;
    this.oks = st.oks;
    this.lastStatus = st.lastStatus;
    this.flapping = st.flapping;
    this.active = activeMark(st.active);
    this.heldBy = st.heldBy;
    this.transitions = st.transitions.length;
    this.oldestTransition = st.transitions[0];
    this.openAfter = st.openAfter;
    this.resolveAfter = st.resolveAfter;
    this.severity = st.severity;
    this.firing = st.firing.length;
    this.releasedBy = st.releasedBy;
    this.ruleId = st.ruleId;
  }

  /** Whether `st` differs from what it was when marked. */
  changed(st: FingerprintState): boolean {
    return !(
      this.fails === st.fails &&
      this.oks === st.oks &&
      this.lastStatus === st.lastStatus &&
      this.flapping === st.flapping &&
      this.active === activeMark(st.active) &&
      this.heldBy === st.heldBy &&
      this.transitions === st.transitions.length &&
      this.oldestTransition === st.transitions[0] &&
      this.openAfter === st.openAfter &&
      this.resolveAfter === st.resolveAfter &&
      this.severity === st.severity &&
      this.firing === st.firing.length &&
      this.releasedBy === st.releasedBy &&
      this.ruleId === st.ruleId
    );
  }
}
