import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ALWAYS_OPEN,
  BusinessCalendar,
  CalendarNeverOpenError,
  Calendars,
  businessHoursListSchema,
  businessHoursSchema,
  type Calendar,
} from '../../src/incidents/calendar.js';
import { IncidentdError } from '../../src/shared/errors.js';

const HOUR = 3_600_000;
const MIN = 60_000;
const DAY = 24 * HOUR;
const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri'];
const EVERY_DAY = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

const at = (iso: string) => {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new Error(`bad test instant ${iso}`);
  return t;
};
const iso = (t: number) => new Date(t).toISOString();

function calendar(fields: Record<string, unknown>): BusinessCalendar {
  return new BusinessCalendar(
    businessHoursSchema.parse({ id: 'office', timezone: 'Europe/Berlin', days: WEEKDAYS, from: '08:00', to: '18:00', sites: ['*'], ...fields }),
  );
}

// Berlin office, Mon-Fri 08:00-18:00, closed on Christmas Eve and Christmas Day 2026.
// 2026: CET (+01:00) until Sun 29 March 02:00, CEST (+02:00) until Sun 25 October 03:00.
const berlin = calendar({ holidays: ['2026-12-24', '2026-12-25'] });

describe('BusinessCalendar: open hours', () => {
  it('is open from the opening instant up to, not including, the closing instant', () => {
    // Mon 23 March 2026, CET: 08:00 local = 07:00Z.
    expect(berlin.isOpen(at('2026-03-23T06:59:59.999Z'))).toBe(false);
    expect(berlin.isOpen(at('2026-03-23T07:00:00Z'))).toBe(true);
    expect(berlin.isOpen(at('2026-03-23T16:59:59.999Z'))).toBe(true);
    expect(berlin.isOpen(at('2026-03-23T17:00:00Z'))).toBe(false);
  });

  it('is closed on weekends and holidays', () => {
    expect(berlin.isOpen(at('2026-03-28T11:00:00Z'))).toBe(false); // Saturday noon
    expect(berlin.isOpen(at('2026-03-29T10:00:00Z'))).toBe(false); // Sunday noon
    expect(berlin.isOpen(at('2026-12-23T11:00:00Z'))).toBe(true); // Wednesday
    expect(berlin.isOpen(at('2026-12-24T11:00:00Z'))).toBe(false); // Thursday, holiday
    expect(berlin.isOpen(at('2026-12-25T11:00:00Z'))).toBe(false); // Friday, holiday
  });

  it('opens at 08:00 local time on both sides of the spring-forward change', () => {
    // Friday before: CET, 08:00 = 07:00Z. Monday after: CEST, 08:00 = 06:00Z.
    expect(berlin.nextOpening(at('2026-03-27T00:00:00Z'))).toBe(at('2026-03-27T07:00:00Z'));
    expect(berlin.nextOpening(at('2026-03-28T00:00:00Z'))).toBe(at('2026-03-30T06:00:00Z'));
    expect(berlin.isOpen(at('2026-03-27T06:30:00Z'))).toBe(false);
    expect(berlin.isOpen(at('2026-03-30T06:30:00Z'))).toBe(true);
    expect(berlin.isOpen(at('2026-03-30T16:00:00Z'))).toBe(false); // 18:00 CEST
  });

  it('opens at 08:00 local time after the fall-back change', () => {
    expect(berlin.nextOpening(at('2026-10-24T00:00:00Z'))).toBe(at('2026-10-26T07:00:00Z'));
    expect(berlin.isOpen(at('2026-10-23T06:30:00Z'))).toBe(true); // Fri 08:30 CEST
    expect(berlin.isOpen(at('2026-10-26T06:30:00Z'))).toBe(false); // Mon 07:30 CET
  });

  it('judges the weekday by the local date, far east of UTC', () => {
    // Auckland in June is NZST (+12:00): Monday 08:00 local is Sunday 20:00Z.
    const auckland = calendar({ timezone: 'Pacific/Auckland' });
    expect(auckland.isOpen(at('2026-05-31T20:00:00Z'))).toBe(true);
    expect(auckland.isOpen(at('2026-05-31T19:59:59.999Z'))).toBe(false);
    // Friday 18:00 NZST is Friday 06:00Z; Friday noon UTC is Saturday local.
    expect(auckland.isOpen(at('2026-06-05T05:59:00Z'))).toBe(true);
    expect(auckland.isOpen(at('2026-06-05T12:00:00Z'))).toBe(false);
    // Southern hemisphere: NZDT (+13:00) from 27 September, so Monday 28 opens at Sunday 19:00Z.
    expect(auckland.nextOpening(at('2026-09-27T00:00:00Z'))).toBe(at('2026-09-27T19:00:00Z'));
  });

  it('handles a half-hour zone (Asia/Kolkata, +05:30)', () => {
    const kolkata = calendar({ timezone: 'Asia/Kolkata', from: '09:00', to: '17:30' });
    // Mon 1 June 2026: 09:00 IST = 03:30Z, 17:30 IST = 12:00Z.
    expect(kolkata.nextOpening(at('2026-05-31T12:00:00Z'))).toBe(at('2026-06-01T03:30:00Z'));
    expect(kolkata.addBusinessTime(at('2026-06-01T03:30:00Z'), 8 * HOUR + 30 * MIN)).toBe(at('2026-06-01T12:00:00Z'));
    expect(kolkata.addBusinessTime(at('2026-06-01T03:30:00Z'), 8 * HOUR + 31 * MIN)).toBe(at('2026-06-02T03:31:00Z'));
    expect(kolkata.businessTimeBetween(at('2026-06-01T00:00:00Z'), at('2026-06-08T00:00:00Z'))).toBe(5 * (8 * HOUR + 30 * MIN));
  });
});

