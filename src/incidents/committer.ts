// The batch committer: takes signals from the bounded queue in batches (group commit), has each
// batch planned and commits it, retrying a failed commit forever (a store outage must not lose
// accepted signals), and keeps the intake journal's mark: what was replayed at start, what the
// store has recorded as committed, which journal segments may go. One batch runs at a time, on
// one chain that human commands join between batches without ever waiting behind a failing or
// hanging commit.
import { randomUUID } from 'node:crypto';
import type { Signal } from '../domain/signal.js';
import type { Clock, TimerHandle } from '../shared/clock.js';
import { StoreUnavailableError } from '../shared/errors.js';
import { trace } from '../shared/otel.js';
import type { Logger } from '../shared/logger.js';
import type { CommitOptions, IncidentStore, OpResult, StoreOp } from '../store/types.js';
import type { IntakeJournal } from './intake-journal.js';
import { JournalMarks } from './journal-marks.js';
import type { BatchPlan } from './planner.js';
import { StoreBusyError } from './commands.js';
import { SignalQueue } from './signal-queue.js';

/** Plans a batch and learns what its commit did; the manager wires the planner in. */
export interface BatchHandler {
  /** `keys`: each signal's series (seriesKey), as the queue worked them out. */
  plan(signals: Signal[], weights: number[], keys: string[]): BatchPlan;
  settle(plan: BatchPlan, results: OpResult[]): void;
  /** A batch of `signals` committed after `seconds` in the store (retries included). */
  committed?(seconds: number, signals: number): void;
}

export interface CommitterDeps {
  store: IncidentStore;
  clock: Clock;
  logger: Logger;
  journal?: IntakeJournal | undefined;
  handler: BatchHandler;
  maxBatch: number;
  maxQueue: number;
}

const tracer = trace.getTracer('incidentd');
const RETRY_BASE_MS = 200;
const RETRY_MAX_MS = 10_000;
/**
 * How long journaled alerts wait for more before they are committed: re-sent alerts of the same
 * incidents within it fold into one store write each (the 2xx never waits for the commit).
 */
export const JOURNAL_COMMIT_DELAY_MS = 100;
/**
 * How long they may wait while every one repeats the reading its series had in the last commit
 * (SignalQueue.pushJournaled): an alert re-sent as it was. Exact repeats fold into one signal per
 * series in the queue, so waiting costs no memory per alert, and a stream of them costs one plan
 * and one store write per series and second instead of per 100 ms. What waits is the count of
 * occurrences and last_seen of incidents already open, and an opening or resolution that such a
 * repeat completes (open_after, resolve_after). A record that may change anything else (a new
 * series, another status, another message or label) shortens the wait to JOURNAL_COMMIT_DELAY_MS.
 */
export const STEADY_COMMIT_DELAY_MS = 1000;
/**
 * How long a batch (planning and its SQLite commit, which run on the event loop) should take: the
 * next batch is sized from the last one's cost per signal (an opening costs about twenty times a
 * repeat), so a burst of new incidents neither holds the event loop nor a person's command (which
 * waits behind it, up to COMMAND_WAIT_MS) for long, while a stream of repeats still commits in
 * large batches that fold them.
 */
const BATCH_TARGET_MS = 50;
/** The smallest and the first batch size (the first before anything is measured). */
const MIN_BATCH = 100;
const FIRST_BATCH = 1000;
/** Longest a human command waits for its turn behind a batch commit before it is refused. */
export const COMMAND_WAIT_MS = 600;

export class BatchCommitter {
  readonly queue: SignalQueue;
  /** The chain every batch and every command runs on, one at a time. */
  private tail: Promise<void> = Promise.resolve();
  private scheduled = false;
  private commitTimer: TimerHandle | null = null;
  /** When the commit timer runs out (clock ms). */
  private commitDueAt = 0;
  private stopping = false;
  /** Settles once the store is open, the journal replayed into the queue and the state loaded. */
  private ready: Promise<void> = Promise.resolve();
  private loaded = false;
  private abandon: (err: unknown) => void = () => undefined;
  private readonly marks: JournalMarks | null;
  /** The last store commit's error while commits fail and are retried; null once one succeeds. */
  private commitError: string | null = null;
  /** Signals the next batch takes at most (whole submissions), from the last batch's cost (BATCH_TARGET_MS). */
  private batchLimit: number;

  constructor(private readonly deps: CommitterDeps) {
    this.queue = new SignalQueue(deps.maxQueue);
    this.batchLimit = Math.min(FIRST_BATCH, deps.maxBatch);
    this.marks = deps.journal ? new JournalMarks(deps.journal, deps.logger) : null;
  }

