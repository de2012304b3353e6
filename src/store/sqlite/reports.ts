// Reports in SQLite (see ReportStore): GROUP BY over index ranges, percentiles by window functions.
// Period boundaries come from the caller (src/domain/reports.ts), as a VALUES table of ranges.
import type { Database } from 'better-sqlite3';
import { incidentNumber } from '../../domain/incident.js';
import type { DurationGroup, FingerprintRow, HeatCell, HeatmapQuery, RangeQuery, TargetRow, HandlingTimeQuery, HandlingTimeRow, PeriodCount, PeriodCountQuery, ReportDimension, SlaBreach, SlaGroup, SlaQuery, SlaRow } from '../../domain/reports.js';
import { backlogFrom, foldHandlingTimes, MAX_BREACHES, MAX_TOP } from '../../domain/reports.js';
import type { BacklogQuery, EscalationCount, EscalationQuery, HandlingStamps } from '../../domain/reports.js';
import { distinctTenants } from './list.js';

/** The column of each dimension; fixed names only, so they can go into the SQL text. */
const COLUMN: Record<ReportDimension | DurationGroup | SlaGroup, string> = {
  category: 'category',
  severity: 'severity',
  impact: 'impact',
  priority: 'priority',
  site: 'target_site',
  target: 'target_id',
  source: 'source',
  tenant: 'tenant',
  tier: 'tier',
};

/**
 * The query with its tenants: a report of all tenants names every tenant that has an incident, so
 * it reads each one's range of the covering index that leads with the tenant (incidents_tenant_report).
 * The table has no index of opening times without the tenant: every new incident wrote it (schema 16).
 */
export function withTenants<Q extends { tenants?: readonly string[] }>(db: Database, q: Q): Q {
  return q.tenants !== undefined ? q : { ...q, tenants: distinctTenants(db) };
}

/** `AND tenant IN (...)` with its parameters; null when the scope sees no tenant (nothing matches). */
function tenantClause(tenants: readonly string[] | undefined): { sql: string; params: string[] } | null {
  if (tenants === undefined) return { sql: '', params: [] };
  if (tenants.length === 0) return null;
  return { sql: ` AND i.tenant IN (${tenants.map(() => '?').join(', ')})`, params: [...tenants] };
}

/** A report's SQL and parameters; null when it matches nothing (a scope that sees no tenant). */
export interface ReportStatement {
  sql: string;
  params: (string | number)[];
}

/**
 * One period's counts: a range of the covering report index (tenant, first_seen ... when scoped),
 * counted per value of the dimension. One statement per period, not one over all twelve: the
 * GROUP BY sorts each period's rows apart, and twelve small sorts fit in the sorter's memory where
 * one of ~500k entries (a year of a million incidents) spills and merges (bench:reports: counts
 * by target, month x12, all tenants 2.2 s -> see README).
 */
export function countByPeriodStatement(q: PeriodCountQuery): ReportStatement | null {
  const tenant = tenantClause(q.tenants);
  if (tenant === null || q.boundaries.length < 2) return null;
  const sql = `
    SELECT i.${COLUMN[q.dimension]} AS key, COUNT(*) AS count
      FROM incidents i WHERE i.first_seen >= ? AND i.first_seen < ?${tenant.sql}
     GROUP BY key
     ORDER BY key`;
  return { sql, params: [q.boundaries[0]!, q.boundaries[1]!, ...tenant.params] };
}

export function countByPeriod(db: Database, query: PeriodCountQuery): PeriodCount[] {
  const q = withTenants(db, query);
  const st = countByPeriodStatement(q);
  if (st === null) return [];
  const statement = db.prepare(st.sql);
  const tenants = st.params.slice(2);
  // One read transaction: every period sees the same snapshot, as the single statement did.
  return db.transaction(() => {
    const out: PeriodCount[] = [];
    for (let p = 0; p + 1 < q.boundaries.length; p++) {
      for (const r of statement.all(q.boundaries[p]!, q.boundaries[p + 1]!, ...tenants) as { key: string; count: number }[]) out.push({ period: p, key: r.key, count: r.count });
    }
    return out;
  })();
}

/** Calendar time: every millisecond counts. */
const ELAPSED = { businessTimeBetween: (a: number, b: number) => Math.max(0, b - a) };