describe('BusinessCalendar: a day of 23 or 25 hours', () => {
  const aroundTheClock = calendar({ days: EVERY_DAY, from: '00:00', to: '24:00' });

  it('counts the local day as 23 hours in March and 25 hours in October', () => {
    // Local midnights: 29 March 00:00 CET = 28 March 23:00Z; 30 March 00:00 CEST = 29 March 22:00Z.
    expect(aroundTheClock.businessTimeBetween(at('2026-03-28T23:00:00Z'), at('2026-03-29T22:00:00Z'))).toBe(23 * HOUR);
    expect(aroundTheClock.businessTimeBetween(at('2026-10-24T22:00:00Z'), at('2026-10-25T23:00:00Z'))).toBe(25 * HOUR);
  });

  it('is then the same as plain elapsed time', () => {
    const start = at('2026-03-25T10:17:00Z');
    expect(aroundTheClock.addBusinessTime(start, 7 * DAY + 5 * MIN)).toBe(start + 7 * DAY + 5 * MIN);
    expect(aroundTheClock.isOpen(at('2026-03-29T01:30:00Z'))).toBe(true);
    expect(aroundTheClock.isOpen(at('2026-10-25T01:30:00Z'))).toBe(true);
  });

  it('places a night window by the local clock on change nights', () => {
    const night = calendar({ days: EVERY_DAY, from: '01:00', to: '04:00' });
    // Ordinary night: three hours.
    expect(night.businessTimeBetween(at('2026-03-21T12:00:00Z'), at('2026-03-22T12:00:00Z'))).toBe(3 * HOUR);
    // Spring forward: 01:00 CET (00:00Z) to 04:00 CEST (02:00Z), two hours.
    expect(night.nextOpening(at('2026-03-28T12:00:00Z'))).toBe(at('2026-03-29T00:00:00Z'));
    expect(night.addBusinessTime(at('2026-03-28T12:00:00Z'), 2 * HOUR)).toBe(at('2026-03-29T02:00:00Z'));
    expect(night.businessTimeBetween(at('2026-03-28T12:00:00Z'), at('2026-03-29T12:00:00Z'))).toBe(2 * HOUR);
    // Fall back: 01:00 CEST (23:00Z the day before) to 04:00 CET (03:00Z), four hours.
    expect(night.nextOpening(at('2026-10-24T12:00:00Z'))).toBe(at('2026-10-24T23:00:00Z'));
    expect(night.businessTimeBetween(at('2026-10-24T12:00:00Z'), at('2026-10-25T12:00:00Z'))).toBe(4 * HOUR);
  });

  it('opens a time the clock skips at the jump, and a time it shows twice at its first showing', () => {
    const skipped = calendar({ days: ['sun'], from: '02:30', to: '04:00' });
    // 29 March: the clock jumps from 02:00 CET to 03:00 CEST at 01:00Z; 02:30 never shows.
    expect(skipped.nextOpening(at('2026-03-28T12:00:00Z'))).toBe(at('2026-03-29T01:00:00Z'));
    expect(skipped.businessTimeBetween(at('2026-03-28T12:00:00Z'), at('2026-03-29T12:00:00Z'))).toBe(1 * HOUR);
    // 25 October: 02:30 shows at 00:30Z (CEST) and again at 01:30Z (CET); it opens at the first.
    expect(skipped.nextOpening(at('2026-10-24T12:00:00Z'))).toBe(at('2026-10-25T00:30:00Z'));
    expect(skipped.businessTimeBetween(at('2026-10-24T12:00:00Z'), at('2026-10-25T12:00:00Z'))).toBe(2.5 * HOUR);
  });

  it('handles changes at midnight (Asia/Beirut: Sunday 00:00 is skipped in March, Saturday 23:00 repeats in October)', () => {
    const sundayNight = calendar({ timezone: 'Asia/Beirut', days: ['sun'], from: '00:00', to: '02:00' });
    // 28 March 22:00Z: the clock jumps from Sat 24:00 (+02:00) to Sun 01:00 (+03:00).
    expect(sundayNight.nextOpening(at('2026-03-28T12:00:00Z'))).toBe(at('2026-03-28T22:00:00Z'));
    expect(sundayNight.businessTimeBetween(at('2026-03-28T12:00:00Z'), at('2026-03-29T12:00:00Z'))).toBe(HOUR);
    // 24 October 21:00Z: Sun 00:00 (+03:00) becomes Sat 23:00 (+02:00); Sunday first shows at 22:00Z.
    expect(sundayNight.nextOpening(at('2026-10-24T12:00:00Z'))).toBe(at('2026-10-24T22:00:00Z'));
    expect(sundayNight.isOpen(at('2026-10-24T21:30:00Z'))).toBe(false);
    expect(sundayNight.businessTimeBetween(at('2026-10-24T12:00:00Z'), at('2026-10-25T12:00:00Z'))).toBe(2 * HOUR);
  });

  it('skips a date that does not exist (Pacific/Apia went from 29 to 31 December 2011)', () => {
    const apia = calendar({ timezone: 'Pacific/Apia', days: EVERY_DAY });
    // 29 Dec (-10:00) is open 18:00Z-04:00Z; 31 Dec (+14:00) opens at 08:00 local = 30 Dec 18:00Z.
    const start = at('2011-12-29T12:00:00Z');
    expect(iso(apia.addBusinessTime(start, 12 * HOUR))).toBe('2011-12-30T20:00:00.000Z');
    expect(apia.businessTimeBetween(start, at('2011-12-31T04:00:00Z'))).toBe(20 * HOUR);
  });

  it('stays closed on a day whose whole range the clock skips', () => {
    const gap = calendar({ days: ['sun'], from: '02:00', to: '02:30' });
    // 29 March has no 02:00-02:30; the next opening is a week later, 02:00 CEST = 00:00Z.
    expect(gap.nextOpening(at('2026-03-28T12:00:00Z'))).toBe(at('2026-04-05T00:00:00Z'));
    expect(gap.isOpen(at('2026-03-29T01:00:00Z'))).toBe(false);
  });
});

