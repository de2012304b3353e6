// The one JSON shape of an incident, on the API and in webhook bodies. Times are ISO 8601 strings (UTC),
// never epoch numbers.
import type { Impact, Priority, Severity, Tier } from './classification.js';
import type { Incident, IncidentStatus, TimelineEntry } from './incident.js';

export interface ApiTimelineEntry {
  at: string;
  actor: string;
  action: TimelineEntry['action'];
  message: string;
}

export interface ApiIncident {
  number: string;
  /** The tenant (customer) it belongs to; `default` without tenants. */
  tenant: string;
  status: IncidentStatus;
  title: string;
  description: string;
  runbook: string;
  category: string;
  severity: Severity;
  impact: Impact;
  priority: Priority;
  tier: Tier;
  fingerprint: string;
  ruleId: string;
  source: string;
  target: { id: string; kind: string; name: string; site: string; labels: Record<string, string> };
  check: { name: string; type: string };
  labels: Record<string, string>;
  occurrences: number;
  lastMessage: string;
  firstSeen: string;
  lastSeen: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  resolvedAt: string | null;
  resolvedBy: string | null;
  closedAt: string | null;
  reopenCount: number;
  flapping: boolean;
  related: { targetId: string; fingerprint: string; since: string }[];
  /** Escalation: how often it climbed, when it climbs next, and until when it is muted by maintenance. */
  escalation: { level: number; nextEscalationAt: string | null; mutedUntil: string | null; mutedBy: string | null };
  /** Ids of the silences holding back its announcements and escalation now; empty when none. */
  silencedBy: string[];
  /** SLA due times and breaches (null: no SLA, not started, or not breached). */
  sla: { ackDueAt: string | null; resolveDueAt: string | null; ackBreachedAt: string | null; resolveBreachedAt: string | null };
  /** Channels told of the incident so far. */
  notified: string[];
  /** Channel id → the helpdesk's ticket reference (or the opening mail's Message-ID). */
  tickets: Record<string, string>;
  /** People kept informed. */
  subscribers: string[];
  /** Only on the single-incident endpoint; lists carry no timeline. */
  timeline?: ApiTimelineEntry[];
  /**
   * How it was resolved, while resolved or closed: who (a person, or `system` for a recovery),
   * when, and the resolution note (the message given on resolve). Null while active. Like the
   * timeline it comes from, only on the single-incident endpoint and the commands.
   */
  resolution?: ApiResolution | null;
  /**
   * Other incidents of the same tenant about the same target, and those of the held-back targets
   * (`related`) that got an incident of their own: newest first. Only on the single-incident GET.
   */
  relatedIncidents?: ApiRelatedIncident[];
  /** `tickets` as people know them, with a link into the helpdesk where the channel has one. Only on the single-incident GET. */
  ticketLinks?: ApiTicketLink[];
}

export interface ApiTicketLink {
  channel: string;
  /** As stored in `tickets`. */
  reference: string;
  /** The number people know the ticket by. */
  display: string;
  /** The ticket in the helpdesk's web interface; null when the channel has no page for it (mail). */
  url: string | null;
}

export interface ApiRelatedIncident {
  number: string;
  title: string;
  status: IncidentStatus;
  severity: Severity;
  firstSeen: string;
  /** `same-target`: another incident of this target; `held-back`: a dependent target's incident. */
  relation: 'same-target' | 'held-back';
}

export interface ApiResolution {
  at: string;
  by: string;
  note: string;
}

/** The latest resolution on the timeline of a resolved or closed incident; null while active. */
export function resolutionOf(incident: Pick<Incident, 'status' | 'timeline'>): { at: number; by: string; note: string } | null {
  if (incident.status !== 'resolved' && incident.status !== 'closed') return null;
  const entry = incident.timeline.findLast((e) => e.action === 'resolved');
  return entry === undefined ? null : { at: entry.at, by: entry.actor, note: entry.message };
}

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : isoTime(ms);
}

/** Serialises an incident; pass `withTimeline` only for the single-incident endpoint. */
export function toApi(incident: Incident, opts: { withTimeline?: boolean } = {}): ApiIncident {
  const out: ApiIncident = {
    number: incident.number,
    tenant: incident.tenant,
    status: incident.status,
    title: incident.title,
    description: incident.description,
    runbook: incident.runbook,
    category: incident.category,
    severity: incident.severity,
    impact: incident.impact,
    priority: incident.priority,
    tier: incident.tier,
    fingerprint: incident.fingerprint,
    ruleId: incident.ruleId,
    source: incident.source,
    target: {
      id: incident.target.id,
      kind: incident.target.kind,
      name: incident.target.name,
      site: incident.target.site,
      labels: { ...incident.target.labels },
    },
    check: { name: incident.check.name, type: incident.check.type },
    labels: { ...incident.labels },
    occurrences: incident.occurrences,
    lastMessage: incident.lastMessage,
    firstSeen: isoTime(incident.firstSeen),
    lastSeen: isoTime(incident.lastSeen),
    acknowledgedAt: isoOrNull(incident.acknowledgedAt),
    acknowledgedBy: incident.acknowledgedBy,
    resolvedAt: isoOrNull(incident.resolvedAt),
    resolvedBy: incident.resolvedBy,
    closedAt: isoOrNull(incident.closedAt),
    reopenCount: incident.reopenCount,
    flapping: incident.flapping,
    related: incident.related.map((r) => ({
      targetId: r.targetId,
      fingerprint: r.fingerprint,
      since: isoTime(r.since),
    })),
    escalation: {
      level: incident.escalation.level,
      nextEscalationAt: incident.status === 'open' ? isoOrNull(incident.escalation.nextEscalationAt) : null,
      mutedUntil: isoOrNull(incident.escalation.mutedUntil),
      mutedBy: incident.escalation.mutedUntil === null ? null : incident.escalation.mutedBy,
    },
    silencedBy: incident.status === 'open' || incident.status === 'acknowledged' ? [...incident.escalation.silencedBy] : [],
    sla: {
      ackDueAt: isoOrNull(incident.escalation.ackDueAt),
      resolveDueAt: isoOrNull(incident.escalation.resolveDueAt),
      ackBreachedAt: isoOrNull(incident.escalation.ackBreachedAt),
      resolveBreachedAt: isoOrNull(incident.escalation.resolveBreachedAt),
    },
    notified: [...incident.notified],
    tickets: { ...incident.tickets },
    subscribers: [...incident.subscribers],
  };
  if (opts.withTimeline) {
    out.timeline = incident.timeline.map((e) => ({
      at: isoTime(e.at),
      actor: e.actor,
      action: e.action,
      message: e.message,
    }));
    const r = resolutionOf(incident);
    out.resolution = r === null ? null : { at: isoTime(r.at), by: r.by, note: r.note };
  }
  return out;
}
