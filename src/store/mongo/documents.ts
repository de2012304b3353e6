// Document shapes of the MongoDB collections and their mapping to domain types. Times are BSON
// dates in the database and epoch milliseconds everywhere else; the conversion happens only here.
import { escapeRegExp } from '../../domain/paging.js';
import type { Impact, Priority, Severity, Tier } from '../../domain/classification.js';
import type {
  EscalationState,
  Incident,
  IncidentStatus,
  IncidentTarget,
  RelatedTarget,
  TimelineEntry,
} from '../../domain/incident.js';
import { emptyEscalation, incidentNumber } from '../../domain/incident.js';
import { DEFAULT_TENANT } from '../../domain/principal.js';
import type { Filter } from 'mongodb';
import type { Delivery, DeliveryStatus, FingerprintState, IncidentFilter, OpResult, OutboxEvent } from '../types.js';

export interface TimelineDoc {
  at: Date;
  actor: string;
  action: TimelineEntry['action'];
  message: string;
  /** See TimelineEntry.tier; absent on every other entry. */
  tier?: Tier;
}

export interface RelatedDoc {
  targetId: string;
  fingerprint: string;
  since: Date;
}

/** One incident with its timeline embedded. `_id` is the incident's sequence number. */
export interface IncidentDoc {
  _id: number;
  fingerprint: string;
  /** Missing in documents written before schema 7: those read as DEFAULT_TENANT. */
  tenant?: string;
  status: IncidentStatus;
  category: string;
  severity: Severity;
  impact: Impact;
  tier: Tier;
  priority: Priority;
  title: string;
  description: string;
  runbook: string;
  ruleId: string;
  source: string;
  target: IncidentTarget;
  check: { name: string; type: string };
  labels: Record<string, string>;
  firstSeen: Date;
  lastSeen: Date;
  occurrences: number;
  lastMessage: string;
  acknowledgedAt: Date | null;
  acknowledgedBy: string | null;
  resolvedAt: Date | null;
  resolvedBy: string | null;
  closedAt: Date | null;
  reopenCount: number;
  flapping: boolean;
  related: RelatedDoc[];
  /** Times as BSON dates (numbers in documents written before schema 5); `nextTimerAt` is indexed beside it. */
  escalation?: Partial<EscalationDoc>;
  /** The earliest pending escalation/SLA timer, indexed for the sweep. */
  nextTimerAt?: Date | null;
  notified?: string[];
  tickets?: Record<string, string>;
  subscribers?: string[];
  timeline: TimelineDoc[];
  /** The manager's FingerprintState while the incident is active; removed on resolution. */
  state?: FingerprintState;
}

/** State of a fingerprint without an active incident, kept as the manager handed it over. */
export interface FingerprintStateDoc {
  _id: string;
  data: FingerprintState;
}

/** A batch applied in a transaction, so a retry of the same batch returns its results instead of applying it again. */
export interface CommitDoc {
  _id: string;
  at: Date;
  results: OpResult[];
}

export interface CounterDoc {
  _id: string;
  value: number;
}

export interface MetaDoc {
  _id: string;
  version: number;
  createdAt: Date;
  migratedAt: Date;
}

export function timelineDoc(at: number, actor: string, action: TimelineEntry['action'], message: string, tier?: Tier): TimelineDoc {
  return tier === undefined ? { at: new Date(at), actor, action, message } : { at: new Date(at), actor, action, message, tier };
}

export function relatedDoc(r: RelatedTarget): RelatedDoc {
  return { targetId: r.targetId, fingerprint: r.fingerprint, since: new Date(r.since) };
}

/** The document of a new incident (openIncident in src/domain/transitions.ts made it). */
export function newIncidentDoc(inc: Incident): IncidentDoc {
  return {
    _id: inc.seq,
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
    ruleId: inc.ruleId,
    source: inc.source,
    target: inc.target,
    check: inc.check,
    escalation: escalationDoc(inc.escalation),
    nextTimerAt: date(inc.escalation.nextTimerAt),
    notified: inc.notified,
    tickets: inc.tickets,
    subscribers: inc.subscribers,
    labels: inc.labels,
    firstSeen: new Date(inc.firstSeen),
    lastSeen: new Date(inc.lastSeen),
    occurrences: inc.occurrences,
    lastMessage: inc.lastMessage,
    acknowledgedAt: date(inc.acknowledgedAt),
    acknowledgedBy: inc.acknowledgedBy,
    resolvedAt: date(inc.resolvedAt),
    resolvedBy: inc.resolvedBy,
    closedAt: date(inc.closedAt),
    reopenCount: inc.reopenCount,
    flapping: inc.flapping,
    related: inc.related.map(relatedDoc),
    timeline: inc.timeline.map((t) => timelineDoc(t.at, t.actor, t.action, t.message, t.tier)),
  };
}

