// The incident list in SQL: the filters as WHERE terms, the order (src/domain/paging.ts) as
// keyset conditions on an index that ends in seq, so a page costs an index range read however
// large the table is.
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
  if (filter.tenant !== undefined) {
    // An empty list is a scope that sees no tenant: it matches nothing (never "no filter").
    if (filter.tenant.length === 0) where.push('0');
    else inList('tenant', filter.tenant);
  }
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
    // One read transaction: every bucket of a page is read from the same snapshot.
    const rows = this.db.transaction(() =>
      this.read(filter, size, cursor, order, (sql, params) =>
        (this.prepared(sql).all(...params) as IncidentRow[]).map((r) => rowToIncident(r, [])),
      ),
    )();
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

  private read(
    filter: IncidentFilter,
    size: number,
    cursor: string | null | undefined,
    order: SortOrder,
    run: (sql: string, params: unknown[]) => Incident[],
  ): Incident[] {
    const after = cursor ? decodeIncidentCursor(cursor, order.sort) : null;
    const base = filterSql(filter);
    const select = (where: string[], params: unknown[], orderBy: string, n: number) =>
      run(`SELECT * FROM incidents${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${orderBy} LIMIT ?`, [...params, n]);
    {
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
          return select(where, params, `seq ${order.descending ? 'DESC' : 'ASC'}`, n);
        });
      }
      const column = SCALAR_COLUMNS[order.key];
      const dir = order.descending ? 'DESC' : 'ASC';
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
      const orderBy = column === 'seq' ? `seq ${dir}` : `${column} ${dir}, seq ${dir}`;
      // One row more than asked tells whether another page exists, so `next` is null on the last one.
      return select(where, params, orderBy, size + 1);
    }
  }

  private prepared(sql: string): Stmt {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }
}
