import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  MaintenanceWindows,
  maintenanceListSchema,
  maintenanceWindowSchema,
  type MaintenanceTarget,
} from '../../src/incidents/maintenance.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const at = (iso: string) => {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new Error(`bad test instant ${iso}`);
  return t;
};
const iso = (t: number) => new Date(t).toISOString();

function windows(entries: unknown[]): MaintenanceWindows {
  return new MaintenanceWindows(maintenanceListSchema.parse(entries));
}

function target(id: string, fields: Partial<MaintenanceTarget> = {}): MaintenanceTarget {
  return { id, kind: 'server', site: 'hq', labels: {}, ...fields };
}

const printerSwap = {
  id: 'printer-swap',
  reason: 'Replacing the 3rd floor printer',
  start: '2026-12-01T20:00:00+01:00',
  end: '2026-12-01T23:00:00+01:00',
  match: { targets: ['printer-3f'], sites: [], kinds: [], labels: {} },
};

describe('MaintenanceWindows: one-off windows', () => {
  const w = windows([printerSwap]);
  const printer = target('printer-3f', { kind: 'printer' });

  it('covers its target from start (inclusive) to end (exclusive)', () => {
    expect(w.active(printer, at('2026-12-01T18:59:59.999Z'))).toBeNull();
    expect(w.active(printer, at('2026-12-01T19:00:00Z'))).toEqual({
      id: 'printer-swap',
      reason: 'Replacing the 3rd floor printer',
      until: at('2026-12-01T22:00:00Z'),
    });
    expect(w.active(printer, at('2026-12-01T21:59:59.999Z'))?.until).toBe(at('2026-12-01T22:00:00Z'));
    expect(w.active(printer, at('2026-12-01T22:00:00Z'))).toBeNull();
  });

  it('leaves other targets alone', () => {
    expect(w.active(target('printer-2f', { kind: 'printer' }), at('2026-12-01T20:00:00Z'))).toBeNull();
  });

  it('does nothing without windows', () => {
    expect(new MaintenanceWindows([]).active(printer, at('2026-12-01T20:00:00Z'))).toBeNull();
  });
});

describe('MaintenanceWindows: matching', () => {
  const during = at('2026-12-01T20:00:00Z');
  const oneOff = (id: string, match: unknown) => ({ id, reason: `reason of ${id}`, start: '2026-12-01T19:00:00Z', end: '2026-12-01T22:00:00Z', match });
  const activeId = (match: unknown, t: MaintenanceTarget) => windows([oneOff('w', match)]).active(t, during)?.id ?? null;

  it('matches target ids by glob, any of the list', () => {
    const match = { targets: ['ap-floor*', 'core-sw'] };
    expect(activeId(match, target('ap-floor3'))).toBe('w');
    expect(activeId(match, target('core-sw'))).toBe('w');
    expect(activeId(match, target('core-sw2'))).toBeNull();
    expect(activeId(match, target('old-ap-floor3'))).toBeNull();
  });

  it('matches sites and kinds by glob', () => {
    expect(activeId({ sites: ['berlin-*'] }, target('x', { site: 'berlin-mitte' }))).toBe('w');
    expect(activeId({ sites: ['berlin-*'] }, target('x', { site: 'hamburg' }))).toBeNull();
    expect(activeId({ kinds: ['printer', 'wifi-*'] }, target('x', { kind: 'wifi-ap' }))).toBe('w');
    expect(activeId({ kinds: ['printer', 'wifi-*'] }, target('x', { kind: 'server' }))).toBeNull();
    expect(activeId({ sites: ['*'] }, target('x', { site: '' }))).toBe('w');
  });

  it('needs every configured label, with exactly its value', () => {
    const match = { labels: { env: 'prod', team: 'infra' } };
    expect(activeId(match, target('x', { labels: { env: 'prod', team: 'infra', rack: 'a1' } }))).toBe('w');
    expect(activeId(match, target('x', { labels: { env: 'prod' } }))).toBeNull();
    expect(activeId(match, target('x', { labels: { env: 'staging', team: 'infra' } }))).toBeNull();
    expect(activeId(match, target('x', { labels: { env: 'Prod', team: 'infra' } }))).toBeNull();
  });

  it('compares numbers and booleans in labels as the strings targets carry', () => {
    expect(activeId({ labels: { rack: 12, critical: true } }, target('x', { labels: { rack: '12', critical: 'true' } }))).toBe('w');
  });

  it('needs every given dimension to match', () => {
    const match = { sites: ['hq'], kinds: ['printer'], labels: { env: 'prod' } };
    expect(activeId(match, target('p', { site: 'hq', kind: 'printer', labels: { env: 'prod' } }))).toBe('w');
    expect(activeId(match, target('p', { site: 'lab', kind: 'printer', labels: { env: 'prod' } }))).toBeNull();
    expect(activeId(match, target('p', { site: 'hq', kind: 'server', labels: { env: 'prod' } }))).toBeNull();
    expect(activeId(match, target('p', { site: 'hq', kind: 'printer', labels: {} }))).toBeNull();
  });
});