export function date(t: number | null): Date | null {
  return t === null ? null : new Date(t);
}

const ESCALATION_TIMES = [
  'startedAt',
  'nextEscalationAt',
  'mutedUntil',
  'ackDueAt',
  'resolveDueAt',
  'ackBreachedAt',
  'resolveBreachedAt',
  'nextTimerAt',
] as const satisfies readonly (keyof EscalationState)[];

type EscalationTime = (typeof ESCALATION_TIMES)[number];

/** Escalation times as BSON dates, like every other time in the database (numbers before schema 5). */
export type EscalationDoc = Omit<EscalationState, EscalationTime> & Record<EscalationTime, Date | number | null>;

export function escalationDoc(e: EscalationState): EscalationDoc {
  const doc: EscalationDoc = { ...e };
  for (const k of ESCALATION_TIMES) doc[k] = date(e[k]);
  return doc;
}

/** Reads both shapes: dates (schema 5) and the epoch-millisecond numbers written before. */
export function escalationFromDoc(d: Partial<EscalationDoc> | undefined): EscalationState {
  const e: EscalationState = { ...emptyEscalation(), ...(d as Partial<EscalationState> | undefined) };
  for (const k of ESCALATION_TIMES) {
    const v = d?.[k];
    e[k] = v instanceof Date ? v.getTime() : typeof v === 'number' ? v : null;
  }
  return e;
}

function ms(d: Date): number;
function ms(d: Date | null): number | null;
function ms(d: Date | null): number | null {
  return d === null ? null : d.getTime();
}

/** `withTimeline: false` for list items, which carry an empty timeline. */
export function docToIncident(d: IncidentDoc, withTimeline: boolean): Incident {
  return {
    number: incidentNumber(d._id),
    seq: d._id,
    fingerprint: d.fingerprint,
    tenant: d.tenant ?? DEFAULT_TENANT,
    status: d.status,
    category: d.category,
    severity: d.severity,
    impact: d.impact,
    tier: d.tier,
    priority: d.priority,
    title: d.title,
    description: d.description,
    runbook: d.runbook,
    ruleId: d.ruleId,
    source: d.source,
    target: {
      id: d.target.id,
      kind: d.target.kind,
      name: d.target.name,
      site: d.target.site,
      labels: d.target.labels,
    },
    check: { name: d.check.name, type: d.check.type },
    labels: d.labels,
    firstSeen: ms(d.firstSeen),
    lastSeen: ms(d.lastSeen),
    occurrences: d.occurrences,
    lastMessage: d.lastMessage,
    acknowledgedAt: ms(d.acknowledgedAt ?? null),
    acknowledgedBy: d.acknowledgedBy ?? null,
    resolvedAt: ms(d.resolvedAt ?? null),
    resolvedBy: d.resolvedBy ?? null,
    closedAt: ms(d.closedAt ?? null),
    reopenCount: d.reopenCount,
    flapping: d.flapping,
    related: (d.related ?? []).map((r) => ({ targetId: r.targetId, fingerprint: r.fingerprint, since: ms(r.since) })),
    // The indexed field is the one the sweep compares against; it wins over the copy inside.
    escalation: { ...escalationFromDoc(d.escalation), nextTimerAt: d.nextTimerAt ? d.nextTimerAt.getTime() : null },
    notified: d.notified ?? [],
    tickets: d.tickets ?? {},
    subscribers: d.subscribers ?? [],
    timeline: withTimeline
      ? (d.timeline ?? []).map((t) => (t.tier === undefined ? { at: ms(t.at), actor: t.actor, action: t.action, message: t.message } : { at: ms(t.at), actor: t.actor, action: t.action, message: t.message, tier: t.tier }))
      : [],
  };
}

