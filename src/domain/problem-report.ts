// A problem report: what an employee files through the portal ("the printer on 3F jams"). It
// becomes a signal like any other (source `report`), so rules classify it; it joins the active
// incident of the same fingerprint instead of opening a second one. Pure types and decisions here;
// the filing itself is src/incidents/problem-reports.ts, the storage a ProblemReportStore.
import { IMPACTS, type Impact } from './classification.js';
import type { IncidentStatus } from './incident.js';
import type { Signal, TargetRef } from './signal.js';
import { InvalidCursorError } from '../shared/errors.js';

/** The categories of the report form, each with its own template in the portal. */
export const REPORT_CATEGORIES = ['wifi', 'printer', 'email', 'server', 'other'] as const;
export type ReportCategory = (typeof REPORT_CATEGORIES)[number];

/** Who is affected, in the reporter's words. */
export const REPORT_AFFECTED = ['me', 'several', 'site'] as const;
export type ReportAffected = (typeof REPORT_AFFECTED)[number];

/** How a category reads in titles ("Wi-Fi at HQ: problem reported"). */
export const CATEGORY_NAMES: Record<ReportCategory, string> = {
  wifi: 'Wi-Fi',
  printer: 'Printing',
  email: 'E-mail',
  server: 'Server or application',
  other: 'IT',
};

/** The signal source of every report; rules match reports with `source == "report"`. */
export const REPORT_SOURCE = 'report';

/** Longest description and contact, in characters. */
export const MAX_REPORT_DESCRIPTION = 2000;
export const MAX_REPORT_CONTACT = 200;
export const MAX_REPORT_ROOM = 100;

/**
 * Distinct reporters from which an incident counts as affecting several people, whatever each of
 * them said (three people reporting the same printer is not a single user's problem).
 */
export const REPORTERS_FOR_MULTIPLE_USERS = 3;

/** A report as stored. */
export interface ProblemReport {
  /** Random, unguessable (a UUID). */
  id: string;
  tenant: string;
  /** The person's account id (or IdP subject): "my reports" are the ones with this reporter. */
  reporterId: string;
  /** The person's name, as the timeline shows it. */
  reporterName: string;
  createdAt: number;
  category: ReportCategory;
  description: string;
  site: string | null;
  room: string | null;
  /** The target (a printer, an access point) the person picked, by id. */
  target: string | null;
  affected: ReportAffected;
  /** When the problem started, in the reporter's words; epoch ms. */
  since: number | null;
  contact: string | null;
  /** The incident it opened or joined; null when its rule holds openings back (open_after > 1). */
  incident: string | null;
}

/** The category a target of this kind is reported under. */
export function categoryOfKind(kind: string): ReportCategory {
  switch (kind) {
    case 'wifi-ap':
    case 'wifi':
    case 'switch':
      return 'wifi';
    case 'printer':
      return 'printer';
    case 'mail':
    case 'email':
    case 'smtp':
    case 'imap':
      return 'email';
    case 'server':
    case 'host':
    case 'service':
    case 'http':
      return 'server';
    default:
      return 'other';
  }
}

/** The impact the reporter's words stand for: just me, several people, the whole site. */
export function impactOfAffected(affected: ReportAffected): Impact {
  if (affected === 'me') return 'single-user';
  if (affected === 'several') return 'multiple-users';
  return 'site';
}

/** The wider of two impacts. */
export function widerImpact(a: Impact, b: Impact): Impact {
  return IMPACTS.indexOf(a) >= IMPACTS.indexOf(b) ? a : b;
}

/**
 * The impact an incident should have at least, from its reports: what the latest reporter said, and
 * multiple-users once REPORTERS_FOR_MULTIPLE_USERS distinct people reported it.
 */
export function impactFromReports(affected: ReportAffected, reporters: number): Impact {
  const said = impactOfAffected(affected);
  return reporters >= REPORTERS_FOR_MULTIPLE_USERS ? widerImpact(said, 'multiple-users') : said;
}

/**
 * The target a report is about, as the rules see it. A report naming a watched target is about that
 * target (so it shares the target's fingerprint with the target's own reports); one without a
 * target is about the category at its site (`report:<category>@<site>`), so reports of "the Wi-Fi on
 * site Berlin" meet on one incident.
 */
export function reportTarget(tenant: string, category: ReportCategory, site: string | null, target: TargetRef | null): TargetRef {
  if (target !== null) return { ...target, labels: { ...target.labels }, dependsOn: [...target.dependsOn], tenant };
  const where = site ?? '';
  return {
    id: `report:${category}@${where}`,
    kind: `report-${category}`,
    name: where === '' ? CATEGORY_NAMES[category] : `${CATEGORY_NAMES[category]} at ${where}`,
    site: where,
    labels: {},
    dependsOn: [],
    tenant,
  };
}

/** The signal a report becomes. Check name `report.<category>`: one series per category and target. */
export function reportSignal(
  r: Pick<ProblemReport, 'category' | 'description' | 'site' | 'room' | 'affected' | 'reporterName' | 'tenant'> & { since?: number | null },
  target: TargetRef,
  at: number,
  subscribers: string[],
): Signal {
  const labels: Record<string, string> = { category: r.category, affected: r.affected, reporter: r.reporterName };
  if (r.site !== null) labels.site = r.site;
  if (r.room !== null) labels.room = r.room;
  const values: Record<string, number | string | boolean> = { affected: r.affected, category: r.category };
  if (r.since !== undefined && r.since !== null) values.since = r.since;
  const signal: Signal = {
    source: REPORT_SOURCE,
    target,
    check: { name: `report.${r.category}`, type: REPORT_SOURCE },
    status: 'fail',
    message: r.description,
    values,
    labels,
    annotations: { description: r.description, summary: r.description.split('\n', 1)[0]!.slice(0, 120) },
    at,
  };
  if (subscribers.length > 0) signal.subscribers = subscribers;
  return signal;
}

/** The timeline entry of a report on its incident. */
export function reportedMessage(reporterName: string, affected: ReportAffected, description: string): string {
  const who = affected === 'me' ? 'affects the reporter' : affected === 'several' ? 'affects several people' : 'affects the whole site';
  const text = description.length > 200 ? `${description.slice(0, 200)}…` : description;
  return `reported by ${reporterName} (${who}): ${text}`;
}

/** A mail address, loosely: enough to tell `contact` "jane@example.org" from "+49 30 1234". */
export function looksLikeAddress(text: string): boolean {
  return /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$/.test(text);
}

/** The status of a report's incident, as "my reports" show it. */
export interface ReportIncidentView {
  number: string;
  title: string;
  status: IncidentStatus;
  acknowledgedAt: string | null;
  resolvedAt: string | null;
  resolution: string | null;
  /** People who reported this incident. */
  affected: number;
  hint: string | null;
}

/** "My reports" are listed newest first, ties by id descending; the cursor names the last one seen. */
export function encodeReportCursor(at: number, id: string): string {
  return Buffer.from(`report:${at}:${id}`, 'utf8').toString('base64url');
}

export function decodeReportCursor(cursor: string): { at: number; id: string } {
  const m = /^report:(\d{1,15}):(.+)$/s.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw new InvalidCursorError(cursor);
  return { at: Number(m[1]), id: m[2]! };
}
