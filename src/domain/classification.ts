// The vocabulary of classification: severity classes, impact, support tiers and ITIL priority.

export const SEVERITIES = ['minor', 'medium', 'severe', 'major'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const IMPACTS = ['single-user', 'multiple-users', 'site', 'organisation'] as const;
export type Impact = (typeof IMPACTS)[number];

export const TIERS = ['L1', 'L2', 'L3'] as const;
export type Tier = (typeof TIERS)[number];

export type Priority = 'P1' | 'P2' | 'P3' | 'P4' | 'P5';

export interface Classification {
  category: string;
  severity: Severity;
  impact: Impact;
  tier: Tier;
  priority: Priority;
}

/**
 * ITIL priority matrix: impact (how many are affected) × urgency, where the severity class stands
 * in for urgency. Rows are impact from widest to narrowest, columns severity from most to least
 * serious.
 */
const MATRIX: Record<Impact, Record<Severity, Priority>> = {
  organisation: { major: 'P1', severe: 'P1', medium: 'P2', minor: 'P3' },
  site: { major: 'P1', severe: 'P2', medium: 'P3', minor: 'P4' },
  'multiple-users': { major: 'P2', severe: 'P3', medium: 'P4', minor: 'P5' },
  'single-user': { major: 'P3', severe: 'P4', medium: 'P5', minor: 'P5' },
};

export function priorityOf(impact: Impact, severity: Severity): Priority {
  return MATRIX[impact][severity];
}

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}
