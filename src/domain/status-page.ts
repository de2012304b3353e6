// What a tenant's status page says, decided from plain data: each service's state from its checks
// and active incidents, the overall state, and the worst severity of each of the last days. The
// route (src/api/status.ts) reads the data; these functions only decide.
import { luxon } from '../shared/luxon.js';
import { severityRank, type Severity } from './classification.js';

/** Who may see a tenant's status page: anyone, or signed-in people of that tenant. */
export const STATUS_PAGE_VISIBILITIES = ['public', 'private'] as const;
export type StatusPageVisibility = (typeof STATUS_PAGE_VISIBILITIES)[number];

/**
 * A service (target) as the page shows it: `down` (a check fails), `disrupted` (an ongoing
 * incident names it, its checks do not fail), `up`, or `unknown` (not checked yet, or not here).
 */
export type ServiceState = 'up' | 'disrupted' | 'down' | 'unknown';

/** The whole page: `outage` when a service is down or a severe/major incident is ongoing. */
export type OverallState = 'operational' | 'degraded' | 'outage';

/** The state of one service from its checks' states and whether an ongoing incident names it. */
export function serviceState(checkStates: readonly string[], hasIncident: boolean): ServiceState {
  if (checkStates.includes('down')) return 'down';
  if (hasIncident) return 'disrupted';
  if (checkStates.includes('up')) return 'up';
  return 'unknown';
}

export function overallState(services: readonly ServiceState[], incidents: readonly Severity[]): OverallState {
  if (services.includes('down') || incidents.some((s) => severityRank(s) >= severityRank('severe'))) return 'outage';
  if (services.includes('disrupted') || incidents.length > 0) return 'degraded';
  return 'operational';
}

export interface HistoryDay {
  /** The calendar day in the history's time zone, `YYYY-MM-DD`. */
  date: string;
  /** The worst severity of an incident active on that day; null: none. */
  worst: Severity | null;
}

export interface HistoryWindow {
  /** Epoch ms of the start of the oldest day (inclusive). */
  from: number;
  /** Epoch ms of the end of today (exclusive). */
  to: number;
  /** Each day's start, oldest first, and the end of the last. */
  bounds: number[];
  dates: string[];
}

/** The last `days` calendar days in `timeZone`, today included. */
export function historyWindow(now: number, days: number, timeZone: string): HistoryWindow {
  const today = luxon().DateTime.fromMillis(now, { zone: timeZone }).startOf('day');
  const bounds: number[] = [];
  const dates: string[] = [];
  for (let i = days - 1; i >= -1; i--) {
    // Calendar arithmetic: a day with a DST change is 23 or 25 hours long.
    const day = today.minus({ days: i });
    bounds.push(day.toMillis());
    if (i >= 0) dates.push(day.toISODate() ?? '');
  }
  return { from: bounds[0]!, to: bounds[bounds.length - 1]!, bounds, dates };
}

/** The worst severity per day of the window from when incidents were active (end null: still). */
export function dailyWorst(
  window: HistoryWindow,
  spans: readonly { severity: Severity; start: number; end: number | null }[],
  now: number,
): HistoryDay[] {
  const worst: (Severity | null)[] = window.dates.map(() => null);
  const { bounds } = window;
  for (const span of spans) {
    const end = span.end ?? now;
    for (let d = firstDayEndingAfter(bounds, span.start); d < worst.length && bounds[d]! <= end; d++) {
      // An incident resolved exactly at midnight does not colour the day that begins then.
      if (span.end !== null && bounds[d]! === end && end > span.start) break;
      const w = worst[d];
      if (w === null || w === undefined || severityRank(span.severity) > severityRank(w)) worst[d] = span.severity;
    }
  }
  return window.dates.map((date, i) => ({ date, worst: worst[i] ?? null }));
}

/** Index of the first day whose end is after `t` (binary search over the day bounds). */
function firstDayEndingAfter(bounds: readonly number[], t: number): number {
  let lo = 0;
  let hi = bounds.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (bounds[mid + 1]! > t) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