describe('BusinessCalendar.addBusinessTime', () => {
  it('carries the rest over the weekend and the spring-forward change', () => {
    // Fri 27 March 17:00 CET (16:00Z) + 3h: one hour on Friday, two from Mon 08:00 CEST (06:00Z).
    expect(iso(berlin.addBusinessTime(at('2026-03-27T16:00:00Z'), 3 * HOUR))).toBe('2026-03-30T08:00:00.000Z');
  });

  it('skips holidays', () => {
    // Wed 23 Dec 17:00 CET + 2h: Thu 24 and Fri 25 are holidays, then the weekend: Mon 28 09:00 CET.
    expect(iso(berlin.addBusinessTime(at('2026-12-23T16:00:00Z'), 2 * HOUR))).toBe('2026-12-28T08:00:00.000Z');
    expect(berlin.businessTimeBetween(at('2026-12-23T16:00:00Z'), at('2026-12-28T08:00:00Z'))).toBe(2 * HOUR);
  });

  it('adds five business days in one go', () => {
    // Mon 1 June 08:00 CEST (06:00Z) + 50h ends at Friday's closing instant.
    const monday = at('2026-06-01T06:00:00Z');
    expect(iso(berlin.addBusinessTime(monday, 50 * HOUR))).toBe('2026-06-05T16:00:00.000Z');
    expect(iso(berlin.addBusinessTime(monday, 50 * HOUR + 1))).toBe('2026-06-08T06:00:00.001Z');
    // From Wednesday noon, a business week later is next Wednesday noon.
    expect(iso(berlin.addBusinessTime(at('2026-06-03T10:00:00Z'), 50 * HOUR))).toBe('2026-06-10T10:00:00.000Z');
  });

  it('starts counting at the next opening when started outside hours', () => {
    // Saturday: the hour runs Monday 08:00-09:00 CEST.
    expect(iso(berlin.addBusinessTime(at('2026-06-06T10:00:00Z'), HOUR))).toBe('2026-06-08T07:00:00.000Z');
    // Before opening on a weekday.
    expect(iso(berlin.addBusinessTime(at('2026-06-02T03:00:00Z'), 30 * MIN))).toBe('2026-06-02T06:30:00.000Z');
  });

  it('with nothing to add, gives the start when open and the next opening when closed', () => {
    const open = at('2026-06-02T09:00:00Z');
    expect(berlin.addBusinessTime(open, 0)).toBe(open);
    expect(iso(berlin.addBusinessTime(at('2026-06-06T10:00:00Z'), 0))).toBe('2026-06-08T06:00:00.000Z');
    // The closing instant itself is closed.
    expect(iso(berlin.addBusinessTime(at('2026-06-02T16:00:00Z'), 0))).toBe('2026-06-03T06:00:00.000Z');
  });

  it('refuses a negative or non-finite amount', () => {
    expect(() => berlin.addBusinessTime(0, -1)).toThrow(RangeError);
    expect(() => berlin.addBusinessTime(0, Number.NaN)).toThrow(RangeError);
    expect(() => ALWAYS_OPEN.addBusinessTime(0, -1)).toThrow(RangeError);
  });
});

