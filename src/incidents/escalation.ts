// Escalation as pure functions: which tier takes an incident, which channels hear of it, when its
// SLA falls due and when it climbs. The store keeps the result (EscalationState) with the incident
// and the escalator (escalator.ts) applies what `evaluate` decides when a stored timer is due, so a
// restart loses no timer and a compare-and-set in the store keeps any of them from firing twice.
import { severityRank, type Severity, type Tier } from '../domain/classification.js';
import type { EscalationState, Incident, IncidentTarget, TimelineEntry } from '../domain/incident.js';
import { emptyEscalation } from '../domain/incident.js';
import type { EscalationPolicy } from '../config-core/types.js';
import { formatDuration } from '../shared/duration.js';
import { subjectOf, type SilenceHit, type SilenceSubject } from '../domain/silence.js';

/** Business time of one site; 24×7 when the severity does not count business hours. */
export interface BusinessClock {
  /** The instant when `ms` of open time have passed after `start`. */
  addBusinessTime(start: number, ms: number): number;
}

export const ALWAYS: BusinessClock = { addBusinessTime: (start, ms) => start + ms };

export interface MaintenanceHit {
  id: string;
  reason: string;
  /** When the target is out of maintenance again. */
  until: number;
}

/** Everything escalation reads besides the incident; rebuilt on every config reload. */
export interface EscalationContext {
  policy: EscalationPolicy;
  /** Tenants with an escalation policy of their own (tenants[].escalation); the rest use `policy`. */
  tenantPolicies?: ReadonlyMap<string, EscalationPolicy>;
  /** Ids of the configured channels, to expand `*`. */
  channelIds: readonly string[];
  /** Channels that keep subscribers informed: told of every opening (and so of what follows). */
  communication: readonly string[];
  calendarFor(site: string): BusinessClock;
  maintenance(target: IncidentTarget, at: number): MaintenanceHit | null;
  /** The active silences matching the incident's fields at `at` (src/incidents/silences.ts); absent: none. */
  silenced?: ((subject: SilenceSubject, at: number) => SilenceHit | null) | undefined;
}

/** The context with the tenant's own escalation policy in place of the global one, when it has one. */
export function contextFor(ctx: EscalationContext, tenant: string | undefined): EscalationContext {
  const own = tenant === undefined ? undefined : ctx.tenantPolicies?.get(tenant);
  return own === undefined ? ctx : { ...ctx, policy: own };
}

/** What an opening is planned from: enough of the incident for maintenance and silences. */
export interface OpeningSubject {
  /** Whose escalation policy applies; absent: the default tenant's (the global one). */
  tenant?: string | undefined;
  severity: Severity;
  tier: Tier;
  target: IncidentTarget;
  check?: { name: string } | undefined;
  source?: string | undefined;
  category?: string | undefined;
  labels?: Record<string, string> | undefined;
}

/** What an opening (or reopening) starts: the tier, the timers and who hears of it now. */
export interface OpeningPlan {
  tier: Tier;
  escalation: EscalationState;
  /** Channels the opening is announced to; empty while the target is in maintenance or silenced. */
  channels: string[];
  /** The maintenance window or the silences holding it back. */
  muted: MaintenanceHit | null;
  /** Set when silences (not maintenance) hold it back. */
  silenced: SilenceHit | null;
}

/** The timeline text of an incident a silence holds back. */
export function heldBackMessage(hit: SilenceHit): string {
  return `held back by ${hit.text}`;
}

/** An announcement `evaluate` wants written with its change. */
export interface EscalationAnnouncement {
  type: 'incident.opened' | 'incident.escalated';
  /** Channels that hear of it besides those told before (the store adds those). */
  channels: string[];
  tier: Tier;
  message: string;
}

/** What `evaluate` decided for one due incident. */
export interface EscalationDecision {
  tier: Tier;
  escalation: EscalationState;
  timeline: Omit<TimelineEntry, 'at'>[];
  event: EscalationAnnouncement | null;
  /** SLA breaches recorded now, for metrics. */
  breaches: ('ack' | 'resolve')[];
}

const ACTOR = 'escalation';

function maxTier(a: Tier, b: Tier): Tier {
  return a > b ? a : b; // 'L1' < 'L2' < 'L3'
}

