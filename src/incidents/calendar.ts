// Business hours: when SLA clocks and escalation waits run for a severity with `business_hours: true`.
// Pure: no clock, no I/O; every function takes epoch milliseconds.
//
// Time zones are luxon's (which asks the ICU data Node ships); nothing here computes offsets by
// hand. Days are walked one local calendar date at a time, so a 23- or 25-hour day is simply one
// day whose opening and closing instants luxon places correctly.
//
// Wall-clock times that a DST change makes odd follow one rule: "HH:MM on date D" is the first
// instant at which the clock on D shows HH:MM or later. So a time the clock skips (02:30 on the
// spring-forward night in Berlin) is the instant the clock jumps (03:00 CEST), and a time the clock
// shows twice (02:30 on the fall-back night) is its first showing. Every open stretch stays one
// unbroken interval, and stretches never overlap.
import { z } from 'zod';
import { describeValue, didYouMean } from '../config-core/yaml.js';
import { IncidentdError } from '../shared/errors.js';
import { isValidTimeZone, luxon } from '../shared/luxon.js';

// ---------------------------------------------------------------------------------------------
// Config schema (shared with maintenance.ts: time zone, weekdays, HH:MM times, site globs)

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const ID_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;
const TIME_PATTERN = /^(?:[01]\d|2[0-3]):[0-5]\d$/;
const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

export const configId = (what: string) =>
  z
    .string()
    .regex(ID_PATTERN, {
      error: (iss) =>
        `${what} id must start with a lowercase letter or digit and contain only a-z, 0-9, ".", "_", "-", got ${describeValue(iss.input)}`,
    });

function timeZoneHint(name: string): string {
  const suggestion = didYouMean(name, ['UTC', ...Intl.supportedValuesOf('timeZone')]);
  return suggestion ? ` (did you mean "${suggestion}"?)` : '';
}

export const timeZoneField = z
  .string()
  .refine((name) => isValidTimeZone(name), {
    error: (iss) =>
      `unknown time zone ${describeValue(iss.input)}${timeZoneHint(String(iss.input))}; ` +
      'use an IANA name like "Europe/Berlin", "America/New_York" or "UTC"',
  })
  .describe('IANA time zone the times and dates are local to, e.g. Europe/Berlin, America/New_York, UTC.');

export const weekdaysField = z
  .array(
    z.enum(WEEKDAYS, {
      error: (iss) => `expected a weekday: mon, tue, wed, thu, fri, sat or sun, got ${describeValue(iss.input)}`,
    }),
  )
  .min(1, { error: 'give at least one weekday (mon, tue, wed, thu, fri, sat, sun)' });

const timeMessage = (input: unknown, allow24: boolean) =>
  `expected a local time "HH:MM" (24-hour clock, e.g. "08:00"${allow24 ? ', or "24:00" for midnight at the end of the day' : ''}), got ${describeValue(input)}`;

export const fromTimeField = z
  .string({ error: (iss) => (iss.input === undefined ? undefined : timeMessage(iss.input, false)) })
  .regex(TIME_PATTERN, { error: (iss) => timeMessage(iss.input, false) })
  .describe('Opening time, local "HH:MM" (24-hour clock).');

export const toTimeField = z
  .string({ error: (iss) => (iss.input === undefined ? undefined : timeMessage(iss.input, true)) })
  .regex(/^(?:(?:[01]\d|2[0-3]):[0-5]\d|24:00)$/, { error: (iss) => timeMessage(iss.input, true) })
  .describe('Closing time, local "HH:MM", after `from`; "24:00" is midnight at the end of the day. Exclusive.');

/** Adds the "to must be after from" issue; ranges cannot pass midnight. */
export function checkFromTo(r: { from: string; to: string }, ctx: z.RefinementCtx, path: (string | number)[] = []): void {
  if (minutesOf(r.to) <= minutesOf(r.from)) {
    ctx.addIssue({
      code: 'custom',
      path: [...path, 'to'],
      message:
        `to "${r.to}" must be after from "${r.from}": a range cannot pass midnight (overnight ranges are not supported); ` +
        'end it at "24:00" and start the next day at "00:00" instead',
    });
  }
}

export const globList = (what: string) =>
  z.array(z.string().min(1, { error: `a ${what} glob must not be empty; use "*" for any ${what}` }));

const holidayField = z
  .string()
  .refine((s) => DATE_PATTERN.test(s) && luxon().DateTime.fromISO(s, { zone: 'utc' }).isValid, {
    error: (iss) => `expected a date "YYYY-MM-DD" like "2026-12-24", got ${describeValue(iss.input)}`,
  });