/**
 * Handling times in calendar time: the stamps of the range folded as business time is, with every
 * millisecond open (same rows, exact nearest-rank percentiles). The SQL form (ROW_NUMBER over the
 * union of both measures) sorted the range three times: side by side at 1,000,000 incidents, a
 * month of all tenants took 510 - 650 ms against 230 - 370 ms folded (bench:reports, load 15).
 */
export async function handlingTimes(db: Database, query: HandlingTimeQuery): Promise<HandlingTimeRow[]> {
  const q = withTenants(db, query);
  if (q.tenants !== undefined && q.tenants.length === 0) return [];
  return foldHandlingTimes(handlingTimeStamps(db, q), () => ELAPSED);
}

/**
 * Each SLA of the incidents opened in the range as one row (key, measure, due, done): the due
 * times live in the escalation state (JSON), read only for the rows of the range.
 */
function slaRows(key: string, tenantSql: string): string {
  const opened = `i.first_seen >= ? AND i.first_seen < ?${tenantSql}`;
  const part = (measure: string, due: string, done: string) => `
      SELECT ${key} AS key, '${measure}' AS measure, json_extract(i.escalation, '$.${due}') AS due, i.${done} AS done,
             i.seq, i.tenant, i.severity, i.tier, i.first_seen
        FROM incidents i WHERE ${opened}`;
  return `${part('acknowledge', 'ackDueAt', 'acknowledged_at')}
      UNION ALL ${part('resolve', 'resolveDueAt', 'resolved_at')}`;
}

export function slaComplianceStatement(q: SlaQuery): ReportStatement | null {
  const tenant = tenantClause(q.tenants);
  if (tenant === null) return null;
  const params = [q.from, q.to, ...tenant.params];
  const sql = `
    WITH s AS (${slaRows(`i.${COLUMN[q.groupBy]}`, tenant.sql)})
    SELECT key, measure, COUNT(*) AS withSla,
           SUM(done IS NOT NULL AND done <= due) AS met,
           SUM((done IS NOT NULL AND done > due) OR (done IS NULL AND ? > due)) AS breached,
           SUM(done IS NULL AND ? <= due) AS pending
      FROM s WHERE due IS NOT NULL
     GROUP BY key, measure
     ORDER BY key, measure`;
  return { sql, params: [...params, ...params, q.now, q.now] };
}

export function slaBreachesStatement(q: Omit<SlaQuery, 'groupBy'>, limit: number): ReportStatement | null {
  const tenant = tenantClause(q.tenants);
  if (tenant === null) return null;
  const params = [q.from, q.to, ...tenant.params];
  const sql = `
    WITH s AS (${slaRows("''", tenant.sql)})
    SELECT seq, tenant, severity, tier, measure, first_seen AS openedAt, due AS dueAt, done AS doneAt
      FROM s WHERE due IS NOT NULL AND ((done IS NOT NULL AND done > due) OR (done IS NULL AND ? > due))
     ORDER BY first_seen, seq, measure
     LIMIT ?`;
  return { sql, params: [...params, ...params, q.now, Math.max(0, Math.min(limit, MAX_BREACHES))] };
}

export function slaCompliance(db: Database, q: SlaQuery): SlaRow[] {
  const st = slaComplianceStatement(withTenants(db, q));
  return st === null ? [] : (db.prepare(st.sql).all(...st.params) as SlaRow[]);
}

export function slaBreaches(db: Database, q: Omit<SlaQuery, 'groupBy'>, limit: number): SlaBreach[] {
  const st = slaBreachesStatement(withTenants(db, q), limit);
  if (st === null) return [];
  const rows = db.prepare(st.sql).all(...st.params) as (Omit<SlaBreach, 'number'> & { seq: number })[];
  return rows.map(({ seq, ...r }) => ({ number: incidentNumber(seq), ...r }));
}

const top = (limit: number) => Math.max(0, Math.min(limit, MAX_TOP));

