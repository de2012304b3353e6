// The incident policy, once, above the stores: what a failing signal does to a fingerprint's
// incidents (repeat, reclassify, retitle, reopen, open), which fields a reopening resets, which
// status changes a person may make, and the timeline texts. Pure functions: a store reads what they
// need inside its transaction, calls them, and writes what they return in its own dialect.
import type { Classification, Impact, Priority, Severity, Tier } from './classification.js';
import { severityRank } from './classification.js';
import type { OutboxEventType } from './events.js';
import type { EscalationState, Incident, IncidentStatus, IncidentTarget, RelatedTarget, TimelineEntry } from './incident.js';
import { emptyEscalation, incidentNumber, isActive } from './incident.js';
import { InvalidTransitionError } from '../shared/errors.js';
import { DEFAULT_TENANT } from './principal.js';

/** What the manager knows about an incident it wants opened (or repeated, or reopened). */
export interface IncidentDraft {
  fingerprint: string;
  classification: Classification;
  title: string;
  description: string;
  runbook: string;
  ruleId: string;
  source: string;
  target: IncidentTarget;
  /** The tenant of the incident it opens; absent: DEFAULT_TENANT. A repeat or reopening keeps its own. */
  tenant?: string;
  check: { name: string; type: string };
  labels: Record<string, string>;
  message: string;
  /**
   * Escalation planned for the incident if this op opens or reopens one (its tier is the
   * classification's). Without it the incident's timer is due at once, so the escalation sweep
   * plans and announces it.
   */
  escalation?: EscalationState;
  /** People to keep informed; added to the incident's subscribers whatever the op turns out to be. */
  subscribers?: string[];
  /**
   * Why an opening or reopening is held back (`held back by silence <id> (<comment>)`); recorded
   * on its timeline after the opening entry.
   */
  heldBack?: string;
}

function heldBackEntries(d: IncidentDraft, at: number): TimelineEntry[] {
  return d.heldBack === undefined ? [] : [{ at, actor: 'system', action: 'silenced', message: d.heldBack }];
}

/** The part of a fail op the policy needs (see StoreOp in src/store/types.ts). */
export interface FailInput {
  at: number;
  count: number;
  retitle?: boolean;
  draft: IncidentDraft;
}

/**
 * The incident a fail op found for its fingerprint: the active one, else the latest one resolved
 * (not closed) within the reopen window (the store finds it with its indexes), else none.
 */
export interface FoundIncident {
  seq: number;
  active: boolean;
  severity: Severity;
  title: string;
  description: string;
}

/** The first moment of the window in which a resolved incident is reopened rather than replaced. */
export function reopenSince(at: number, reopenWindowMs: number): number {
  return at - reopenWindowMs;
}

/**
 * When the escalation sweep first looks at an incident opened or reopened at `at`: as planned, or
 * at once when nothing was planned (the sweep then plans and announces it).
 */
export function firstTimer(escalation: EscalationState | undefined, at: number): number | null {
  return escalation === undefined ? at : escalation.nextTimerAt;
}

/** What every fail does to the incident it lands on: it counts, and its message is the latest. */
export interface Occurrence {
  count: number;
  /** lastSeen becomes max(lastSeen, at): batches from several instances may arrive out of order. */
  at: number;
  lastMessage: string;
}

/** The classification fields a fail may change on an existing incident. */
export interface Reclassification {
  category: string;
  severity: Severity;
  impact: Classification['impact'];
  priority: Classification['priority'];
  title: string;
  description: string;
  runbook: string;
  ruleId: string;
  /** The sweep re-evaluates tier and SLA for the new severity at once. */
  nextTimerAt: number;
}

/** Everything a reopening sets: it starts over as open and needs acknowledging again. */
export interface Reopening extends Omit<Reclassification, 'nextTimerAt'> {
  status: 'open';
  /** Added to reopenCount. */
  reopens: 1;
  resolvedAt: null;
  resolvedBy: null;
  acknowledgedAt: null;
  acknowledgedBy: null;
  tier: Classification['tier'];
  escalation: EscalationState;
  nextTimerAt: number | null;
}

export type FailPlan =
  | {
      outcome: 'repeated';
      seq: number;
      occurrence: Occurrence;
      /** A rule raised the severity. */
      reclassify: Reclassification | null;
      /** Title and description follow the current condition (only without a reclassification). */
      retitle: { title: string; description: string } | null;
      timeline: TimelineEntry[];
    }
  | { outcome: 'reopened'; seq: number; occurrence: Occurrence; reopen: Reopening; timeline: TimelineEntry[] }
  | { outcome: 'opened' };