/** The tier an incident of this severity starts at: the severity's, or the rule's when higher. */
export function startingTier(ruleTier: Tier, severity: Severity, policy: EscalationPolicy): Tier {
  return maxTier(ruleTier, policy.severities[severity].tier);
}

/** Channel references (`*` for every channel) as the configured channel ids they name, each once. */
export function expandChannels(refs: readonly string[], channelIds: readonly string[]): string[] {
  const out = new Set<string>();
  for (const r of refs) {
    if (r === '*') for (const id of channelIds) out.add(id);
    else if (channelIds.includes(r)) out.add(r); // a channel removed by a reload is skipped
  }
  return [...out];
}

function expand(refs: readonly string[], ctx: EscalationContext): string[] {
  return expandChannels(refs, ctx.channelIds);
}

/** The channels a tier hears on, with the severity's extra channels. */
export function channelsFor(tier: Tier, severity: Severity, ctx: EscalationContext): string[] {
  return expand([...ctx.policy.tiers[tier].channels, ...ctx.policy.severities[severity].notify], ctx);
}

function clockFor(severity: Severity, site: string, ctx: EscalationContext): BusinessClock {
  return ctx.policy.severities[severity].businessHours ? ctx.calendarFor(site) : ALWAYS;
}

/** When an unacknowledged incident entering `tier` at `from` climbs next, or null if it never does. */
function nextEscalation(tier: Tier, from: number, clock: BusinessClock, ctx: EscalationContext): number | null {
  const t = ctx.policy.tiers[tier];
  if (t.next === null || t.escalateAfterMs === null) return null;
  return clock.addBusinessTime(from, t.escalateAfterMs);
}

/** The earliest timer still to fire, or null. */
function nextTimer(e: EscalationState, status: Incident['status']): number | null {
  const pending: number[] = [];
  if (e.mutedUntil !== null) pending.push(e.mutedUntil);
  if (status === 'open' && e.nextEscalationAt !== null) pending.push(e.nextEscalationAt);
  if (status === 'open' && e.ackDueAt !== null && e.ackBreachedAt === null) pending.push(e.ackDueAt);
  if (e.resolveDueAt !== null && e.resolveBreachedAt === null) pending.push(e.resolveDueAt);
  return pending.length === 0 ? null : Math.min(...pending);
}

/**
 * Plans an incident that opens (or reopens) at `at`. In maintenance nothing is announced and no
 * SLA runs: the sweep looks again when the window ends and announces it then if still active.
 */
export function planOpening(inc: OpeningSubject, at: number, context: EscalationContext): OpeningPlan {
  const ctx = contextFor(context, inc.tenant);
  const tier = startingTier(inc.tier, inc.severity, ctx.policy);
  const muted = ctx.maintenance(inc.target, at);
  if (muted) {
    const escalation = { ...emptyEscalation(), mutedUntil: muted.until, mutedBy: `${muted.id} (${muted.reason})` };
    escalation.nextTimerAt = nextTimer(escalation, 'open');
    return { tier, escalation, channels: [], muted, silenced: null };
  }
  // Silences hold it back like maintenance: recorded, not announced, no SLA until they end.
  const silenced = ctx.silenced?.(subjectOf(inc), at) ?? null;
  if (silenced) {
    const escalation = { ...emptyEscalation(), mutedUntil: silenced.until, mutedBy: silenced.text, silencedBy: silenced.ids };
    escalation.nextTimerAt = nextTimer(escalation, 'open');
    return { tier, escalation, channels: [], muted: { id: silenced.ids.join(', '), reason: silenced.text, until: silenced.until }, silenced };
  }
  const sev = ctx.policy.severities[inc.severity];
  const clock = clockFor(inc.severity, inc.target.site, ctx);
  const escalation: EscalationState = {
    ...emptyEscalation(),
    startedAt: at,
    severity: inc.severity,
    ackDueAt: sev.ackMs === null ? null : clock.addBusinessTime(at, sev.ackMs),
    resolveDueAt: sev.resolveMs === null ? null : clock.addBusinessTime(at, sev.resolveMs),
    nextEscalationAt: nextEscalation(tier, at, clock, ctx),
  };
  escalation.nextTimerAt = nextTimer(escalation, 'open');
  const channels = [...new Set([...channelsFor(tier, inc.severity, ctx), ...expand(ctx.communication, ctx)])];
  return { tier, escalation, channels, muted: null, silenced: null };
}

