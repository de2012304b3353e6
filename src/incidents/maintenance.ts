// Maintenance windows: while a target is in one, its incidents are recorded but neither announced
// nor escalated; that happens when the window ends. Pure: no clock, no I/O; epoch milliseconds.
//
// A window is one-off (start and end instants) or weekly (days and local times in a time zone,
// with the same DST handling as business hours). Its end is exclusive.
import { z } from 'zod';
import { describeValue } from '../config-core/yaml.js';
import { luxon } from '../shared/luxon.js';
import {
  checkFromTo,
  checkUniqueIds,
  configId,
  fromTimeField,
  globList,
  globsMatcher,
  timeZoneField,
  toTimeField,
  weekdaysField,
  WeeklyHours,
  type Span,
} from './calendar.js';

const INSTANT_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2})$/;
const LOCAL_TIME_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?$/;

function instantMessage(input: unknown): string {
  if (typeof input === 'string' && LOCAL_TIME_PATTERN.test(input)) {
    return `${describeValue(input)} has no UTC offset, so it would mean different instants in different places; add one, e.g. "${input}+01:00" or "${input}Z"`;
  }
  return `expected an ISO 8601 time with a UTC offset, like "2026-12-01T20:00:00+01:00" or "2026-12-01T19:00:00Z", got ${describeValue(input)}`;
}

const instantField = z
  .string({ error: (iss) => (iss.input === undefined ? undefined : instantMessage(iss.input)) })
  .refine((s) => INSTANT_PATTERN.test(s) && luxon().DateTime.fromISO(s).isValid, { error: (iss) => instantMessage(iss.input) });

function parseInstant(s: string): number {
  return luxon().DateTime.fromISO(s).toMillis();
}

const weeklySchema = z
  .strictObject({
    timezone: timeZoneField,
    days: weekdaysField.describe('Weekdays the window opens on: mon, tue, wed, thu, fri, sat, sun.'),
    from: fromTimeField.describe('Start, local "HH:MM" (24-hour clock).'),
    to: toTimeField.describe(
      'End, local "HH:MM", after `from`; "24:00" is midnight. Exclusive. For a window across midnight give two abutting windows (e.g. 22:00-24:00 and 00:00-04:00 the next day); abutting windows count as one.',
    ),
  })
  .superRefine((w, ctx) => checkFromTo(w, ctx))
  .describe('A window that repeats every week, in local time (DST-correct).');

const matchSchema = z
  .strictObject({
    targets: globList('target').default([]).describe('Target ids, as globs (`*` matches any text). Any one may match.'),
    sites: globList('site').default([]).describe('Target sites, as globs. Any one may match.'),
    kinds: globList('kind').default([]).describe('Target kinds (wifi-ap, server, printer, mail…), as globs. Any one may match.'),
    labels: z
      .record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v)))
      .default({})
      .describe('Labels the target must all carry, with exactly these values.'),
  })
  .superRefine((m, ctx) => {
    if (m.targets.length === 0 && m.sites.length === 0 && m.kinds.length === 0 && Object.keys(m.labels).length === 0) {
      ctx.addIssue({
        code: 'custom',
        message: "match names no targets, sites, kinds or labels, so it would silence everything; use sites: ['*'] if you mean it",
      });
    }
  })
  .describe('Which targets the window covers: every dimension given must match (targets AND sites AND kinds AND labels).');

export const maintenanceWindowSchema = z
  .strictObject({
    id: configId('maintenance window').describe('Unique id of the window; the API (escalation.mutedBy) and the timeline entry when it ends name it.'),
    reason: z
      .string({ error: (iss) => (iss.input === undefined ? 'reason is required: say why, for the incident timeline' : undefined) })
      .min(1, { error: 'reason must not be empty: say why, for the incident timeline' })
      .describe('Why; shown with the id on incidents held back by this window.'),
    start: instantField.optional().describe('Start of a one-off window: ISO 8601 with UTC offset, e.g. "2026-12-01T20:00:00+01:00".'),
    end: instantField.optional().describe('End of a one-off window (exclusive), after start; ISO 8601 with UTC offset.'),
    weekly: weeklySchema.optional(),
    match: matchSchema,
  })
  .superRefine((w, ctx) => {
    const oneOff = w.start !== undefined || w.end !== undefined;
    if (oneOff && w.weekly !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['weekly'],
        message: 'give either start and end (a one-off window) or weekly (a repeating one), not both',
      });
    } else if (!oneOff && w.weekly === undefined) {
      ctx.addIssue({ code: 'custom', message: 'give start and end (a one-off window) or weekly (a repeating one)' });
    } else if (oneOff && (w.start === undefined || w.end === undefined)) {
      const missing = w.start === undefined ? 'start' : 'end';
      ctx.addIssue({ code: 'custom', path: [missing], message: `${missing} is missing: a one-off window needs both start and end` });
    } else if (w.start !== undefined && w.end !== undefined && parseInstant(w.end) <= parseInstant(w.start)) {
      ctx.addIssue({ code: 'custom', path: ['end'], message: `end "${w.end}" must be after start "${w.start}"` });
    }
  })
  .describe(
    'A maintenance window: incidents of the targets it matches are recorded but not announced or escalated until it ends. Give start and end, or weekly.',
  );

