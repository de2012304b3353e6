// The reports API over a real SQLite store and HTTP: periods cut in the asked zone, the previous
// period and change beside the current one, tenant scoping (another tenant's figures are empty,
// never a 403), clear 400s, and CSV export.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Principal } from '../../src/domain/principal.js';
import { json, seed, startApi, type Harness } from './harness.js';
import { makeStore } from './store.js';
import { escalationSchema } from '../../src/config-core/schemas.js';
import type { Weekday } from '../../src/incidents/calendar.js';
import { reportCalendars } from '../../src/incidents/report-calendars.js';

const SCOPE_HEADER = 'x-test-scope';
const MINUTE = 60_000;

/** Scopes a request to the tenants named in a header, as the sign-in hook will. */
function testAuthenticator(app: FastifyInstance): void {
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const header = request.headers[SCOPE_HEADER];
    if (typeof header !== 'string') return;
    const principal: Principal = { kind: 'token', id: `scoped-${header}`, name: `scoped-${header}`, roles: ['read'], tenants: { all: false, tenants: header.split(',') } };
    (request as FastifyRequest & { principal?: Principal }).principal = principal;
  });
}

interface CountsJson {
  zone: string;
  current: { start: string; end: string; label: string };
  previous: { label: string };
  periods: { label: string }[];
  totals: { current: number; previous: number; change: number; changePct: number | null; trend: number[] };
  rows: { key: string; current: number; previous: number; change: number; changePct: number | null; trend: number[] }[];
}

const as = (scope: string, accept?: string) => ({ headers: { [SCOPE_HEADER]: scope, ...(accept ? { accept } : {}) } });