export function topFingerprintsStatement(q: RangeQuery, limit: number): ReportStatement | null {
  const tenant = tenantClause(q.tenants);
  if (tenant === null) return null;
  // Flapped: the incident's timeline says so (one lookup per incident of the range, by its index).
  const sql = `
    SELECT i.fingerprint AS fingerprint, MIN(i.target_id) AS targetId, COUNT(*) AS openings, SUM(i.reopen_count) AS reopenings,
           SUM(EXISTS (SELECT 1 FROM timeline t WHERE t.incident_seq = i.seq AND t.action = 'flapping-started')) AS flapping
      FROM incidents i WHERE i.first_seen >= ? AND i.first_seen < ?${tenant.sql}
     GROUP BY i.fingerprint
     ORDER BY openings + reopenings DESC, i.fingerprint
     LIMIT ?`;
  return { sql, params: [q.from, q.to, ...tenant.params, top(limit)] };
}

export function topTargetsStatement(q: RangeQuery & { now: number }, limit: number): ReportStatement | null {
  const tenant = tenantClause(q.tenants);
  if (tenant === null) return null;
  const sql = `
    SELECT i.target_id AS targetId, MAX(i.target_name) AS targetName, COUNT(*) AS incidents,
           SUM(COALESCE(i.resolved_at, ?) - i.first_seen) AS downtimeMs
      FROM incidents i WHERE i.first_seen >= ? AND i.first_seen < ?${tenant.sql}
     GROUP BY i.target_id
     ORDER BY incidents DESC, downtimeMs DESC, i.target_id
     LIMIT ?`;
  return { sql, params: [q.now, q.from, q.to, ...tenant.params, top(limit)] };
}

export function heatmapStatement(q: HeatmapQuery): ReportStatement | null {
  const tenant = tenantClause(q.tenants);
  if (tenant === null || q.offsets.length === 0) return null;
  const values = q.offsets.map(() => '(?, ?, ?)').join(', ');
  // Local time = UTC + the zone's offset of its span; 1970-01-01 was a Thursday (weekday 3, Monday 0).
  const sql = `
    -- Parameters arrive as REAL (JavaScript numbers): the local time is cast so / and % are integer.
    WITH spans (lo, hi, off) AS (VALUES ${values}),
    local AS (
      SELECT CAST(i.first_seen + spans.off AS INTEGER) AS t
        FROM spans JOIN incidents i ON i.first_seen >= spans.lo AND i.first_seen < spans.hi AND i.first_seen >= ? AND i.first_seen < ?${tenant.sql}
    )
    SELECT (t / 86400000 + 3) % 7 AS weekday, (t % 86400000) / 3600000 AS hour, COUNT(*) AS count
      FROM local
     GROUP BY weekday, hour
     ORDER BY weekday, hour`;
  return { sql, params: [...q.offsets.flatMap((o) => [o.from, o.to, o.offsetMs]), q.from, q.to, ...tenant.params] };
}

function run<T>(db: Database, st: ReportStatement | null): T[] {
  return st === null ? [] : (db.prepare(st.sql).all(...st.params) as T[]);
}

export const topFingerprints = (db: Database, q: RangeQuery, limit: number) => run<FingerprintRow>(db, topFingerprintsStatement(withTenants(db, q), limit));
export const topTargets = (db: Database, q: RangeQuery & { now: number }, limit: number) => run<TargetRow>(db, topTargetsStatement(withTenants(db, q), limit));
export const heatmap = (db: Database, q: HeatmapQuery) => run<HeatCell>(db, heatmapStatement(withTenants(db, q)));

/** Counts per period of the rows whose `column` falls in it (an index range per period). */
function perPeriod(db: Database, column: 'first_seen' | 'resolved_at', boundaries: readonly number[], tenant: { sql: string; params: string[] }) {
  const ranges: number[] = [];
  for (let p = 0; p + 1 < boundaries.length; p++) ranges.push(p, boundaries[p]!, boundaries[p + 1]!);
  const values = Array.from({ length: ranges.length / 3 }, () => '(?, ?, ?)').join(', ');
  const sql = `
    WITH periods (p, lo, hi) AS (VALUES ${values})
    SELECT periods.p AS period, COUNT(*) AS count
      FROM periods JOIN incidents i ON i.${column} >= periods.lo AND i.${column} < periods.hi${tenant.sql}
     GROUP BY periods.p`;
  return db.prepare(sql).all(...ranges, ...tenant.params) as { period: number; count: number }[];
}

