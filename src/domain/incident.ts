import type { Classification } from './classification.js';

export const INCIDENT_STATUSES = ['open', 'acknowledged', 'resolved', 'closed'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

export const ACTIVE_STATUSES: readonly IncidentStatus[] = ['open', 'acknowledged'];

export interface TimelineEntry {
  /** Epoch milliseconds. */
  at: number;
  /** `system`, a rule id, or the API user who acted. */
  actor: string;
  action:
    | 'opened'
    | 'reopened'
    | 'acknowledged'
    | 'resolved'
    | 'closed'
    | 'commented'
    | 'flapping-started'
    | 'flapping-stopped'
    | 'dependent-failing'
    | 'reclassified';
  message: string;
}

export interface IncidentTarget {
  id: string;
  kind: string;
  name: string;
  site: string;
  labels: Record<string, string>;
}

/** A target whose failure was held back because this incident's target is its (transitive) parent. */
export interface RelatedTarget {
  targetId: string;
  fingerprint: string;
  since: number;
}

export interface Incident extends Classification {
  /** Human number, `INC-000123`. */
  number: string;
  seq: number;
  fingerprint: string;
  status: IncidentStatus;
  title: string;
  description: string;
  runbook: string;
  ruleId: string;
  source: string;
  target: IncidentTarget;
  check: { name: string; type: string };
  labels: Record<string, string>;
  firstSeen: number;
  lastSeen: number;
  occurrences: number;
  lastMessage: string;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
  resolvedAt: number | null;
  resolvedBy: string | null;
  closedAt: number | null;
  reopenCount: number;
  flapping: boolean;
  related: RelatedTarget[];
  timeline: TimelineEntry[];
}

export function incidentNumber(seq: number): string {
  return `INC-${String(seq).padStart(6, '0')}`;
}

export function parseIncidentNumber(s: string): number | null {
  const m = /^INC-(\d{6,})$/.exec(s);
  return m ? Number(m[1]) : null;
}

export function isActive(status: IncidentStatus): boolean {
  return status === 'open' || status === 'acknowledged';
}
