// What an employee reports through the portal, and what the daemon answers about it. Types mirror
// the answers of the problem-reports API (GET /api/v1/problem-reports/form, POST and GET
// /api/v1/problem-reports); the daemon checks every field again.

export const CATEGORIES = ['wifi', 'printer', 'email', 'server', 'other'] as const;
export type ReportCategory = (typeof CATEGORIES)[number];

export const AFFECTED = ['me', 'several', 'site'] as const;
export type Affected = (typeof AFFECTED)[number];

export interface ReportForm {
  tenants: { id: string; name: string }[];
  /** Each category with the self-help hint of its rule ("try first"), if it has one. */
  categories: { id: ReportCategory; hint: string | null }[];
  sites: { tenant: string; name: string }[];
  targets: { tenant: string; id: string; name: string; site: string; category: ReportCategory }[];
}

export interface NewReport {
  tenant?: string;
  category: ReportCategory;
  description: string;
  site?: string;
  room?: string;
  target?: string;
  affected: Affected;
  /** When it started, as an ISO time. */
  since?: string;
  contact?: string;
}

export type IncidentStatus = 'open' | 'acknowledged' | 'resolved' | 'closed';

export interface FiledReport {
  id: string;
  /**
   * The number of the incident the report is part of (INC-000123); null while its rule waits for
   * more reports before opening one.
   */
  number: string | null;
  /** True when the report joined an incident that was already known. */
  joined: boolean;
  status: IncidentStatus | null;
  /** People who reported the incident so far. */
  affected?: number;
  hint: string | null;
}

export interface MyReport {
  id: string;
  tenant?: string;
  createdAt: string;
  category: ReportCategory;
  description: string;
  site: string | null;
  room: string | null;
  target: string | null;
  affected: Affected;
  /** null while no incident was opened for it (its rule waits for more reports). */
  incident: {
    number: string;
    title: string;
    status: IncidentStatus;
    acknowledgedAt: string | null;
    resolvedAt: string | null;
    resolution?: string | null;
    /** People who reported this incident. */
    affected?: number;
    hint: string | null;
  } | null;
}

export interface MyReportsPage {
  items: MyReport[];
  next: string | null;
}

/**
 * A datetime-local value ("2026-03-14T10:30"), which is a time in the viewer's own zone, as an ISO
 * time; null when it is empty or not a time.
 */
export function localInputToIso(value: string): string | null {
  if (value.trim() === '') return null;
  // Date-time strings without an offset are read as local time (ECMAScript Date.parse).
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

/** Now as a datetime-local value in the viewer's zone (the latest a problem can have started). */
export function nowAsLocalInput(now: Date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}T${pad(now.getHours())}:${pad(now.getMinutes())}`;
}
