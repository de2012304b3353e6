// Problem reports in SQLite (ProblemReportStore): one row each, found by reporter (newest first)
// and by incident (how many people reported it).
import type { Database } from 'better-sqlite3';
import { pageFrom, pageSize, type Page } from '../../domain/paging.js';
import {
  decodeReportCursor,
  encodeReportCursor,
  type ProblemReport,
  type ReportAffected,
  type ReportCategory,
} from '../../domain/problem-report.js';

interface ReportRow {
  id: string;
  tenant: string;
  reporter_id: string;
  reporter_name: string;
  created_at: number;
  category: string;
  description: string;
  site: string | null;
  room: string | null;
  target: string | null;
  affected: string;
  since: number | null;
  contact: string | null;
  incident: string | null;
}

function reportFromRow(r: ReportRow): ProblemReport {
  return {
    id: r.id,
    tenant: r.tenant,
    reporterId: r.reporter_id,
    reporterName: r.reporter_name,
    createdAt: r.created_at,
    category: r.category as ReportCategory,
    description: r.description,
    site: r.site,
    room: r.room,
    target: r.target,
    affected: r.affected as ReportAffected,
    since: r.since,
    contact: r.contact,
    incident: r.incident,
  };
}

export function insertReport(db: Database, r: ProblemReport): void {
  db.prepare(
    `INSERT INTO problem_reports (id, tenant, reporter_id, reporter_name, created_at, category, description, site, room, target, affected, since, contact, incident)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(r.id, r.tenant, r.reporterId, r.reporterName, r.createdAt, r.category, r.description, r.site, r.room, r.target, r.affected, r.since, r.contact, r.incident);
}

export function selectReport(db: Database, id: string): ProblemReport | null {
  const row = db.prepare('SELECT * FROM problem_reports WHERE id = ?').get(id) as ReportRow | undefined;
  return row ? reportFromRow(row) : null;
}

export function selectReports(db: Database, reporterId: string, limit: number, cursor?: string | null): Page<ProblemReport> {
  const size = pageSize(limit);
  const after = cursor ? decodeReportCursor(cursor) : null;
  const rows = (
    after === null
      ? db.prepare('SELECT * FROM problem_reports WHERE reporter_id = ? ORDER BY created_at DESC, id DESC LIMIT ?').all(reporterId, size + 1)
      : db
          .prepare(
            `SELECT * FROM problem_reports WHERE reporter_id = ? AND (created_at < ? OR (created_at = ? AND id < ?))
             ORDER BY created_at DESC, id DESC LIMIT ?`,
          )
          .all(reporterId, after.at, after.at, after.id, size + 1)
  ) as ReportRow[];
  return pageFrom(rows.map(reportFromRow), size, (last) => encodeReportCursor(last.createdAt, last.id));
}

export function countReporters(db: Database, numbers: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  const count = db.prepare('SELECT COUNT(DISTINCT reporter_id) AS n FROM problem_reports WHERE incident = ?');
  for (const n of new Set(numbers)) {
    const row = count.get(n) as { n: number };
    if (row.n > 0) out.set(n, row.n);
  }
  return out;
}
