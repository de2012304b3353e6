// Runs checks at a fixed phase (due = previous due + interval), spread by a jittered first run,
// with a concurrency cap, never two runs of one key at once, and a hard timeout per run.
// Every wait goes through the Clock, so tests drive it with a FakeClock.
import { ProbeTimeoutError } from '../probe-kinds/deadline.js';
import type { ProbeContext } from '../probe-kinds/types.js';
import { SystemClock, type Clock, type TimerHandle } from '../shared/clock.js';
import { IncidentdError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { MinHeap } from './heap.js';

export interface ScheduledCheck {
  /** Unique, e.g. `${targetId}/${checkName}`. */
  key: string;
  intervalMs: number;
  timeoutMs: number;
  /** First run on a multiple of this many ms (epoch time), so such runs start together; see ProbeKind.alignMs. */
  alignMs?: number | undefined;
  /** Should not throw; a throw is logged and the run counted as finished. */
  run(ctx: ProbeContext): Promise<void>;
}

export interface RunInfo {
  key: string;
  /** Actual start minus due time: how late the scheduler was. */
  slipMs: number;
  durationMs: number;
  /** The run hit its timeout and was abandoned. */
  timedOut: boolean;
}

export interface SkipInfo {
  key: string;
  /** `running`: the previous run had not finished; `queued`: it had not even started. */
  reason: 'running' | 'queued';
}

export interface SchedulerDeps {
  clock: Clock;
  logger: Logger;
  /** Most runs in flight at once; more due runs wait in a FIFO queue. */
  concurrency: number;
  /** Fraction of the interval over which first runs are spread; default 1 (the whole interval). */
  jitter?: number | undefined;
  /** Returns [0, 1); Math.random by default. */
  random?: () => number;
  /**
   * Least time between two dispatch wake-ups, default 100 ms. Runs due within that window start
   * together: far fewer wake-ups at thousands of checks per minute, for at most this much slip.
   */
  batchMs?: number;
  onRun?: ((info: RunInfo) => void) | undefined;
  onSkip?: ((info: SkipInfo) => void) | undefined;
}

export interface SchedulerStats {
  running: number;
  queued: number;
  checks: number;
  /** Runs not started because the key's previous run was still queued or running. */
  skipped: number;
  /** Due times passed over entirely because the scheduler was more than a whole interval late. */
  missed: number;
  timedOut: number;
}

/** setChecks was given something that cannot be scheduled. */
export class InvalidScheduleError extends IncidentdError {}

interface Entry {
  key: string;
  check: ScheduledCheck;
  /** Bumped whenever the entry's heap item becomes stale (rescheduled or removed). */
  gen: number;
  removed: boolean;
  queued: boolean;
}

interface Due {
  due: number;
  seq: number;
  entry: Entry;
  gen: number;
}

/** A run in flight. */
interface ActiveRun {
  key: string;
  check: ScheduledCheck;
  startedAt: number;
  /** Actual start minus due time. */
  slipMs: number;
  controller: AbortController;
  /** Counted as finished (ended, threw or timed out); a later end only logs. */
  finished: boolean;
  timer: TimerHandle | undefined;
}

interface QueuedRun {
  entry: Entry;
  due: number;
}

export class Scheduler {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly concurrency: number;
  private readonly jitter: number;
  private readonly random: () => number;
  private readonly batchMs: number;
  private readonly onRun: ((info: RunInfo) => void) | undefined;
  private readonly onSkip: ((info: SkipInfo) => void) | undefined;

  private readonly entries = new Map<string, Entry>();
  private readonly heap = new MinHeap<Due>();
  private seq = 0;
  private queue: QueuedRun[] = [];
  private queueHead = 0;
  /** Keys with a run in flight; a key is here at most once, which is the no-overlap guarantee. */
  private readonly runningKeys = new Set<string>();
  private armed: { at: number; handle: TimerHandle } | undefined;
  private lastFiredAt = -Infinity;
  private started = false;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];
  private counts = { skipped: 0, missed: 0, timedOut: 0 };
  /**
   * A SystemClock's timers are real ones, so a run's signal then bounds real I/O at its timeout:
   * the run is told so (ProbeContext.hasDeadline) and runProbe uses that signal instead of
   * starting a second timer and AbortController. Under a FakeClock runs keep their own deadline.
   */
  private readonly realTimers: boolean;

  constructor(deps: SchedulerDeps) {
    if (!Number.isInteger(deps.concurrency) || deps.concurrency < 1)
      throw new InvalidScheduleError(`scheduler concurrency must be a whole number >= 1, got ${deps.concurrency}`);
    const jitter = deps.jitter ?? 1;
    if (!(jitter >= 0 && jitter <= 1)) throw new InvalidScheduleError(`scheduler jitter must be between 0 and 1, got ${jitter}`);
    this.clock = deps.clock;
    this.log = deps.logger.child({ component: 'scheduler' });
    this.concurrency = deps.concurrency;
    this.jitter = jitter;
    this.random = deps.random ?? Math.random;
    this.batchMs = Math.max(0, deps.batchMs ?? 100);
    this.onRun = deps.onRun;
    this.onSkip = deps.onSkip;
    this.realTimers = deps.clock instanceof SystemClock;
  }

  start(): void {
    if (this.stopped) throw new InvalidScheduleError('the scheduler was stopped; create a new one');
    if (this.started) return;
    this.started = true;
    for (const entry of this.entries.values()) this.scheduleFirst(entry);
    this.arm();
  }

  /**
   * Replaces the set of checks. A key already present with the same interval keeps its phase
   * (and picks up the new run function and timeout from its next run); a new key, or one whose
   * interval changed, gets a jittered first run; a removed key is not run again (a run in flight
   * finishes within its timeout).
   */
  setChecks(checks: ScheduledCheck[]): void {
    for (const _ of this.apply(checks, Infinity)) {
      // one slice: the whole list
    }
  }

  /**
   * setChecks in slices of `slice` checks, waiting for `pause()` between them, so that replacing
   * tens of thousands of checks (a hot reload of an MSP's inventory) never holds the event loop
   * for long. Until it ends, new and changed checks are in place and removed ones still are too;
   * a removed check that falls due meanwhile runs once more.
   */
  async setChecksInSlices(checks: ScheduledCheck[], slice: number, pause: () => Promise<void>): Promise<void> {
    for (const _ of this.apply(checks, slice)) await pause();
  }

  /** The work of setChecks, yielding after every `slice` checks handled. Validates all first. */
  private *apply(checks: ScheduledCheck[], slice: number): Generator<void> {
    const seen = new Set<string>();
    let n = 0;
    for (const c of checks) {
      if (seen.has(c.key)) throw new InvalidScheduleError(`duplicate check key "${c.key}"; keys must be unique`);
      seen.add(c.key);
      if (!(Number.isFinite(c.intervalMs) && c.intervalMs > 0))
        throw new InvalidScheduleError(`check "${c.key}": interval must be a positive number of ms, got ${c.intervalMs}`);
      if (!(Number.isFinite(c.timeoutMs) && c.timeoutMs > 0))
        throw new InvalidScheduleError(`check "${c.key}": timeout must be a positive number of ms, got ${c.timeoutMs}`);
      if (++n % slice === 0) yield;
    }

    for (const c of checks) {
      if (this.stopped) return;
      const existing = this.entries.get(c.key);
      if (existing && existing.check.intervalMs === c.intervalMs) {
        existing.check = c;
      } else {
        const entry: Entry = existing ?? { key: c.key, check: c, gen: 0, removed: false, queued: false };
        entry.check = c;
        entry.gen++;
        this.entries.set(c.key, entry);
        if (this.started && !this.stopped) this.scheduleFirst(entry);
      }
      if (++n % slice === 0) {
        if (this.started && !this.stopped) this.arm();
        yield;
      }
    }
    // Keys are collected before removing: the map must not change under its own iterator across a yield.
    const gone: Entry[] = [];
    for (const [key, entry] of this.entries) if (!seen.has(key)) gone.push(entry);
    for (const entry of gone) {
      entry.removed = true;
      entry.gen++;
      this.entries.delete(entry.key);
      if (++n % slice === 0) yield;
    }
    if (this.started && !this.stopped) this.arm();
  }

  /** Stops scheduling and waits for runs in flight; each ends by its own timeout at the latest. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.armed?.handle.cancel();
    this.armed = undefined;
    this.heap.clear();
    for (let i = this.queueHead; i < this.queue.length; i++) this.queue[i]!.entry.queued = false;
    this.queue = [];
    this.queueHead = 0;
    if (this.runningKeys.size === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  stats(): SchedulerStats {
    return {
      running: this.runningKeys.size,
      queued: this.queue.length - this.queueHead,
      checks: this.entries.size,
      ...this.counts,
    };
  }

  private scheduleFirst(entry: Entry): void {
    const offset = Math.floor(this.random() * this.jitter * entry.check.intervalMs);
    const align = entry.check.alignMs;
    const due = this.clock.now() + offset;
    // Later runs keep the phase (due + interval), so an interval of whole grid steps stays aligned.
    this.pushDue(entry, align !== undefined && align > 0 ? Math.ceil(due / align) * align : due);
  }

  private pushDue(entry: Entry, due: number): void {
    this.heap.push({ due, seq: this.seq++, entry, gen: entry.gen });
  }

  /** Keeps exactly one clock timer, set for the earliest live due time. */
  private arm(): void {
    let top = this.heap.peek();
    while (top && top.gen !== top.entry.gen) {
      this.heap.pop();
      top = this.heap.peek();
    }
    if (!top) {
      this.armed?.handle.cancel();
      this.armed = undefined;
      return;
    }
    const at = Math.max(top.due, this.lastFiredAt + this.batchMs);
    if (this.armed && this.armed.at === at) return;
    this.armed?.handle.cancel();
    this.armed = { at, handle: this.clock.setTimeout(() => this.onTimer(), at - this.clock.now()) };
  }

  private onTimer(): void {
    this.armed = undefined;
    if (this.stopped) return;
    const now = this.clock.now();
    this.lastFiredAt = now;
    for (let top = this.heap.peek(); top && top.due <= now; top = this.heap.peek()) {
      this.heap.pop();
      if (top.gen !== top.entry.gen) continue;
      this.becameDue(top.entry, top.due, now);
    }
    this.pump();
    this.arm();
  }

  private becameDue(entry: Entry, due: number, now: number): void {
    const interval = entry.check.intervalMs;
    // Fixed phase: the next due is a whole number of intervals after this one, skipping any
    // that have already passed (the scheduler was blocked, or the machine slept).
    let next = due + interval;
    if (next <= now) {
      const behind = Math.floor((now - due) / interval);
      this.counts.missed += behind;
      next = due + (behind + 1) * interval;
    }
    this.pushDue(entry, next);

    if (entry.queued || this.runningKeys.has(entry.key)) {
      const reason = entry.queued ? 'queued' : 'running';
      this.counts.skipped++;
      this.log.debug({ key: entry.key, reason }, 'check due again before its previous run finished; skipped');
      this.onSkip?.({ key: entry.key, reason });
      return;
    }
    entry.queued = true;
    this.queue.push({ entry, due });
  }

  private pump(): void {
    while (!this.stopped && this.runningKeys.size < this.concurrency && this.queueHead < this.queue.length) {
      const item = this.queue[this.queueHead]!;
      this.queue[this.queueHead++] = undefined as unknown as QueuedRun;
      item.entry.queued = false;
      if (item.entry.removed) continue;
      if (this.runningKeys.has(item.entry.key)) {
        // Same key removed and re-added while its old run is still going.
        this.counts.skipped++;
        this.onSkip?.({ key: item.entry.key, reason: 'running' });
        continue;
      }
      this.startRun(item.entry, item.due);
    }
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
  }

  /**
   * Per-run state is one object and one async call: no closures sharing it (a run's objects live
   * as long as its probe, long enough at 15,000 checks to reach the old generation).
   */
  private startRun(entry: Entry, due: number): void {
    const { key, check } = entry;
    const startedAt = this.clock.now();
    const run: ActiveRun = {
      key,
      check,
      startedAt,
      slipMs: startedAt - due,
      controller: new AbortController(),
      finished: false,
      timer: undefined,
    };
    this.runningKeys.add(key);
    run.timer = this.clock.setTimeout(() => this.timedOut(run), check.timeoutMs);
    void this.execute(run);
  }

  private async execute(run: ActiveRun): Promise<void> {
    // The check starts in a microtask, not inside pump's loop: a run that ends at once must not
    // re-enter pump while it is still handing out slots.
    await Promise.resolve();
    const { key, check } = run;
    try {
      await check.run({ timeoutMs: check.timeoutMs, signal: run.controller.signal, hasDeadline: this.realTimers });
    } catch (err) {
      this.log.error({ key, err }, 'check run threw; runs should report failures as results');
      this.finish(run, false);
      return;
    }
    if (run.finished) this.log.warn({ key }, 'run finished after its timeout; it ignores its abort signal');
    this.finish(run, false);
  }

  private timedOut(run: ActiveRun): void {
    run.controller.abort(new ProbeTimeoutError(run.check.timeoutMs));
    // Free the slot now even if the run ignores its signal: one stuck probe must not stall the rest.
    this.finish(run, true);
  }

  private finish(run: ActiveRun, timedOut: boolean): void {
    if (run.finished) return;
    run.finished = true;
    run.timer?.cancel();
    const { key } = run;
    this.runningKeys.delete(key);
    if (timedOut) this.counts.timedOut++;
    try {
      this.onRun?.({ key, slipMs: run.slipMs, durationMs: this.clock.now() - run.startedAt, timedOut });
    } catch (err) {
      this.log.error({ key, err }, 'onRun callback threw');
    }
    if (this.runningKeys.size === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
    this.pump();
  }
}