export const businessHoursSchema = z
  .strictObject({
    id: configId('business hours').describe('Unique id of this calendar; logs and incident timelines name it.'),
    timezone: timeZoneField,
    days: weekdaysField.describe('Weekdays that are open: mon, tue, wed, thu, fri, sat, sun.'),
    from: fromTimeField,
    to: toTimeField,
    holidays: z
      .array(holidayField)
      .default([])
      .describe('Local dates "YYYY-MM-DD" that are closed all day, e.g. "2026-12-25".'),
    sites: globList('site')
      .min(1, { error: 'give at least one site glob; use ["*"] for every site' })
      .describe('Sites that use this calendar, as globs (`*` matches any text), e.g. ["hq", "berlin-*"]. The first calendar that matches a site wins.'),
  })
  .superRefine((c, ctx) => checkFromTo(c, ctx))
  .describe('Business hours of some sites: SLA clocks and escalation waits of severities with business_hours: true run only while open.');

export type BusinessHoursConfig = z.output<typeof businessHoursSchema>;

/** Adds an issue on each entry whose id an earlier entry already uses. */
export function checkUniqueIds(items: readonly { id: string }[], ctx: z.RefinementCtx, what: string): void {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    if (seen.has(item.id)) {
      ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `${what} id "${item.id}" is used twice; each id must be unique` });
    }
    seen.add(item.id);
  });
}

export const businessHoursListSchema = z
  .array(businessHoursSchema)
  .default([])
  .superRefine((list, ctx) => checkUniqueIds(list, ctx, 'business hours'))
  .describe('Business hours per site. Sites that no calendar names are open around the clock.');

// ---------------------------------------------------------------------------------------------
// Globs

