// Reports (issue 18): what the stores compute and how periods are cut. Period boundaries are
// computed here, in the report's time zone (luxon, on Node's ICU data), and handed to the store as
// a list of instants: SQLite knows no time zones, and a list of instants makes a 23- or 25-hour day
// (DST) or a 28..31-day month exact in both stores alike.
import { isValidTimeZone, luxon } from '../shared/luxon.js';

export const REPORT_PERIODS = ['day', 'week', 'month'] as const;
export type ReportPeriod = (typeof REPORT_PERIODS)[number];

/** What incident counts can be grouped by. */
export const REPORT_DIMENSIONS = ['category', 'severity', 'impact', 'priority', 'site', 'target', 'source', 'tenant'] as const;
export type ReportDimension = (typeof REPORT_DIMENSIONS)[number];

/** What handling times can be grouped by. */
export const DURATION_GROUPS = ['severity', 'tier', 'category'] as const;
export type DurationGroup = (typeof DURATION_GROUPS)[number];

/** Periods in the trend: the report's period and the 11 before it. */
export const TREND_PERIODS = 12;

export interface PeriodCountQuery {
  /** Only these tenants; an empty list matches nothing; absent: every tenant. */
  tenants?: readonly string[];
  dimension: ReportDimension;
  /**
   * Ascending instants (epoch ms). Period i is [boundaries[i], boundaries[i+1]): incidents count in
   * the period they were opened (firstSeen) in; ones outside every period are not counted.
   */
  boundaries: readonly number[];
}

/** Incidents opened in one period with one value of the dimension; combinations with none are absent. */
export interface PeriodCount {
  period: number;
  key: string;
  count: number;
}

export interface HandlingTimeQuery {
  tenants?: readonly string[];
  groupBy: DurationGroup;
  /** Incidents opened (firstSeen) in [from, to). */
  from: number;
  to: number;
}

/**
 * Handling times of the incidents of one group that were acknowledged (resp. resolved), in calendar
 * milliseconds from opening (firstSeen). Percentiles are nearest-rank: the p-th percentile is the
 * smallest time with at least p% of the times at or below it (so the median of 4 is the 2nd).
 */
export interface HandlingTimeRow {
  key: string;
  measure: 'acknowledge' | 'resolve';
  count: number;
  medianMs: number;
  p90Ms: number;
  meanMs: number;
}

/** The 1-based rank of the p-th percentile (0 < p <= 1) of n sorted values, nearest-rank. */
export function percentileRank(p: number, n: number): number {
  return Math.max(1, Math.ceil(p * n));
}

export class InvalidTimeZoneError extends Error {
  constructor(readonly zone: string) {
    super(`unknown time zone "${zone}"; use an IANA name like "Europe/Berlin", "America/New_York" or "UTC"`);
    this.name = 'InvalidTimeZoneError';
  }
}

export function isValidZone(zone: string): boolean {
  return isValidTimeZone(zone);
}

/**
 * The boundaries of `count` consecutive periods in `zone`, the last one containing `at`: count + 1
 * instants. Days start at local midnight (or the first instant after it, where DST skips it), weeks
 * on Monday (ISO), months on the 1st.
 */
export function periodBoundaries(period: ReportPeriod, zone: string, at: number, count: number = TREND_PERIODS): number[] {
  if (!isValidZone(zone)) throw new InvalidTimeZoneError(zone);
  const unit = period === 'day' ? 'days' : period === 'week' ? 'weeks' : 'months';
  const start = luxon().DateTime.fromMillis(at, { zone }).startOf(period);
  const out: number[] = [];
  for (let i = count - 1; i >= -1; i--) {
    // Each boundary from the calendar date, not by adding milliseconds: a local day is 23-25 h.
    out.push(start.minus({ [unit]: i }).startOf(period).toMillis());
  }
  return out;
}

/** A period's label in its zone: 2026-03-29 (day, week: its Monday) or 2026-03 (month). */
export function periodLabel(period: ReportPeriod, zone: string, start: number): string {
  const d = luxon().DateTime.fromMillis(start, { zone });
  return period === 'month' ? d.toFormat('yyyy-MM') : d.toFormat('yyyy-MM-dd');
}

/** What SLA compliance can be grouped by. */
export const SLA_GROUPS = ['severity', 'tier', 'tenant'] as const;
export type SlaGroup = (typeof SLA_GROUPS)[number];

