// Reports in MongoDB (see ReportStore): one aggregation pipeline each, standard stages only.
// Period boundaries come from the caller (src/domain/reports.ts) and become a $switch.
import type { Collection, Document } from 'mongodb';
import { incidentNumber } from '../../domain/incident.js';
import type { DurationGroup, FingerprintRow, HeatCell, HeatmapQuery, RangeQuery, TargetRow, HandlingTimeQuery, HandlingTimeRow, PeriodCount, PeriodCountQuery, ReportDimension, SlaBreach, SlaGroup, SlaQuery, SlaRow } from '../../domain/reports.js';
import { backlogFrom, MAX_BREACHES, MAX_TOP } from '../../domain/reports.js';
import type { BacklogQuery, EscalationCount, EscalationQuery, HandlingStamps } from '../../domain/reports.js';
import { DEFAULT_TENANT } from '../../domain/principal.js';
import type { IncidentDoc } from './documents.js';
import { tenantMatch } from './documents.js';

/** The field of each dimension; documents from before tenants read as the default tenant's. */
const FIELD: Record<ReportDimension | DurationGroup | SlaGroup, unknown> = {
  category: '$category',
  severity: '$severity',
  impact: '$impact',
  priority: '$priority',
  site: '$target.site',
  target: '$target.id',
  source: '$source',
  tenant: { $ifNull: ['$tenant', DEFAULT_TENANT] },
  tier: '$tier',
};

function openedIn(tenants: readonly string[] | undefined, from: number, to: number): Document {
  return { ...(tenants === undefined ? {} : tenantMatch(tenants)), firstSeen: { $gte: new Date(from), $lt: new Date(to) } };
}

export async function countByPeriod(incidents: Collection<IncidentDoc>, q: PeriodCountQuery): Promise<PeriodCount[]> {
  const b = q.boundaries;
  if ((q.tenants !== undefined && q.tenants.length === 0) || b.length < 2) return [];
  // The match is one index range over all periods; within it, period i is the first whose end lies after firstSeen.
  const branches = [];
  for (let p = 0; p + 1 < b.length; p++) branches.push({ case: { $lt: ['$firstSeen', new Date(b[p + 1]!)] }, then: p });
  const rows = incidents.aggregate<{ _id: { p: number; k: string }; n: number }>([
    { $match: openedIn(q.tenants, b[0]!, b[b.length - 1]!) },
    { $group: { _id: { p: { $switch: { branches, default: -1 } }, k: FIELD[q.dimension] }, n: { $sum: 1 } } },
    { $sort: { '_id.p': 1, '_id.k': 1 } },
  ]);
  const out: PeriodCount[] = [];
  for await (const r of rows) out.push({ period: r._id.p, key: r._id.k, count: r.n });
  return out;
}

export async function handlingTimes(incidents: Collection<IncidentDoc>, q: HandlingTimeQuery): Promise<HandlingTimeRow[]> {
  if (q.tenants !== undefined && q.tenants.length === 0) return [];
  // Nearest-rank percentiles (src/domain/reports.ts): element ceil(p*n) - 1 of the sorted times.
  const at = (p: number) => ({ $arrayElemAt: ['$ms', { $subtract: [{ $max: [1, { $ceil: { $multiply: [p, '$n'] } }] }, 1] }] });
  const rows = incidents.aggregate<{ _id: { k: string; m: HandlingTimeRow['measure'] }; n: number; median: number; p90: number; mean: number }>([
    { $match: openedIn(q.tenants, q.from, q.to) },
    {
      $project: {
        _id: 0,
        k: FIELD[q.groupBy],
        t: [
          { m: 'acknowledge', ms: { $subtract: ['$acknowledgedAt', '$firstSeen'] } },
          { m: 'resolve', ms: { $subtract: ['$resolvedAt', '$firstSeen'] } },
        ],
      },
    },
    { $unwind: '$t' },
    // Not acknowledged (resolved) yet: the subtraction gave null.
    { $match: { 't.ms': { $ne: null } } },
    { $sort: { k: 1, 't.m': 1, 't.ms': 1 } },
    { $group: { _id: { k: '$k', m: '$t.m' }, ms: { $push: '$t.ms' }, n: { $sum: 1 }, mean: { $avg: '$t.ms' } } },
    { $project: { n: 1, mean: 1, median: at(0.5), p90: at(0.9) } },
    { $sort: { '_id.k': 1, '_id.m': 1 } },
  ]);
  const out: HandlingTimeRow[] = [];
  for await (const r of rows) out.push({ key: r._id.k, measure: r._id.m, count: r.n, medianMs: r.median, p90Ms: r.p90, meanMs: r.mean });
  return out;
}

