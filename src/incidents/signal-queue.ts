// The bounded queue between signal producers and the manager's commits. While the store is slow
// or down, signals wait here in order; when it fills up, the oldest repeats are coalesced (a run of
// same-status signals of one series becomes its latest signal with a weight) before anything new
// is refused. A submission's promise resolves only when everything it handed in is committed,
// including what was folded into a later signal. Signals from the intake journal are durable
// already: they wait here as records, in journal order, and are never coalesced.
import { seriesKey, type Signal } from '../domain/signal.js';
import { IncidentdError } from '../shared/errors.js';

export class QueueFullError extends IncidentdError {
  constructor(readonly limit: number) {
    super(
      `the signal queue is full (${limit} signals wait for the store); retry later, or raise ` +
        'ingest.max_queue if the store is healthy but slow',
    );
  }
}

interface Waiter {
  /** Entries that must commit before this submission is durable: its own, plus absorbers. */
  parts: number;
  settled: boolean;
  done: () => void;
  fail: (err: unknown) => void;
}

interface Entry {
  signals: Signal[];
  /** How many submitted signals each one stands for (1 unless coalesced). */
  weights: number[];
  waiter: Waiter;
  /** Submissions whose signals were folded into this entry. */
  dependents: Waiter[];
  /** Its intake journal record's lsn; 0 for signals that did not come through the journal (probes). */
  lsn: number;
}

export interface QueueBatch {
  signals: Signal[];
  weights: number[];
  /** Highest intake journal lsn among the batch's entries, 0 without one. */
  maxLsn: number;
  /** The batch is durable: settles every submission that waited for it. */
  committed(): void;
  failed(err: unknown): void;
}

export class SignalQueue {
  private entries: Entry[] = [];
  private count = 0;

  constructor(private limit: number) {}

  /**
   * A reloaded ingest.max_queue. Lowering it refuses new signals until the queue drains below it;
   * nothing already waiting is dropped.
   */
  setLimit(limit: number): void {
    this.limit = limit;
  }

  /** Signals waiting (after coalescing). */
  size(): number {
    return this.count;
  }

  push(signals: Signal[]): Promise<void> {
    if (this.count + signals.length > this.limit) this.coalesce();
    if (this.count + signals.length > this.limit) return Promise.reject(new QueueFullError(this.limit));
    return new Promise<void>((done, fail) => {
      this.entries.push(newEntry(signals, 0, { parts: 1, settled: false, done, fail }));
      this.count += signals.length;
    });
  }

  /**
   * Signals already durable in the intake journal, as record `lsn`. Never refused: the endpoint
   * checked the bound before journaling them, and turning them away now would lose an answered
   * request. Nobody waits for their commit; the journal mark records it. `front`: records replayed
   * at start-up go before whatever arrived while the store was opening.
   */
  pushJournaled(signals: Signal[], lsn: number, front = false): void {
    const e = newEntry(signals, lsn, { parts: 1, settled: false, done: noop, fail: noop });
    if (front) this.entries.unshift(e);
    else this.entries.push(e);
    this.count += signals.length;
  }

  /**
   * Lowest journal lsn still waiting here (Infinity when none): the mark must stay below it.
   * Journaled entries keep their order (they are never coalesced), so everything below it is taken.
   */
  minPendingLsn(): number {
    for (const e of this.entries) if (e.lsn > 0) return e.lsn;
    return Infinity;
  }

  /** True when everything waiting came through the intake journal: nobody waits for its commit. */
  onlyJournaled(): boolean {
    for (const e of this.entries) if (e.lsn === 0) return false;
    return true;
  }

  /** Whole entries, oldest first, up to `max` signals (at least one entry). */
  take(max: number): QueueBatch | null {
    if (this.entries.length === 0) return null;
    let n = 0;
    let k = 0;
    while (k < this.entries.length && (k === 0 || n + this.entries[k]!.signals.length <= max)) {
      n += this.entries[k]!.signals.length;
      k++;
    }
    const taken = this.entries.splice(0, k);
    this.count -= n;
    const waiters = taken.flatMap((e) => [e.waiter, ...e.dependents]);
    let maxLsn = 0;
    for (const e of taken) if (e.lsn > maxLsn) maxLsn = e.lsn;
    return {
      maxLsn,
      signals: taken.length === 1 ? taken[0]!.signals : taken.flatMap((e) => e.signals),
      weights: taken.length === 1 ? taken[0]!.weights : taken.flatMap((e) => e.weights),
      committed: () => waiters.forEach(settle),
      failed: (err) => waiters.forEach((w) => failWaiter(w, err)),
    };
  }

  /** Folds each run of same-status signals of one series into its latest signal. */
  coalesce(): number {
    const last = new Map<string, { entry: Entry; i: number }>();
    const drop = new Set<Signal>();
    for (const entry of this.entries) {
      if (entry.lsn > 0) {
        // Journaled signals stay as they are (the journal mark relies on their order), and nothing
        // is folded across them.
        for (const s of entry.signals) last.delete(seriesKey(s));
        continue;
      }
      for (let i = 0; i < entry.signals.length; i++) {
        const s = entry.signals[i]!;
        const key = seriesKey(s);
        const prev = last.get(key);
        if (prev && prev.entry.signals[prev.i]!.status === s.status) {
          entry.weights[i]! += prev.entry.weights[prev.i]!;
          drop.add(prev.entry.signals[prev.i]!);
          if (prev.entry !== entry) {
            prev.entry.waiter.parts++;
            entry.dependents.push(prev.entry.waiter, ...prev.entry.dependents.splice(0));
          }
        }
        last.set(key, { entry, i });
      }
    }
    if (drop.size === 0) return 0;
    const kept: Entry[] = [];
    for (const e of this.entries) {
      const keep = e.signals.map((s) => !drop.has(s));
      e.weights = e.weights.filter((_, i) => keep[i]);
      e.signals = e.signals.filter((_, i) => keep[i]);
      if (e.signals.length > 0) kept.push(e);
      else settle(e.waiter); // nothing of its own left; it now waits only for its absorbers
    }
    this.entries = kept;
    this.count -= drop.size;
    return drop.size;
  }
}

function noop(): void {}

function newEntry(signals: Signal[], lsn: number, waiter: Waiter): Entry {
  return { signals, weights: signals.map(() => 1), waiter, dependents: [], lsn };
}

function settle(w: Waiter): void {
  if (w.settled) return;
  if (--w.parts === 0) {
    w.settled = true;
    w.done();
  }
}

function failWaiter(w: Waiter, err: unknown): void {
  if (w.settled) return;
  w.settled = true;
  w.fail(err);
}