/**
 * Decides what is due for an active incident at `now`: announcing it after maintenance, a raised
 * severity's tier and SLA, SLA breaches, climbing a tier. At most one announcement per call; when
 * more is due (a daemon that was down for hours) the returned `nextTimerAt` is already due again
 * and the sweep calls again, so every tier is told in turn.
 */
export function evaluate(inc: Incident, now: number, context: EscalationContext): EscalationDecision {
  const ctx = contextFor(context, inc.tenant);
  const e: EscalationState = { ...inc.escalation };
  const timeline: Omit<TimelineEntry, 'at'>[] = [];
  const breaches: ('ack' | 'resolve')[] = [];
  let tier = inc.tier;
  let event: EscalationAnnouncement | null = null;
  const done = (): EscalationDecision => {
    e.nextTimerAt = nextTimer(e, inc.status);
    return { tier, escalation: e, timeline, event, breaches };
  };

  // Nothing fires during maintenance; look again when it ends.
  const muted = ctx.maintenance(inc.target, now);
  if (muted) {
    // Timers that fall due inside the window wait for its end; an unannounced incident stays so.
    if (e.severity === null || e.mutedUntil !== null) {
      e.mutedUntil = muted.until;
      e.mutedBy = `${muted.id} (${muted.reason})`;
    }
    e.nextTimerAt = muted.until;
    return { tier, escalation: e, timeline, event, breaches };
  }

  // Silences: the same, and the timeline names each silence once, when it starts holding it back.
  const silenced = ctx.silenced?.(subjectOf(inc), now) ?? null;
  if (silenced) {
    if (e.severity === null || e.mutedUntil !== null) {
      e.mutedUntil = silenced.until;
      e.mutedBy = silenced.text;
    }
    const before = new Set(e.silencedBy);
    if (silenced.ids.some((id) => !before.has(id))) timeline.push({ actor: ACTOR, action: 'silenced', message: heldBackMessage(silenced) });
    e.silencedBy = silenced.ids;
    e.nextTimerAt = silenced.until;
    return { tier, escalation: e, timeline, event, breaches };
  }
  const wasSilenced = e.silencedBy.length > 0 ? `silence ${e.silencedBy.join(', ')} is over` : null;
  e.silencedBy = [];

  // Not planned yet: opened in a maintenance window that is over now, opened by a store write the
  // manager did not plan (another instance resolved it meanwhile), or active when the database was
  // upgraded from a version without escalation. Announce it now, unless channels were told of it
  // already (they heard the opening or reopening): then only the timers start.
  if (e.severity === null || e.mutedUntil !== null) {
    const plan = planOpening(inc, now, ctx);
    const told = e.mutedUntil === null && inc.notified.length > 0;
    const why =
      e.mutedUntil === null
        ? 'escalation started'
        : wasSilenced !== null
          ? wasSilenced
          : e.mutedBy === null
            ? 'maintenance is over'
            : `maintenance ${e.mutedBy} is over`;
    timeline.push({ actor: ACTOR, action: 'announced', message: `${why}; ${plan.tier} takes it${dueText(plan.escalation)}` });
    return {
      tier: maxTier(plan.tier, inc.tier),
      escalation: plan.escalation,
      timeline,
      event: told ? null : { type: 'incident.opened', channels: plan.channels, tier: plan.tier, message: why },
      breaches,
    };
  }

  // An announced incident a silence held back: its timers run again (what fell due catches up now).
  if (wasSilenced !== null) timeline.push({ actor: ACTOR, action: 'silenced', message: `${wasSilenced}; escalation resumes` });
  const clock = clockFor(inc.severity, inc.target.site, ctx);
  const sev = ctx.policy.severities[inc.severity];

  // A rule raised the severity: stricter SLA from the same start, maybe a higher tier at once.
  if (e.severity !== inc.severity) {
    const from = e.startedAt ?? inc.firstSeen;
    const raised = severityRank(inc.severity) > severityRank(e.severity);
    e.severity = inc.severity;
    e.ackDueAt = sev.ackMs === null ? null : clock.addBusinessTime(from, sev.ackMs);
    e.resolveDueAt = sev.resolveMs === null ? null : clock.addBusinessTime(from, sev.resolveMs);
    const start = startingTier(tier, inc.severity, ctx.policy);
    if (raised) {
      const moved = start !== tier;
      tier = start;
      if (moved) {
        e.level += 1;
        e.nextEscalationAt = nextEscalation(tier, now, clock, ctx);
      }
      const message = `severity raised to ${inc.severity}${moved ? `; ${tier} takes over` : ''}`;
      // A raise that keeps the tier hands over to nobody: no tier to count.
      timeline.push(moved ? { actor: ACTOR, action: 'escalated', message, tier } : { actor: ACTOR, action: 'escalated', message });
      event = { type: 'incident.escalated', channels: channelsFor(tier, inc.severity, ctx), tier, message };
    }
  }

  // SLA: time to acknowledge.
  if (e.ackDueAt !== null && e.ackBreachedAt === null && now >= e.ackDueAt) {
    const ackedInTime = inc.acknowledgedAt !== null && inc.acknowledgedAt <= e.ackDueAt;
    if (!ackedInTime) {
      e.ackBreachedAt = e.ackDueAt;
      breaches.push('ack');
      timeline.push({
        actor: ACTOR,
        action: 'sla-breached',
        message: `not acknowledged within ${formatDuration(sev.ackMs ?? 0)} (SLA of ${inc.severity} incidents)`,
      });
    }
  }
  let climbFrom: number | null = null;
  let climbWhy = '';
  // SLA: time to resolve. A breach climbs a tier even when acknowledged.
  // With a raise announced this round, the breach (and its climb) waits for the next round, which
  // is due at once: one announcement per round, and the climb is not lost.
  if (event === null && e.resolveDueAt !== null && e.resolveBreachedAt === null && now >= e.resolveDueAt) {
    e.resolveBreachedAt = e.resolveDueAt;
    breaches.push('resolve');
    const text = `not resolved within ${formatDuration(sev.resolveMs ?? 0)} (SLA of ${inc.severity} incidents)`;
    timeline.push({ actor: ACTOR, action: 'sla-breached', message: text });
    climbFrom = now;
    climbWhy = text;
  }

  // Acknowledging stops escalation.
  if (inc.status !== 'open') e.nextEscalationAt = null;
  else if (e.nextEscalationAt !== null && now >= e.nextEscalationAt && climbFrom === null) {
    // Counted from when it was due, so a late sweep catches up tier by tier.
    climbFrom = e.nextEscalationAt;
    const waited = ctx.policy.tiers[tier].escalateAfterMs ?? 0;
    climbWhy = `not acknowledged within ${formatDuration(waited)} at ${tier}`;
  }

  if (climbFrom !== null && event === null) {
    const next = ctx.policy.tiers[tier].next;
    if (next === null) {
      e.nextEscalationAt = null;
      if (breaches.length > 0) {
        // Already at the top: the breach is news for the people on it.
        event = { type: 'incident.escalated', channels: channelsFor(tier, inc.severity, ctx), tier, message: climbWhy };
      }
    } else {
      tier = next;
      e.level += 1;
      e.nextEscalationAt = inc.status === 'open' ? nextEscalation(tier, climbFrom, clock, ctx) : null;
      const message = `${climbWhy}; escalated to ${tier}`;
      timeline.push({ actor: ACTOR, action: 'escalated', message, tier });
      event = { type: 'incident.escalated', channels: channelsFor(tier, inc.severity, ctx), tier, message };
    }
  } else if (event === null && breaches.includes('ack')) {
    // An ack breach without a climb (no next tier, or escalation comes later) still tells the tier.
    event = {
      type: 'incident.escalated',
      channels: channelsFor(tier, inc.severity, ctx),
      tier,
      message: `acknowledgement SLA breached at ${tier}`,
    };
  }
  return done();
}

