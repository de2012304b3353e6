// Problem reports in MongoDB (ProblemReportStore): one document each in `problem_reports`, times
// as BSON dates; found by reporter (newest first) and by incident (how many people reported it).
import type { ClientSession, Db } from 'mongodb';
import { pageFrom, pageSize, type Page } from '../../domain/paging.js';
import {
  decodeReportCursor,
  encodeReportCursor,
  type ProblemReport,
  type ReportAffected,
  type ReportCategory,
} from '../../domain/problem-report.js';
import { PROBLEM_REPORTS } from './schema.js';
import { inSession } from './writes.js';

export interface ProblemReportDoc {
  _id: string;
  tenant: string;
  reporterId: string;
  reporterName: string;
  createdAt: Date;
  category: ReportCategory;
  description: string;
  site: string | null;
  room: string | null;
  target: string | null;
  affected: ReportAffected;
  since: Date | null;
  contact: string | null;
  incident: string | null;
}

function reports(db: Db) {
  return db.collection<ProblemReportDoc>(PROBLEM_REPORTS);
}

function fromDoc(d: ProblemReportDoc): ProblemReport {
  return {
    id: d._id,
    tenant: d.tenant,
    reporterId: d.reporterId,
    reporterName: d.reporterName,
    createdAt: d.createdAt.getTime(),
    category: d.category,
    description: d.description,
    site: d.site,
    room: d.room,
    target: d.target,
    affected: d.affected,
    since: d.since === null ? null : d.since.getTime(),
    contact: d.contact,
    incident: d.incident,
  };
}

export async function insertReport(db: Db, r: ProblemReport, session?: ClientSession): Promise<void> {
  await reports(db).insertOne(
    {
      _id: r.id,
      tenant: r.tenant,
      reporterId: r.reporterId,
      reporterName: r.reporterName,
      createdAt: new Date(r.createdAt),
      category: r.category,
      description: r.description,
      site: r.site,
      room: r.room,
      target: r.target,
      affected: r.affected,
      since: r.since === null ? null : new Date(r.since),
      contact: r.contact,
      incident: r.incident,
    },
    inSession(session),
  );
}

export async function findReport(db: Db, id: string, session?: ClientSession): Promise<ProblemReport | null> {
  const d = await reports(db).findOne({ _id: id }, inSession(session));
  return d ? fromDoc(d) : null;
}

export async function findReports(db: Db, reporterId: string, limit: number, cursor?: string | null): Promise<Page<ProblemReport>> {
  const size = pageSize(limit);
  const after = cursor ? decodeReportCursor(cursor) : null;
  const filter =
    after === null
      ? { reporterId }
      : { reporterId, $or: [{ createdAt: { $lt: new Date(after.at) } }, { createdAt: new Date(after.at), _id: { $lt: after.id } }] };
  const docs = await reports(db).find(filter).sort({ createdAt: -1, _id: -1 }).limit(size + 1).toArray();
  return pageFrom(docs.map(fromDoc), size, (last) => encodeReportCursor(last.createdAt, last.id));
}

export async function countReporters(db: Db, numbers: readonly string[], session?: ClientSession): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (numbers.length === 0) return out;
  const rows = await reports(db)
    .aggregate<{ _id: string; n: number }>([
      { $match: { incident: { $in: [...new Set(numbers)] } } },
      { $group: { _id: { incident: '$incident', reporter: '$reporterId' } } },
      { $group: { _id: '$_id.incident', n: { $sum: 1 } } },
    ], inSession(session))
    .toArray();
  for (const r of rows) out.set(r._id, r.n);
  return out;
}
