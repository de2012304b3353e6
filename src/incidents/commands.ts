// What people do to incidents (acknowledge, resolve, comment, subscribe, escalate, change severity,
// reopen; a PagerDuty acknowledge event). Each runs between two batch commits, so the in-memory state and the store agree about
// order; none waits behind a store that fails or hangs (StoreBusyError, answered 503).
import type { Incident } from '../domain/incident.js';
import type { Severity, Tier } from '../domain/classification.js';
import type { Signal } from '../domain/signal.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import { StoreUnavailableError } from '../shared/errors.js';
import type { IncidentStore } from '../store/types.js';
import type { BatchCommitter } from './committer.js';
import type { Planner } from './planner.js';
import { briefOf, logTransition } from './transition-log.js';
import { PersonActions, type Reclassify } from './actions.js';
import type { EscalationContext } from './escalation.js';
import type { IncidentCommands } from './types.js';

/** Seconds a person (or their client) is asked to wait before sending a refused command again. */
export const COMMAND_RETRY_AFTER_S = 5;

/**
 * A human command was refused without being applied, because the store cannot take it now (its
 * commits fail, it has not opened, or a commit holds it). Sending it again later is safe.
 */
export class StoreBusyError extends StoreUnavailableError {
  readonly retryAfterS = COMMAND_RETRY_AFTER_S;
  constructor(readonly reason: string) {
    super(`${reason}; the incident was not changed, send the request again in ${COMMAND_RETRY_AFTER_S}s`);
  }
}

export interface CommandDeps {
  /** The escalation policy and channels in force (escalate, severity changes, reopen); absent: none. */
  escalation?: (() => EscalationContext | null) | undefined;
  /** A person moved an incident up to `tier`. */
  escalated?: ((tier: Tier, severity: Severity) => void) | undefined;
  store: IncidentStore;
  clock: Clock;
  /** Acknowledgements and resolutions are logged once the store has them. */
  logger: Logger;
  committer: BatchCommitter;
  planner: Planner;
  /** incidents.max_subscribers of the config in force. */
  maxSubscribers: () => number;
  /** A command wrote `events` outbox events. */
  notified?: ((events: number) => void) | undefined;
  /** A person resolved an incident of this severity. */
  resolved?: ((severity: Severity) => void) | undefined;
  /** An incident was acknowledged or resolved `ms` after it opened (the time-to-* histograms). */
  handled?: ((measure: 'acknowledge' | 'resolve', severity: Severity, ms: number) => void) | undefined;
}

export class Commands implements IncidentCommands {
  private readonly actions: PersonActions;

  constructor(private readonly deps: CommandDeps) {
    this.actions = new PersonActions({
      store: deps.store,
      clock: deps.clock,
      logger: deps.logger,
      escalation: () => deps.escalation?.() ?? null,
      notified: (events) => deps.notified?.(events),
      escalated: (tier, severity) => deps.escalated?.(tier, severity),
    });
  }

  escalate(number: string, tier: Tier, actor: string, reason: string): Promise<Incident> {
    return this.deps.committer.command(() => this.actions.escalate(number, tier, actor, reason));
  }

  reclassify(number: string, to: Reclassify, actor: string, reason: string): Promise<Incident> {
    const { committer, planner } = this.deps;
    return committer.command(async () => {
      const inc = await this.actions.reclassify(number, to, actor, reason);
      planner.reclassifiedByPerson(inc.fingerprint, inc.severity);
      return inc;
    });
  }

  /** A person reopened it: it is the fingerprint's active incident again, which a recovery resolves. */
  reopen(number: string, actor: string, reason: string): Promise<Incident> {
    const { store, committer, planner } = this.deps;
    return committer.command(async () => {
      const inc = await this.actions.reopen(number, actor, reason);
      const st = planner.reopenedByPerson(inc.fingerprint, inc.number, inc.target.id, inc.severity);
      await store.commit([{ kind: 'state', fingerprints: [st], forget: [] }]);
      return inc;
    });
  }

  /** A person acknowledged it: the channels hear of it like of any other change. */
  acknowledge(number: string, actor: string, message: string): Promise<Incident> {
    const { store, clock, committer } = this.deps;
    return committer.command(async () => {
      const inc = await store.acknowledge(number, actor, message, clock.now());
      this.notified(inc);
      this.logAcknowledged(inc, actor, message);
      return inc;
    });
  }

  /** A person resolved it: the fingerprint must fail `open_after` times again before it reopens. */
  resolve(number: string, actor: string, message: string): Promise<Incident> {
    const { store, clock, committer, planner } = this.deps;
    return committer.command(async () => {
      const inc = await store.resolve(number, actor, message, clock.now());
      this.notified(inc);
      logTransition(this.deps.logger, { event: 'resolved', number: inc.number, incident: briefOf(inc), by: actor, why: message || 'resolved by hand' });
      const st = planner.resolvedByPerson(inc.fingerprint);
      if (st) await store.commit([{ kind: 'state', fingerprints: [st], forget: [] }]);
      this.deps.resolved?.(inc.severity);
      if (inc.resolvedAt !== null) this.deps.handled?.('resolve', inc.severity, inc.resolvedAt - inc.firstSeen);
      return inc;
    });
  }

  comment(number: string, actor: string, text: string): Promise<Incident> {
    const { store, clock, committer } = this.deps;
    return committer.command(async () => {
      const inc = await store.comment(number, actor, text, clock.now());
      this.notified(inc);
      return inc;
    });
  }

  subscribe(number: string, address: string, actor: string): Promise<Incident> {
    const { store, clock, committer } = this.deps;
    const max = this.deps.maxSubscribers();
    return committer.command(() => store.subscribe(number, address, actor, clock.now(), max));
  }

  /**
   * Acknowledges the open incidents that a series fires (a PagerDuty `acknowledge` event names
   * its alert, not an incident number). Returns the incidents acknowledged.
   */
  acknowledgeSeries(signal: Signal, actor: string, message: string): Promise<Incident[]> {
    const { store, clock, committer, planner } = this.deps;
    return committer.command(async () => {
      const out: Incident[] = [];
      for (const fingerprint of planner.activeFingerprintsOf(signal)) {
        // By fingerprint: the store numbers incidents, and it is the one that knows.
        const [inc] = (await store.list({ fingerprint, status: ['open'] }, 1)).items;
        if (!inc) continue;
        const acked = await store.acknowledge(inc.number, actor, message, clock.now());
        this.notified(acked);
        this.logAcknowledged(acked, actor, message);
        out.push(acked);
      }
      return out;
    });
  }

  private logAcknowledged(inc: Incident, actor: string, message: string): void {
    if (inc.acknowledgedAt !== null) this.deps.handled?.('acknowledge', inc.severity, inc.acknowledgedAt - inc.firstSeen);
    logTransition(this.deps.logger, { event: 'acknowledged', number: inc.number, incident: briefOf(inc), by: actor, note: message });
  }

  private notified(inc: Incident): void {
    if (inc.notified.length > 0) this.deps.notified?.(inc.notified.length);
  }
}