describe('BusinessCalendar.businessTimeBetween', () => {
  it('counts open time in [a, b) and nothing for an empty or reversed range', () => {
    // Mon 1 June to Mon 8 June (local midnights): five days of ten hours.
    expect(berlin.businessTimeBetween(at('2026-05-31T22:00:00Z'), at('2026-06-07T22:00:00Z'))).toBe(50 * HOUR);
    expect(berlin.businessTimeBetween(at('2026-06-02T09:00:00Z'), at('2026-06-02T09:00:00Z'))).toBe(0);
    expect(berlin.businessTimeBetween(at('2026-06-03T09:00:00Z'), at('2026-06-02T09:00:00Z'))).toBe(0);
    // Over the change week in March: Mon-Fri ten hours each, whatever the offset.
    expect(berlin.businessTimeBetween(at('2026-03-23T00:00:00Z'), at('2026-04-04T00:00:00Z'))).toBe(100 * HOUR);
  });
});

// Deterministic pseudo-random numbers (mulberry32) so a failure can be replayed.
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let r = Math.imul(s ^ (s >>> 15), 1 | s);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4_294_967_296;
  };
}

describe('BusinessCalendar: addBusinessTime and businessTimeBetween agree', () => {
  const calendars: [string, Calendar][] = [
    ['Berlin office with holidays', berlin],
    ['Berlin nights across DST changes', calendar({ days: EVERY_DAY, from: '01:00', to: '04:00' })],
    ['Berlin, a range the clock skips', calendar({ days: ['sun', 'mon'], from: '02:30', to: '24:00' })],
    ['Kolkata', calendar({ timezone: 'Asia/Kolkata', from: '09:00', to: '17:30' })],
    ['Auckland weekends', calendar({ timezone: 'Pacific/Auckland', days: ['sat', 'sun'], from: '00:00', to: '24:00' })],
    ['New York', calendar({ timezone: 'America/New_York', from: '07:15', to: '19:45' })],
    ['Beirut weekend nights', calendar({ timezone: 'Asia/Beirut', days: ['sat', 'sun'], from: '00:00', to: '02:00' })],
  ];

  for (const [name, cal] of calendars) {
    it(`${name}: for many starts and amounts, the result is the earliest instant with that much open time`, () => {
      const next = random(name.length * 7919);
      const yearStart = at('2026-01-01T00:00:00Z');
      for (let i = 0; i < 300; i++) {
        // Starts on whole minutes and odd milliseconds; amounts from nothing to about two weeks of office time.
        const start = yearStart + Math.floor(next() * 365 * DAY);
        const ms = i % 10 === 0 ? 0 : Math.floor(next() * 120 * HOUR);
        const end = cal.addBusinessTime(start, ms);
        const context = `start ${iso(start)}, ms ${ms}, end ${iso(end)}`;
        expect(cal.businessTimeBetween(start, end), context).toBe(ms);
        if (ms > 0) {
          expect(cal.isOpen(end - 1), context).toBe(true);
          expect(cal.businessTimeBetween(start, end - 1), context).toBe(ms - 1);
        } else {
          expect(end, context).toBe(cal.nextOpening(start));
          expect(cal.isOpen(end), context).toBe(true);
        }
        // isOpen agrees with a one-millisecond slice, and ranges add up.
        expect(cal.isOpen(start), context).toBe(cal.businessTimeBetween(start, start + 1) === 1);
        const mid = start + Math.floor((end - start) / 3);
        expect(cal.businessTimeBetween(start, mid) + cal.businessTimeBetween(mid, end), context).toBe(ms);
      }
    });
  }
});