/**
 * Each SLA of the incidents opened in the range as one document { k, m, due, done } (dates), only
 * those with a due time. Due times of documents from before schema 5 are numbers: $toDate reads both.
 */
function slaStages(q: Omit<SlaQuery, 'groupBy'>, key: unknown): Document[] {
  const sla = (m: string, due: string, done: string) => ({
    m,
    due: { $convert: { input: `$escalation.${due}`, to: 'date', onNull: null, onError: null } },
    done: `$${done}`,
  });
  return [
    { $match: openedIn(q.tenants, q.from, q.to) },
    {
      $project: {
        k: key,
        seq: '$_id',
        tenant: FIELD.tenant,
        severity: 1,
        tier: 1,
        firstSeen: 1,
        s: [sla('acknowledge', 'ackDueAt', 'acknowledgedAt'), sla('resolve', 'resolveDueAt', 'resolvedAt')],
      },
    },
    { $unwind: '$s' },
    { $match: { 's.due': { $ne: null } } },
  ];
}

const met = { $and: [{ $ne: [{ $ifNull: ['$s.done', null] }, null] }, { $lte: ['$s.done', '$s.due'] }] };
function breached(now: number): Document {
  return {
    $or: [
      { $and: [{ $ne: [{ $ifNull: ['$s.done', null] }, null] }, { $gt: ['$s.done', '$s.due'] }] },
      { $and: [{ $eq: [{ $ifNull: ['$s.done', null] }, null] }, { $gt: [new Date(now), '$s.due'] }] },
    ],
  };
}

export async function slaCompliance(incidents: Collection<IncidentDoc>, q: SlaQuery): Promise<SlaRow[]> {
  if (q.tenants !== undefined && q.tenants.length === 0) return [];
  const count = (cond: unknown) => ({ $sum: { $cond: [cond, 1, 0] } });
  const rows = incidents.aggregate<{ _id: { k: string; m: SlaRow['measure'] }; n: number; met: number; breached: number }>([
    ...slaStages(q, FIELD[q.groupBy]),
    { $group: { _id: { k: '$k', m: '$s.m' }, n: { $sum: 1 }, met: count(met), breached: count(breached(q.now)) } },
    { $sort: { '_id.k': 1, '_id.m': 1 } },
  ]);
  const out: SlaRow[] = [];
  for await (const r of rows) out.push({ key: r._id.k, measure: r._id.m, withSla: r.n, met: r.met, breached: r.breached, pending: r.n - r.met - r.breached });
  return out;
}

export async function slaBreaches(incidents: Collection<IncidentDoc>, q: Omit<SlaQuery, 'groupBy'>, limit: number): Promise<SlaBreach[]> {
  if (q.tenants !== undefined && q.tenants.length === 0) return [];
  const rows = incidents.aggregate<{ seq: number; tenant: string; severity: string; tier: string; firstSeen: Date; s: { m: SlaBreach['measure']; due: Date; done: Date | null } }>([
    ...slaStages(q, null),
    { $match: { $expr: breached(q.now) } },
    { $sort: { firstSeen: 1, seq: 1, 's.m': 1 } },
    { $limit: Math.max(1, Math.min(limit, MAX_BREACHES)) },
  ]);
  const out: SlaBreach[] = [];
  for await (const r of rows) {
    out.push({
      number: incidentNumber(r.seq),
      tenant: r.tenant,
      severity: r.severity,
      tier: r.tier,
      measure: r.s.m,
      openedAt: r.firstSeen.getTime(),
      dueAt: r.s.due.getTime(),
      doneAt: r.s.done === null || r.s.done === undefined ? null : r.s.done.getTime(),
    });
  }
  return out.slice(0, Math.max(0, limit));
}

const top = (limit: number) => Math.max(1, Math.min(limit, MAX_TOP));