describe('MaintenanceWindows: overlapping and abutting windows', () => {
  const w = windows([
    { id: 'a', reason: 'A', start: '2026-12-01T20:00:00Z', end: '2026-12-01T23:00:00Z', match: { sites: ['hq'] } },
    { id: 'b', reason: 'B', start: '2026-12-01T22:00:00Z', end: '2026-12-02T01:00:00Z', match: { targets: ['db-*'] } },
    { id: 'c', reason: 'C', start: '2026-12-02T01:00:00Z', end: '2026-12-02T02:00:00Z', match: { kinds: ['server'] } },
    { id: 'd', reason: 'D', start: '2026-12-02T02:00:00.001Z', end: '2026-12-02T05:00:00Z', match: { sites: ['*'] } },
    { id: 'e', reason: 'E', start: '2026-12-01T22:30:00Z', end: '2026-12-03T00:00:00Z', match: { targets: ['nobody'] } },
  ]);
  const db = target('db-1', { site: 'hq', kind: 'server' });

  it('reports when the merged stretch ends, following overlaps and abutting windows', () => {
    // a overlaps b, b abuts c; d starts a millisecond after c ends, so it is a separate stretch.
    expect(w.active(db, at('2026-12-01T21:00:00Z'))).toEqual({ id: 'a', reason: 'A', until: at('2026-12-02T02:00:00Z') });
    expect(w.active(db, at('2026-12-02T00:00:00Z'))).toEqual({ id: 'b', reason: 'B', until: at('2026-12-02T02:00:00Z') });
    expect(w.active(db, at('2026-12-02T02:00:00Z'))).toBeNull();
    expect(w.active(db, at('2026-12-02T03:00:00Z'))?.until).toBe(at('2026-12-02T05:00:00Z'));
  });

  it('names the first configured window when several cover the instant', () => {
    expect(w.active(db, at('2026-12-01T22:30:00Z'))?.id).toBe('a');
  });

  it('merges only windows that match the target', () => {
    // A printer at hq: a, then c and b do not match it (c is for servers, b for db-*).
    const printer = target('printer-1', { site: 'hq', kind: 'printer' });
    expect(w.active(printer, at('2026-12-01T21:00:00Z'))?.until).toBe(at('2026-12-01T23:00:00Z'));
  });

  it('follows a window that lasts around the clock only so far ahead, and says so by a finite until', () => {
    const always = windows([
      { id: 'freeze', reason: 'Change freeze', weekly: { timezone: 'UTC', days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], from: '00:00', to: '24:00' }, match: { sites: ['*'] } },
    ]);
    const t = at('2026-12-01T12:00:00Z');
    const until = always.active(db, t)!.until;
    expect(until).toBeGreaterThanOrEqual(t + 31 * DAY);
    expect(until).toBeLessThanOrEqual(t + 32 * DAY);
    // Asking again at that point finds the target still in maintenance.
    expect(always.active(db, until)).not.toBeNull();
  });
});