/** What a person's escalation or severity change does to the timers, and which channels hear of it. */
export interface PersonChangePlan {
  tier: Tier;
  escalation: EscalationState;
  /** Channels that hear of it besides those told before; null: nothing is announced. */
  channels: string[] | null;
}

/** Announced and not held back: the sweep has planned its timers and the channels know it. */
function running(e: EscalationState): boolean {
  return e.severity !== null && e.mutedUntil === null;
}

/**
 * A person escalates an active incident to the higher tier `to` (checked by the caller). Like a
 * climb of the sweep: the level rises, the new tier's channels hear of it, and an unacknowledged
 * incident climbs on from `to` after that tier's time. One not yet announced (held back by
 * maintenance or a silence) keeps its timers: the sweep announces it to `to` when it ends.
 */
export function planManualEscalation(inc: Incident, to: Tier, now: number, context: EscalationContext | null): PersonChangePlan {
  const e: EscalationState = { ...inc.escalation, level: inc.escalation.level + 1 };
  if (context === null) return { tier: to, escalation: e, channels: null };
  const ctx = contextFor(context, inc.tenant);
  if (running(e)) {
    const clock = clockFor(inc.severity, inc.target.site, ctx);
    e.nextEscalationAt = inc.status === 'open' ? nextEscalation(to, now, clock, ctx) : null;
    e.nextTimerAt = nextTimer(e, inc.status);
  }
  return { tier: to, escalation: e, channels: channelsFor(to, inc.severity, ctx) };
}

