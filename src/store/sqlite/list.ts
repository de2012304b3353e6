// The incident list in SQL: the filters as WHERE terms, the order (src/domain/paging.ts) as
// keyset conditions on an index that leads with the tenant and ends in seq, so a page costs an
// index range read however large the table is. A list of several tenants (or of all) reads each
// tenant's range and merges them in order, as a sort by severity merges its classes: the table
// needs no second set of indexes without the tenant, which every new incident would have to write.
import type { Database } from 'better-sqlite3';
import type { Incident } from '../../domain/incident.js';
import {
  bucketsFrom,
  decodeIncidentCursor,
  DEFAULT_INCIDENT_SORT,
  escapeLike,
  incidentPage,
  pageSize,
  readBucketsSync,
  sortOrder,
  type BucketSortKey,
  type IncidentSort,
  type Page,
  type SortOrder,
} from '../../domain/paging.js';
import type { IncidentFilter } from '../types.js';
import type { IncidentRow } from './rows.js';
import { rowToIncident } from './rows.js';
import type { Stmt } from './statements.js';
import { ACTIVE, INACTIVE } from './statements.js';

const SCALAR_COLUMNS = { opened: 'first_seen', lastSeen: 'last_seen', number: 'seq' } as const;
const BUCKET_COLUMNS = { severity: 'severity', priority: 'priority' } as const;

/**
 * Tenants per compound SELECT: SQLite takes at most 500 terms in one (SQLITE_MAX_COMPOUND_SELECT);
 * more tenants than this run as several statements whose pages are merged here.
 */
const TENANTS_PER_STATEMENT = 250;

/** Prepared statements kept per connection (a merged one of 250 tenants takes ~3 ms to prepare). */
const MAX_CACHED_STATEMENTS = 100;

/**
 * Every tenant that has an incident, in order: one seek per tenant in the tenant index (the
 * recursive step asks for the next larger one), not a scan of the table.
 */
const DISTINCT_TENANTS = `
  WITH RECURSIVE t (tenant) AS (
    SELECT MIN(tenant) FROM incidents
    UNION ALL
    SELECT (SELECT MIN(tenant) FROM incidents WHERE tenant > t.tenant) FROM t WHERE t.tenant IS NOT NULL)
  SELECT tenant FROM t WHERE tenant IS NOT NULL`;

/** Every tenant that has an incident (see DISTINCT_TENANTS). */
export function distinctTenants(db: Database, prepare: (sql: string) => Stmt = (sql) => db.prepare(sql)): string[] {
  return (prepare(DISTINCT_TENANTS).all() as { tenant: string }[]).map((r) => r.tenant);
}

/** A page's key in a merge: the sort column's value and the seq. */
type KeyRow = { seq: number } & Record<string, unknown>;

/**
 * The index each tenant's part of a merged list reads when a filter has one: that tenant's matches,
 * then a sort of them. Read in the order's index instead, a tenant with few or no matches (one
 * without open incidents, say) would be scanned to its end for the page, and a list of all tenants
 * has many such. The most selective filter first; none for a fingerprint (its own subquery) or
 * when only the order's index helps.
 */
function filterIndex(filter: IncidentFilter): string | null {
  if (filter.fingerprint !== undefined) return null;
  if (filter.target !== undefined) return 'incidents_target';
  if (filter.site !== undefined) return 'incidents_site';
  if (filter.status !== undefined && filter.status.length > 0) return 'incidents_tenant_status';
  if (filter.priority !== undefined && filter.priority.length > 0) return 'incidents_tenant_priority';
  if (filter.category !== undefined) return 'incidents_category';
  if (filter.severity !== undefined && filter.severity.length > 0) return 'incidents_tenant_severity';
  return null;
}

/** Runs a statement: reads its rows (list) or collects its plan (queryPlan). */
type Run = (sql: string, params: unknown[]) => unknown[];

interface Sql {
  where: string[];
  params: unknown[];
}