describe('MaintenanceWindows: weekly windows', () => {
  const w = windows([
    {
      id: 'sunday-patching',
      reason: 'Weekly patch window',
      weekly: { timezone: 'Europe/Berlin', days: ['sun'], from: '02:00', to: '04:00' },
      match: { sites: ['hq'], labels: { env: 'prod' } },
    },
  ]);
  const prod = target('web-1', { labels: { env: 'prod' } });

  it('covers the local hours on its days', () => {
    // Sunday 22 March 2026, CET: 02:00-04:00 local = 01:00Z-03:00Z.
    expect(w.active(prod, at('2026-03-22T00:59:59.999Z'))).toBeNull();
    expect(w.active(prod, at('2026-03-22T01:00:00Z'))).toEqual({ id: 'sunday-patching', reason: 'Weekly patch window', until: at('2026-03-22T03:00:00Z') });
    expect(w.active(prod, at('2026-03-22T03:00:00Z'))).toBeNull();
    expect(w.active(prod, at('2026-03-23T01:30:00Z'))).toBeNull(); // Monday
    expect(w.active(target('web-1', { labels: { env: 'dev' } }), at('2026-03-22T01:30:00Z'))).toBeNull();
  });

  it('is one hour on the spring-forward night: from the jump to 04:00 CEST', () => {
    // 29 March: 02:00 CET never shows; the clock jumps to 03:00 CEST at 01:00Z. 04:00 CEST = 02:00Z.
    expect(w.active(prod, at('2026-03-29T00:59:59.999Z'))).toBeNull();
    expect(w.active(prod, at('2026-03-29T01:00:00Z'))?.until).toBe(at('2026-03-29T02:00:00Z'));
    expect(w.active(prod, at('2026-03-29T02:00:00Z'))).toBeNull();
  });

  it('is three hours on the fall-back night: from the first 02:00 CEST to 04:00 CET', () => {
    // 25 October: 02:00 CEST = 00:00Z; 02:00-03:00 shows twice; 04:00 CET = 03:00Z.
    expect(w.active(prod, at('2026-10-24T23:59:59.999Z'))).toBeNull();
    expect(w.active(prod, at('2026-10-25T00:00:00Z'))?.until).toBe(at('2026-10-25T03:00:00Z'));
    expect(w.active(prod, at('2026-10-25T01:30:00Z'))?.until).toBe(at('2026-10-25T03:00:00Z')); // 02:30 CET, the second showing
    expect(w.active(prod, at('2026-10-25T03:00:00Z'))).toBeNull();
    // A week later, CET: 01:00Z-03:00Z.
    expect(w.active(prod, at('2026-11-01T00:30:00Z'))).toBeNull();
    expect(w.active(prod, at('2026-11-01T01:00:00Z'))?.until).toBe(at('2026-11-01T03:00:00Z'));
  });

  it('spans midnight as two abutting windows, and runs on into an abutting one-off window', () => {
    const nights = windows([
      { id: 'sat-late', reason: 'Backup', weekly: { timezone: 'Europe/Berlin', days: ['sat'], from: '22:00', to: '24:00' }, match: { sites: ['hq'] } },
      { id: 'sun-early', reason: 'Backup', weekly: { timezone: 'Europe/Berlin', days: ['sun'], from: '00:00', to: '04:00' }, match: { sites: ['hq'] } },
      { id: 'overrun', reason: 'Backup overran', start: '2026-06-07T04:00:00+02:00', end: '2026-06-07T06:30:00+02:00', match: { sites: ['hq'] } },
    ]);
    // Saturday 6 June 23:00 CEST: sat-late, then sun-early to 04:00, then overrun to 06:30 CEST.
    expect(nights.active(prod, at('2026-06-06T21:00:00Z'))).toEqual({ id: 'sat-late', reason: 'Backup', until: at('2026-06-07T04:30:00Z') });
    // The week after, without the overrun: until 04:00 CEST.
    expect(iso(nights.active(prod, at('2026-06-13T21:00:00Z'))!.until)).toBe('2026-06-14T02:00:00.000Z');
  });
});