/**
 * A person changes the severity of an active incident: as when a rule raises it (see `evaluate`),
 * the SLA due times follow the new severity from the same start, and a raise moves the incident to
 * the severity's starting tier when that is higher and is announced to the tier's channels. A
 * lowering keeps the tier and is not announced. An incident not yet announced keeps its timers:
 * the sweep plans them with the new severity when it announces it.
 */
export function planSeverityChange(inc: Incident, severity: Severity, now: number, context: EscalationContext | null): PersonChangePlan {
  const e: EscalationState = { ...inc.escalation };
  if (context === null || severity === inc.severity || !running(e)) return { tier: inc.tier, escalation: e, channels: null };
  const ctx = contextFor(context, inc.tenant);
  const clock = clockFor(severity, inc.target.site, ctx);
  const sev = ctx.policy.severities[severity];
  const from = e.startedAt ?? inc.firstSeen;
  e.severity = severity;
  e.ackDueAt = sev.ackMs === null ? null : clock.addBusinessTime(from, sev.ackMs);
  e.resolveDueAt = sev.resolveMs === null ? null : clock.addBusinessTime(from, sev.resolveMs);
  let tier = inc.tier;
  let channels: string[] | null = null;
  if (severityRank(severity) > severityRank(inc.severity)) {
    const start = startingTier(tier, severity, ctx.policy);
    if (start !== tier) {
      tier = start;
      e.level += 1;
      e.nextEscalationAt = inc.status === 'open' ? nextEscalation(tier, now, clock, ctx) : null;
    }
    channels = channelsFor(tier, severity, ctx);
  }
  e.nextTimerAt = nextTimer(e, inc.status);
  return { tier, escalation: e, channels };
}

function dueText(e: EscalationState): string {
  const parts: string[] = [];
  if (e.ackDueAt !== null) parts.push(`acknowledge by ${new Date(e.ackDueAt).toISOString()}`);
  if (e.resolveDueAt !== null) parts.push(`resolve by ${new Date(e.resolveDueAt).toISOString()}`);
  return parts.length === 0 ? '' : ` (${parts.join(', ')})`;
}

/**
 * A context from the policy and the channel ids, with 24×7 calendars and no maintenance unless
 * given: what tests and tools without business hours need.
 */
export function escalationContext(
  policy: EscalationPolicy,
  channelIds: readonly string[],
  more: Partial<Pick<EscalationContext, 'calendarFor' | 'maintenance' | 'communication' | 'silenced' | 'tenantPolicies'>> = {},
): EscalationContext {
  return {
    policy,
    ...(more.tenantPolicies === undefined ? {} : { tenantPolicies: more.tenantPolicies }),
    channelIds,
    communication: more.communication ?? [],
    calendarFor: more.calendarFor ?? (() => ALWAYS),
    maintenance: more.maintenance ?? (() => null),
    silenced: more.silenced,
  };
}