export function backlog(db: Database, query: BacklogQuery): number[] {
  const q = withTenants(db, query);
  const periods = Math.max(0, q.boundaries.length - 1);
  const tenant = tenantClause(q.tenants);
  if (tenant === null || periods === 0) return new Array<number>(periods).fill(0);
  const t0 = q.boundaries[0]!;
  // Open at t0: opened before it, minus those of them resolved before it (resolution follows opening).
  const count = (sql: string) => (db.prepare(sql).get(t0, ...tenant.params) as { n: number }).n;
  const base =
    count(`SELECT COUNT(*) AS n FROM incidents i WHERE i.first_seen < ?${tenant.sql}`) -
    count(`SELECT COUNT(*) AS n FROM incidents i WHERE i.resolved_at < ?${tenant.sql}`);
  return backlogFrom(base, perPeriod(db, 'first_seen', q.boundaries, tenant), perPeriod(db, 'resolved_at', q.boundaries, tenant), periods);
}

export function escalationsStatement(q: EscalationQuery): ReportStatement | null {
  const tenant = tenantClause(q.tenants);
  if (tenant === null || q.boundaries.length < 2) return null;
  const ranges: number[] = [];
  for (let p = 0; p + 1 < q.boundaries.length; p++) ranges.push(p, q.boundaries[p]!, q.boundaries[p + 1]!);
  const values = Array.from({ length: ranges.length / 3 }, () => '(?, ?, ?)').join(', ');
  // One range of the partial index of escalations per period (it carries the tier the entry
  // handed over to); the tenant by the incident's key.
  const sql = `
    WITH periods (p, lo, hi) AS (VALUES ${values}),
    e AS (
      SELECT periods.p AS period, t.tier AS tier
        FROM periods
        JOIN timeline t INDEXED BY timeline_escalated ON t.action = 'escalated' AND t.at >= periods.lo AND t.at < periods.hi
        JOIN incidents i ON i.seq = t.incident_seq${tenant.sql}
    )
    SELECT period, tier, COUNT(*) AS count FROM e WHERE tier IS NOT NULL
     GROUP BY period, tier
     ORDER BY period, tier`;
  return { sql, params: [...ranges, ...tenant.params] };
}

export const escalations = (db: Database, q: EscalationQuery) => run<EscalationCount>(db, escalationsStatement(q));

/** Stamps are read in batches of this many rows (a keyset on first_seen), so no statement stays open between them. */
const STAMP_BATCH = 5000;

/**
 * The stamps of the incidents opened in the range, in opening order, batch by batch: each batch a
 * range of the covering report index (one per tenant, so each is in index order). A
 * statement left open across awaits would hold the connection busy for every other query.
 */
export async function* handlingTimeStamps(db: Database, query: HandlingTimeQuery): AsyncGenerator<HandlingStamps> {
  const q = withTenants(db, query);
  const col = COLUMN[q.groupBy];
  const select = `SELECT i.${col} AS key, i.tenant AS tenant, i.severity AS severity, i.target_site AS site, i.first_seen AS firstSeen,
                         i.acknowledged_at AS acknowledgedAt, i.resolved_at AS resolvedAt`;
  const page = db.prepare(`${select} FROM incidents i INDEXED BY incidents_tenant_report WHERE i.first_seen >= ? AND i.first_seen < ? AND i.tenant = ? ORDER BY i.first_seen LIMIT ?`);
  const at = db.prepare(`${select} FROM incidents i INDEXED BY incidents_tenant_report WHERE i.first_seen = ? AND i.tenant = ?`);
  for (const tenant of new Set(q.tenants)) {
    const scope = [tenant];
    let from = q.from;
    for (;;) {
      const rows = page.all(from, q.to, ...scope, STAMP_BATCH) as HandlingStamps[];
      if (rows.length < STAMP_BATCH) {
        yield* rows;
        break;
      }
      // The batch may end inside a run of equal opening times: the next one starts at that time,
      // so this one keeps only the rows before it (all of them, read apart, if the run fills it).
      const last = rows[rows.length - 1]!.firstSeen;
      const before = rows.filter((r) => r.firstSeen < last);
      yield* before.length > 0 ? before : (at.all(last, ...scope) as HandlingStamps[]);
      from = before.length > 0 ? last : last + 1;
    }
  }
}