describe('maintenanceWindowSchema', () => {
  const weekly = {
    id: 'sunday-patching',
    reason: 'Weekly patch window',
    weekly: { timezone: 'Europe/Berlin', days: ['sun'], from: '02:00', to: '04:00' },
    match: { sites: ['hq'], labels: { env: 'prod' } },
  };
  const issues = (input: unknown, schema: z.ZodType = maintenanceWindowSchema) => {
    const r = schema.safeParse(input);
    expect(r.success, 'expected a validation error').toBe(false);
    return r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('accepts the documented examples and fills empty match dimensions', () => {
    expect(maintenanceWindowSchema.parse(printerSwap)).toEqual(printerSwap);
    expect(maintenanceWindowSchema.parse(weekly).match).toEqual({ targets: [], sites: ['hq'], kinds: [], labels: { env: 'prod' } });
    expect(maintenanceWindowSchema.safeParse({ ...printerSwap, start: '2026-12-01T19:00:00Z', end: '2026-12-01T19:00:00.5Z' }).success).toBe(true);
  });

  it('refuses a match that names nothing', () => {
    const message = ": match names no targets, sites, kinds or labels, so it would silence everything; use sites: ['*'] if you mean it";
    expect(issues({ ...weekly, match: {} })).toEqual([`match${message}`]);
    expect(issues({ ...weekly, match: { targets: [], sites: [], kinds: [], labels: {} } })).toEqual([`match${message}`]);
    expect(issues({ ...weekly, match: { site: ['hq'] } })[0]).toMatch(/site/);
  });

  it('needs exactly one of start+end and weekly', () => {
    expect(issues({ ...weekly, start: printerSwap.start, end: printerSwap.end })).toEqual([
      'weekly: give either start and end (a one-off window) or weekly (a repeating one), not both',
    ]);
    const { weekly: _weekly, ...neither } = weekly;
    expect(issues(neither)).toEqual([': give start and end (a one-off window) or weekly (a repeating one)']);
    const { end: _end, ...startOnly } = printerSwap;
    expect(issues(startOnly)).toEqual(['end: end is missing: a one-off window needs both start and end']);
    const { start: _start, ...endOnly } = printerSwap;
    expect(issues(endOnly)).toEqual(['start: start is missing: a one-off window needs both start and end']);
  });

  it('needs end after start, comparing instants rather than text', () => {
    expect(issues({ ...printerSwap, end: printerSwap.start })).toEqual([
      'end: end "2026-12-01T20:00:00+01:00" must be after start "2026-12-01T20:00:00+01:00"',
    ]);
    // 20:30+02:00 is 18:30Z, before 19:00Z, although it reads later.
    expect(issues({ ...printerSwap, end: '2026-12-01T20:30:00+02:00' })[0]).toMatch(/^end: end .* must be after start/);
  });

  it('needs instants with a UTC offset', () => {
    expect(issues({ ...printerSwap, start: '2026-12-01T20:00:00' })).toEqual([
      'start: "2026-12-01T20:00:00" has no UTC offset, so it would mean different instants in different places; add one, e.g. "2026-12-01T20:00:00+01:00" or "2026-12-01T20:00:00Z"',
    ]);
    for (const bad of ['2026-12-01', 'tomorrow', '2026-13-01T20:00:00Z', '2026-12-01 20:00:00+01:00']) {
      expect(issues({ ...printerSwap, start: bad })[0]).toMatch(/^start: expected an ISO 8601 time with a UTC offset/);
    }
    expect(issues({ ...printerSwap, start: 1_796_151_600_000 })[0]).toMatch(/^start: expected an ISO 8601 time.*got number/);
  });

  it('checks weekly windows like business hours', () => {
    expect(issues({ ...weekly, weekly: { ...weekly.weekly, timezone: 'Europe/Berlinn' } })[0]).toMatch(
      /^weekly.timezone: unknown time zone "Europe\/Berlinn" \(did you mean "Europe\/Berlin"\?\)/,
    );
    expect(issues({ ...weekly, weekly: { ...weekly.weekly, from: '22:00', to: '02:00' } })[0]).toMatch(
      /^weekly.to: to "02:00" must be after from "22:00": a range cannot pass midnight/,
    );
    expect(issues({ ...weekly, weekly: { ...weekly.weekly, days: ['sunday'] } })[0]).toMatch(/^weekly.days.0: expected a weekday/);
    expect(issues({ ...weekly, weekly: { ...weekly.weekly, every: 'week' } })[0]).toMatch(/every/);
  });

  it('needs a reason', () => {
    const { reason: _reason, ...noReason } = weekly;
    expect(issues(noReason)).toEqual(['reason: reason is required: say why, for the incident timeline']);
    expect(issues({ ...weekly, reason: '' })).toEqual(['reason: reason must not be empty: say why, for the incident timeline']);
  });

  it('rejects duplicate ids in the list, pointing at the second', () => {
    expect(issues([weekly, printerSwap, { ...printerSwap, reason: 'again' }], maintenanceListSchema)).toEqual([
      '2.id: maintenance window id "printer-swap" is used twice; each id must be unique',
    ]);
  });

  it('describes every field for the generated JSON Schema', () => {
    const json = z.toJSONSchema(maintenanceListSchema, { io: 'input', target: 'draft-2020-12' }) as any;
    const entry = json.items;
    const undocumented: string[] = [];
    const walk = (node: any, path: string) => {
      for (const [key, prop] of Object.entries<any>(node.properties ?? {})) {
        if (typeof prop.description !== 'string') undocumented.push(`${path}${key}`);
        walk(prop, `${path}${key}.`);
      }
    };
    walk(entry, '');
    expect(undocumented).toEqual([]);
    expect(Object.keys(entry.properties).sort()).toEqual(['end', 'id', 'match', 'reason', 'start', 'weekly']);
    expect(Object.keys(entry.properties.weekly.properties).sort()).toEqual(['days', 'from', 'timezone', 'to']);
  });
});