function filterSql(filter: IncidentFilter): Sql {
  const where: string[] = [];
  const params: unknown[] = [];
  const inList = (column: string, values: readonly string[] | undefined) => {
    if (!values || values.length === 0) return;
    where.push(`${column} IN (${values.map(() => '?').join(', ')})`);
    params.push(...values);
  };
  // The tenant is not here: every statement reads one tenant's index range (see tenantsOf).
  inList('status', filter.status);
  inList('severity', filter.severity);
  inList('priority', filter.priority);
  inList('tier', filter.tier);
  if (filter.category !== undefined) {
    where.push('category = ?');
    params.push(filter.category);
  }
  if (filter.site !== undefined) {
    where.push('target_site = ?');
    params.push(filter.site);
  }
  if (filter.target !== undefined) {
    where.push('target_id = ?');
    params.push(filter.target);
  }
  if (filter.fingerprint !== undefined) {
    // Through the two partial indexes that together cover every status (see schema.ts).
    where.push(
      `seq IN (SELECT seq FROM incidents WHERE fingerprint = ? AND ${ACTIVE}
               UNION ALL SELECT seq FROM incidents WHERE fingerprint = ? AND ${INACTIVE})`,
    );
    params.push(filter.fingerprint, filter.fingerprint);
  }
  if (filter.openedAfter !== undefined) {
    where.push('first_seen >= ?');
    params.push(filter.openedAfter);
  }
  if (filter.openedBefore !== undefined) {
    where.push('first_seen < ?');
    params.push(filter.openedBefore);
  }
  if (filter.text !== undefined && filter.text !== '') {
    // LIKE folds ASCII letters only; it scans, which measured fine (README, Storage) at 100k rows.
    const pattern = `%${escapeLike(filter.text)}%`;
    where.push("(title LIKE ? ESCAPE '\\' OR description LIKE ? ESCAPE '\\')");
    params.push(pattern, pattern);
  }
  return { where, params };
}

/** Runs `list` on one connection; prepared statements are cached by their SQL text. */
export class SqliteIncidentList {
  private readonly statements = new Map<string, Stmt>();

  constructor(private readonly db: Database) {}

  list(filter: IncidentFilter, limit: number, cursor: string | null | undefined, sort: IncidentSort = DEFAULT_INCIDENT_SORT): Page<Incident> {
    const size = pageSize(limit);
    const order = sortOrder(sort);
    // One read transaction: the tenants and every bucket of a page are read from the same snapshot.
    const rows = this.db.transaction(() => this.read(filter, size, cursor, order, (sql, params) => this.prepared(sql).all(...params)))();
    return incidentPage(rows, size, order);
  }

  /**
   * The `detail` lines of EXPLAIN QUERY PLAN for every statement `list` would run (a page of a
   * class-valued order runs one per bucket), for tests and benchmarks that check an index is used.
   */
  queryPlan(filter: IncidentFilter, limit: number, cursor: string | null | undefined, sort: IncidentSort = DEFAULT_INCIDENT_SORT): string[] {
    const plans: string[] = [];
    this.read(filter, pageSize(limit), cursor, sortOrder(sort), (sql, params) => {
      const rows = this.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[];
      plans.push(...rows.map((r) => r.detail));
      return [];
    });
    return plans;
  }

  /** The tenants a list reads: those of its scope, or every tenant that has an incident. */
  private tenantsOf(filter: IncidentFilter): string[] {
    if (filter.tenant !== undefined) return [...new Set(filter.tenant)];
    return distinctTenants(this.db, (sql) => this.prepared(sql));
  }

  private read(filter: IncidentFilter, size: number, cursor: string | null | undefined, order: SortOrder, run: Run): Incident[] {
    const after = cursor ? decodeIncidentCursor(cursor, order.sort) : null;
    // An empty scope sees no tenant: it matches nothing (never "no filter").
    const tenants = this.tenantsOf(filter);
    if (tenants.length === 0) return [];
    const base = filterSql(filter);
    const select = (where: string[], params: unknown[], column: string, descending: boolean, n: number) =>
      this.select(tenants, where, params, column, descending, n, run, filterIndex(filter));
    if (order.key === 'severity' || order.key === 'priority') {
      const bucketOrder = order as SortOrder & { key: BucketSortKey };
      const column = BUCKET_COLUMNS[bucketOrder.key];
      const only = bucketOrder.key === 'severity' ? filter.severity : filter.priority;
      return readBucketsSync(bucketsFrom(bucketOrder, after, only), size, (bucket, n) => {
        const where = [...base.where, `${column} = ?`];
        const params = [...base.params, bucket.value];
        if (bucket.afterSeq !== null) {
          where.push(order.descending ? 'seq < ?' : 'seq > ?');
          params.push(bucket.afterSeq);
        }
        return select(where, params, 'seq', order.descending, n);
      });
    }
    const column = SCALAR_COLUMNS[order.key];
    const cmp = order.descending ? '<' : '>';
    const where = [...base.where];
    const params = [...base.params];
    if (after !== null) {
      if (column === 'seq') {
        where.push(`seq ${cmp} ?`);
        params.push(after.seq);
      } else {
        where.push(`(${column}, seq) ${cmp} (?, ?)`);
        params.push(after.value, after.seq);
      }
    }
    // One row more than asked tells whether another page exists, so `next` is null on the last one.
    return select(where, params, column, order.descending, size + 1);
  }