describe('BusinessCalendar: a calendar that never opens', () => {
  // Open on Mondays only, and every Monday for four years from 2026 is a holiday.
  const mondays: string[] = [];
  for (let t = at('2026-01-05T00:00:00Z'); t < at('2030-01-01T00:00:00Z'); t += 7 * DAY) mondays.push(iso(t).slice(0, 10));

  it('gives up with an error that says what to check, instead of searching for ever', () => {
    const shut = calendar({ id: 'shut', days: ['mon'], holidays: mondays });
    let error: unknown;
    try {
      shut.nextOpening(at('2026-01-01T00:00:00Z'));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CalendarNeverOpenError);
    expect(error).toBeInstanceOf(IncidentdError);
    expect((error as Error).message).toMatch(/business hours "shut" have no open time in the 3 years after 2026-01-01/);
    expect((error as Error).message).toMatch(/check its days, from\/to and holidays/);
    expect(() => shut.addBusinessTime(at('2026-01-01T00:00:00Z'), HOUR)).toThrow(CalendarNeverOpenError);
    // Questions that need no search still answer.
    expect(shut.isOpen(at('2026-01-05T10:00:00Z'))).toBe(false);
    expect(shut.businessTimeBetween(at('2026-01-01T00:00:00Z'), at('2029-12-31T00:00:00Z'))).toBe(0);
  });

  it('still finds an opening that is far off but within the search', () => {
    const lateOpening = calendar({ days: ['mon'], holidays: mondays.slice(0, 100) });
    // 100 Mondays from 5 Jan 2026 end on 29 Nov 2027; the next one, 6 Dec 2027, opens at 08:00 CET.
    expect(iso(lateOpening.nextOpening(at('2026-01-01T00:00:00Z')))).toBe('2027-12-06T07:00:00.000Z');
  });
});

