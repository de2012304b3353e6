// The series that fire a fingerprint (FingerprintState.firing), asked and changed once per signal
// at a cost that does not grow with their number. Almost every fingerprint has one series, and its
// list stays the plain array the stores persist. One with many (Alertmanager sends one alert per
// pod under one alertname+instance: thousands of series, one incident) also gets an index of
// positions, so a re-sent alert is a lookup rather than a scan, and a series leaves by taking the
// last one's place rather than by a splice. The order of the list means nothing.
import type { FingerprintState } from '../store/types.js';

/** From this many series on, a fingerprint's list is indexed. */
const INDEX_FROM = 16;
/** Below this many the index goes again; lower than INDEX_FROM, so it does not churn at the edge. */
const UNINDEX_BELOW = 8;

export class FiringSeries {
  /** Position of each series in `st.firing`, for the states with many. Gone with the state. */
  private readonly positions = new WeakMap<FingerprintState, Map<string, number>>();

  /** A state loaded from the store: a long list gets its index. */
  loaded(st: FingerprintState): void {
    if (st.firing.length >= INDEX_FROM) this.build(st);
  }

  has(st: FingerprintState, key: string): boolean {
    const index = this.positions.get(st);
    return index ? index.has(key) : st.firing.includes(key);
  }

  /** Adds a series that is not in the list. */
  add(st: FingerprintState, key: string): void {
    const index = this.positions.get(st);
    if (index) {
      index.set(key, st.firing.length);
      st.firing.push(key);
      return;
    }
    // concat rather than push: push grows the backing store to 17 slots, and there are as many of
    // these short lists as remembered fingerprints.
    st.firing = st.firing.concat(key);
    if (st.firing.length >= INDEX_FROM) this.build(st);
  }

  /** Removes a series; false when it was not in the list. */
  remove(st: FingerprintState, key: string): boolean {
    const index = this.positions.get(st);
    if (!index) {
      const i = st.firing.indexOf(key);
      if (i < 0) return false;
      st.firing.splice(i, 1);
      return true;
    }
    const i = index.get(key);
    if (i === undefined) return false;
    const last = st.firing.pop()!;
    index.delete(key);
    if (last !== key) {
      st.firing[i] = last;
      index.set(last, i);
    }
    if (st.firing.length < UNINDEX_BELOW) this.positions.delete(st);
    return true;
  }

  private build(st: FingerprintState): void {
    const index = new Map<string, number>();
    for (let i = 0; i < st.firing.length; i++) index.set(st.firing[i]!, i);
    this.positions.set(st, index);
  }
}