/** `*` matches any run of characters (also none); everything else matches itself, case-sensitively. */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .split('*')
    .map((part) => part.replace(/[\\^$.|?+()[\]{}]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`, 's');
}

/** A test for "matches any of these globs". */
export function globsMatcher(globs: readonly string[]): (value: string) => boolean {
  const res = globs.map(globToRegExp);
  return (value) => res.some((re) => re.test(value));
}

// ---------------------------------------------------------------------------------------------
// Weekly hours: the open stretches of a weekly schedule in one time zone

/** A half-open interval of epoch milliseconds, [start, end). */
export interface Span {
  start: number;
  end: number;
}

/** The calendar has no open time for longer than we look ahead; nothing due in it can ever come. */
export class CalendarNeverOpenError extends IncidentdError {
  constructor(
    readonly calendarId: string,
    readonly from: number,
  ) {
    super(
      `business hours "${calendarId}" have no open time in the ${LOOKAHEAD_YEARS} years after ` +
        `${new Date(from).toISOString()}, so no SLA or escalation time can run out; ` +
        'check its days, from/to and holidays (or drop business_hours from the severity)',
    );
  }
}

// How far ahead we look for an opening before giving up. A real calendar opens within days; one
// that stays shut this long is a configuration mistake, and we must not loop for ever on it.
const LOOKAHEAD_YEARS = 3;
const MAX_CLOSED_DAYS = LOOKAHEAD_YEARS * 366;
const DAY_MS = 86_400_000;
const SPAN_CACHE_SIZE = 4096; // local dates, about eleven years
const HOUR_MS = 3_600_000;
const OFFSET_CACHE_SIZE = 100_000; // UTC hours, about eleven years

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':');
  return Number(h) * 60 + Number(m);
}

/**
 * The open stretches of "these weekdays, from HH:MM to HH:MM local, except these dates" in one
 * time zone. Shared by business hours and weekly maintenance windows.
 *
 * Local dates are walked as day numbers (days since 1970-01-01 on the calendar, no time zone in
 * them); only turning a local date and time into an instant asks luxon.
 */
export class WeeklyHours {
  private readonly days: ReadonlySet<number>; // 0 = Sunday, as Date.getUTCDay
  private readonly fromMinutes: number;
  private readonly toMinutes: number; // up to 1440 ("24:00")
  private readonly closedDays: ReadonlySet<number>;
  // Stretches per local day number. They never change, and asking luxon for them is the costly
  // part, so repeated questions about the same weeks stay cheap.
  private readonly spanCache = new Map<number, Span | null>();
  // The zone's offset per UTC hour (null: it changes within that hour). Reports ask for the local
  // date of every incident's instants; luxon for each cost seconds per 40,000 incidents.
  private readonly offsetCache = new Map<number, number | null>();

  constructor(
    /** Names the schedule in errors. */
    readonly id: string,
    readonly zone: string,
    days: readonly Weekday[],
    from: string,
    to: string,
    closedDates: readonly string[] = [],
  ) {
    if (!isValidTimeZone(zone)) throw new RangeError(`unknown time zone "${zone}"`);
    this.days = new Set(days.map((d) => (WEEKDAYS.indexOf(d) + 1) % 7));
    this.fromMinutes = minutesOf(from);
    this.toMinutes = minutesOf(to);
    this.closedDays = new Set(closedDates.map((d) => Date.parse(`${d}T00:00:00Z`) / DAY_MS));
  }

  /** The open stretch containing `t`, or null. */
  spanAt(t: number): Span | null {
    // A stretch lies within its own local date, but a fall-back across midnight can show an
    // instant under the neighbouring date, so look at both neighbours too.
    const today = this.localDay(t);
    for (let day = today - 1; day <= today + 1; day++) {
      const span = this.spanOn(day);
      if (span !== null && span.start <= t && t < span.end) return span;
    }
    return null;
  }

  /** Open stretches that end after `t`, in time order. Throws CalendarNeverOpenError after years of closed days. */
  *spansAfter(t: number): Generator<Span> {
    let closedDays = 0;
    for (let day = this.localDay(t) - 1; ; day++) {
      const span = this.spanOn(day);
      if (span === null || span.end <= t) {
        if (++closedDays > MAX_CLOSED_DAYS) throw new CalendarNeverOpenError(this.id, t);
        continue;
      }
      closedDays = 0;
      yield span;
    }
  }

  /** Open milliseconds within [a, b). Walks every local date in between, so it never throws. */
  openTimeBetween(a: number, b: number): number {
    if (!(b > a)) return 0;
    const last = this.localDay(b) + 1;
    let total = 0;
    for (let day = this.localDay(a) - 1; day <= last; day++) {
      const span = this.spanOn(day);
      if (span === null) continue;
      const overlap = Math.min(span.end, b) - Math.max(span.start, a);
      if (overlap > 0) total += overlap;
    }
    return total;
  }

  /** The day number of the local date of `t` in this zone. */
  private localDay(t: number): number {
    const hour = Math.floor(t / HOUR_MS);
    let offset = this.offsetCache.get(hour);
    if (offset === undefined) {
      // One offset at both ends of the hour: no transition inside it (zones change at most once an hour).
      const { DateTime } = luxon();
      const first = DateTime.fromMillis(hour * HOUR_MS, { zone: this.zone }).offset;
      const last = DateTime.fromMillis((hour + 1) * HOUR_MS - 1, { zone: this.zone }).offset;
      offset = first === last ? first * 60_000 : null;
      if (this.offsetCache.size >= OFFSET_CACHE_SIZE) this.offsetCache.clear();
      this.offsetCache.set(hour, offset);
    }
    if (offset !== null) return Math.floor((t + offset) / DAY_MS);
    const local = luxon().DateTime.fromMillis(t, { zone: this.zone });
    return Date.UTC(local.year, local.month - 1, local.day) / DAY_MS;
  }

  /** The open stretch of one local date, or null if it is closed. */
  private spanOn(day: number): Span | null {
    let span = this.spanCache.get(day);
    if (span === undefined) {
      span = this.computeSpanOn(day);
      if (this.spanCache.size >= SPAN_CACHE_SIZE) this.spanCache.clear();
      this.spanCache.set(day, span);
    }
    return span;
  }

  private computeSpanOn(day: number): Span | null {
    if (!this.days.has(new Date(day * DAY_MS).getUTCDay())) return null;
    if (this.closedDays.has(day)) return null;
    const start = this.wallInstant(day, this.fromMinutes);
    const end = this.wallInstant(day, this.toMinutes);
    // Empty when both times fall into the same DST gap (e.g. 02:00-02:30 on the spring-forward night).
    return end > start ? { start, end } : null;
  }

  /** The first instant at which the clock on local day `day` shows `minutes` past midnight or later. */
  private wallInstant(day: number, minutes: number): number {
    if (minutes >= 1440) return this.wallInstant(day + 1, minutes - 1440);
    const date = new Date(day * DAY_MS);
    const wanted = {
      year: date.getUTCFullYear(),
      month: date.getUTCMonth() + 1,
      day: date.getUTCDate(),
      hour: Math.floor(minutes / 60),
      minute: minutes % 60,
    };
    const { DateTime } = luxon();
    const at = DateTime.fromObject(wanted, { zone: this.zone });
    const exists =
      at.year === wanted.year && at.month === wanted.month && at.day === wanted.day && at.hour === wanted.hour && at.minute === wanted.minute;
    if (exists) {
      // Shown twice on a fall-back night: the first showing.
      return Math.min(...at.getPossibleOffsets().map((d) => d.toMillis()));
    }
    // The clock skips this time. luxon moves it forward by the length of the gap; the instant we
    // want is the jump itself, which lies within the day before that. Find it by bisection over
    // "has the clock reached the wanted time yet", which flips only once around a gap.
    const target = day * DAY_MS + minutes * 60_000; // the wanted wall time, written as if it were UTC
    const reached = (t: number) => DateTime.fromMillis(t, { zone: this.zone }).setZone('utc', { keepLocalTime: true }).toMillis() >= target;
    let lo = at.toMillis() - DAY_MS; // not reached yet
    let hi = at.toMillis(); // reached
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (reached(mid)) hi = mid;
      else lo = mid;
    }
    return hi;
  }
}

// ---------------------------------------------------------------------------------------------
// Calendars

/** Open and closed time for SLA clocks and escalation waits. All times are epoch milliseconds. */
export interface Calendar {
  readonly id: string;
  /** Whether `t` is within open hours (a stretch includes its opening instant, not its closing one). */
  isOpen(t: number): boolean;
  /**
   * The earliest instant by which `ms` of open time have passed since `start`; time before the
   * next opening does not count. With `ms` = 0 it is `nextOpening(start)`: a wait of nothing that
   * starts while closed ends when the calendar opens. A sum that fills a stretch exactly ends at
   * its closing instant. Throws RangeError for a negative or non-finite `ms`.
   */
  addBusinessTime(start: number, ms: number): number;
  /** Open milliseconds within [a, b); 0 when b <= a. */
  businessTimeBetween(a: number, b: number): number;
  /** The earliest open instant at or after `t` (`t` itself when open). */
  nextOpening(t: number): number;
}

function checkDuration(ms: number): void {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`business time to add must be a finite number >= 0, got ${ms}`);
}

/** Open around the clock: business time is plain elapsed time. */
export const ALWAYS_OPEN: Calendar = Object.freeze({
  id: 'always-open',
  isOpen: () => true,
  addBusinessTime(start: number, ms: number): number {
    checkDuration(ms);
    return start + ms;
  },
  businessTimeBetween: (a: number, b: number) => Math.max(0, b - a),
  nextOpening: (t: number) => t,
});

/** One `business_hours` entry. */
export class BusinessCalendar implements Calendar {
  readonly id: string;
  private readonly hours: WeeklyHours;

  constructor(config: BusinessHoursConfig) {
    this.id = config.id;
    this.hours = new WeeklyHours(config.id, config.timezone, config.days, config.from, config.to, config.holidays);
  }

  isOpen(t: number): boolean {
    return this.hours.spanAt(t) !== null;
  }

  addBusinessTime(start: number, ms: number): number {
    checkDuration(ms);
    let remaining = ms;
    for (const span of this.hours.spansAfter(start)) {
      const from = Math.max(span.start, start);
      if (remaining <= span.end - from) return from + remaining;
      remaining -= span.end - from;
    }
    throw new Error('unreachable: spansAfter never ends without throwing');
  }

  businessTimeBetween(a: number, b: number): number {
    return this.hours.openTimeBetween(a, b);
  }

  nextOpening(t: number): number {
    return this.addBusinessTime(t, 0);
  }
}

/** All configured calendars; a site gets the first whose `sites` globs match it. */
export class Calendars {
  private readonly entries: { calendar: BusinessCalendar; matches: (site: string) => boolean }[];

  constructor(configs: readonly BusinessHoursConfig[]) {
    this.entries = configs.map((c) => ({ calendar: new BusinessCalendar(c), matches: globsMatcher(c.sites) }));
  }

  /** The calendar of `site`: the first in config order whose globs match, else ALWAYS_OPEN. */
  forSite(site: string): Calendar {
    return this.entries.find((e) => e.matches(site))?.calendar ?? ALWAYS_OPEN;
  }

  /** The calendar with this id, if configured. */
  get(id: string): Calendar | undefined {
    return this.entries.find((e) => e.calendar.id === id)?.calendar;
  }
}