describe('ALWAYS_OPEN', () => {
  it('counts plain elapsed time', () => {
    expect(ALWAYS_OPEN.isOpen(at('2026-03-29T01:30:00Z'))).toBe(true);
    expect(ALWAYS_OPEN.addBusinessTime(1000, 5 * DAY)).toBe(1000 + 5 * DAY);
    expect(ALWAYS_OPEN.businessTimeBetween(1000, 5000)).toBe(4000);
    expect(ALWAYS_OPEN.businessTimeBetween(5000, 1000)).toBe(0);
    expect(ALWAYS_OPEN.nextOpening(1234)).toBe(1234);
  });
});

describe('Calendars', () => {
  const configs = businessHoursListSchema.parse([
    { id: 'office-berlin', timezone: 'Europe/Berlin', days: WEEKDAYS, from: '08:00', to: '18:00', sites: ['hq', 'berlin-*'] },
    { id: 'office-pune', timezone: 'Asia/Kolkata', days: WEEKDAYS, from: '09:00', to: '17:30', sites: ['pune', 'berlin-lab'] },
    { id: 'shop.v1', timezone: 'UTC', days: EVERY_DAY, from: '10:00', to: '20:00', sites: ['shop.*'] },
  ]);
  const calendars = new Calendars(configs);

  it('gives a site the first calendar whose globs match it', () => {
    expect(calendars.forSite('hq').id).toBe('office-berlin');
    expect(calendars.forSite('berlin-mitte').id).toBe('office-berlin');
    expect(calendars.forSite('berlin-').id).toBe('office-berlin'); // * matches nothing too
    expect(calendars.forSite('berlin-lab').id).toBe('office-berlin'); // listed by both: the first wins
    expect(calendars.forSite('pune').id).toBe('office-pune');
    expect(calendars.forSite('shop.north').id).toBe('shop.v1');
  });

  it('matches globs whole and literally, and leaves unknown sites open around the clock', () => {
    expect(calendars.forSite('hq2')).toBe(ALWAYS_OPEN);
    expect(calendars.forSite('old-hq')).toBe(ALWAYS_OPEN);
    expect(calendars.forSite('xberlin-mitte')).toBe(ALWAYS_OPEN);
    expect(calendars.forSite('HQ')).toBe(ALWAYS_OPEN);
    expect(calendars.forSite('shopXnorth')).toBe(ALWAYS_OPEN); // "." is not a wildcard
    expect(calendars.forSite('')).toBe(ALWAYS_OPEN);
    expect(new Calendars([]).forSite('hq')).toBe(ALWAYS_OPEN);
  });

  it('finds a calendar by id, and its hours are the configured ones', () => {
    const pune = calendars.get('office-pune')!;
    expect(pune.isOpen(at('2026-06-01T03:30:00Z'))).toBe(true);
    expect(pune.isOpen(at('2026-06-01T03:29:00Z'))).toBe(false);
    expect(calendars.get('nope')).toBeUndefined();
  });
});