describe('reports API', () => {
  let h: Harness;
  let acmeFirst: string;
  let globexFirst: string;

  beforeEach(async () => {
    // Major incidents count business hours (Berlin, Mon-Fri 08:00-18:00); the others run around the clock.
    const office = { id: 'office', timezone: 'Europe/Berlin', days: ['mon', 'tue', 'wed', 'thu', 'fri'] as Weekday[], from: '08:00', to: '18:00', holidays: [], sites: ['*'] };
    const reportCalendar = reportCalendars([office], escalationSchema.parse({ severities: { major: { business_hours: true }, medium: { business_hours: false } } }), new Map());
    h = await startApi(await makeStore(), testAuthenticator, { reportCalendar, reportTenants: () => ['default', 'globex', 'acme', 'initech'] });
    // 2026-03-14 09:30Z: three incidents in March.
    acmeFirst = await seed(h.store, h.clock, { targetId: 'ap-1', tenant: 'acme', category: 'network', severity: 'major' });
    await seed(h.store, h.clock, { targetId: 'printer-1', tenant: 'acme', category: 'printer' });
    globexFirst = await seed(h.store, h.clock, { targetId: 'ap-1', tenant: 'globex', category: 'network' });
    // 2026-03-31 22:30Z: April 1, 00:30 in Berlin, still March in UTC.
    await h.clock.advance(Date.UTC(2026, 2, 31, 22, 30) - h.clock.now());
    await seed(h.store, h.clock, { targetId: 'ap-2', tenant: 'acme', category: 'network' });
  });
  afterEach(async () => {
    await h.close();
  });

  it('counts per month in the zone asked for, with the month before and the change', async () => {
    const r = await json<CountsJson>(await h.call('/api/v1/reports/counts?period=month&by=category&zone=Europe/Berlin&at=2026-04-10'));
    expect(r.zone).toBe('Europe/Berlin');
    expect(r.current).toEqual({ start: '2026-03-31T22:00:00.000Z', end: '2026-04-30T22:00:00.000Z', label: '2026-04' });
    expect(r.previous.label).toBe('2026-03');
    expect(r.periods).toHaveLength(12);
    expect(r.rows.map(({ trend, ...rest }) => ({ ...rest, lastTwo: trend.slice(-2) }))).toEqual([
      { key: 'network', current: 1, previous: 2, change: -1, changePct: -50, lastTwo: [2, 1] },
      { key: 'printer', current: 0, previous: 1, change: -1, changePct: -100, lastTwo: [1, 0] },
    ]);
    expect(r.totals).toMatchObject({ current: 1, previous: 3, change: -2, changePct: -66.7 });
    // In UTC the last incident is March's: April is empty, March has all four.
    const u = await json<CountsJson>(await h.call('/api/v1/reports/counts?by=tenant&zone=UTC&at=2026-04-10'));
    expect(u.rows.map((x) => [x.key, x.current, x.previous, x.changePct])).toEqual([
      ['acme', 0, 3, -100],
      ['globex', 0, 1, -100],
    ]);
  });

  it('a scoped user gets only his tenants\' figures; another tenant\'s are empty, not forbidden', async () => {
    const mine = await json<CountsJson>(await h.call('/api/v1/reports/counts?by=tenant&zone=Europe/Berlin&at=2026-04-10', as('acme')));
    expect(mine.rows.map((x) => [x.key, x.current, x.previous])).toEqual([['acme', 1, 2]]);
    const theirs = await h.call('/api/v1/reports/counts?by=tenant&tenant=globex&zone=Europe/Berlin&at=2026-04-10', as('acme'));
    expect(theirs.status).toBe(200);
    const body = await json<CountsJson>(theirs);
    expect(body.rows).toEqual([]);
    expect(body.totals.trend.every((n) => n === 0)).toBe(true);
    const times = await h.call('/api/v1/reports/handling-times?tenant=globex&at=2026-03-14', as('acme'));
    expect(((await times.json()) as { rows: unknown[] }).rows).toEqual([]);
  });

  it('time to acknowledge and resolve of the period, by severity', async () => {
    const opened = Date.UTC(2026, 2, 14, 9, 30);
    await h.store.acknowledge(acmeFirst, 'alice', 'on it', opened + 7 * MINUTE);
    await h.store.resolve(acmeFirst, 'alice', 'fixed', opened + 45 * MINUTE);
    const r = await json<{ current: { label: string }; rows: unknown[] }>(await h.call('/api/v1/reports/handling-times?by=severity&zone=Europe/Berlin&at=2026-03-14', as('acme')));
    expect(r.current.label).toBe('2026-03');
    expect(r.rows).toEqual([
      { key: 'major', measure: 'acknowledge', count: 1, medianMs: 7 * MINUTE, p90Ms: 7 * MINUTE, meanMs: 7 * MINUTE },
      { key: 'major', measure: 'resolve', count: 1, medianMs: 45 * MINUTE, p90Ms: 45 * MINUTE, meanMs: 45 * MINUTE },
    ]);
  });

  it('SLA compliance and the breaches, judged now, scoped to the caller\'s tenants', async () => {
    const opened = Date.UTC(2026, 2, 14, 9, 30);
    // The escalation sweep records the due times: acknowledge within 5 min, resolve within 60.
    for (const number of [acmeFirst, globexFirst]) {
      const inc = (await h.store.get(number))!;
      const escalation = { ...inc.escalation, startedAt: opened, ackDueAt: opened + 5 * MINUTE, resolveDueAt: opened + 60 * MINUTE, severity: inc.severity };
      const applied = await h.store.applyEscalation(number, {
        at: opened,
        expect: { nextTimerAt: inc.escalation.nextTimerAt, status: inc.status, severity: inc.severity },
        tier: inc.tier,
        escalation,
        timeline: [],
        announce: null,
      });
      expect(applied.applied).toBe(true);
    }
    await h.store.acknowledge(acmeFirst, 'alice', 'on it', opened + 7 * MINUTE);
    await h.store.resolve(acmeFirst, 'alice', 'fixed', opened + 45 * MINUTE);
    // Now (Mar 31) globex's is neither acknowledged nor resolved: both breached.
    const mine = await json<{ rows: unknown[] }>(await h.call('/api/v1/reports/sla?by=tenant&zone=Europe/Berlin&at=2026-03-14', as('acme')));
    expect(mine.rows).toEqual([
      { key: 'acme', measure: 'acknowledge', withSla: 1, met: 0, breached: 1, pending: 0, metPct: 0 },
      { key: 'acme', measure: 'resolve', withSla: 1, met: 1, breached: 0, pending: 0, metPct: 100 },
    ]);
    const all = await json<{ items: { number: string; measure: string; doneAt: string | null }[] }>(await h.call('/api/v1/reports/sla/breaches?zone=Europe/Berlin&at=2026-03-14'));
    expect(all.items.map((b) => [b.number, b.measure, b.doneAt])).toEqual([
      [acmeFirst, 'acknowledge', '2026-03-14T09:37:00.000Z'],
      [globexFirst, 'acknowledge', null],
      [globexFirst, 'resolve', null],
    ]);
    const scoped = await json<{ items: { number: string }[] }>(await h.call('/api/v1/reports/sla/breaches?zone=Europe/Berlin&at=2026-03-14&tenant=globex', as('acme')));
    expect(scoped.items).toEqual([]);
    const csv = await (await h.call('/api/v1/reports/sla/breaches?zone=Europe/Berlin&at=2026-03-14&limit=1&format=csv')).text();
    expect(csv).toBe(`number,tenant,severity,tier,measure,opened_at,due_at,done_at\r\n${acmeFirst},acme,major,L1,acknowledge,2026-03-14T09:30:00.000Z,2026-03-14T09:35:00.000Z,2026-03-14T09:37:00.000Z\r\n`);
    expect((await h.call('/api/v1/reports/sla/breaches?limit=0')).status).toBe(400);
  });

  it('recurring problems and the heatmap, scoped, with CSV', async () => {
    const fps = await json<{ rows: { targetId: string; openings: number }[] }>(await h.call('/api/v1/reports/fingerprints?zone=Europe/Berlin&at=2026-03-14&limit=5', as('acme')));
    // Ties are ordered by fingerprint (a hash): compare as a set.
    expect(fps.rows.map((r) => [r.targetId, r.openings]).sort()).toEqual([['ap-1', 1], ['printer-1', 1]]);
    const targets = await json<{ rows: { targetId: string; incidents: number; downtimeMs: number }[] }>(await h.call('/api/v1/reports/targets?zone=Europe/Berlin&at=2026-03-14&tenant=globex'));
    // Unresolved since Mar 14 09:30 (seeded at the clock's start), judged now (Mar 31 22:30).
    expect(targets.rows).toEqual([{ targetId: 'ap-1', targetName: 'AP ap-1', incidents: 1, downtimeMs: Date.UTC(2026, 2, 31, 22, 30) - Date.UTC(2026, 2, 14, 9, 30) }]);
    // Mar 14 2026 was a Saturday; 09:30Z is 10:30 in Berlin.
    const heat = await json<{ hours: number[][] }>(await h.call('/api/v1/reports/heatmap?zone=Europe/Berlin&at=2026-03-14'));
    expect(heat.hours).toHaveLength(7);
    expect(heat.hours[5]![10]).toBe(3);
    expect(heat.hours.flat().reduce((a, b) => a + b, 0)).toBe(3);
    const csv = (await (await h.call('/api/v1/reports/heatmap?zone=Europe/Berlin&at=2026-03-14&format=csv', as('globex'))).text()).split('\r\n');
    expect(csv[6]).toBe(`sat,${[...new Array<number>(10).fill(0), 1, ...new Array<number>(13).fill(0)].join(',')}`);
    expect((await h.call('/api/v1/reports/targets?limit=101')).status).toBe(400);
  });

  it('the backlog: open at the end of each local day of the period', async () => {
    // March in Berlin: 31 days. Three incidents open from Mar 14 on; the fourth opens on Apr 1 local.
    const r = await json<{ rows: { day: string; endsAt: string; open: number }[] }>(await h.call('/api/v1/reports/backlog?zone=Europe/Berlin&at=2026-03-20'));
    expect(r.rows).toHaveLength(31);
    expect(r.rows[12]).toEqual({ day: '2026-03-13', endsAt: '2026-03-13T23:00:00.000Z', open: 0 });
    expect(r.rows[13]).toEqual({ day: '2026-03-14', endsAt: '2026-03-14T23:00:00.000Z', open: 3 });
    // Mar 29 is 23 hours long.
    expect(r.rows[28]).toEqual({ day: '2026-03-29', endsAt: '2026-03-29T22:00:00.000Z', open: 3 });
    expect(r.rows[30]).toEqual({ day: '2026-03-31', endsAt: '2026-03-31T22:00:00.000Z', open: 3 });
    const mine = await json<{ rows: { open: number }[] }>(await h.call('/api/v1/reports/backlog?zone=Europe/Berlin&at=2026-03-20', as('globex')));
    expect(mine.rows[30]?.open).toBe(1);
  });

  it('lists the tenants a report can be asked for: all configured for the staff, only his own for a scoped caller', async () => {
    expect(await json<{ tenants: string[] }>(await h.call('/api/v1/reports/tenants'))).toEqual({ tenants: ['acme', 'default', 'globex', 'initech'] });
    expect(await json<{ tenants: string[] }>(await h.call('/api/v1/reports/tenants', as('globex')))).toEqual({ tenants: ['globex'] });
    expect(await json<{ tenants: string[] }>(await h.call('/api/v1/reports/tenants', as('initech,acme')))).toEqual({ tenants: ['acme', 'initech'] });
  });

  it('the backlog stops at today in the zone: no days after the clock', async () => {
    // The clock is at Apr 1 00:30 in Berlin (still Mar 31 in UTC): April has one day so far.
    const april = await json<{ rows: { day: string; endsAt: string; open: number }[] }>(await h.call('/api/v1/reports/backlog?zone=Europe/Berlin&at=2026-04-10'));
    expect(april.rows).toEqual([{ day: '2026-04-01', endsAt: '2026-04-01T22:00:00.000Z', open: 4 }]);
    // In UTC it is still March 31: April has not begun, so it has no days at all.
    const utc = await json<{ rows: unknown[] }>(await h.call('/api/v1/reports/backlog?zone=UTC&at=2026-04-10'));
    expect(utc.rows).toEqual([]);
    // A later month is empty too; the days before today stay whole.
    expect((await json<{ rows: unknown[] }>(await h.call('/api/v1/reports/backlog?zone=Europe/Berlin&at=2026-05-10'))).rows).toEqual([]);
  });

  it('escalations per tier: counted in the month they happened, scoped to the tenant, as CSV too', async () => {
    // acmeFirst to L2 on Mar 31 23:30 Berlin (March), then by hand to L3 on Apr 1 00:40 Berlin (March in UTC).
    const escalate = async (number: string, at: number, message: string, tier: 'L2' | 'L3') => {
      const inc = (await h.store.get(number))!;
      await h.store.revise(number, { at, expect: { status: inc.status, severity: inc.severity, tier: inc.tier, nextTimerAt: inc.escalation.nextTimerAt }, set: { tier }, timeline: [{ actor: 'system', action: 'escalated', message }], announce: null });
    };
    await escalate(acmeFirst, Date.UTC(2026, 2, 31, 21, 30), 'not acknowledged within 15m at L1; escalated to L2', 'L2');
    await escalate(acmeFirst, Date.UTC(2026, 2, 31, 22, 40), 'escalated by hand from L2 to L3: vendor needed', 'L3');
    await escalate(globexFirst, Date.UTC(2026, 2, 20, 8, 0), 'severity raised to major; L3 takes over', 'L3');
    type EscJson = { current: { label: string }; rows: { tier: string; current: number; previous: number; change: number; changePct: number | null; trend: number[] }[] };
    const berlin = await json<EscJson>(await h.call('/api/v1/reports/escalations?zone=Europe/Berlin&at=2026-04-10'));
    expect(berlin.current.label).toBe('2026-04');
    expect(berlin.rows.map(({ trend, ...r }) => ({ ...r, lastTwo: trend.slice(-2) }))).toEqual([
      { tier: 'L2', current: 0, previous: 1, change: -1, changePct: -100, lastTwo: [1, 0] },
      { tier: 'L3', current: 1, previous: 1, change: 0, changePct: 0, lastTwo: [1, 1] },
    ]);
    const utcMarch = await json<EscJson>(await h.call('/api/v1/reports/escalations?zone=UTC&at=2026-03-10'));
    expect(utcMarch.rows.map((r) => [r.tier, r.current])).toEqual([['L2', 1], ['L3', 2]]);
    // globex sees its one escalation only; asking for acme's gives nothing.
    const mine = await json<EscJson>(await h.call('/api/v1/reports/escalations?zone=UTC&at=2026-03-10', as('globex')));
    expect(mine.rows.map((r) => [r.tier, r.current])).toEqual([['L2', 0], ['L3', 1]]);
    const other = await json<EscJson>(await h.call('/api/v1/reports/escalations?zone=UTC&at=2026-03-10&tenant=acme', as('globex')));
    expect(other.rows.map((r) => r.current)).toEqual([0, 0]);
    const csv = await h.call('/api/v1/reports/escalations?zone=UTC&at=2026-03-10&format=csv');
    expect(csv.headers.get('content-disposition')).toBe('attachment; filename="escalations-2026-03.csv"');
    const lines = (await csv.text()).trimEnd().split('\r\n');
    expect(lines[0]).toBe('tier,current,previous,change,change_pct,2025-04,2025-05,2025-06,2025-07,2025-08,2025-09,2025-10,2025-11,2025-12,2026-01,2026-02,2026-03');
    expect(lines.slice(1)).toEqual(['L2,1,0,1,,0,0,0,0,0,0,0,0,0,0,0,1', 'L3,2,0,2,,0,0,0,0,0,0,0,0,0,0,0,2']);
  });

  it('handling times in business time: the open hours of the calendar the SLA clock of each incident runs on', async () => {
    // Both opened Sat Mar 14 10:30 Berlin, acknowledged Mon Mar 16 09:30 (08:30Z): 47 h elapsed. The
    // major one counts business hours: none at the weekend, Mon 08:00-09:30, 1.5 h. The medium one does not.
    await h.store.acknowledge(acmeFirst, 'alice', 'on it', Date.UTC(2026, 2, 16, 8, 30));
    await h.store.acknowledge(globexFirst, 'bob', 'on it', Date.UTC(2026, 2, 16, 8, 30));
    type Rows = { time: string; rows: { key: string; measure: string; count: number; medianMs: number }[] };
    const business = await json<Rows>(await h.call('/api/v1/reports/handling-times?zone=Europe/Berlin&at=2026-03-20&time=business'));
    expect(business.time).toBe('business');
    expect(business.rows.map((r) => [r.key, r.measure, r.count, r.medianMs])).toEqual([
      ['major', 'acknowledge', 1, 90 * MINUTE],
      ['medium', 'acknowledge', 1, 47 * 60 * MINUTE],
    ]);
    const calendar = await json<Rows>(await h.call('/api/v1/reports/handling-times?zone=Europe/Berlin&at=2026-03-20'));
    expect(calendar.rows.map((r) => [r.key, r.medianMs])).toEqual([['major', 47 * 60 * MINUTE], ['medium', 47 * 60 * MINUTE]]);
    // Scoped like the rest: globex sees its medium incident only.
    const mine = await json<Rows>(await h.call('/api/v1/reports/handling-times?zone=Europe/Berlin&at=2026-03-20&time=business', as('globex')));
    expect(mine.rows.map((r) => r.key)).toEqual(['medium']);
    const csv = await h.call('/api/v1/reports/handling-times?zone=Europe/Berlin&at=2026-03-20&time=business&format=csv');
    expect(csv.headers.get('content-disposition')).toBe('attachment; filename="handling-times-business-by-severity-2026-03.csv"');
    expect((await csv.text()).split('\r\n')[1]).toBe(`major,acknowledge,1,${90 * MINUTE},${90 * MINUTE},${90 * MINUTE}`);
    expect((await h.call('/api/v1/reports/handling-times?time=office')).status).toBe(400);
  });

  it('exports each table as CSV, by ?format=csv or Accept: text/csv', async () => {
    const res = await h.call('/api/v1/reports/counts?by=category&zone=Europe/Berlin&at=2026-04-10&format=csv');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="incidents-by-category-2026-04.csv"');
    const lines = (await res.text()).trimEnd().split('\r\n');
    expect(lines[0]).toBe('category,current,previous,change,change_pct,2025-05,2025-06,2025-07,2025-08,2025-09,2025-10,2025-11,2025-12,2026-01,2026-02,2026-03,2026-04');
    expect(lines.slice(1)).toEqual(['network,1,2,-1,-50,0,0,0,0,0,0,0,0,0,0,2,1', 'printer,0,1,-1,-100,0,0,0,0,0,0,0,0,0,0,1,0']);
    const byAccept = await h.call('/api/v1/reports/handling-times?at=2026-03-14', { headers: { accept: 'text/csv' } });
    expect(byAccept.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect((await byAccept.text()).split('\r\n')[0]).toBe('severity,measure,count,median_ms,p90_ms,mean_ms');
  });

  it('answers 400 naming the parameter and what it takes', async () => {
    const bad = async (query: string) => {
      const res = await h.call(`/api/v1/reports/counts?${query}`);
      expect(res.status, query).toBe(400);
      return ((await res.json()) as { issues: { field: string; message: string }[] }).issues;
    };
    expect(await bad('by=colour')).toEqual([{ field: 'by', message: 'must be one of category, severity, impact, priority, site, target, source, tenant' }]);
    expect((await bad('zone=Mars/Olympus'))[0]?.field).toBe('zone');
    expect((await bad('period=year'))[0]).toEqual({ field: 'period', message: 'must be one of day, week, month' });
    expect((await bad('at=last-tuesday'))[0]?.message).toContain('expected a date like 2026-03-15');
    expect((await bad('colour=red'))[0]?.message).toBe('unknown parameter colour; allowed: period, at, zone, tenant, format, by');
  });
});
