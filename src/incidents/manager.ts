// The incident manager: turns classified signals into store operations (open, repeat, reopen,
// resolve, flapping, dependency links) and commits them in groups. One batch is computed and
// committed at a time, so the in-memory state and the store never disagree about order.
import { trace } from '@opentelemetry/api';
import type { Severity } from '../domain/classification.js';
import type { Incident } from '../domain/incident.js';
import { seriesKey, type Signal, type TargetRef } from '../domain/signal.js';
import type { IncidentPolicy } from '../config-core/types.js';
import type { RuleEngine, RuleMatch } from '../rules/types.js';
import type { Clock } from '../shared/clock.js';
import { IncidentdError, StoreUnavailableError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { FingerprintState, IncidentDraft, IncidentStore, OpResult, StoreOp } from '../store/types.js';
import { FiringSeries } from './firing.js';
import { forgettable, newState, observe, stateKey } from './hysteresis.js';
import type { AlertIngest } from '../sources/types.js';
import type { IntakeJournal } from './intake-journal.js';
import { SignalQueue } from './signal-queue.js';
import { planOpening, type EscalationContext } from './escalation.js';
import type { IncidentCommands } from './types.js';

export interface ManagerHooks {
  opened?(severity: Severity, outcome: 'opened' | 'reopened'): void;
  resolved?(severity: Severity | 'unknown'): void;
  committed?(seconds: number, signals: number): void;
  /** A commit wrote `events` outbox events (wire to Outbox.kick so they go out at once). */
  notified?(events: number): void;
}

export interface ManagerDeps {
  store: IncidentStore;
  clock: Clock;
  logger: Logger;
  /** Read at every batch: a config reload swaps rules, policy and targets without a restart. */
  current: () => { engine: RuleEngine; policy: IncidentPolicy; targets: ReadonlyMap<string, TargetRef> };
  hooks?: ManagerHooks;
  /** Largest number of signals in one commit (group commit). */
  maxBatch?: number;
  /** Signals that may wait for the store (e.g. during an outage) before new ones are refused. */
  maxQueue?: number;
  /**
   * Escalation: the tier, SLA timers and channels of an opening. Read at every batch, so a reload
   * takes effect. Without it, or with no channel configured, no notify ops are written and no
   * timers planned. Later events of an incident go to the channels told of it before (the store
   * keeps them), so resolutions, acknowledgements and flapping need no channel list here.
   */
  escalation?: () => EscalationContext;
  /**
   * The write-ahead queue on disk for alerts (`accept`): they count as taken in once journaled,
   * and whatever the store has not committed is replayed from it at start-up.
   */
  journal?: IntakeJournal;
}

export class ManagerStoppedError extends IncidentdError {
  constructor() {
    super('the incident manager is stopping and accepts no more signals');
  }
}

const tracer = trace.getTracer('incidentd');
const RETRY_BASE_MS = 200;
const RETRY_MAX_MS = 10_000;
/** How long a small batch of journaled alerts waits for more before it is committed. */
const JOURNAL_COMMIT_DELAY_MS = 10;
/** Journaled alerts waiting that are committed at once, without the delay. */
const JOURNAL_COMMIT_SIGNALS = 500;

export class IncidentManager implements IncidentCommands {
  private readonly states = new Map<string, FingerprintState>();
  /** Each state's `firing` list is read and changed through this, at a cost flat in its length. */
  private readonly firing = new FiringSeries();
  private readonly series = new Map<string, string[]>();
  /**
   * Parent targets (named in someone's depends_on) → fingerprints with an active incident, for
   * dependency suppression. Only parents are indexed: nothing ever looks up the others.
   */
  private readonly activeByTarget = new Map<string, string[]>();
  private parentIds = new Set<string>();
  private readonly queue: SignalQueue;
  /** The chain every batch and every command runs on, one at a time. */
  private tail: Promise<void> = Promise.resolve();
  private scheduled = false;
  private commitTimer: NodeJS.Timeout | null = null;
  private stopping = false;
  private readonly maxBatch: number;
  /** Settles once the store is open and the persisted state is loaded. */
  private ready: Promise<void> = Promise.resolve();
  private loaded = false;
  private abandon: (err: unknown) => void = () => undefined;
  private ancestorsCache: { targets: ReadonlyMap<string, TargetRef>; memo: Map<string, string[]> } | null = null;
  /** Ops of the batch being planned whose change, if the store makes one, is announced. */
  private readonly announce = new Set<StoreOp>();
  /** Channels an opening op of the batch being planned is announced to (its tier's). */
  private readonly openingChannels = new Map<StoreOp, string[]>();
  /** Openings kept quiet (flapping): their channels count as told, so they hear its end. */
  private readonly quietOpenings = new Set<StoreOp>();
  /** Highest journal lsn handed to the queue, and the highest the store has recorded as committed. */
  private pushedLsn = 0;
  private markedLsn = 0;
  /** The last store commit's error while commits fail and are retried; null once one succeeds. */
  private commitError: string | null = null;

  private constructor(private readonly deps: ManagerDeps) {
    this.maxBatch = deps.maxBatch ?? 2000;
    this.queue = new SignalQueue(deps.maxQueue ?? 100_000);
  }

  /** Loads the persisted hysteresis state, so a restart neither re-opens nor forgets. */
  static async create(deps: ManagerDeps): Promise<IncidentManager> {
    const m = IncidentManager.whenStoreOpens(deps, Promise.resolve());
    await m.ready;
    return m;
  }

  /**
   * A manager that accepts signals at once and starts committing them when `storeOpen` resolves
   * (a database that is down at start-up): until then they wait in the bounded queue.
   */
  static whenStoreOpens(deps: ManagerDeps, storeOpen: Promise<void>): IncidentManager {
    const m = new IncidentManager(deps);
    // stop() may give up on a store that never opens; the race lets waiting batches end then.
    const abandoned = new Promise<never>((_, reject) => (m.abandon = reject));
    abandoned.catch(() => undefined);
    m.ready = Promise.race([storeOpen.then(() => m.load()), abandoned]);
    m.ready.then(
      () => (m.loaded = true),
      () => undefined,
    );
    return m;
  }

  private async load(): Promise<void> {
    await this.replayJournal();
    for (const st of await this.deps.store.loadState()) {
      this.states.set(st.fingerprint, st);
      this.firing.loaded(st);
      // Which fingerprints each series holds follows from the states; it is not stored twice.
      for (const key of st.releasedBy === null ? st.firing : [...st.firing, st.releasedBy]) {
        const list = this.series.get(key);
        this.series.set(key, list ? list.concat(st.fingerprint) : [st.fingerprint]);
      }
    }
  }

  /**
   * Journal records past the store's intake mark were answered 2xx but not committed before the
   * last stop (a crash, a kill -9, a store outage): they go first, before anything accepted since.
   */
  private async replayJournal(): Promise<void> {
    const journal = this.deps.journal;
    if (!journal) return;
    const mark = await this.deps.store.intakeMark(journal.id);
    // New records are numbered past the mark even if the journal's files end below it; a record
    // numbered at or below it would never be replayed.
    await journal.advanceTo(mark);
    const records = journal.takeRecovered().filter((r) => r.lsn > mark);
    for (let i = records.length - 1; i >= 0; i--) this.queue.pushJournaled(records[i]!.signals, records[i]!.lsn, true);
    // Nothing is deleted yet: the mark read here may not be on disk (a crash leaves it in the OS
    // cache only); the first synced commit lets old segments go.
    this.markedLsn = mark;
    if (records.length > 0) {
      this.pushedLsn = Math.max(this.pushedLsn, records[records.length - 1]!.lsn);
      const signals = records.reduce((n, r) => n + r.signals.length, 0);
      this.deps.logger.info({ records: records.length, signals, mark }, 'replaying alerts accepted but not stored before the last stop');
      this.schedule();
    }
  }

  /**
   * Takes alert signals in for good. With a journal: resolves once they are on disk in it; the
   * store commit follows, in order. Without one: once committed (submitMany).
   */
  accept(signals: Signal[]): Promise<void> {
    const journal = this.deps.journal;
    if (!journal) return this.submitMany(signals);
    if (this.stopping) return Promise.reject(new ManagerStoppedError());
    if (signals.length === 0) return Promise.resolve();
    const { lsn, durable } = journal.append(signals);
    // Records become durable in lsn order, so the queue receives them in that order.
    return durable.then(() => {
      this.queue.pushJournaled(signals, lsn);
      this.pushedLsn = lsn;
      this.schedule(true);
    });
  }

  /** What the alert endpoints feed: `accept` (durable in the journal) rather than `submitMany`. */
  alertIngest(): AlertIngest {
    return {
      submitMany: (signals) => this.accept(signals),
      queued: () => this.queued(),
      acknowledgeSeries: (signal, actor, message) => this.acknowledgeSeries(signal, actor, message),
    };
  }

  /** Resolves once the signal's effect is committed to the store. */
  submit(signal: Signal): Promise<void> {
    return this.submitMany([signal]);
  }

  /**
   * Resolves once every signal's effect is committed (all in one commit, in order). Rejects with
   * QueueFullError when the store has been away long enough to fill the queue.
   */
  submitMany(signals: Signal[]): Promise<void> {
    if (this.stopping) return Promise.reject(new ManagerStoppedError());
    if (signals.length === 0) return Promise.resolve();
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
      await new Promise((r) => setImmediate(r));
    }
    await this.tail;
  }

  /**
   * Stops accepting signals and commits what was accepted. If the store never opened, nothing can
   * be committed: the waiting signals are given up (their submitters see the error) and logged.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.commitNow();
    // Appends in flight finish first (their requests were not answered yet), so they commit too.
    await this.deps.journal?.close();
    await new Promise((r) => setImmediate(r));
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

  /** ingest.max_queue after a config reload. */
  setMaxQueue(limit: number): void {
    this.queue.setLimit(limit);
  }

  /** Null while store commits succeed; else why the batch being retried failed (for /readyz). */
  commitHealth(): string | null {
    return this.commitError === null ? null : `failing: ${this.commitError}`;
  }

  /** Signals taken in and not committed yet (including journal appends in flight). */
  queued(): number {
    return this.queue.size() + (this.deps.journal?.pending() ?? 0);
  }

  /** A person acknowledged it: the channels hear of it like of any other change. */
  acknowledge(number: string, actor: string, message: string): Promise<Incident> {
    return this.serial(async () => {
      const inc = await this.deps.store.acknowledge(number, actor, message, this.deps.clock.now());
      if (inc.notified.length > 0) this.deps.hooks?.notified?.(inc.notified.length);
      return inc;
    });
  }

  subscribe(number: string, address: string, actor: string): Promise<Incident> {
    const max = this.deps.current().policy.maxSubscribers;
    return this.serial(() => this.deps.store.subscribe(number, address, actor, this.deps.clock.now(), max));
  }

  comment(number: string, actor: string, text: string): Promise<Incident> {
    return this.serial(() => this.deps.store.comment(number, actor, text, this.deps.clock.now()));
  }

  /**
   * Acknowledges the active incidents that a series fires (a PagerDuty `acknowledge` event names
   * its alert, not an incident number). Returns the incidents acknowledged.
   */
  acknowledgeSeries(signal: Signal, actor: string, message: string): Promise<Incident[]> {
    return this.serial(async () => {
      const out: Incident[] = [];
      for (const fp of this.series.get(seriesKey(signal)) ?? []) {
        const number = this.states.get(fp)?.active;
        if (!number || number === '?') continue;
        const inc = await this.deps.store.get(number);
        if (inc?.status !== 'open') continue;
        const acked = await this.deps.store.acknowledge(number, actor, message, this.deps.clock.now());
        if (acked.notified.length > 0) this.deps.hooks?.notified?.(acked.notified.length);
        out.push(acked);
      }
      return out;
    });
  }

  /** A person resolved it: the fingerprint must fail `open_after` times again before it reopens. */
  resolve(number: string, actor: string, message: string): Promise<Incident> {
    return this.serial(async () => {
      const inc = await this.deps.store.resolve(number, actor, message, this.deps.clock.now());
      if (inc.notified.length > 0) this.deps.hooks?.notified?.(inc.notified.length);
      const st = this.states.get(inc.fingerprint);
      if (st) {
        this.indexActive(st, false);
        st.active = null;
        st.fails = 0;
        await this.deps.store.commit([{ kind: 'state', fingerprints: [st], forget: [] }]);
      }
      this.deps.hooks?.resolved?.(inc.severity);
      return inc;
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
   * JOURNAL_COMMIT_DELAY_MS under a stream of small requests instead of one per request.
   */
  private schedule(journaled = false): void {
    const wait = journaled && this.queue.size() < JOURNAL_COMMIT_SIGNALS && !this.stopping;
    if (this.scheduled) {
      if (!wait && this.commitTimer) this.commitNow();
      return;
    }
    this.scheduled = true;
    if (wait) {
      this.commitTimer = setTimeout(() => this.commitNow(), JOURNAL_COMMIT_DELAY_MS);
    } else {
      // Batch boundary: everything submitted in this turn of the event loop (and while the
      // previous commit was running) goes into the next commit.
      setImmediate(() => this.runScheduled());
    }
  }

  private commitNow(): void {
    if (!this.commitTimer) return;
    clearTimeout(this.commitTimer);
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
    const batch = this.queue.take(this.maxBatch);
    if (this.queue.size() > 0) this.schedule();
    if (batch === null) return;
    const count = batch.signals.length;
    await tracer.startActiveSpan('incidents.batch', async (span) => {
      span.setAttribute('signals', count);
      try {
        // One span per stage: classification and state (synchronous), then the store commit.
        const plan = tracer.startActiveSpan('rules.classify+incidents.plan', (s) => {
          try {
            return this.plan(batch.signals, batch.weights);
          } finally {
            s.end();
          }
        });
        // Every journal record below the lowest one still queued is in this batch or committed.
        const journal = this.deps.journal;
        const mark = journal ? Math.min(this.queue.minPendingLsn() - 1, this.pushedLsn) : 0;
        // Synced only when journal segments are to be deleted after it; otherwise the journal
        // still holds what this commit writes, and a power loss is repaired by the replay.
        const sync = journal !== undefined && journal.canRelease(mark);
        if (journal && mark > this.markedLsn) plan.ops.push({ kind: 'intake', journal: journal.id, lsn: mark, sync });
        const started = performance.now();
        const results = await tracer.startActiveSpan('store.commit', async (s) => {
          s.setAttribute('ops', plan.ops.length);
          try {
            return await this.commitWithRetry(plan.ops);
          } finally {
            s.end();
          }
        });
        this.deps.hooks?.committed?.((performance.now() - started) / 1000, count);
        this.applyResults(plan.ops, results);
        if (journal && mark > this.markedLsn) {
          this.markedLsn = mark;
          if (sync) journal.release(mark);
        }
        batch.committed();
      } catch (err) {
        batch.failed(err);
        throw err;
      } finally {
        span.end();
      }
    });
  }

  /** A store outage must not lose accepted signals: keep retrying the same ops, in order. */
  private async commitWithRetry(ops: StoreOp[]): Promise<OpResult[]> {
    let delay = RETRY_BASE_MS;
    for (;;) {
      try {
        const results = await this.deps.store.commit(ops);
        this.commitError = null;
        return results;
      } catch (err) {
        this.commitError = err instanceof Error ? err.message : String(err);
        if (this.stopping) throw err;
        this.deps.logger.error(
          { err, retryInMs: delay, ops: ops.length },
          'store commit failed; keeping the batch and retrying',
        );
        await new Promise<void>((r) => this.deps.clock.setTimeout(r, delay));
        delay = Math.min(delay * 2, RETRY_MAX_MS);
      }
    }
  }

  /** Computes the store operations for a batch and updates the in-memory state. */
  private plan(signals: Signal[], weights: number[]): { ops: StoreOp[] } {
    const { engine, policy, targets } = this.deps.current();
    const escalation = this.deps.escalation?.() ?? null;
    this.syncTargets(targets);
    const ops: StoreOp[] = [];
    /** Index of the last op about each fingerprint in this batch, to coalesce repeats. */
    const lastOp = new Map<string, number>();
    const dirty = new Map<string, FingerprintState>();
    const forget = new Set<string>();

    const touch = (st: FingerprintState, before: string): void => {
      if (stateKey(st) !== before) dirty.set(st.fingerprint, st);
    };

    for (let n = 0; n < signals.length; n++) {
      const signal = signals[n]!;
      const weight = weights[n]!;
      const key = seriesKey(signal);
      const prev = this.series.get(key) ?? [];
      const evaluation = signal.status === 'fail' ? engine.evaluate(signal) : null;
      const matches = evaluation === null ? [] : evaluation.matches;
      const fired = new Set<string>();

      for (const m of matches) {
        fired.add(m.fingerprint);
        let st = this.states.get(m.fingerprint);
        if (!st) {
          st = newState(m.fingerprint, signal.target.id);
          this.states.set(m.fingerprint, st);
        }
        forget.delete(m.fingerprint);
        const before = stateKey(st);
        if (!this.firing.has(st, key)) this.firing.add(st, key);
        st.releasedBy = null;
        st.ruleId = m.ruleId;
        st.openAfter = m.openAfter;
        st.resolveAfter = m.resolveAfter;
        const obs = observe(st, 'fail', signal.at, policy.flapping, weight);
        this.onFail(st, m, signal, weight, obs.flappingChanged, targets, policy, escalation, ops, lastOp);
        touch(st, before);
      }

      // Fingerprints this series fired before and not now. An ok signal is an ok for all of them.
      // A failing signal is one only for those whose condition it observed: a full reading (not
      // partial: the device answered) on which the fingerprint's rule was evaluated and did not
      // fire it. A rule an earlier match kept from being evaluated, or whose condition could not
      // be evaluated on these values, says nothing: toner at 4 % stays a problem while the
      // printer reports a jam, or does not answer. A fingerprint only sees an ok once no series
      // fires it any more.
      // concat, not push or spread: both leave 17 slots in arrays kept per series.
      let next: string[] = [];
      for (const fp of fired) next = next.concat(fp);
      for (const fp of prev) {
        if (fired.has(fp)) continue;
        const st = this.states.get(fp);
        if (!st) continue;
        // States written before ruleId was recorded keep the old reading: any failure is an ok.
        const unobserved = evaluation !== null && (signal.partial === true || (st.ruleId != null && !evaluation.observed(st.ruleId)));
        if (unobserved) {
          if (st.releasedBy === key || this.firing.has(st, key)) next = next.concat(fp);
          continue;
        }
        const before = stateKey(st);
        if (this.firing.remove(st, key)) {
          if (st.firing.length > 0) {
            touch(st, before); // another series still fails it; this one lets go
            continue;
          }
          st.releasedBy = key;
        } else if (st.releasedBy !== key) {
          continue; // another series fired it since; this one no longer has a say
        }
        const obs = observe(st, 'ok', signal.at, policy.flapping, weight);
        this.onOk(st, signal, obs.flappingChanged, ops, lastOp);
        if (forgettable(st)) {
          this.states.delete(fp);
          dirty.delete(fp);
          forget.add(fp);
        } else {
          next = next.concat(fp);
          touch(st, before);
        }
      }

      if (next.length === 0) this.series.delete(key);
      else if (next.length !== prev.length || next.some((fp, i) => fp !== prev[i])) this.series.set(key, next);
    }

    const planned = this.withNotifyOps(ops, escalation);
    if (dirty.size > 0 || forget.size > 0) {
      planned.push({ kind: 'state', fingerprints: [...dirty.values()], forget: [...forget] });
    }
    return { ops: planned };
  }

  /**
   * A notify op right after each op whose change is to be announced. The store names the event
   * from what the op actually did (a fail that turned out a repeat announces nothing) and fills
   * in the incident number, which only it knows for a new incident; the event is written in the
   * same commit as the change. Inserted after planning, so coalescing repeats (which edits ops in
   * place by index) is done by then.
   */
  private withNotifyOps(ops: StoreOp[], ctx: EscalationContext | null): StoreOp[] {
    if ((this.announce.size === 0 && this.quietOpenings.size === 0) || ctx === null || ctx.channelIds.length === 0) {
      this.announce.clear();
      this.quietOpenings.clear();
      this.openingChannels.clear();
      return ops;
    }
    const out: StoreOp[] = [];
    for (const op of ops) {
      out.push(op);
      if (op.kind === 'fail' && this.quietOpenings.has(op)) {
        out.push({ kind: 'notify', fingerprint: op.draft.fingerprint, channels: this.openingChannels.get(op) ?? [], quiet: true });
        continue;
      }
      if (!this.announce.has(op)) continue;
      if (op.kind === 'fail') {
        // The opening's channels (its tier's); a repeat announces nothing, whatever is listed.
        out.push({ kind: 'notify', fingerprint: op.draft.fingerprint, channels: this.openingChannels.get(op) ?? [] });
      } else if (op.kind === 'resolve' || op.kind === 'flapping') {
        out.push({ kind: 'notify', fingerprint: op.fingerprint, channels: [] });
      }
    }
    this.announce.clear();
    this.quietOpenings.clear();
    this.openingChannels.clear();
    return out;
  }

  private onFail(
    st: FingerprintState,
    m: RuleMatch,
    signal: Signal,
    weight: number,
    flappingChanged: boolean,
    targets: ReadonlyMap<string, TargetRef>,
    policy: IncidentPolicy,
    escalation: EscalationContext | null,
    ops: StoreOp[],
    lastOp: Map<string, number>,
  ): void {
    const at = signal.at;
    const opening = st.active === null;
    if (opening) {
      if (st.fails < m.openAfter) return;
      const parent = this.activeParent(signal.target.id, targets);
      if (parent !== null) {
        // A dependency holds back the child's incident; the parent's incident records it once.
        if (st.heldBy !== parent) {
          st.heldBy = parent;
          ops.push({
            kind: 'relate',
            at,
            fingerprint: parent,
            related: { targetId: signal.target.id, fingerprint: st.fingerprint, since: at },
            message: `${signal.target.name} (${signal.target.id}) is failing too: ${m.title}`,
          });
        }
        return;
      }
      st.heldBy = null;
      st.active = '?';
      st.severity = m.classification.severity;
      this.indexActive(st, true);
    } else {
      // Coalesce repeats of one fingerprint within the batch into one op, as long as nothing else
      // about this fingerprint (a flapping change) was queued after it.
      const i = lastOp.get(st.fingerprint);
      const op = i === undefined ? undefined : ops[i];
      if (op?.kind === 'fail') {
        op.count += weight;
        op.at = at;
        op.draft.message = signal.message;
        // The last signal's rendering: the incident's title follows the current condition.
        op.retitle = st.firing.length === 1;
        if (op.retitle) {
          op.draft.title = m.title;
          op.draft.description = m.description;
        }
        if (signal.subscribers) op.draft.subscribers = [...new Set([...(op.draft.subscribers ?? []), ...signal.subscribers])];
        if (flappingChanged) this.pushFlapping(st, at, ops, lastOp, true);
        return;
      }
    }
    lastOp.set(st.fingerprint, ops.length);
    // An opening counts the consecutive failures that led to it, not only the last one.
    const count = opening ? st.fails : weight;
    const draft = draftOf(m, signal);
    // One series: its rendering is the current condition, and the title follows it.
    const failOp: StoreOp = {
      kind: 'fail',
      at,
      count,
      reopenWindowMs: policy.reopenWindowMs,
      maxSubscribers: policy.maxSubscribers,
      draft,
      retitle: st.firing.length === 1,
    };
    let muted = false;
    if (opening && escalation !== null) {
      // Planned only for what should open: repeats (the hot path) skip it. Should the store find
      // otherwise, an unplanned opening is planned and announced by the escalation sweep.
      try {
        const plan = planOpening({ severity: draft.classification.severity, tier: draft.classification.tier, target: draft.target }, at, escalation);
        draft.classification = { ...draft.classification, tier: plan.tier };
        draft.escalation = plan.escalation;
        this.openingChannels.set(failOp, plan.channels);
        muted = plan.muted !== null;
      } catch (err) {
        // A calendar that never opens must not cost the signal: the sweep retries the plan.
        this.deps.logger.error({ err, fingerprint: draft.fingerprint }, 'cannot plan escalation; the sweep will retry');
      }
    }
    ops.push(failOp);
    // No opened/reopened notification while flapping: the flapping-started one says it all, and an
    // opening kept quiet still counts its channels as told, so they hear the end. Nothing at all
    // while the target is in maintenance: the escalation sweep announces it when the window ends.
    if (!muted && !st.flapping) this.announce.add(failOp);
    else if (!muted && this.openingChannels.has(failOp)) this.quietOpenings.add(failOp);
    if (flappingChanged || st.flapping) this.pushFlapping(st, at, ops, lastOp, flappingChanged);
  }

  private onOk(
    st: FingerprintState,
    signal: Signal,
    flappingChanged: boolean,
    ops: StoreOp[],
    lastOp: Map<string, number>,
  ): void {
    st.heldBy = null;
    if (st.active === null) return;
    if (flappingChanged) this.pushFlapping(st, signal.at, ops, lastOp, true);
    if (st.flapping || st.oks < st.resolveAfter) return;
    const resolveOp: StoreOp = {
      kind: 'resolve',
      at: signal.at,
      fingerprint: st.fingerprint,
      actor: 'system',
      message:
        signal.status === 'ok'
          ? `recovered after ${st.resolveAfter} ok signal${st.resolveAfter === 1 ? '' : 's'}: ${signal.message || signal.check.name + ' ok'}`
          : `condition cleared in ${st.resolveAfter} reading${st.resolveAfter === 1 ? '' : 's'} (the check still fails for another reason): ${signal.message}`,
    };
    ops.push(resolveOp);
    // Always: whoever was told of an incident is told of its end.
    this.announce.add(resolveOp);
    lastOp.set(st.fingerprint, ops.length - 1);
    this.indexActive(st, false);
    st.active = null;
  }

  /**
   * `changed`: the flag changed with this signal (announced once each way), rather than being
   * carried over to an incident that opens while flapping (which nobody was told of).
   */
  private pushFlapping(st: FingerprintState, at: number, ops: StoreOp[], lastOp: Map<string, number>, changed: boolean): void {
    lastOp.set(st.fingerprint, ops.length);
    const op: StoreOp = {
      kind: 'flapping',
      at,
      fingerprint: st.fingerprint,
      flapping: st.flapping,
      message: st.flapping
        ? `flapping: ${st.transitions.length} state changes within the window; notifications muted`
        : 'stopped flapping',
    };
    ops.push(op);
    if (changed) this.announce.add(op);
  }

  private applyResults(ops: StoreOp[], results: OpResult[]): void {
    let events = 0;
    for (let i = 0; i < results.length; i++) {
      const r = results[i]!;
      const op = ops[i]!;
      if (r.kind === 'fail' && op.kind === 'fail') {
        const st = this.states.get(r.fingerprint);
        if (st && st.active !== null) st.active = r.number;
        if (r.outcome !== 'repeated') this.deps.hooks?.opened?.(op.draft.classification.severity, r.outcome);
      } else if (r.kind === 'resolve' && r.number !== null) {
        this.deps.hooks?.resolved?.(this.states.get(r.fingerprint)?.severity ?? 'unknown');
      } else if (r.kind === 'notify') {
        events += r.events.length;
      }
    }
    if (events > 0) this.deps.hooks?.notified?.(events);
  }

  /** Targets changed (start or reload): recompute which are parents and rebuild their index. */
  private syncTargets(targets: ReadonlyMap<string, TargetRef>): void {
    if (this.ancestorsCache?.targets === targets) return;
    this.ancestorsCache = { targets, memo: new Map() };
    this.parentIds = new Set([...targets.values()].flatMap((t) => t.dependsOn));
    this.activeByTarget.clear();
    for (const st of this.states.values()) if (st.active !== null) this.indexActive(st, true);
  }

  private indexActive(st: FingerprintState, active: boolean): void {
    if (!this.parentIds.has(st.targetId)) return;
    // Arrays, not Sets: almost every target has one active fingerprint, and a Set costs far more.
    const list = this.activeByTarget.get(st.targetId);
    if (active) {
      if (!list) this.activeByTarget.set(st.targetId, [st.fingerprint]);
      else if (!list.includes(st.fingerprint)) this.activeByTarget.set(st.targetId, list.concat(st.fingerprint));
    } else if (list) {
      const i = list.indexOf(st.fingerprint);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.activeByTarget.delete(st.targetId);
    }
  }

  /** The fingerprint of an active incident on any (transitive) parent of the target, or null. */
  private activeParent(targetId: string, targets: ReadonlyMap<string, TargetRef>): string | null {
    if (this.activeByTarget.size === 0) return null;
    for (const parent of this.ancestors(targetId, targets)) {
      const list = this.activeByTarget.get(parent);
      if (list && list.length > 0) return list[0]!;
    }
    return null;
  }

  private ancestors(targetId: string, targets: ReadonlyMap<string, TargetRef>): string[] {
    this.syncTargets(targets);
    const memo = this.ancestorsCache!.memo;
    const hit = memo.get(targetId);
    if (hit) return hit;
    const out: string[] = [];
    const seen = new Set<string>([targetId]);
    const stack = [...(targets.get(targetId)?.dependsOn ?? [])];
    while (stack.length > 0) {
      const id = stack.shift()!;
      if (seen.has(id)) continue;
      seen.add(id);
      out.push(id);
      stack.push(...(targets.get(id)?.dependsOn ?? []));
    }
    memo.set(targetId, out);
    return out;
  }
}

function draftOf(m: RuleMatch, s: Signal): IncidentDraft {
  const draft: IncidentDraft = {
    fingerprint: m.fingerprint,
    classification: m.classification,
    title: m.title,
    description: m.description,
    runbook: m.runbook,
    ruleId: m.ruleId,
    source: s.source,
    target: { id: s.target.id, kind: s.target.kind, name: s.target.name, site: s.target.site, labels: s.target.labels },
    check: s.check,
    labels: s.labels,
    message: s.message,
  };
  if (s.subscribers) draft.subscribers = s.subscribers;
  return draft;
}
