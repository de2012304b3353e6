// The bounded queue between signal producers and the manager's commits. While the store is slow
// or down, signals wait here in order; when it fills up, the oldest repeats are coalesced (a run of
// same-status signals of one series becomes its latest signal with a weight) before anything new
// is refused. A submission's promise resolves only when everything it handed in is committed,
// including what was folded into a later signal. Signals from the intake journal are durable
// already: they wait here as records, in journal order. A journaled record whose every signal
// repeats one still waiting here exactly (the same reading at a later time) is folded into those
// (see pushJournaled); nothing else of theirs is coalesced.
import { seriesKey, type Signal, type TargetRef } from '../domain/signal.js';
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
  /** Its signals' series (journaled entries pushed at the back); null otherwise. */
  keys: string[] | null;
  /** Something in it may change an incident: see pushJournaled. Always true without a journal. */
  urgent: boolean;
}

export interface QueueBatch {
  signals: Signal[];
  weights: number[];
  /** Each signal's series (seriesKey), worked out once for the queue and the planner. */
  keys: string[];
  /** Highest intake journal lsn among the batch's entries, 0 without one. */
  maxLsn: number;
  /** The batch is durable: settles every submission that waited for it. */
  committed(): void;
  failed(err: unknown): void;
}

/**
 * Series whose last reading is kept per generation (see SignalQueue.readings): a repeat of a series
 * heard from within the last 5,000 to 10,000 series is recognised as one.
 */
const READINGS_KEPT = 5_000;

/** A queued journaled signal a later repeat may fold into. */
interface Twin {
  entry: Entry;
  i: number;
}

export class SignalQueue {
  private entries: Entry[] = [];
  private count = 0;
  /**
   * The latest journaled signal of each series waiting here, as long as nothing of that series
   * came after it: where an exact repeat folds (pushJournaled). Emptied when a batch is taken.
   */
  private readonly twins = new Map<string, Twin>();
  /**
   * The reading each series had when its last journaled signal was taken, in two generations: when
   * the newer one holds READINGS_KEPT series it becomes the older and the oldest is dropped, so a
   * series not heard of for that long is forgotten (memory stays bounded whatever the alerts).
   */
  private readings = new Map<string, Signal>();
  private olderReadings = new Map<string, Signal>();

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
    // A signal of the series in between: a later journaled repeat no longer follows its twin.
    if (this.twins.size > 0) for (const s of signals) this.twins.delete(seriesKey(s));
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
   *
   * A record whose every signal repeats exactly the latest waiting signal of its series (the same
   * reading, only later: an alert re-sent, a webhook retried) is not queued: each of those signals
   * stands for one more (its weight), as if the repeat had been planned with it. That twin keeps
   * its time, so an incident it opens is opened when its first failure came; the store's last_seen
   * and occurrence count catch up with that commit. The planner and the store then do the work
   * once per series and commit instead of once per alert. The record's lsn needs nothing more:
   * every twin is older, so the journal mark (below the lowest lsn waiting) reaches it only once
   * the commit carrying them is taken. A record with one signal that does not repeat is queued
   * whole: a record is replayed whole or not at all.
   *
   * Returns whether the record is urgent: whether one of its signals neither repeats a twin nor
   * the reading its series had when last taken (as far as remembered), and so may open, resolve
   * or change an incident of its own accord. A record that is not can wait longer for its commit
   * (the committer's steady delay): it counts on (occurrences, and towards open_after or
   * resolve_after).
   */
  pushJournaled(signals: Signal[], lsn: number, front = false): boolean {
    const keys = front ? null : signals.map(seriesKey);
    const urgent = keys === null || this.foldOrWeigh(signals, keys);
    if (urgent === null) return false;
    const e = newEntry(signals, lsn, { parts: 1, settled: false, done: noop, fail: noop });
    e.keys = keys;
    e.urgent = urgent;
    if (front) this.entries.unshift(e);
    else this.entries.push(e);
    this.count += signals.length;
    // Replayed records go in front of the rest: the latest signal of a series stays what it was.
    if (keys !== null) for (let i = 0; i < signals.length; i++) this.twins.set(keys[i]!, { entry: e, i });
    return e.urgent;
  }