/** Repeat the active incident, else reopen the recently resolved one, else open a new one. */
export function planFail(found: FoundIncident | null, op: FailInput): FailPlan {
  const d = op.draft;
  const c = d.classification;
  const occurrence: Occurrence = { count: op.count, at: op.at, lastMessage: d.message };
  if (found === null) return { outcome: 'opened' };
  if (!found.active) {
    // A reopening is classified by the rule that fires now; its escalation was planned with it.
    // The timeline keeps who acknowledged and resolved it before.
    return {
      outcome: 'reopened',
      seq: found.seq,
      occurrence,
      reopen: {
        status: 'open',
        reopens: 1,
        resolvedAt: null,
        resolvedBy: null,
        acknowledgedAt: null,
        acknowledgedBy: null,
        category: c.category,
        severity: c.severity,
        impact: c.impact,
        priority: c.priority,
        tier: c.tier,
        title: d.title,
        description: d.description,
        runbook: d.runbook,
        ruleId: d.ruleId,
        escalation: d.escalation ?? emptyEscalation(),
        nextTimerAt: firstTimer(d.escalation, op.at),
      },
      timeline: [{ at: op.at, actor: d.ruleId, action: 'reopened', message: d.message }, ...heldBackEntries(d, op.at)],
    };
  }
  if (severityRank(c.severity) > severityRank(found.severity)) {
    return {
      outcome: 'repeated',
      seq: found.seq,
      occurrence,
      reclassify: {
        category: c.category,
        severity: c.severity,
        impact: c.impact,
        priority: c.priority,
        title: d.title,
        description: d.description,
        runbook: d.runbook,
        ruleId: d.ruleId,
        nextTimerAt: op.at,
      },
      retitle: null,
      timeline: [{ at: op.at, actor: d.ruleId, action: 'reclassified', message: reclassifiedMessage(found.severity, c.severity, d.title) }],
    };
  }
  if (op.retitle === true && (d.title !== found.title || d.description !== found.description)) {
    const timeline: TimelineEntry[] =
      d.title !== found.title ? [{ at: op.at, actor: d.ruleId, action: 'updated', message: retitledMessage(found.title, d.title) }] : [];
    return { outcome: 'repeated', seq: found.seq, occurrence, reclassify: null, retitle: { title: d.title, description: d.description }, timeline };
  }
  return { outcome: 'repeated', seq: found.seq, occurrence, reclassify: null, retitle: null, timeline: [] };
}

/** The incident a fail opens, numbered `seq` (the store hands out numbers). */
export function openIncident(seq: number, op: FailInput): Incident {
  const d = op.draft;
  const c = d.classification;
  const escalation = d.escalation ?? emptyEscalation();
  return {
    number: incidentNumber(seq),
    seq,
    fingerprint: d.fingerprint,
    tenant: d.tenant ?? DEFAULT_TENANT,
    status: 'open',
    category: c.category,
    severity: c.severity,
    impact: c.impact,
    tier: c.tier,
    priority: c.priority,
    title: d.title,
    description: d.description,
    runbook: d.runbook,
    ruleId: d.ruleId,
    source: d.source,
    target: { id: d.target.id, kind: d.target.kind, name: d.target.name, site: d.target.site, labels: { ...d.target.labels } },
    check: { name: d.check.name, type: d.check.type },
    labels: { ...d.labels },
    firstSeen: op.at,
    lastSeen: op.at,
    occurrences: op.count,
    lastMessage: d.message,
    acknowledgedAt: null,
    acknowledgedBy: null,
    resolvedAt: null,
    resolvedBy: null,
    closedAt: null,
    reopenCount: 0,
    flapping: false,
    related: [],
    escalation: { ...escalation, nextTimerAt: firstTimer(d.escalation, op.at) },
    notified: [],
    tickets: {},
    subscribers: [],
    timeline: [{ at: op.at, actor: d.ruleId, action: 'opened', message: d.message }, ...heldBackEntries(d, op.at)],
  };
}

/** The event a fail's outcome announces: an opening or reopening; a repeat is nothing. */
export function failEvent(outcome: 'opened' | 'repeated' | 'reopened'): OutboxEventType | null {
  if (outcome === 'opened') return 'incident.opened';
  if (outcome === 'reopened') return 'incident.reopened';
  return null;
}

// --- a person's status changes ------------------------------------------------------------------

/** Throws InvalidTransitionError unless an incident in `status` may be acknowledged. */
export function assertCanAcknowledge(number: string, status: IncidentStatus): void {
  if (status !== 'open') {
    throw new InvalidTransitionError(`incident ${number} is ${status}; only open incidents can be acknowledged`);
  }
}

/** Throws InvalidTransitionError unless an incident in `status` may be resolved by hand. */
export function assertCanResolve(number: string, status: IncidentStatus): void {
  if (!isActive(status)) {
    throw new InvalidTransitionError(
      `incident ${number} is already ${status}; only open or acknowledged incidents can be resolved`,
    );
  }
}