  /**
   * Starts committing once `storeOpen` resolves: replays the journal, then `load` (the persisted
   * state). Until then signals wait in the queue. Resolves when both are done.
   */
  start(storeOpen: Promise<void>, load: () => Promise<void>): Promise<void> {
    // stop() may give up on a store that never opens; the race lets waiting batches end then.
    const abandoned = new Promise<never>((_, reject) => (this.abandon = reject));
    abandoned.catch(() => undefined);
    const replay = async (): Promise<void> => {
      if (await this.marks?.replay(this.deps.store, this.queue)) this.schedule();
    };
    this.ready = Promise.race([storeOpen.then(replay).then(load), abandoned]);
    this.ready.then(
      () => (this.loaded = true),
      () => undefined,
    );
    return this.ready;
  }

  /** Null once the store is open and the journal replay committed; else what is still under way. */
  startup(): string | null {
    if (!this.loaded) return 'waiting for the store to open';
    return this.marks?.replayProgress() ?? null;
  }

  /** Null while store commits succeed; else why the batch being retried failed. */
  commitFailure(): string | null {
    return this.commitError;
  }

  isStopping(): boolean {
    return this.stopping;
  }

  /** Journal records already durable: committed in lsn order, with no submitter waiting. */
  pushJournaled(signals: Signal[], lsn: number): void {
    const urgent = this.queue.pushJournaled(signals, lsn);
    this.marks?.pushed(lsn);
    this.schedule(true, urgent);
  }

  /** Resolves once the signals' effect is committed (all in one commit, in order). */
  push(signals: Signal[]): Promise<void> {
    const p = this.queue.push(signals);
    this.schedule();
    return p;
  }

  /** Waits until everything submitted so far is committed. */
  async flush(): Promise<void> {
    this.commitNow();
    while (this.queue.size() > 0 || this.scheduled) {
      this.commitNow();
      await this.tail;
      await nextTurn();
    }
    await this.tail;
  }

  /**
   * Stops committing once what was accepted is committed. If the store never opened, nothing can
   * be: the waiting signals are given up (their submitters see the error) and logged.
   * `beforeDrain` runs once no new signals are taken (the journal closes, its appends finish).
   */
  async stop(beforeDrain: () => Promise<void>): Promise<void> {
    this.stopping = true;
    this.commitNow();
    await beforeDrain();
    await nextTurn();
    if (!this.loaded) {
      const lost = this.queue.size();
      const gaveUp = new StoreUnavailableError('the store never became reachable; stopping without it');
      this.abandon(gaveUp);
      for (let b = this.queue.take(Infinity); b !== null; b = this.queue.take(Infinity)) b.failed(gaveUp);
      if (lost > 0) {
        const kept = this.deps.journal ? '; alerts among them stay in the intake journal and are committed at the next start' : '';
        this.deps.logger.error({ lost }, `signals not stored: the store never became reachable${kept}`);
      }
      await this.tail;
      return;
    }
    await this.flush();
  }