  /**
   * The first `n` incidents in (`column`, seq) order of those matching `where`, of the given
   * tenants. One tenant: a range of its index. Several: each tenant's keys (its own range),
   * merged in order by SQLite (a compound SELECT with ORDER BY merges its terms), then the rows of
   * the keys that made the page.
   */
  private select(
    tenants: readonly string[],
    where: string[],
    params: unknown[],
    column: string,
    descending: boolean,
    n: number,
    run: Run,
    index: string | null,
  ): Incident[] {
    const dir = descending ? 'DESC' : 'ASC';
    const orderBy = column === 'seq' ? `seq ${dir}` : `${column} ${dir}, seq ${dir}`;
    const conditions = ['tenant = ?', ...where].join(' AND ');
    if (tenants.length === 1) {
      const rows = run(`SELECT * FROM incidents WHERE ${conditions} ORDER BY ${orderBy} LIMIT ?`, [tenants[0], ...params, n]) as IncidentRow[];
      return rows.map((r) => rowToIncident(r, []));
    }
    const keys = column === 'seq' ? 'seq' : `${column}, seq`;
    const from = index === null ? 'incidents' : `incidents INDEXED BY ${index}`;
    // No ORDER BY or LIMIT of its own: SQLite reads each term in the compound's order (its index
    // range) as a co-routine and pulls only the rows the merge takes, about one seek per tenant.
    // Wrapped as `SELECT * FROM (... ORDER BY ... LIMIT n)`, each term was sorted apart: 12x slower.
    const term = `SELECT ${keys} FROM ${from} WHERE ${conditions}`;
    let found: KeyRow[] = [];
    for (let i = 0; i < tenants.length; i += TENANTS_PER_STATEMENT) {
      const part = tenants.slice(i, i + TENANTS_PER_STATEMENT);
      const sql = `${part.map(() => term).join(' UNION ALL ')} ORDER BY ${orderBy} LIMIT ?`;
      found.push(...(run(sql, [...part.flatMap((t) => [t, ...params]), n]) as KeyRow[]));
    }
    if (tenants.length > TENANTS_PER_STATEMENT) {
      // Each statement's page is in order; together they are merged here.
      const sign = descending ? -1 : 1;
      found = found.sort((a, b) => sign * ((a[column] as number) - (b[column] as number) || a.seq - b.seq)).slice(0, n);
    }
    if (found.length === 0) return [];
    const seqs = found.map((r) => r.seq);
    const rows = run(`SELECT * FROM incidents WHERE seq IN (${seqs.map(() => '?').join(', ')})`, seqs) as IncidentRow[];
    const bySeq = new Map(rows.map((r) => [r.seq, r]));
    return seqs.flatMap((seq) => {
      const r = bySeq.get(seq);
      return r === undefined ? [] : [rowToIncident(r, [])];
    });
  }

  private prepared(sql: string): Stmt {
    let stmt = this.statements.get(sql);
    if (stmt) {
      // Most recently used last, so the oldest is the first to go.
      this.statements.delete(sql);
    } else {
      stmt = this.db.prepare(sql);
      // A merged list's text depends on the number of tenants: the cache keeps the latest ones only.
      if (this.statements.size >= MAX_CACHED_STATEMENTS) this.statements.delete(this.statements.keys().next().value!);
    }
    this.statements.set(sql, stmt);
    return stmt;
  }
}