/** Throws InvalidTransitionError unless an incident in `status` may be reopened by hand. */
export function assertCanReopen(number: string, status: IncidentStatus): void {
  if (isActive(status)) {
    throw new InvalidTransitionError(`incident ${number} is ${status}, not resolved; only resolved incidents can be reopened`);
  }
  if (status === 'closed') {
    throw new InvalidTransitionError(
      `incident ${number} is closed and stays closed; only resolved (not yet closed) incidents can be reopened: report the problem again`,
    );
  }
}

/** Throws InvalidTransitionError unless an incident in `status` may be escalated or reclassified by hand. */
export function assertActiveFor(number: string, status: IncidentStatus, what: 'escalated' | 'reclassified'): void {
  if (!isActive(status)) {
    const doing = what === 'escalated' ? 'escalated' : 'given another severity or impact';
    throw new InvalidTransitionError(`incident ${number} is ${status}; only open or acknowledged incidents can be ${doing}`);
  }
}

/** Why an incident cannot be reopened while `active` (another incident of its fingerprint) is. */
export function sameProblemActive(number: string, active: string | null): string {
  return `incident ${number} cannot be reopened: ${active ?? 'another incident'} about the same problem is active; work on that one`;
}

/** The statuses from which a person's acknowledgement / resolution applies (for conditional writes). */
export const ACKNOWLEDGEABLE: readonly IncidentStatus[] = ['open'];
export const RESOLVABLE: readonly IncidentStatus[] = ['open', 'acknowledged'];

// --- the other ops of a commit ------------------------------------------------------------------

/** A flapping op changes the incident only when the flag changes; then it is worth an entry and an event. */
export function planFlapping(
  current: boolean,
  op: { at: number; flapping: boolean; message: string },
): { entry: TimelineEntry; event: OutboxEventType } | null {
  if (current === op.flapping) return null;
  const action = op.flapping ? 'flapping-started' : 'flapping-stopped';
  return { entry: { at: op.at, actor: 'system', action, message: op.message }, event: `incident.${action}` };
}

/** A relate op adds each held-back target once. */
export function planRelate(
  current: readonly RelatedTarget[],
  op: { at: number; related: RelatedTarget; message: string },
): { related: RelatedTarget[]; entry: TimelineEntry } | null {
  if (current.some((r) => r.targetId === op.related.targetId)) return null;
  return { related: [...current, op.related], entry: { at: op.at, actor: 'system', action: 'dependent-failing', message: op.message } };
}

// --- timeline texts -----------------------------------------------------------------------------

/** The timeline message of an incident whose title followed its condition. */
export function retitledMessage(from: string, to: string): string {
  return `title changed from ${JSON.stringify(from)} to ${JSON.stringify(to)}`;
}

export function reclassifiedMessage(from: Severity, to: Severity, title: string): string {
  return `severity raised from ${from} to ${to}: ${title}`;
}

/** The timeline message of a tier a person escalated to. */
export function escalatedByHandMessage(from: Tier, to: Tier, reason: string): string {
  return `escalated by hand from ${from} to ${to}: ${reason}`;
}

/**
 * The timeline message (and event message) of a severity or impact a person changed, with the
 * priority that follows. A raise begins `severity raised`, as a rule's raise does.
 */
export function reclassifiedByHandMessage(
  from: { severity: Severity; impact: Impact; priority: Priority },
  to: { severity: Severity; impact: Impact; priority: Priority },
  reason: string,
): string {
  const parts: string[] = [];
  if (from.severity !== to.severity) {
    const how = severityRank(to.severity) > severityRank(from.severity) ? 'raised' : 'lowered';
    parts.push(`severity ${how} from ${from.severity} to ${to.severity}`);
  }
  if (from.impact !== to.impact) parts.push(`impact changed from ${from.impact} to ${to.impact}`);
  parts.push(from.priority === to.priority ? `priority stays ${to.priority}` : `priority ${from.priority} → ${to.priority}`);
  return `${parts.join(', ')}: ${reason}`;
}

/** Throws InvalidTransitionError unless `to` is above the incident's tier `from`. */
export function assertHigherTier(number: string, from: Tier, to: Tier): void {
  // 'L1' < 'L2' < 'L3'
  if (to > from) return;
  if (from === 'L3') throw new InvalidTransitionError(`incident ${number} is at tier L3 already, the highest; there is no tier to escalate to`);
  throw new InvalidTransitionError(
    `incident ${number} is at tier ${from} already; escalate to a higher tier than ${from} (${to === from ? 'it is there' : `${to} is lower`})`,
  );
}

/** The entry closeResolved writes. */
export function closedEntry(at: number): TimelineEntry {
  return { at, actor: 'system', action: 'closed', message: 'closed after its resolution' };
}