  /**
   * Runs a human command between batches. It never waits behind a failing or hanging commit: it is
   * refused at once (StoreBusyError) while commits fail or the store is not open, and when a
   * commit keeps it waiting longer than COMMAND_WAIT_MS. A refused command never runs.
   */
  command<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.loaded) return Promise.reject(new StoreBusyError('the store is not open yet'));
    if (this.commitError !== null) return Promise.reject(new StoreBusyError(`the store is failing commits (${this.commitError})`));
    return new Promise<T>((resolve, reject) => {
      let refused = false;
      const timer = this.deps.clock.setTimeout(() => {
        refused = true;
        const why = this.commitError === null ? `a commit has held the store for over ${COMMAND_WAIT_MS} ms` : `the store is failing commits (${this.commitError})`;
        reject(new StoreBusyError(why));
      }, COMMAND_WAIT_MS);
      void this.serial(async () => {
        timer.cancel();
        if (refused) return;
        try {
          resolve(await fn());
        } catch (err) {
          reject(err);
        }
      });
    });
  }

  /**
   * Plans and commits ops outside any batch (resolving incidents of removed checks), on the chain
   * between batches, once the store is open and the state loaded. Retried through store outages
   * like a batch, and settled through the handler (hooks, log lines), so nothing tells of a change
   * the store does not have.
   */
  commitPlanned(plan: () => BatchPlan): Promise<void> {
    return this.serial(async () => {
      await this.ready;
      const p = plan();
      if (p.ops.length === 0) return;
      const results = await this.commitWithRetry(p.ops, { id: randomUUID() });
      this.deps.handler.settle(p, results);
    });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn);
    this.tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /**
   * `journaled`: only journaled alerts are waiting. Nobody waits for their commit (they were
   * answered once on disk), so a small batch of them waits a little for more: one commit per
   * JOURNAL_COMMIT_DELAY_MS under a stream of small requests instead of one per request, or per
   * STEADY_COMMIT_DELAY_MS while nothing `urgent` (able to change an incident) waits.
   */
  private schedule(journaled = false, urgent = true): void {
    const wait = journaled && this.queue.size() < this.batchLimit && !this.stopping;
    if (this.scheduled) {
      if (!wait && this.commitTimer) this.commitNow();
      // Something that may change an incident cuts a steady wait short.
      else if (urgent && this.commitTimer && this.commitDueAt - this.deps.clock.now() > JOURNAL_COMMIT_DELAY_MS) {
        this.startTimer(JOURNAL_COMMIT_DELAY_MS);
      }
      return;
    }
    this.scheduled = true;
    if (wait) {
      this.startTimer(urgent ? JOURNAL_COMMIT_DELAY_MS : STEADY_COMMIT_DELAY_MS);
    } else {
      // Batch boundary: everything submitted in this turn of the event loop (and while the
      // previous commit was running) goes into the next commit.
      setImmediate(() => this.runScheduled());
    }
  }

  private startTimer(ms: number): void {
    this.commitTimer?.cancel();
    this.commitDueAt = this.deps.clock.now() + ms;
    this.commitTimer = this.deps.clock.setTimeout(() => this.commitNow(), ms);
  }

  private commitNow(): void {
    if (!this.commitTimer) return;
    this.commitTimer.cancel();
    this.commitTimer = null;
    setImmediate(() => this.runScheduled());
  }

  private runScheduled(): void {
    this.scheduled = false;
    void this.serial(() => this.runBatch());
  }

  private async runBatch(): Promise<void> {
    await this.ready;
    // Whole submissions only, so one caller's signals commit together.
    const batch = this.queue.take(this.batchLimit);
    // The rest did not fit this batch. If nobody waits for it (journaled alerts only), it waits for
    // more like any small journaled batch: committed at once, a remainder of a few hundred would
    // cost a store write per alert instead of folding with the repeats that follow it.
    if (this.queue.size() > 0) this.schedule(this.queue.onlyJournaled(), this.queue.hasUrgent());
    if (batch === null) return;
    const count = batch.signals.length;
    const { handler } = this.deps;
    await tracer.startActiveSpan('incidents.batch', async (span) => {
      span.setAttribute('signals', count);
      const began = performance.now();
      try {
        // One span per stage: classification and state (synchronous), then the store commit.
        const plan = tracer.startActiveSpan('rules.classify+incidents.plan', (s) => {
          try {
            return handler.plan(batch.signals, batch.weights, batch.keys);
          } finally {
            s.end();
          }
        });
        const intake = this.marks?.next(this.queue) ?? null;
        if (intake) plan.ops.push(intake.op);
        const started = performance.now();
        const results = await tracer.startActiveSpan('store.commit', async (s) => {
          s.setAttribute('ops', plan.ops.length);
          try {
            // One id per batch, kept over retries; synced only when journal segments go after it.
            return await this.commitWithRetry(plan.ops, { id: randomUUID(), durable: intake ? intake.release : true });
          } finally {
            s.end();
          }
        });
        handler.committed?.((performance.now() - started) / 1000, count);
        this.resize(performance.now() - began, count);
        handler.settle(plan, results);
        if (intake) this.marks!.committed(intake);
        batch.committed();
      } catch (err) {
        batch.failed(err);
        throw err;
      } finally {
        span.end();
      }
    });
  }

  /** The next batch's size after one of `signals` took `ms`: as many as fit BATCH_TARGET_MS at that cost. */
  private resize(ms: number, signals: number): void {
    const fit = Math.floor((signals * BATCH_TARGET_MS) / Math.max(ms, 0.01));
    this.batchLimit = Math.max(MIN_BATCH, Math.min(this.deps.maxBatch, fit));
  }

  /** A store outage must not lose accepted signals: keep retrying the same ops, in order. */
  private async commitWithRetry(ops: StoreOp[], batch: CommitOptions): Promise<OpResult[]> {
    let delay = RETRY_BASE_MS;
    for (;;) {
      try {
        const results = await this.deps.store.commit(ops, batch);
        this.commitError = null;
        return results;
      } catch (err) {
        this.commitError = err instanceof Error ? err.message : String(err);
        if (this.stopping) throw err;
        this.deps.logger.error({ err, retryInMs: delay, ops: ops.length }, 'store commit failed; keeping the batch and retrying');
        await new Promise<void>((r) => this.deps.clock.setTimeout(r, delay));
        delay = Math.min(delay * 2, RETRY_MAX_MS);
      }
    }
  }
}

const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));