export async function topFingerprints(incidents: Collection<IncidentDoc>, q: RangeQuery, limit: number): Promise<FingerprintRow[]> {
  if ((q.tenants !== undefined && q.tenants.length === 0) || limit <= 0) return [];
  const flapped = { $gt: [{ $size: { $filter: { input: '$timeline', cond: { $eq: ['$$this.action', 'flapping-started'] } } } }, 0] };
  const rows = incidents.aggregate<{ _id: string; targetId: string; openings: number; reopenings: number; flapping: number }>([
    { $match: openedIn(q.tenants, q.from, q.to) },
    {
      $group: {
        _id: '$fingerprint',
        targetId: { $min: '$target.id' },
        openings: { $sum: 1 },
        reopenings: { $sum: '$reopenCount' },
        flapping: { $sum: { $cond: [flapped, 1, 0] } },
      },
    },
    { $addFields: { total: { $add: ['$openings', '$reopenings'] } } },
    { $sort: { total: -1, _id: 1 } },
    { $limit: top(limit) },
  ]);
  const out: FingerprintRow[] = [];
  for await (const r of rows) out.push({ fingerprint: r._id, targetId: r.targetId, openings: r.openings, reopenings: r.reopenings, flapping: r.flapping });
  return out;
}

export async function topTargets(incidents: Collection<IncidentDoc>, q: RangeQuery & { now: number }, limit: number): Promise<TargetRow[]> {
  if ((q.tenants !== undefined && q.tenants.length === 0) || limit <= 0) return [];
  const rows = incidents.aggregate<{ _id: string; name: string; n: number; down: number }>([
    { $match: openedIn(q.tenants, q.from, q.to) },
    {
      $group: {
        _id: '$target.id',
        name: { $max: '$target.name' },
        n: { $sum: 1 },
        down: { $sum: { $subtract: [{ $ifNull: ['$resolvedAt', new Date(q.now)] }, '$firstSeen'] } },
      },
    },
    { $sort: { n: -1, down: -1, _id: 1 } },
    { $limit: top(limit) },
  ]);
  const out: TargetRow[] = [];
  for await (const r of rows) out.push({ targetId: r._id, targetName: r.name, incidents: r.n, downtimeMs: r.down });
  return out;
}

export async function heatmap(incidents: Collection<IncidentDoc>, q: HeatmapQuery): Promise<HeatCell[]> {
  if ((q.tenants !== undefined && q.tenants.length === 0) || q.offsets.length === 0) return [];
  // Local time = UTC + the offset of the zone's span (the caller's zoneOffsets), as in SQLite;
  // 1970-01-01 was a Thursday (weekday 3, Monday 0).
  const branches = q.offsets.map((o) => ({ case: { $lt: ['$firstSeen', new Date(o.to)] }, then: o.offsetMs }));
  const DAY = 86_400_000;
  const rows = incidents.aggregate<{ _id: { d: number; h: number }; n: number }>([
    { $match: openedIn(q.tenants, q.from, q.to) },
    { $project: { _id: 0, local: { $add: [{ $toLong: '$firstSeen' }, { $switch: { branches, default: 0 } }] } } },
    {
      $group: {
        _id: {
          d: { $mod: [{ $add: [{ $floor: { $divide: ['$local', DAY] } }, 3] }, 7] },
          h: { $floor: { $divide: [{ $mod: ['$local', DAY] }, 3_600_000] } },
        },
        n: { $sum: 1 },
      },
    },
    { $sort: { '_id.d': 1, '_id.h': 1 } },
  ]);
  const out: HeatCell[] = [];
  for await (const r of rows) out.push({ weekday: Number(r._id.d), hour: Number(r._id.h), count: r.n });
  return out;
}

/** Counts per period of the documents whose `field` (a date) falls in it. */
async function perPeriod(incidents: Collection<IncidentDoc>, field: 'firstSeen' | 'resolvedAt', b: readonly number[], tenants: readonly string[] | undefined) {
  const branches = [];
  for (let p = 0; p + 1 < b.length; p++) branches.push({ case: { $lt: [`$${field}`, new Date(b[p + 1]!)] }, then: p });
  const rows = incidents.aggregate<{ _id: number; n: number }>([
    { $match: { ...(tenants === undefined ? {} : tenantMatch(tenants)), [field]: { $gte: new Date(b[0]!), $lt: new Date(b[b.length - 1]!) } } },
    { $group: { _id: { $switch: { branches, default: -1 } }, n: { $sum: 1 } } },
  ]);
  const out: { period: number; count: number }[] = [];
  for await (const r of rows) out.push({ period: r._id, count: r.n });
  return out;
}

