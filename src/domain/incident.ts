import type { Classification, Severity, Tier } from './classification.js';

export const INCIDENT_STATUSES = ['open', 'acknowledged', 'resolved', 'closed'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

export const ACTIVE_STATUSES: readonly IncidentStatus[] = ['open', 'acknowledged'];

export interface TimelineEntry {
  /** Epoch milliseconds. */
  at: number;
  /** `system`, a rule id, or the API user who acted. */
  actor: string;
  action:
    | 'opened'
    | 'reopened'
    | 'acknowledged'
    | 'resolved'
    | 'closed'
    | 'commented'
    | 'flapping-started'
    | 'flapping-stopped'
    | 'dependent-failing'
    | 'reclassified'
    /** The rule renders another title for the current condition (a jam became a door open). */
    | 'updated'
    | 'escalated'
    | 'sla-breached'
    | 'announced'
    /** A silence holds back its announcements and escalation. */
    | 'silenced'
    | 'subscribed'
    /** The subscriber list reached incidents.max_subscribers. */
    | 'subscribers-limit'
    /** A person reported the problem through the portal (src/domain/problem-report.ts). */
    | 'reported';
  message: string;
  /**
   * On an `escalated` entry that handed the incident over: the tier it went to (the escalations
   * report counts by it, not by the message's wording). Absent on every other entry.
   */
  tier?: Tier;
}

export interface IncidentTarget {
  id: string;
  kind: string;
  name: string;
  site: string;
  labels: Record<string, string>;
}

/** A target whose failure was held back because this incident's target is its (transitive) parent. */
export interface RelatedTarget {
  targetId: string;
  fingerprint: string;
  since: number;
}

export interface Incident extends Classification {
  /** Human number, `INC-000123`. */
  number: string;
  seq: number;
  fingerprint: string;
  /** The tenant (customer) it belongs to, its target's; DEFAULT_TENANT without tenants. */
  tenant: string;
  status: IncidentStatus;
  title: string;
  description: string;
  runbook: string;
  ruleId: string;
  source: string;
  target: IncidentTarget;
  check: { name: string; type: string };
  labels: Record<string, string>;
  firstSeen: number;
  lastSeen: number;
  occurrences: number;
  lastMessage: string;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
  resolvedAt: number | null;
  resolvedBy: string | null;
  closedAt: number | null;
  reopenCount: number;
  flapping: boolean;
  related: RelatedTarget[];
  /** Escalation and SLA timers; stored so a restart loses none and fires none twice. */
  escalation: EscalationState;
  /** Channels told of this incident so far: every one of them hears of its end. */
  notified: string[];
  /**
   * Channel id → what the channel answered at its first successful delivery for this incident (the
   * helpdesk's ticket id, the opening mail's Message-ID). A channel with an entry here already has a
   * ticket: it appends to it instead of creating one.
   */
  tickets: Record<string, string>;
  /** People kept informed (mail addresses): receipt, status changes and the resolution. */
  subscribers: string[];
  timeline: TimelineEntry[];
}

/** What a log line or a result says about an incident besides its number. */
export interface IncidentBrief {
  title: string;
  severity: Incident['severity'];
  tier: Incident['tier'];
  target: { id: string; name: string };
}

/**
 * Where an incident stands in its escalation. All times are epoch milliseconds. `tier` on the
 * incident is the tier responsible now; escalation moves it up.
 */
export interface EscalationState {
  /** When the SLA clocks started (opening, reopening, or the end of the maintenance it opened in). */
  startedAt: number | null;
  /** How many times it climbed a tier. */
  level: number;
  /** When it climbs next if nobody acknowledges it; null when it will not (acknowledged, top tier). */
  nextEscalationAt: number | null;
  /** Opened during a maintenance window: nothing announced or escalated before this time. */
  mutedUntil: number | null;
  /** That window, as `id (reason)`, for the timeline entry when it ends. */
  mutedBy: string | null;
  /** Ids of the silences holding it back now (src/domain/silence.ts); empty when none. */
  silencedBy: string[];
  /** SLA due times (null: no SLA for the severity, or not started while muted). */
  ackDueAt: number | null;
  resolveDueAt: number | null;
  /** When each SLA was recorded as breached. */
  ackBreachedAt: number | null;
  resolveBreachedAt: number | null;
  /** The severity the due times were computed for; a raised severity recomputes them. */
  severity: Severity | null;
  /**
   * The next time the escalation sweep must look at this incident (the earliest pending timer);
   * null when nothing is pending. Stores index it; only the escalator sets it.
   */
  nextTimerAt: number | null;
}

export function emptyEscalation(): EscalationState {
  return {
    startedAt: null,
    level: 0,
    nextEscalationAt: null,
    mutedUntil: null,
    mutedBy: null,
    silencedBy: [],
    ackDueAt: null,
    resolveDueAt: null,
    ackBreachedAt: null,
    resolveBreachedAt: null,
    severity: null,
    nextTimerAt: null,
  };
}

export function incidentNumber(seq: number): string {
  return `INC-${String(seq).padStart(6, '0')}`;
}

export function parseIncidentNumber(s: string): number | null {
  const m = /^INC-(\d{6,})$/.exec(s);
  return m ? Number(m[1]) : null;
}

export function isActive(status: IncidentStatus): boolean {
  return status === 'open' || status === 'acknowledged';
}