/** The event a delivery carries, with its time as a BSON date. */
export type OutboxEventDoc = Omit<OutboxEvent, 'at'> & { at: Date };

/** One event on its way to one channel. `_id` is the delivery id. */
export interface DeliveryDoc {
  _id: string;
  eventId: string;
  channelId: string;
  event: OutboxEventDoc;
  status: DeliveryStatus;
  attempts: number;
  /** When it is next due; while claimed, when the claim runs out. */
  nextAt: Date;
  leaseOwner: string | null;
  lastError: string | null;
  reference: string | null;
  createdAt: Date;
  finishedAt: Date | null;
  /** The oldest pending delivery of its incident and channel: the only one of them claimable. */
  head: boolean;
  /** A later delivery of its incident and channel was written: finishing this one promotes it. */
  next: boolean;
}

export function newDeliveryDoc(id: string, event: OutboxEvent, channelId: string, at: number): DeliveryDoc {
  return {
    _id: id,
    eventId: event.id,
    channelId,
    event: { ...event, at: new Date(event.at) },
    status: 'pending',
    attempts: 0,
    nextAt: new Date(at),
    leaseOwner: null,
    lastError: null,
    reference: null,
    createdAt: new Date(at),
    finishedAt: null,
    head: true,
    next: false,
  };
}

export function docToDelivery(d: DeliveryDoc): Delivery {
  return {
    id: d._id,
    eventId: d.eventId,
    channelId: d.channelId,
    event: { ...d.event, at: d.event.at.getTime() },
    status: d.status,
    attempts: d.attempts,
    nextAttemptAt: d.nextAt.getTime(),
    leaseOwner: d.leaseOwner,
    lastError: d.lastError,
    reference: d.reference,
    createdAt: d.createdAt.getTime(),
    finishedAt: d.finishedAt ? d.finishedAt.getTime() : null,
  };
}

/** The query of a list filter. */
/**
 * Incidents of these tenants; an empty list matches nothing. Documents written before schema 7
 * have no tenant and are the default tenant's, so `null` (missing) stands for it too: the upgrade
 * sets the field, but an instance may read before another instance finished upgrading.
 */
export function tenantMatch(tenants: readonly string[]): Filter<IncidentDoc> {
  const values: (string | null)[] = [...tenants];
  if (tenants.includes(DEFAULT_TENANT)) values.push(null);
  // The driver's Filter type has no null for an optional field, which `$in` matches as missing.
  return { tenant: { $in: values } } as unknown as Filter<IncidentDoc>;
}

export function incidentQuery(filter: IncidentFilter): Filter<IncidentDoc> {
  const q: Filter<IncidentDoc> = {};
  if (filter.tenant !== undefined) Object.assign(q, tenantMatch(filter.tenant));
  if (filter.status && filter.status.length > 0) q.status = { $in: filter.status };
  if (filter.severity && filter.severity.length > 0) q.severity = { $in: filter.severity };
  if (filter.category !== undefined) q.category = filter.category;
  if (filter.site !== undefined) q['target.site'] = filter.site;
  if (filter.target !== undefined) q['target.id'] = filter.target;
  if (filter.fingerprint !== undefined) q.fingerprint = filter.fingerprint;
  if (filter.priority && filter.priority.length > 0) q.priority = { $in: filter.priority };
  if (filter.tier && filter.tier.length > 0) q.tier = { $in: filter.tier };
  if (filter.openedAfter !== undefined || filter.openedBefore !== undefined) {
    // After: inclusive; before: exclusive (see IncidentFilter).
    q.firstSeen = {
      ...(filter.openedAfter !== undefined ? { $gte: new Date(filter.openedAfter) } : {}),
      ...(filter.openedBefore !== undefined ? { $lt: new Date(filter.openedBefore) } : {}),
    };
  }
  if (filter.text !== undefined && filter.text !== '') {
    // The text taken literally, case-insensitive; a regex without an anchor scans, like SQLite's LIKE.
    const re = { $regex: escapeRegExp(filter.text), $options: 'i' };
    q.$or = [{ title: re }, { description: re }];
  }
  return q;
}