  /** Whether an urgent entry (see pushJournaled) or one that did not come through the journal waits here. */
  hasUrgent(): boolean {
    for (const e of this.entries) if (e.urgent) return true;
    return false;
  }

  /**
   * In one pass over the record: folds it into its twins if every signal has one (null), else
   * whether it is urgent (see pushJournaled).
   */
  private foldOrWeigh(signals: Signal[], keys: string[]): boolean | null {
    let found: Twin[] | null = this.twins.size === 0 ? null : [];
    for (let i = 0; i < signals.length; i++) {
      const s = signals[i]!;
      const twin = this.twins.get(keys[i]!);
      if (twin !== undefined && sameReading(twin.entry.signals[twin.i]!, s)) {
        found?.push(twin);
        continue;
      }
      found = null;
      const before = this.readings.get(keys[i]!) ?? this.olderReadings.get(keys[i]!);
      if (before === undefined || !sameReading(before, s)) return true;
    }
    if (found === null) return false;
    for (const twin of found) twin.entry.weights[twin.i]! += 1;
    return null;
  }

  /**
   * Lowest journal lsn still waiting here (Infinity when none): the mark must stay below it.
   * Journaled entries keep their order (they are never coalesced, and a record folded into older
   * ones is not queued at all), so everything below it is taken.
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
    // What is taken is planned as it is now: nothing more folds into it. Its readings are what
    // later records are compared with to tell whether they change anything.
    this.twins.clear();
    for (const e of taken) {
      if (e.keys === null) continue;
      for (let i = 0; i < e.keys.length; i++) {
        if (this.readings.size >= READINGS_KEPT) {
          this.olderReadings = this.readings;
          this.readings = new Map();
        }
        this.readings.set(e.keys[i]!, e.signals[i]!);
      }
    }
    const keysOf = (e: Entry) => e.keys ?? e.signals.map(seriesKey);
    const waiters = taken.flatMap((e) => [e.waiter, ...e.dependents]);
    let maxLsn = 0;
    for (const e of taken) if (e.lsn > maxLsn) maxLsn = e.lsn;
    return {
      maxLsn,
      signals: taken.length === 1 ? taken[0]!.signals : taken.flatMap((e) => e.signals),
      weights: taken.length === 1 ? taken[0]!.weights : taken.flatMap((e) => e.weights),
      keys: taken.length === 1 ? keysOf(taken[0]!) : taken.flatMap(keysOf),
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

/** The same reading of one series (everything but its time), as a re-sent alert is. */
export function sameReading(a: Signal, b: Signal): boolean {
  return (
    a.status === b.status &&
    a.message === b.message &&
    a.source === b.source &&
    a.check.name === b.check.name &&
    a.check.type === b.check.type &&
    a.dedupKey === b.dedupKey &&
    a.seriesTarget === b.seriesTarget &&
    a.partial === b.partial &&
    sameTarget(a.target, b.target) &&
    sameRecord(a.labels, b.labels) &&
    sameRecord(a.annotations, b.annotations) &&
    sameRecord(a.values, b.values) &&
    sameList(a.subscribers, b.subscribers)
  );
}

function sameTarget(a: TargetRef, b: TargetRef): boolean {
  if (a === b) return true;
  return (
    a.id === b.id &&
    a.kind === b.kind &&
    a.name === b.name &&
    a.site === b.site &&
    a.tenant === b.tenant &&
    sameRecord(a.labels, b.labels) &&
    sameList(a.dependsOn, b.dependsOn)
  );
}

function sameRecord(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  if (a === b) return true;
  let n = 0;
  for (const k in a) {
    if (!Object.hasOwn(b, k) || a[k] !== b[k]) return false;
    n++;
  }
  for (const k in b) if (Object.hasOwn(b, k)) n--;
  return n === 0;
}

function sameList(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function newEntry(signals: Signal[], lsn: number, waiter: Waiter): Entry {
  return { signals, weights: signals.map(() => 1), waiter, dependents: [], lsn, keys: null, urgent: true };
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