export interface SlaQuery {
  tenants?: readonly string[];
  groupBy: SlaGroup;
  /** Incidents opened (firstSeen) in [from, to). */
  from: number;
  to: number;
  /** Judge open SLAs at this time: one past its due time unmet is breached. */
  now: number;
}

/**
 * SLA compliance of one group, per SLA (acknowledge, resolve), over the incidents that have that
 * SLA (a due time in their escalation state). `met`: done at or before the due time; `breached`:
 * done after it, or not done by `now` with the due time past; `pending`: not done, not yet due.
 */
export interface SlaRow {
  key: string;
  measure: 'acknowledge' | 'resolve';
  withSla: number;
  met: number;
  breached: number;
  pending: number;
}

/** One SLA an incident missed. `doneAt` null: still not done at `now`. */
export interface SlaBreach {
  number: string;
  tenant: string;
  severity: string;
  tier: string;
  measure: 'acknowledge' | 'resolve';
  openedAt: number;
  dueAt: number;
  doneAt: number | null;
}

/** Most breaches one report lists (oldest first); the counts in SlaRow cover all of them. */
export const MAX_BREACHES = 1000;

/** Incidents opened in [from, to) of some tenants: the scope of the recurring-problem reports. */
export interface RangeQuery {
  tenants?: readonly string[];
  from: number;
  to: number;
}

/** A fingerprint that keeps coming back: incidents opened, reopenings of them, ones that flapped. */
export interface FingerprintRow {
  fingerprint: string;
  targetId: string;
  openings: number;
  reopenings: number;
  flapping: number;
}

/** A target by incidents opened and downtime: the sum of each incident's open time (to its resolution, or `now`). */
export interface TargetRow {
  targetId: string;
  targetName: string;
  incidents: number;
  downtimeMs: number;
}

/** A stretch of time over which the zone's offset from UTC is constant. */
export interface OffsetSpan {
  from: number;
  to: number;
  offsetMs: number;
}

export interface HeatmapQuery extends RangeQuery {
  /** The zone's offsets over [from, to) (zoneOffsets), so a store without time zones places each opening. */
  offsets: readonly OffsetSpan[];
}

/** Incidents opened in one local hour of one weekday (0 Monday .. 6 Sunday); empty cells are absent. */
export interface HeatCell {
  weekday: number;
  hour: number;
  count: number;
}

/** Most rows the top-N reports return. */
export const MAX_TOP = 100;

/**
 * The zone's offsets from UTC over [from, to), in spans: one per stretch between DST changes. Found
 * by stepping a day at a time and narrowing each change to the millisecond.
 */
export function zoneOffsets(zone: string, from: number, to: number): OffsetSpan[] {
  if (!isValidZone(zone)) throw new InvalidTimeZoneError(zone);
  const { DateTime } = luxon();
  const offset = (t: number) => DateTime.fromMillis(t, { zone }).offset * 60_000;
  const DAY = 86_400_000;
  const spans: OffsetSpan[] = [];
  let start = from;
  let current = offset(from);
  for (let t = from; t < to; ) {
    const next = Math.min(t + DAY, to);
    const o = next < to ? offset(next) : current;
    if (o !== current) {
      // The change lies in (t, next]: the first instant with the new offset.
      let lo = t;
      let hi = next;
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (offset(mid) === current) lo = mid;
        else hi = mid;
      }
      spans.push({ from: start, to: hi, offsetMs: current });
      start = hi;
      current = offset(hi);
    }
    t = next;
  }
  spans.push({ from: start, to, offsetMs: current });
  return spans;
}

export interface BacklogQuery {
  tenants?: readonly string[];
  /** Ascending instants, e.g. local midnights (periodBoundaries('day', ...)). */
  boundaries: readonly number[];
}

/**
 * Incidents open at each boundary after the first (the end of each period): opened before it and
 * not resolved before it. Computed as the backlog at the first boundary plus openings minus
 * resolutions per period, each an aggregate over an index range.
 */
export function backlogFrom(base: number, opened: readonly { period: number; count: number }[], resolved: readonly { period: number; count: number }[], periods: number): number[] {
  const delta = new Array<number>(periods).fill(0);
  for (const o of opened) delta[o.period] = delta[o.period]! + o.count;
  for (const r of resolved) delta[r.period] = delta[r.period]! - r.count;
  const out: number[] = [];
  let open = base;
  for (const d of delta) out.push((open += d));
  return out;
}