describe('businessHoursSchema', () => {
  const valid = { id: 'office-berlin', timezone: 'Europe/Berlin', days: ['mon', 'fri'], from: '08:00', to: '18:00', sites: ['hq'] };
  const issues = (input: unknown, schema: z.ZodType = businessHoursSchema) => {
    const r = schema.safeParse(input);
    expect(r.success, 'expected a validation error').toBe(false);
    return r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('accepts a plain entry and fills the defaults', () => {
    expect(businessHoursSchema.parse(valid)).toEqual({ ...valid, holidays: [] });
    expect(businessHoursSchema.parse({ ...valid, timezone: 'Asia/Kolkata', to: '24:00', from: '00:00' }).to).toBe('24:00');
  });

  it('names an unknown time zone and suggests the closest one', () => {
    expect(issues({ ...valid, timezone: 'Europe/Berln' })).toEqual([
      'timezone: unknown time zone "Europe/Berln" (did you mean "Europe/Berlin"?); use an IANA name like "Europe/Berlin", "America/New_York" or "UTC"',
    ]);
    expect(issues({ ...valid, timezone: '+01:00' })[0]).toMatch(/^timezone: unknown time zone "\+01:00"/);
    expect(issues({ ...valid, timezone: 'Mars/Olympus_Mons' })[0]).toMatch(/^timezone: unknown time zone "Mars\/Olympus_Mons"; use/);
  });

  it('requires to after from and says overnight ranges are not supported', () => {
    for (const [from, to] of [['22:00', '06:00'], ['08:00', '08:00']]) {
      const [message] = issues({ ...valid, from, to });
      expect(message).toMatch(new RegExp(`^to: to "${to}" must be after from "${from}"`));
      expect(message).toMatch(/overnight ranges are not supported/);
    }
  });

  it('rejects malformed times, days and dates with the value in the message', () => {
    expect(issues({ ...valid, from: '8:00' })).toEqual(['from: expected a local time "HH:MM" (24-hour clock, e.g. "08:00"), got "8:00"']);
    expect(issues({ ...valid, to: '25:00' })[0]).toMatch(/^to: expected a local time "HH:MM".*got "25:00"$/);
    expect(issues({ ...valid, from: '24:00' })[0]).toMatch(/^from: expected a local time/); // only `to` may be 24:00
    expect(issues({ ...valid, days: ['mon', 'monday'] })).toEqual([
      'days.1: expected a weekday: mon, tue, wed, thu, fri, sat or sun, got "monday"',
    ]);
    expect(issues({ ...valid, days: [] })[0]).toMatch(/^days: give at least one weekday/);
    for (const bad of ['2026-02-30', '2026-1-5', '24.12.2026', '2026-12-24T00:00:00Z']) {
      expect(issues({ ...valid, holidays: ['2026-12-25', bad] })).toEqual([
        `holidays.1: expected a date "YYYY-MM-DD" like "2026-12-24", got "${bad}"`,
      ]);
    }
  });

  it('rejects unknown keys, missing sites and empty globs', () => {
    expect(issues({ ...valid, holiday: [] })[0]).toMatch(/holiday/);
    expect(issues({ ...valid, sites: [] })[0]).toMatch(/^sites: give at least one site glob; use \["\*"\] for every site/);
    expect(issues({ ...valid, sites: [''] })[0]).toMatch(/^sites.0: a site glob must not be empty/);
    expect(issues({ ...valid, id: 'Office Berlin' })[0]).toMatch(/^id: business hours id must start with a lowercase letter/);
  });

  it('rejects duplicate ids in the list, pointing at the second', () => {
    expect(issues([valid, { ...valid, sites: ['other'] }], businessHoursListSchema)).toEqual([
      '1.id: business hours id "office-berlin" is used twice; each id must be unique',
    ]);
  });

  it('describes every field for the generated JSON Schema', () => {
    const json = z.toJSONSchema(businessHoursListSchema, { io: 'input', target: 'draft-2020-12' }) as any;
    expect(json.description).toMatch(/open around the clock/);
    const entry = json.items;
    expect(entry.additionalProperties).toBe(false);
    expect(Object.keys(entry.properties).sort()).toEqual(['days', 'from', 'holidays', 'id', 'sites', 'timezone', 'to']);
    for (const [key, prop] of Object.entries<any>(entry.properties)) {
      expect(prop.description, key).toEqual(expect.any(String));
    }
  });
});
