// Row shapes of the SQLite tables and their mapping to domain types.
import type { Impact, Priority, Severity, Tier } from '../../domain/classification.js';
import type { EscalationState, Incident, IncidentStatus, RelatedTarget, TimelineEntry } from '../../domain/incident.js';
import { emptyEscalation, incidentNumber } from '../../domain/incident.js';
import type { Delivery, DeliveryStatus, OutboxEvent } from '../types.js';

export interface IncidentRow {
  seq: number;
  /** The 'opened' timeline entry's actor and message; null on rows stored before schema 15. */
  opened_by: string | null;
  first_message: string | null;
  fingerprint: string;
  tenant: string;
  status: IncidentStatus;
  category: string;
  severity: Severity;
  impact: Impact;
  tier: Tier;
  priority: Priority;
  title: string;
  description: string;
  runbook: string;
  rule_id: string;
  source: string;
  target_id: string;
  target_kind: string;
  target_name: string;
  target_site: string;
  target_labels: string;
  check_name: string;
  check_type: string;
  labels: string;
  first_seen: number;
  last_seen: number;
  occurrences: number;
  last_message: string;
  acknowledged_at: number | null;
  acknowledged_by: string | null;
  resolved_at: number | null;
  resolved_by: string | null;
  closed_at: number | null;
  reopen_count: number;
  flapping: number;
  related: string;
  escalation: string;
  next_timer_at: number | null;
  notified: string;
  tickets: string;
  subscribers: string;
}

export interface TimelineRow {
  at: number;
  actor: string;
  action: TimelineEntry['action'];
  message: string;
  tier: Tier | null;
}

/** A timeline row as an entry: `tier` only where there is one. */
export function rowToTimelineEntry(r: TimelineRow): TimelineEntry {
  const e: TimelineEntry = { at: r.at, actor: r.actor, action: r.action, message: r.message };
  if (r.tier !== null) e.tier = r.tier;
  return e;
}

/** The columns the INSERT of a new incident sets, in the order of incidentParams' values. */
export const INCIDENT_INSERT_COLUMNS = [
  'seq', 'fingerprint', 'tenant', 'status', 'category', 'severity', 'impact', 'tier', 'priority', 'title',
  'description', 'runbook', 'rule_id', 'source', 'target_id', 'target_kind', 'target_name', 'target_site',
  'target_labels', 'check_name', 'check_type', 'labels', 'first_seen', 'last_seen', 'occurrences', 'last_message',
  'escalation', 'next_timer_at', 'hysteresis', 'opened_by', 'first_message',
] as const;

/**
 * Parameters of the INSERT of a new incident (openIncident in src/domain/transitions.ts made it),
 * positional in INCIDENT_INSERT_COLUMNS' order: better-sqlite3 binds 31 named parameters by
 * looking each name up on the object from C++, ~3 µs more per row than an array (issue 19).
 */
export function incidentParams(inc: Incident, hysteresis: string | null): unknown[] {
  const p: Record<(typeof INCIDENT_INSERT_COLUMNS)[number], unknown> = {
    seq: inc.seq,
    fingerprint: inc.fingerprint,
    tenant: inc.tenant,
    status: inc.status,
    category: inc.category,
    severity: inc.severity,
    impact: inc.impact,
    tier: inc.tier,
    priority: inc.priority,
    title: inc.title,
    description: inc.description,
    runbook: inc.runbook,
    rule_id: inc.ruleId,
    source: inc.source,
    target_id: inc.target.id,
    target_kind: inc.target.kind,
    target_name: inc.target.name,
    target_site: inc.target.site,
    target_labels: JSON.stringify(inc.target.labels),
    check_name: inc.check.name,
    check_type: inc.check.type,
    labels: JSON.stringify(inc.labels),
    first_seen: inc.firstSeen,
    last_seen: inc.lastSeen,
    occurrences: inc.occurrences,
    last_message: inc.lastMessage,
    escalation: JSON.stringify(inc.escalation),
    next_timer_at: inc.escalation.nextTimerAt,
    hysteresis,
    // The 'opened' timeline entry, kept in the row (see openedEntry); writes.ts leaves it out of the timeline rows.
    opened_by: openedOf(inc)?.actor ?? null,
    first_message: openedOf(inc)?.message ?? null,
  };
  return INCIDENT_INSERT_COLUMNS.map((c) => p[c]);
}

/** The new incident's 'opened' entry, first on its timeline (openIncident in src/domain/transitions.ts), at its first sighting. */
export function openedOf(inc: Incident): TimelineEntry | null {
  const e = inc.timeline[0];
  return e !== undefined && e.action === 'opened' && e.at === inc.firstSeen ? e : null;
}

/**
 * The 'opened' entry of an incident stored since schema 15, made from its row (what openedOf
 * found when it was inserted); null for one stored before, whose entry is a timeline row.
 */
export function openedEntry(r: IncidentRow): TimelineEntry | null {
  if (r.first_message === null || r.opened_by === null) return null;
  return { at: r.first_seen, actor: r.opened_by, action: 'opened', message: r.first_message };
}

export function rowToIncident(r: IncidentRow, timeline: TimelineEntry[]): Incident {
  return {
    number: incidentNumber(r.seq),
    seq: r.seq,
    fingerprint: r.fingerprint,
    tenant: r.tenant,
    status: r.status,
    category: r.category,
    severity: r.severity,
    impact: r.impact,
    tier: r.tier,
    priority: r.priority,
    title: r.title,
    description: r.description,
    runbook: r.runbook,
    ruleId: r.rule_id,
    source: r.source,
    target: {
      id: r.target_id,
      kind: r.target_kind,
      name: r.target_name,
      site: r.target_site,
      labels: JSON.parse(r.target_labels) as Record<string, string>,
    },
    check: { name: r.check_name, type: r.check_type },
    labels: JSON.parse(r.labels) as Record<string, string>,
    firstSeen: r.first_seen,
    lastSeen: r.last_seen,
    occurrences: r.occurrences,
    lastMessage: r.last_message,
    acknowledgedAt: r.acknowledged_at,
    acknowledgedBy: r.acknowledged_by,
    resolvedAt: r.resolved_at,
    resolvedBy: r.resolved_by,
    closedAt: r.closed_at,
    reopenCount: r.reopen_count,
    flapping: r.flapping !== 0,
    related: JSON.parse(r.related) as RelatedTarget[],
    // The indexed column is the one the sweep compares against; it wins over the JSON copy.
    escalation: { ...emptyEscalation(), ...(JSON.parse(r.escalation) as Partial<EscalationState>), nextTimerAt: r.next_timer_at },
    notified: JSON.parse(r.notified) as string[],
    tickets: JSON.parse(r.tickets) as Record<string, string>,
    subscribers: JSON.parse(r.subscribers) as string[],
    timeline,
  };
}

export interface DeliveryRow {
  id: string;
  event_id: string;
  channel_id: string;
  event: string;
  status: DeliveryStatus;
  attempts: number;
  next_at: number;
  lease_owner: string | null;
  last_error: string | null;
  reference: string | null;
  created_at: number;
  finished_at: number | null;
}

export function rowToDelivery(r: DeliveryRow): Delivery {
  return {
    id: r.id,
    eventId: r.event_id,
    channelId: r.channel_id,
    event: JSON.parse(r.event) as OutboxEvent,
    status: r.status,
    attempts: r.attempts,
    nextAttemptAt: r.next_at,
    leaseOwner: r.lease_owner,
    lastError: r.last_error,
    reference: r.reference,
    createdAt: r.created_at,
    finishedAt: r.finished_at,
  };
}