/** Local midnights from the day containing `from` through `to` (inclusive when `to` is a midnight). */
export function dayBoundaries(zone: string, from: number, to: number): number[] {
  if (!isValidZone(zone)) throw new InvalidTimeZoneError(zone);
  const out: number[] = [];
  let d = luxon().DateTime.fromMillis(from, { zone }).startOf('day');
  for (;;) {
    out.push(d.toMillis());
    if (d.toMillis() >= to) return out;
    d = d.plus({ days: 1 }).startOf('day');
  }
}

export interface EscalationQuery {
  tenants?: readonly string[];
  /** Ascending instants; period i is [boundaries[i], boundaries[i+1]). */
  boundaries: readonly number[];
}

/**
 * Escalations into one tier in one period: `escalated` timeline entries (by the sweep, a raised
 * severity, or a person) counted at their time, by the tier they handed the incident to. A raised
 * severity that kept the tier is not an escalation into a tier and is not counted.
 */
export interface EscalationCount {
  period: number;
  tier: string;
  count: number;
}

/**
 * The tier an `escalated` entry handed over to, read from its message: how entries written before
 * TimelineEntry.tier get theirs (SQLite migration 14, Mongo schema 11). The three messages, from src/incidents/escalation.ts and
 * src/domain/transitions.ts: `...; escalated to L2`, `severity raised to major; L2 takes over`
 * and `escalated by hand from L1 to L2: reason`. The stores' backfills read the same three shapes
 * in their query language; this is their reference (and the tests').
 */
export function escalatedInto(message: string): string | null {
  const hand = /^escalated by hand from L\d to (L\d):/.exec(message);
  if (hand) return hand[1]!;
  const m = /; escalated to (L\d)$/.exec(message) ?? /; (L\d) takes over$/.exec(message);
  return m ? m[1]! : null;
}

/** Calendar (elapsed) time or business time (open hours of the incident's SLA calendar). */
export const HANDLING_TIMES = ['calendar', 'business'] as const;
export type HandlingTime = (typeof HANDLING_TIMES)[number];

/** What a handling time in business time is made of: one incident's group, calendar and instants. */
export interface HandlingStamps {
  key: string;
  tenant: string;
  severity: string;
  site: string;
  firstSeen: number;
  acknowledgedAt: number | null;
  resolvedAt: number | null;
}

/** Open milliseconds within [a, b) of the calendar an incident's SLA clock runs on. */
export interface OpenTime {
  businessTimeBetween(a: number, b: number): number;
}

/**
 * Handling times in business time, folded from streamed stamps (neither store knows calendars
 * with holidays and time zones): only each group's durations are kept (8 bytes an incident, for
 * exact nearest-rank percentiles), never the incidents. Same rows and order as the store's.
 */
export async function foldHandlingTimes(stamps: AsyncIterable<HandlingStamps>, calendarOf: (s: HandlingStamps) => OpenTime): Promise<HandlingTimeRow[]> {
  const groups = new Map<string, { key: string; measure: HandlingTimeRow['measure']; ms: number[] }>();
  const add = (key: string, measure: HandlingTimeRow['measure'], ms: number) => {
    const id = `${key}\u0000${measure}`;
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { key, measure, ms: [] }));
    g.ms.push(ms);
  };
  for await (const s of stamps) {
    const cal = calendarOf(s);
    if (s.acknowledgedAt !== null) add(s.key, 'acknowledge', cal.businessTimeBetween(s.firstSeen, s.acknowledgedAt));
    if (s.resolvedAt !== null) add(s.key, 'resolve', cal.businessTimeBetween(s.firstSeen, s.resolvedAt));
  }
  const rows: HandlingTimeRow[] = [];
  for (const g of groups.values()) {
    const sorted = Float64Array.from(g.ms).sort();
    const n = sorted.length;
    let sum = 0;
    for (const v of sorted) sum += v;
    rows.push({ key: g.key, measure: g.measure, count: n, medianMs: sorted[percentileRank(0.5, n) - 1]!, p90Ms: sorted[percentileRank(0.9, n) - 1]!, meanMs: sum / n });
  }
  // As the stores order them: by key, then measure (binary order, like SQLite's and MongoDB's).
  return rows.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.measure < b.measure ? -1 : a.measure > b.measure ? 1 : 0));
}
