// The incident manager: where signals come in (probes through submit, alerts through accept and
// the intake journal) and human commands go. It wires the parts together: the planner turns a
// batch of signals into store operations (planner.ts), the committer commits batches one at a
// time and retries through store outages (committer.ts), and the commands run between batches
// without ever waiting behind a failing store (commands.ts).
import type { Impact, Severity, Tier } from '../domain/classification.js';
import type { Incident } from '../domain/incident.js';
import type { Signal, TargetRef } from '../domain/signal.js';
import type { IncidentPolicy } from '../config-core/types.js';
import type { RuleEngine } from '../rules/types.js';
import type { Clock } from '../shared/clock.js';
import { IncidentdError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { IncidentStore } from '../store/types.js';
import type { AlertIngest } from '../sources/types.js';
import type { ReceivedRequest } from '../sources/requests.js';
import { Commands } from './commands.js';
import { BatchCommitter } from './committer.js';
import type { EscalationContext } from './escalation.js';
import type { IntakeJournal } from './intake-journal.js';
import { Planner, type ProbeCheckSet } from './planner.js';
import { logTransitions } from './transition-log.js';
import type { IncidentCommands } from './types.js';

export interface ManagerHooks {
  opened?(severity: Severity, outcome: 'opened' | 'reopened'): void;
  resolved?(severity: Severity | 'unknown'): void;
  committed?(seconds: number, signals: number): void;
  /** A person escalated an incident to `tier` (by hand, or by raising its severity). */
  escalated?(tier: Tier, severity: Severity): void;
  /** An incident was acknowledged or resolved (by a person or a signal) `ms` after it opened. */
  handled?(measure: 'acknowledge' | 'resolve', severity: Severity, ms: number): void;
  /** A commit wrote `events` outbox events (wire to Outbox.kick so they go out at once). */
  notified?(events: number): void;
}

export interface ManagerDeps {
  store: IncidentStore;
  clock: Clock;
  logger: Logger;
  /**
   * Read at every batch: a config reload swaps rules, policy, targets and probe checks without a
   * restart. Without `probeChecks` every probe signal is taken.
   */
  current: () => { engine: RuleEngine; policy: IncidentPolicy; targets: ReadonlyMap<string, TargetRef>; probeChecks?: ProbeCheckSet };
  hooks?: ManagerHooks | undefined;
  /** Largest number of signals in one commit (group commit). */
  maxBatch?: number | undefined;
  /** Signals that may wait for the store (e.g. during an outage) before new ones are refused. */
  maxQueue?: number | undefined;
  /**
   * Escalation: the tier, SLA timers and channels of an opening. Read at every batch, so a reload
   * takes effect. Without it, or with no channel configured, no notify ops are written and no
   * timers planned. Later events of an incident go to the channels told of it before (the store
   * keeps them), so resolutions, acknowledgements and flapping need no channel list here.
   */
  escalation?: (() => EscalationContext) | undefined;
  /**
   * The write-ahead queue on disk for alerts (`accept`): they count as taken in once journaled,
   * and whatever the store has not committed is replayed from it at start-up.
   */
  journal?: IntakeJournal | undefined;
}

/** The timeline entry (and log reason) of an incident resolved because its check was removed. */
export function removedCheckMessage(targetId: string, checkName: string, where: string): string {
  return `check ${checkName} of target ${targetId} was removed from the configuration (${where}); nothing watches it any more`;
}

export class ManagerStoppedError extends IncidentdError {
  constructor() {
    super('the incident manager is stopping and accepts no more signals');
  }
}

export class IncidentManager implements IncidentCommands {
  private readonly planner: Planner;
  private readonly committer: BatchCommitter;
  private readonly commands: Commands;

  private constructor(private readonly deps: ManagerDeps) {
    const { store, clock, logger, hooks } = deps;
    const planner = new Planner(logger);
    this.planner = planner;
    this.committer = new BatchCommitter({
      store,
      clock,
      logger,
      journal: deps.journal,
      maxBatch: deps.maxBatch ?? 5000,
      maxQueue: deps.maxQueue ?? 100_000,
      handler: {
        plan: (signals, weights, keys) => {
          const { engine, policy, targets, probeChecks } = deps.current();
          return planner.plan(signals, weights, { engine, policy, targets, probeChecks, escalation: deps.escalation?.() ?? null }, keys);
        },
        settle: (plan, results) => {
          const outcome = planner.settle(plan, results);
          for (const o of outcome.opened) hooks?.opened?.(o.severity, o.outcome);
          for (const severity of outcome.resolved) hooks?.resolved?.(severity);
          for (const r of outcome.resolvedAfter) hooks?.handled?.('resolve', r.severity, r.ms);
          logTransitions(logger, outcome.transitions);
          if (outcome.events > 0) hooks?.notified?.(outcome.events);
        },
        committed: (seconds, signals) => hooks?.committed?.(seconds, signals),
      },
    });
    this.commands = new Commands({
      store,
      clock,
      logger,
      committer: this.committer,
      planner,
      maxSubscribers: () => deps.current().policy.maxSubscribers,
      notified: (events) => hooks?.notified?.(events),
      resolved: (severity) => hooks?.resolved?.(severity),
      handled: (measure, severity, ms) => hooks?.handled?.(measure, severity, ms),
      escalation: () => deps.escalation?.() ?? null,
      escalated: (tier, severity) => hooks?.escalated?.(tier, severity),
    });
  }

  /** Loads the persisted hysteresis state, so a restart neither re-opens nor forgets. */
  static async create(deps: ManagerDeps): Promise<IncidentManager> {
    const m = new IncidentManager(deps);
    await m.start(Promise.resolve());
    return m;
  }

  /**
   * A manager that accepts signals at once and starts committing them when `storeOpen` resolves
   * (a database that is down at start-up): until then they wait in the bounded queue.
   */
  static whenStoreOpens(deps: ManagerDeps, storeOpen: Promise<void>): IncidentManager {
    const m = new IncidentManager(deps);
    m.start(storeOpen).catch(() => undefined);
    return m;
  }

  private start(storeOpen: Promise<void>): Promise<void> {
    return this.committer.start(storeOpen, async () => this.planner.load(await this.deps.store.loadState()));
  }

  /**
   * Takes alert signals in for good. With a journal: resolves once they are on disk in it; the
   * store commit follows, in order. Without one: once committed (submitMany). Given the request
   * the signals were made of, the journal keeps that instead (replayed through the same normaliser).
   */
  accept(signals: Signal[], request?: ReceivedRequest): Promise<void> {
    const journal = this.deps.journal;
    if (!journal) return this.submitMany(signals);
    if (this.committer.isStopping()) return Promise.reject(new ManagerStoppedError());
    if (signals.length === 0) return Promise.resolve();
    const { lsn, durable } = journal.append(signals, request);
    // Records become durable in lsn order, so the queue receives them in that order.
    return durable.then(() => this.committer.pushJournaled(signals, lsn));
  }

  /** What the alert endpoints feed: `accept` (durable in the journal) rather than `submitMany`. */
  alertIngest(): AlertIngest {
    return {
      submitMany: (signals, request) => this.accept(signals, request),
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
    if (this.committer.isStopping()) return Promise.reject(new ManagerStoppedError());
    if (signals.length === 0) return Promise.resolve();
    return this.committer.push(signals);
  }

  /** Waits until everything submitted so far is committed. */
  flush(): Promise<void> {
    return this.committer.flush();
  }

  /**
   * Stops accepting signals and commits what was accepted. If the store never opened, nothing can
   * be committed: the waiting signals are given up (their submitters see the error) and logged.
   */
  stop(): Promise<void> {
    // Appends in flight finish first (their requests were not answered yet), so they commit too.
    return this.committer.stop(async () => this.deps.journal?.close());
  }

  /**
   * Resolves the active incidents that only probe checks no longer in `current().probeChecks`
   * fire (after a reload, and at start-up for checks removed while the daemon was down), with a
   * timeline entry saying so; `where` names where a target's checks were configured (its probe
   * file). Resolves once committed; waits for a store that is not open yet.
   */
  resolveRemovedChecks(where: (targetId: string) => string): Promise<void> {
    return this.committer.commitPlanned(() => {
      const { probeChecks } = this.deps.current();
      if (probeChecks === undefined) return { ops: [] };
      return this.planner.planRemovedChecks({ probeChecks, escalation: this.deps.escalation?.() ?? null }, this.deps.clock.now(), (c) =>
        removedCheckMessage(c.targetId, c.checkName, where(c.targetId)),
      );
    });
  }

  /** ingest.max_queue after a config reload. */
  setMaxQueue(limit: number): void {
    this.committer.queue.setLimit(limit);
  }

  /** Null while store commits succeed; else why the batch being retried failed (for /readyz). */
  commitHealth(): string | null {
    const failure = this.committer.commitFailure();
    return failure === null ? null : `failing: ${failure}`;
  }

  /**
   * Null once the store is open and what the intake journal held at start is committed (for
   * /readyz: counting incidents before then misses the replayed alerts); else what is under way.
   */
  startupHealth(): string | null {
    return this.committer.startup();
  }

  /** Signals taken in and not committed yet (including journal appends in flight). */
  queued(): number {
    return this.committer.queue.size() + (this.deps.journal?.pending() ?? 0);
  }

  acknowledge(number: string, actor: string, message: string): Promise<Incident> {
    return this.commands.acknowledge(number, actor, message);
  }

  resolve(number: string, actor: string, message: string): Promise<Incident> {
    return this.commands.resolve(number, actor, message);
  }

  comment(number: string, actor: string, text: string): Promise<Incident> {
    return this.commands.comment(number, actor, text);
  }

  subscribe(number: string, address: string, actor: string): Promise<Incident> {
    return this.commands.subscribe(number, address, actor);
  }

  escalate(number: string, tier: Tier, actor: string, reason: string): Promise<Incident> {
    return this.commands.escalate(number, tier, actor, reason);
  }

  reclassify(number: string, to: { severity?: Severity | undefined; impact?: Impact | undefined }, actor: string, reason: string): Promise<Incident> {
    return this.commands.reclassify(number, to, actor, reason);
  }

  reopen(number: string, actor: string, reason: string): Promise<Incident> {
    return this.commands.reopen(number, actor, reason);
  }

  /** Acknowledges the open incidents that the signal's series fires (a PagerDuty `acknowledge`). */
  acknowledgeSeries(signal: Signal, actor: string, message: string): Promise<Incident[]> {
    return this.commands.acknowledgeSeries(signal, actor, message);
  }
}