export async function backlog(incidents: Collection<IncidentDoc>, q: BacklogQuery): Promise<number[]> {
  const periods = Math.max(0, q.boundaries.length - 1);
  if ((q.tenants !== undefined && q.tenants.length === 0) || periods === 0) return new Array<number>(periods).fill(0);
  const t0 = new Date(q.boundaries[0]!);
  const scope = q.tenants === undefined ? {} : tenantMatch(q.tenants);
  // Open at t0: opened before it, minus those of them resolved before it (resolution follows opening).
  const base = (await incidents.countDocuments({ ...scope, firstSeen: { $lt: t0 } })) - (await incidents.countDocuments({ ...scope, resolvedAt: { $lt: t0 } }));
  return backlogFrom(base, await perPeriod(incidents, 'firstSeen', q.boundaries, q.tenants), await perPeriod(incidents, 'resolvedAt', q.boundaries, q.tenants), periods);
}

/**
 * Escalations into each tier per period: the `escalated` timeline entries in the range (the
 * `escalated_timeline` index), counted by the tier they handed over to (TimelineEntry.tier).
 */
export async function escalations(incidents: Collection<IncidentDoc>, q: EscalationQuery): Promise<EscalationCount[]> {
  const b = q.boundaries;
  if ((q.tenants !== undefined && q.tenants.length === 0) || b.length < 2) return [];
  const lo = new Date(b[0]!);
  const hi = new Date(b[b.length - 1]!);
  const branches = [];
  for (let p = 0; p + 1 < b.length; p++) branches.push({ case: { $lt: ['$timeline.at', new Date(b[p + 1]!)] }, then: p });
  const rows = incidents.aggregate<{ _id: { p: number; t: string }; n: number }>([
    {
      $match: {
        ...(q.tenants === undefined ? {} : tenantMatch(q.tenants)),
        // The first names the index's filter (so the planner may use it), the second bounds it.
        'timeline.action': 'escalated',
        timeline: { $elemMatch: { action: 'escalated', at: { $gte: lo, $lt: hi } } },
      },
    },
    { $unwind: '$timeline' },
    { $match: { 'timeline.action': 'escalated', 'timeline.at': { $gte: lo, $lt: hi } } },
    {
      $project: {
        p: { $switch: { branches, default: -1 } },
        t: { $ifNull: ['$timeline.tier', null] },
      },
    },
    { $match: { t: { $ne: null } } },
    { $group: { _id: { p: '$p', t: '$t' }, n: { $sum: 1 } } },
    { $sort: { '_id.p': 1, '_id.t': 1 } },
  ]);
  const out: EscalationCount[] = [];
  for await (const r of rows) out.push({ period: r._id.p, tier: r._id.t, count: r.n });
  return out;
}

/** The stamps of the incidents opened in the range, through a cursor on the opening-time index. */
export async function* handlingTimeStamps(incidents: Collection<IncidentDoc>, q: HandlingTimeQuery): AsyncGenerator<HandlingStamps> {
  if (q.tenants !== undefined && q.tenants.length === 0) return;
  const cursor = incidents.aggregate<{ k: string; t: string; s: string; site: string; f: Date; a: Date | null; r: Date | null }>(
    [
      { $match: openedIn(q.tenants, q.from, q.to) },
      { $project: { _id: 0, k: FIELD[q.groupBy], t: FIELD.tenant, s: '$severity', site: '$target.site', f: '$firstSeen', a: { $ifNull: ['$acknowledgedAt', null] }, r: { $ifNull: ['$resolvedAt', null] } } },
    ],
    { batchSize: 5000 },
  );
  for await (const d of cursor) {
    yield { key: d.k, tenant: d.t, severity: d.s, site: d.site, firstSeen: d.f.getTime(), acknowledgedAt: d.a === null ? null : d.a.getTime(), resolvedAt: d.r === null ? null : d.r.getTime() };
  }
}
