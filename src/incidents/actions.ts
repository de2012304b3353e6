// What a person decides about an incident beyond acknowledging and resolving it: escalate it to a
// higher tier, change its severity or impact, reopen it. The decisions (which changes are allowed,
// the priority, the tier and timers that follow, who hears of it) are taken here and in
// escalation.ts / src/domain; the store only writes the result, compare-and-set on the incident as
// it was read (IncidentRevision), so a change racing the escalation sweep is refused, not mixed.
import { priorityOf, type Impact, type Severity, type Tier } from '../domain/classification.js';
import { personEvent } from '../domain/events.js';
import { emptyEscalation, type EscalationState, type Incident } from '../domain/incident.js';
import {
  assertActiveFor,
  assertCanReopen,
  assertHigherTier,
  escalatedByHandMessage,
  reclassifiedByHandMessage,
} from '../domain/transitions.js';
import type { Clock } from '../shared/clock.js';
import { IncidentNotFoundError, InvalidTransitionError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { IncidentRevision, IncidentStore } from '../store/types.js';
import { heldBackMessage, planManualEscalation, planOpening, planSeverityChange, type EscalationContext } from './escalation.js';
import { briefOf, logTransition } from './transition-log.js';

export interface ActionDeps {
  store: IncidentStore;
  clock: Clock;
  logger: Logger;
  /** The escalation policy and channels in force; null: none configured (nothing announced or planned). */
  escalation: () => EscalationContext | null;
  /** A change wrote `events` outbox events. */
  notified?: ((events: number) => void) | undefined;
  /** The incident moved up to `tier` (incidentd_escalations_total). */
  escalated?: ((tier: Tier, severity: Severity) => void) | undefined;
}

/** A severity and/or impact to set; at least one. */
export interface Reclassify {
  severity?: Severity | undefined;
  impact?: Impact | undefined;
}

export class PersonActions {
  constructor(private readonly deps: ActionDeps) {}

  /** Escalates an active incident by hand to `tier`, which must be above its tier. */
  async escalate(number: string, tier: Tier, actor: string, reason: string): Promise<Incident> {
    const inc = await this.read(number);
    assertActiveFor(number, inc.status, 'escalated');
    assertHigherTier(number, inc.tier, tier);
    const at = this.deps.clock.now();
    const plan = planManualEscalation(inc, tier, at, this.deps.escalation());
    const message = escalatedByHandMessage(inc.tier, tier, reason);
    const changed = await this.revise(inc, {
      at,
      set: { tier, escalation: plan.escalation },
      timeline: [{ actor, action: 'escalated', message, tier }],
      announce: { type: 'incident.escalated', channels: plan.channels ?? [], actor, message, tier, level: plan.escalation.level },
    });
    this.deps.escalated?.(tier, inc.severity);
    logTransition(this.deps.logger, { event: 'escalated', number, incident: briefOf(changed), fromTier: inc.tier, why: reason, by: actor });
    return changed;
  }

  /**
   * Changes the severity and/or impact of an active incident; the priority follows (the ITIL
   * matrix, as at classification), and so do the SLA, the tier and the announcement (see
   * planSeverityChange).
   */
  async reclassify(number: string, to: Reclassify, actor: string, reason: string): Promise<Incident> {
    const inc = await this.read(number);
    assertActiveFor(number, inc.status, 'reclassified');
    const severity = to.severity ?? inc.severity;
    const impact = to.impact ?? inc.impact;
    if (severity === inc.severity && impact === inc.impact) {
      throw new InvalidTransitionError(`incident ${number} is ${inc.severity} with impact ${inc.impact} already; nothing to change`);
    }
    const priority = priorityOf(impact, severity);
    const at = this.deps.clock.now();
    const plan = planSeverityChange(inc, severity, at, this.deps.escalation());
    const message = reclassifiedByHandMessage(inc, { severity, impact, priority }, reason);
    const timeline: IncidentRevision['timeline'] = [{ actor, action: 'reclassified', message }];
    if (plan.tier !== inc.tier) timeline.push({ actor, action: 'escalated', message: `severity raised to ${severity}; ${plan.tier} takes over`, tier: plan.tier });
    const changed = await this.revise(inc, {
      at,
      set: { severity, impact, priority, tier: plan.tier, escalation: plan.escalation },
      timeline,
      announce:
        plan.channels === null
          ? null
          : { type: 'incident.escalated', channels: plan.channels, actor, message, tier: plan.tier, level: plan.escalation.level },
    });
    if (plan.tier !== inc.tier) this.deps.escalated?.(plan.tier, severity);
    logTransition(this.deps.logger, {
      event: 'reclassified',
      number,
      incident: briefOf(changed),
      from: { severity: inc.severity, impact: inc.impact, priority: inc.priority },
      by: actor,
      why: reason,
    });
    return changed;
  }

  /**
   * Reopens a resolved (not closed) incident: it starts over as open, needs acknowledging again,
   * and its SLA and escalation start again as at an opening. Throws InvalidTransitionError when
   * another incident about the same problem is active.
   */
  async reopen(number: string, actor: string, reason: string): Promise<Incident> {
    const inc = await this.read(number);
    assertCanReopen(number, inc.status);
    const at = this.deps.clock.now();
    const ctx = this.deps.escalation();
    const timeline: IncidentRevision['timeline'] = [{ actor, action: 'reopened', message: reason }];
    let tier = inc.tier;
    let escalation: EscalationState = { ...emptyEscalation(), nextTimerAt: at }; // without a policy: the sweep plans it at once
    let channels: string[] = [];
    if (ctx !== null) {
      const plan = planOpening(inc, at, ctx);
      tier = plan.tier > inc.tier ? plan.tier : inc.tier;
      escalation = plan.escalation;
      channels = plan.channels;
      if (plan.silenced) timeline.push({ actor: 'escalation', action: 'silenced', message: heldBackMessage(plan.silenced) });
    }
    const changed = await this.revise(inc, {
      at,
      set: { reopen: true, tier, escalation },
      timeline,
      announce: { type: 'incident.reopened', channels, actor, message: reason, tier, level: escalation.level },
    });
    logTransition(this.deps.logger, { event: 'reopened', number, incident: briefOf(changed), by: actor, why: reason });
    return changed;
  }

  private async read(number: string): Promise<Incident> {
    const inc = await this.deps.store.get(number);
    if (!inc) throw new IncidentNotFoundError(number);
    return inc;
  }

  private async revise(
    inc: Incident,
    change: Omit<IncidentRevision, 'expect' | 'announce'> & {
      announce: { type: 'incident.escalated' | 'incident.reopened'; channels: string[]; actor: string; message: string; tier: Tier; level: number } | null;
    },
  ): Promise<Incident> {
    const a = change.announce;
    const changed = await this.deps.store.revise(inc.number, {
      at: change.at,
      expect: { status: inc.status, severity: inc.severity, tier: inc.tier, nextTimerAt: inc.escalation.nextTimerAt },
      set: change.set,
      timeline: change.timeline,
      announce: a === null ? null : { event: personEvent(inc.number, change.at, a.level, a), channels: a.channels },
    });
    // The event goes to every channel told of the incident now (before and newly); wake the outbox.
    if (a !== null && changed.notified.length > 0) this.deps.notified?.(changed.notified.length);
    return changed;
  }
}
