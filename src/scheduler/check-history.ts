// The last results of every check (when, how long, ok/fail/cannot-run), for the latency history of
// the checks board. One fixed-size ring per check, all rings in three shared typed arrays (slabs),
// so 15,000 checks cost a few MB and no object per result: a run writes three numbers in place.
// A ring's slot is reused after its check is removed.

/** Results kept per check. */
export const HISTORY_LENGTH = 60;

export const RUN_OUTCOMES = ['ok', 'fail', 'cannot-run'] as const;
export type RunOutcome = (typeof RUN_OUTCOMES)[number];

/** One check's history, oldest first. */
export interface CheckHistoryView {
  /** End of each run, epoch ms (second precision). */
  at: number[];
  /** Duration of each run in ms; null for a run that could not run. */
  latencyMs: (number | null)[];
  outcome: RunOutcome[];
}

const FIRST_CAPACITY = 64;

export class CheckHistory {
  /** Run end, whole seconds since the epoch: Uint32 lasts until 2106 and halves the cost of ms in a Float64. */
  private at = new Uint32Array(0);
  /** Latency in ms; NaN for a run that could not run. */
  private latency = new Float32Array(0);
  /** Index into RUN_OUTCOMES. */
  private outcome = new Uint8Array(0);
  /** Per slot: where the next result goes, and how many results it holds (≤ HISTORY_LENGTH). */
  private next = new Uint8Array(0);
  private count = new Uint8Array(0);
  private capacity = 0;
  private used = 0;
  private readonly free: number[] = [];

  /** A slot for a new check, empty. */
  allocate(): number {
    const slot = this.free.pop() ?? this.used++;
    if (slot >= this.capacity) this.grow(Math.max(FIRST_CAPACITY, Math.ceil(this.capacity * 1.5)));
    this.next[slot] = 0;
    this.count[slot] = 0;
    return slot;
  }

  /** Room for `checks` checks in all, grown once (at a reload) rather than step by step. */
  reserve(checks: number): void {
    if (checks > this.capacity) this.grow(checks);
  }

  /** The check of `slot` is gone; the slot goes to the next new check. */
  release(slot: number): void {
    this.count[slot] = 0;
    this.free.push(slot);
  }

  record(slot: number, at: number, latencyMs: number | null, outcome: RunOutcome): void {
    const i = slot * HISTORY_LENGTH + this.next[slot]!;
    this.at[i] = Math.floor(at / 1000);
    this.latency[i] = latencyMs === null ? Number.NaN : latencyMs;
    this.outcome[i] = RUN_OUTCOMES.indexOf(outcome);
    this.next[slot] = (this.next[slot]! + 1) % HISTORY_LENGTH;
    if (this.count[slot]! < HISTORY_LENGTH) this.count[slot]!++;
  }

  view(slot: number): CheckHistoryView {
    const n = this.count[slot]!;
    const out: CheckHistoryView = { at: new Array<number>(n), latencyMs: new Array<number | null>(n), outcome: new Array<RunOutcome>(n) };
    const first = (this.next[slot]! - n + HISTORY_LENGTH) % HISTORY_LENGTH;
    for (let k = 0; k < n; k++) {
      const i = slot * HISTORY_LENGTH + ((first + k) % HISTORY_LENGTH);
      const latency = this.latency[i]!;
      out.at[k] = this.at[i]! * 1000;
      // Float32 keeps about 7 digits: round to what a person reads (µs), not 12.300000190734863.
      out.latencyMs[k] = Number.isNaN(latency) ? null : Math.round(latency * 1000) / 1000;
      out.outcome[k] = RUN_OUTCOMES[this.outcome[i]!]!;
    }
    return out;
  }

  /** Bytes held by the slabs (what the history costs in memory, for measuring). */
  bytes(): number {
    return this.at.byteLength + this.latency.byteLength + this.outcome.byteLength + this.next.byteLength + this.count.byteLength;
  }

  private grow(capacity: number): void {
    const at = new Uint32Array(capacity * HISTORY_LENGTH);
    at.set(this.at);
    const latency = new Float32Array(capacity * HISTORY_LENGTH);
    latency.set(this.latency);
    const outcome = new Uint8Array(capacity * HISTORY_LENGTH);
    outcome.set(this.outcome);
    const next = new Uint8Array(capacity);
    next.set(this.next);
    const count = new Uint8Array(capacity);
    count.set(this.count);
    this.at = at;
    this.latency = latency;
    this.outcome = outcome;
    this.next = next;
    this.count = count;
    this.capacity = capacity;
  }
}