export type MaintenanceWindowConfig = z.output<typeof maintenanceWindowSchema>;

export const maintenanceListSchema = z
  .array(maintenanceWindowSchema)
  .default([])
  .superRefine((list, ctx) => checkUniqueIds(list, ctx, 'maintenance window'))
  .describe('Maintenance windows, one-off or weekly.');

// ---------------------------------------------------------------------------------------------

export interface MaintenanceTarget {
  id: string;
  kind: string;
  site: string;
  labels: Record<string, string>;
}

export interface ActiveMaintenance {
  /** The first window (in config order) that covers the target now. */
  id: string;
  reason: string;
  /** When the target is out of maintenance (epoch ms): the end of the stretch of overlapping or abutting windows. */
  until: number;
}

interface CompiledWindow {
  id: string;
  reason: string;
  matches(target: MaintenanceTarget): boolean;
  /** The stretch of this window containing `t`, or null. */
  spanAt(t: number): Span | null;
}

// Overlapping and abutting windows are followed this far past the question's instant. A chain that
// goes on longer (a weekly window covering every day around the clock) is reported up to here;
// asking again at `until` finds the target still in maintenance.
const MERGE_LOOKAHEAD_MS = 31 * 86_400_000;

function compileMatch(m: MaintenanceWindowConfig['match']): (target: MaintenanceTarget) => boolean {
  const checks: ((t: MaintenanceTarget) => boolean)[] = [];
  if (m.targets.length > 0) {
    const ok = globsMatcher(m.targets);
    checks.push((t) => ok(t.id));
  }
  if (m.sites.length > 0) {
    const ok = globsMatcher(m.sites);
    checks.push((t) => ok(t.site));
  }
  if (m.kinds.length > 0) {
    const ok = globsMatcher(m.kinds);
    checks.push((t) => ok(t.kind));
  }
  const labels = Object.entries(m.labels);
  if (labels.length > 0) {
    checks.push((t) => labels.every(([k, v]) => Object.hasOwn(t.labels, k) && t.labels[k] === v));
  }
  return (t) => checks.every((check) => check(t));
}

function compile(c: MaintenanceWindowConfig): CompiledWindow {
  const matches = compileMatch(c.match);
  if (c.weekly !== undefined) {
    const hours = new WeeklyHours(c.id, c.weekly.timezone, c.weekly.days, c.weekly.from, c.weekly.to);
    return { id: c.id, reason: c.reason, matches, spanAt: (t) => hours.spanAt(t) };
  }
  if (c.start === undefined || c.end === undefined) {
    throw new RangeError(`maintenance window "${c.id}" has neither start and end nor weekly; validate it with maintenanceWindowSchema`);
  }
  const span = { start: parseInstant(c.start), end: parseInstant(c.end) };
  return { id: c.id, reason: c.reason, matches, spanAt: (t) => (span.start <= t && t < span.end ? span : null) };
}

/** The configured maintenance windows, compiled once. */
export class MaintenanceWindows {
  private readonly windows: CompiledWindow[];

  constructor(configs: readonly MaintenanceWindowConfig[]) {
    this.windows = configs.map(compile);
  }

  /**
   * The window covering `target` at `at`, or null. `until` = when the target is out of
   * maintenance: if several windows overlap/abut, the end of the merged stretch (bounded lookahead).
   */
  active(target: MaintenanceTarget, at: number): ActiveMaintenance | null {
    const mine = this.windows.filter((w) => w.matches(target));
    let covering: CompiledWindow | null = null;
    let until = at;
    for (const w of mine) {
      const span = w.spanAt(at);
      if (span === null) continue;
      covering ??= w;
      until = Math.max(until, span.end);
    }
    if (covering === null) return null;
    // Follow windows that are open at the current end (overlapping it or starting right there).
    const limit = at + MERGE_LOOKAHEAD_MS;
    for (let extended = true; extended && until < limit; ) {
      extended = false;
      for (const w of mine) {
        const span = w.spanAt(until);
        if (span !== null && span.end > until) {
          until = span.end;
          extended = true;
        }
      }
    }
    return { id: covering.id, reason: covering.reason, until };
  }
}
