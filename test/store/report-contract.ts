// The report part of the store contract: counts per period in a time zone (exact at period and DST
// boundaries) and handling times, on a fixed set of incidents whose figures are worked out by hand
// below. Each store's test file calls `reportContract(name, makeStore)` with the same harness.
import { describe, expect, it } from 'vitest';
import type { Severity } from '../../src/domain/classification.js';
import { emptyEscalation } from '../../src/domain/incident.js';
import { escalatedInto, foldHandlingTimes, periodBoundaries, zoneOffsets } from '../../src/domain/reports.js';
import { BusinessCalendar } from '../../src/incidents/calendar.js';
import { escalatedByHandMessage } from '../../src/domain/transitions.js';
import type { Tier } from '../../src/domain/classification.js';
import type { IncidentDraft, IncidentStore, OpResult } from '../../src/store/types.js';
import { storeEachTest, type StoreHarness } from './contract.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const BERLIN = 'Europe/Berlin';
const utc = (iso: string) => Date.parse(iso);

interface Fixture {
  fp: string;
  tenant: string;
  category: string;
  severity: Severity;
  /** Opened at (UTC); the comment gives Berlin local time. */
  at: number;
  ackAfter?: number;
  resolveAfter?: number;
  /** SLA due times after opening, as the escalation planned them. */
  ackDue?: number;
  resolveDue?: number;
}

// Berlin: CET (+1) until 2026-03-29 01:00Z, CEST (+2) until 2026-10-25 01:00Z.
const FIXTURES: Fixture[] = [
  // Feb 28 23:59:59.999 CET: February (in UTC too).
  { fp: 'a1', tenant: 'acme', category: 'printer', severity: 'major', at: utc('2026-02-28T22:59:59.999Z') },
  // Mar 1 00:00 CET: March in Berlin, still February in UTC.
  { fp: 'a2', tenant: 'acme', category: 'printer', severity: 'major', at: utc('2026-02-28T23:00:00Z'), ackAfter: 10 * MINUTE, resolveAfter: 60 * MINUTE, ackDue: 15 * MINUTE, resolveDue: 30 * MINUTE },
  // Mar 29 03:30 CEST, just after the clocks went forward.
  { fp: 'a3', tenant: 'acme', category: 'network', severity: 'severe', at: utc('2026-03-29T01:30:00Z'), ackAfter: 2 * MINUTE, resolveAfter: 30 * MINUTE, ackDue: 2 * MINUTE, resolveDue: 30 * MINUTE },
  // Mar 29 23:59 CEST: the last minute of the 23-hour day.
  { fp: 'a4', tenant: 'acme', category: 'printer', severity: 'major', at: utc('2026-03-29T21:59:00Z'), ackAfter: 20 * MINUTE, ackDue: 15 * MINUTE, resolveDue: 5 * 24 * HOUR },
  // Mar 30 00:00 CEST: the next day, and the next ISO week.
  { fp: 'a5', tenant: 'acme', category: 'network', severity: 'major', at: utc('2026-03-29T22:00:00Z'), ackAfter: 40 * MINUTE, resolveAfter: 100 * MINUTE },
  // Mar 31 23:59:59.999 CEST: March.
  { fp: 'g1', tenant: 'globex', category: 'printer', severity: 'minor', at: utc('2026-03-31T21:59:59.999Z'), ackAfter: 5 * MINUTE, ackDue: 10 * MINUTE, resolveDue: 30 * MINUTE },
  // Apr 1 00:00 CEST: April in Berlin, March in UTC.
  { fp: 'g2', tenant: 'globex', category: 'printer', severity: 'minor', at: utc('2026-03-31T22:00:00Z') },
  // Oct 25 23:30 CET: the 25-hour day the clocks went back.
  { fp: 'a6', tenant: 'acme', category: 'network', severity: 'major', at: utc('2026-10-25T22:30:00Z') },
  // Oct 26 00:00 CET.
  { fp: 'g3', tenant: 'globex', category: 'network', severity: 'major', at: utc('2026-10-25T23:00:00Z') },
];

function draft(f: Fixture): IncidentDraft {
  const escalation = {
    ...emptyEscalation(),
    startedAt: f.at,
    ackDueAt: f.ackDue === undefined ? null : f.at + f.ackDue,
    resolveDueAt: f.resolveDue === undefined ? null : f.at + f.resolveDue,
    severity: f.severity,
  };
  return {
    escalation,
    fingerprint: f.fp,
    tenant: f.tenant,
    classification: { category: f.category, severity: f.severity, impact: 'site', tier: 'L1', priority: 'P2' },
    title: `${f.category} down`,
    description: '',
    runbook: '',
    ruleId: 'down',
    source: 'probe',
    target: { id: `t-${f.fp}`, kind: 'device', name: f.fp, site: 'hq', labels: {} },
    check: { name: 'ping', type: 'icmp' },
    labels: {},
    message: 'timeout',
  };
}

function numberOf(r: OpResult | undefined): string {
  if (r?.kind !== 'fail') throw new Error(`expected a fail result, got ${JSON.stringify(r)}`);
  return r.number;
}

/** Counts as { period: { key: count } } for readable expectations. */
async function counts(store: IncidentStore, ...args: Parameters<IncidentStore['countByPeriod']>): Promise<Record<number, Record<string, number>>> {
  const out: Record<number, Record<string, number>> = {};
  for (const r of await store.countByPeriod(...args)) (out[r.period] ??= {})[r.key] = r.count;
  return out;
}

export function reportContract(name: string, makeStore: () => Promise<StoreHarness>): void {
  describe(`IncidentStore reports contract: ${name}`, () => {
    let store: IncidentStore;
    const numbers = new Map<string, string>();

    storeEachTest(makeStore, async (opened) => {
      store = opened.store;
      for (const f of FIXTURES) {
        const number = numberOf((await store.commit([{ kind: 'fail', at: f.at, count: 1, reopenWindowMs: MINUTE, draft: draft(f) }]))[0]);
        numbers.set(f.fp, number);
        if (f.ackAfter !== undefined) await store.acknowledge(number, 'alice', 'on it', f.at + f.ackAfter);
        if (f.resolveAfter !== undefined) await store.resolve(number, 'alice', 'fixed', f.at + f.resolveAfter);
      }
    });

    it('counts incidents per month in the zone: a local midnight decides, not UTC', async () => {
      // Months May 2025 .. April 2026: April is period 11, March 10, February 9.
      const b = periodBoundaries('month', BERLIN, utc('2026-04-15T12:00:00Z'));
      expect(b[9]).toBe(utc('2026-01-31T23:00:00Z'));
      expect(b[10]).toBe(utc('2026-02-28T23:00:00Z'));
      expect(b[11]).toBe(utc('2026-03-31T22:00:00Z'));
      expect(await counts(store, { dimension: 'tenant', boundaries: b })).toEqual({
        9: { acme: 1 },
        10: { acme: 4, globex: 1 },
        11: { globex: 1 },
      });
      expect(await counts(store, { dimension: 'category', boundaries: b })).toEqual({
        9: { printer: 1 },
        10: { network: 2, printer: 3 },
        11: { printer: 1 },
      });
      // The same incidents by UTC months: a2 falls in February, g2 in March.
      const u = periodBoundaries('month', 'UTC', utc('2026-04-15T12:00:00Z'));
      expect(await counts(store, { dimension: 'tenant', boundaries: u })).toEqual({
        9: { acme: 2 },
        10: { acme: 3, globex: 2 },
      });
    });

    it('a day is 23 hours when the clocks go forward and 25 when they go back', async () => {
      const spring = periodBoundaries('day', BERLIN, utc('2026-03-29T12:00:00Z'), 2);
      expect(spring).toEqual([utc('2026-03-27T23:00:00Z'), utc('2026-03-28T23:00:00Z'), utc('2026-03-29T22:00:00Z')]);
      // a3 and a4 on Mar 29; a5 (00:00 on Mar 30) is outside.
      expect(await counts(store, { dimension: 'severity', boundaries: spring })).toEqual({ 1: { major: 1, severe: 1 } });
      const autumn = periodBoundaries('day', BERLIN, utc('2026-10-25T12:00:00Z'), 1);
      expect(autumn[1]! - autumn[0]!).toBe(25 * HOUR);
      expect(await counts(store, { dimension: 'tenant', boundaries: autumn })).toEqual({ 0: { acme: 1 } });
    });

    it('weeks start on Monday in the zone', async () => {
      // Mon Mar 23 00:00 CET .. Mon Mar 30 00:00 CEST: a3 and a4, not a5.
      const b = periodBoundaries('week', BERLIN, utc('2026-03-29T12:00:00Z'), 1);
      expect(b).toEqual([utc('2026-03-22T23:00:00Z'), utc('2026-03-29T22:00:00Z')]);
      expect(await counts(store, { dimension: 'category', boundaries: b })).toEqual({ 0: { network: 1, printer: 1 } });
    });

    it('counts only the tenants asked for; an empty list counts nothing', async () => {
      const b = periodBoundaries('month', BERLIN, utc('2026-04-15T12:00:00Z'));
      expect(await counts(store, { tenants: ['globex'], dimension: 'site', boundaries: b })).toEqual({ 10: { hq: 1 }, 11: { hq: 1 } });
      expect(await store.countByPeriod({ tenants: [], dimension: 'site', boundaries: b })).toEqual([]);
      expect(await store.countByPeriod({ tenants: ['initech'], dimension: 'site', boundaries: b })).toEqual([]);
    });

    it('gives median, p90 and mean time to acknowledge and resolve per group (nearest rank)', async () => {
      const march = { from: utc('2026-02-28T23:00:00Z'), to: utc('2026-03-31T22:00:00Z') };
      const rows = await store.handlingTimes({ groupBy: 'severity', ...march });
      // major acknowledged after 10, 20, 40 min: median the 2nd (20), p90 the 3rd (40), mean 70/3.
      // major resolved after 60, 100 min: median the 1st of 2 (60), p90 the 2nd (100), mean 80.
      // severe: 2 and 30 min; minor (g1): acknowledged after 5 min, never resolved.
      expect(rows).toEqual([
        { key: 'major', measure: 'acknowledge', count: 3, medianMs: 20 * MINUTE, p90Ms: 40 * MINUTE, meanMs: (70 * MINUTE) / 3 },
        { key: 'major', measure: 'resolve', count: 2, medianMs: 60 * MINUTE, p90Ms: 100 * MINUTE, meanMs: 80 * MINUTE },
        { key: 'minor', measure: 'acknowledge', count: 1, medianMs: 5 * MINUTE, p90Ms: 5 * MINUTE, meanMs: 5 * MINUTE },
        { key: 'severe', measure: 'acknowledge', count: 1, medianMs: 2 * MINUTE, p90Ms: 2 * MINUTE, meanMs: 2 * MINUTE },
        { key: 'severe', measure: 'resolve', count: 1, medianMs: 30 * MINUTE, p90Ms: 30 * MINUTE, meanMs: 30 * MINUTE },
      ]);
      const byCategory = await store.handlingTimes({ groupBy: 'category', tenants: ['acme'], ...march });
      // acme network: a3 (2, 30), a5 (40, 100); printer: a2 (10, 60), a4 (20, -).
      expect(byCategory).toEqual([
        { key: 'network', measure: 'acknowledge', count: 2, medianMs: 2 * MINUTE, p90Ms: 40 * MINUTE, meanMs: 21 * MINUTE },
        { key: 'network', measure: 'resolve', count: 2, medianMs: 30 * MINUTE, p90Ms: 100 * MINUTE, meanMs: 65 * MINUTE },
        { key: 'printer', measure: 'acknowledge', count: 2, medianMs: 10 * MINUTE, p90Ms: 20 * MINUTE, meanMs: 15 * MINUTE },
        { key: 'printer', measure: 'resolve', count: 1, medianMs: 60 * MINUTE, p90Ms: 60 * MINUTE, meanMs: 60 * MINUTE },
      ]);
      expect(await store.handlingTimes({ groupBy: 'tier', tenants: [], ...march })).toEqual([]);
    });

    it('SLA compliance: met at or before the due time, breached after it or unmet past it, pending before it', async () => {
      const march = { from: utc('2026-02-28T23:00:00Z'), to: utc('2026-03-31T22:00:00Z'), now: utc('2026-04-01T00:00:00Z') };
      // a2: ack 10 <= 15 met, resolve 60 > 30 breached. a3: 2 <= 2 and 30 <= 30, both met.
      // a4: ack 20 > 15 breached, resolve not done and due Apr 3: pending. a5: no SLA.
      // g1: ack 5 <= 10 met, resolve not done and due 30 min after opening, past at `now`: breached.
      expect(await store.slaCompliance({ groupBy: 'severity', ...march })).toEqual([
        { key: 'major', measure: 'acknowledge', withSla: 2, met: 1, breached: 1, pending: 0 },
        { key: 'major', measure: 'resolve', withSla: 2, met: 0, breached: 1, pending: 1 },
        { key: 'minor', measure: 'acknowledge', withSla: 1, met: 1, breached: 0, pending: 0 },
        { key: 'minor', measure: 'resolve', withSla: 1, met: 0, breached: 1, pending: 0 },
        { key: 'severe', measure: 'acknowledge', withSla: 1, met: 1, breached: 0, pending: 0 },
        { key: 'severe', measure: 'resolve', withSla: 1, met: 1, breached: 0, pending: 0 },
      ]);
      expect(await store.slaCompliance({ groupBy: 'tenant', ...march })).toEqual([
        { key: 'acme', measure: 'acknowledge', withSla: 3, met: 2, breached: 1, pending: 0 },
        { key: 'acme', measure: 'resolve', withSla: 3, met: 1, breached: 1, pending: 1 },
        { key: 'globex', measure: 'acknowledge', withSla: 1, met: 1, breached: 0, pending: 0 },
        { key: 'globex', measure: 'resolve', withSla: 1, met: 0, breached: 1, pending: 0 },
      ]);
      const a2 = FIXTURES.find((f) => f.fp === 'a2')!;
      const a4 = FIXTURES.find((f) => f.fp === 'a4')!;
      const g1 = FIXTURES.find((f) => f.fp === 'g1')!;
      const breaches = [
        { number: numbers.get('a2'), tenant: 'acme', severity: 'major', tier: 'L1', measure: 'resolve', openedAt: a2.at, dueAt: a2.at + 30 * MINUTE, doneAt: a2.at + 60 * MINUTE },
        { number: numbers.get('a4'), tenant: 'acme', severity: 'major', tier: 'L1', measure: 'acknowledge', openedAt: a4.at, dueAt: a4.at + 15 * MINUTE, doneAt: a4.at + 20 * MINUTE },
        { number: numbers.get('g1'), tenant: 'globex', severity: 'minor', tier: 'L1', measure: 'resolve', openedAt: g1.at, dueAt: g1.at + 30 * MINUTE, doneAt: null },
      ];
      expect(await store.slaBreaches(march, 100)).toEqual(breaches);
      expect(await store.slaBreaches(march, 2)).toEqual(breaches.slice(0, 2));
      expect(await store.slaBreaches({ ...march, tenants: ['globex'] }, 100)).toEqual(breaches.slice(2));
      expect(await store.slaBreaches({ ...march, tenants: [] }, 100)).toEqual([]);
      expect(await store.slaCompliance({ groupBy: 'tier', tenants: [], ...march })).toEqual([]);
    });

    it('recurring problems: fingerprints by openings and reopenings, targets by incidents and downtime', async () => {
      const a2 = FIXTURES.find((f) => f.fp === 'a2')!;
      const fx = (fp: string) => FIXTURES.find((f) => f.fp === fp)!;
      // a2 (resolved after 60 min) comes back 2 h after opening: reopened. Resolved at 3 h, it fails
      // again a day later outside the reopen window: a new incident. a4 starts flapping.
      await store.commit([{ kind: 'fail', at: a2.at + 2 * HOUR, count: 1, reopenWindowMs: 24 * HOUR, draft: draft(a2) }]);
      await store.commit([{ kind: 'resolve', at: a2.at + 3 * HOUR, fingerprint: 'a2', actor: 'system', message: 'ok' }]);
      await store.commit([{ kind: 'fail', at: a2.at + 24 * HOUR, count: 1, reopenWindowMs: MINUTE, draft: draft(a2) }]);
      await store.commit([{ kind: 'flapping', at: fx('a4').at + HOUR, fingerprint: 'a4', flapping: true, message: 'flapping' }]);
      const march = { from: utc('2026-02-28T23:00:00Z'), to: utc('2026-03-31T22:00:00Z') };
      expect(await store.topFingerprints(march, 3)).toEqual([
        { fingerprint: 'a2', targetId: 't-a2', openings: 2, reopenings: 1, flapping: 0 },
        { fingerprint: 'a3', targetId: 't-a3', openings: 1, reopenings: 0, flapping: 0 },
        { fingerprint: 'a4', targetId: 't-a4', openings: 1, reopenings: 0, flapping: 1 },
      ]);
      expect((await store.topFingerprints({ ...march, tenants: ['globex'] }, 10)).map((r) => r.fingerprint)).toEqual(['g1']);
      const now = march.to;
      // Downtime: each incident's opening to its (last) resolution, or to now while unresolved.
      expect(await store.topTargets({ ...march, now }, 10)).toEqual([
        { targetId: 't-a2', targetName: 'a2', incidents: 2, downtimeMs: 3 * HOUR + (now - (a2.at + 24 * HOUR)) },
        { targetId: 't-a4', targetName: 'a4', incidents: 1, downtimeMs: now - fx('a4').at },
        { targetId: 't-a5', targetName: 'a5', incidents: 1, downtimeMs: 100 * MINUTE },
        { targetId: 't-a3', targetName: 'a3', incidents: 1, downtimeMs: 30 * MINUTE },
        // g1 opened 1 ms before `now`.
        { targetId: 't-g1', targetName: 'g1', incidents: 1, downtimeMs: 1 },
      ]);
      expect(await store.topTargets({ ...march, now, tenants: [] }, 10)).toEqual([]);
    });

    it('the heatmap places each opening in its local weekday and hour, across the DST change', async () => {
      const march = { from: utc('2026-02-28T23:00:00Z'), to: utc('2026-03-31T22:00:00Z') };
      const offsets = zoneOffsets(BERLIN, march.from, march.to);
      expect(offsets).toEqual([
        { from: march.from, to: utc('2026-03-29T01:00:00Z'), offsetMs: HOUR },
        { from: utc('2026-03-29T01:00:00Z'), to: march.to, offsetMs: 2 * HOUR },
      ]);
      // a2 Sun Mar 1 00:00, a3 Sun Mar 29 03:30, a4 Sun Mar 29 23:59, a5 Mon Mar 30 00:00, g1 Tue Mar 31 23:59 (Monday = 0).
      expect(await store.heatmap({ ...march, offsets })).toEqual([
        { weekday: 0, hour: 0, count: 1 },
        { weekday: 1, hour: 23, count: 1 },
        { weekday: 6, hour: 0, count: 1 },
        { weekday: 6, hour: 3, count: 1 },
        { weekday: 6, hour: 23, count: 1 },
      ]);
      // The same openings in UTC: a2 Sat 23:00, a3 Sun 01:30, a4 Sun 21:59, a5 Sun 22:00, g1 Tue 21:59.
      expect(await store.heatmap({ ...march, offsets: zoneOffsets('UTC', march.from, march.to), tenants: ['acme'] })).toEqual([
        { weekday: 5, hour: 23, count: 1 },
        { weekday: 6, hour: 1, count: 1 },
        { weekday: 6, hour: 21, count: 1 },
        { weekday: 6, hour: 22, count: 1 },
      ]);
    });

    it('the backlog: incidents open at the end of each local day', async () => {
      // Berlin days Mar 28..31. End of Mar 28: a1 (a2 resolved Mar 1). End of Mar 29 (22:00Z): a1,
      // a4 (a3 resolved; a5 opens at 22:00Z, the next day). End of Mar 30: a1, a4 (a5 resolved
      // Mar 29 23:40Z). End of Mar 31: a1, a4, g1 (g2 opens at 22:00Z, April).
      const days = periodBoundaries('day', BERLIN, utc('2026-03-31T12:00:00Z'), 4);
      expect(days[0]).toBe(utc('2026-03-27T23:00:00Z'));
      expect(await store.backlog({ boundaries: days })).toEqual([1, 2, 2, 3]);
      expect(await store.backlog({ boundaries: days, tenants: ['acme'] })).toEqual([1, 2, 2, 2]);
      expect(await store.backlog({ boundaries: days, tenants: [] })).toEqual([0, 0, 0, 0]);
    });
    it('business time: the stamps stream out and fold into handling times over the open hours, skipping a weekend and holidays', async () => {
      // Berlin, Mon-Fri 08:00-18:00, closed on Dec 25 and 26. Dec 24 2026 is a Thursday.
      const calendar = new BusinessCalendar({ id: 'office', timezone: BERLIN, days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '18:00', holidays: ['2026-12-25', '2026-12-26'], sites: ['*'] });
      const add = async (f: Fixture, ackAt: number, resolveAt: number | null) => {
        const number = numberOf((await store.commit([{ kind: 'fail', at: f.at, count: 1, reopenWindowMs: MINUTE, draft: draft(f) }]))[0]);
        await store.acknowledge(number, 'alice', 'on it', ackAt);
        if (resolveAt !== null) await store.resolve(number, 'alice', 'fixed', resolveAt);
      };
      // x1: Thu Dec 24 16:00 CET, acknowledged Mon Dec 28 09:30, resolved Tue Dec 29 10:00.
      // Open time: Thu 16-18 (2 h), Fri holiday, weekend, Mon 08:00-09:30 (1.5 h): 3.5 h to acknowledge;
      // 2 h + Mon 08-18 (10 h) + Tue 08-10 (2 h): 14 h to resolve. In calendar time 89.5 h and 114 h.
      const x1 = { fp: 'x1', tenant: 'acme', category: 'network', severity: 'major' as const, at: utc('2026-12-24T15:00:00Z') };
      await add(x1, utc('2026-12-28T08:30:00Z'), utc('2026-12-29T09:00:00Z'));
      // x2: Sat Dec 26 10:00 (a holiday on a weekend), acknowledged 30 min later: no open time at all.
      const x2 = { fp: 'x2', tenant: 'globex', category: 'network', severity: 'major' as const, at: utc('2026-12-26T09:00:00Z') };
      await add(x2, utc('2026-12-26T09:30:00Z'), null);
      const december = { groupBy: 'severity' as const, from: utc('2026-11-30T23:00:00Z'), to: utc('2026-12-31T23:00:00Z') };

      const stamps = [];
      for await (const st of store.handlingTimeStamps(december)) stamps.push(st);
      expect(stamps).toEqual([
        { key: 'major', tenant: 'acme', severity: 'major', site: 'hq', firstSeen: x1.at, acknowledgedAt: utc('2026-12-28T08:30:00Z'), resolvedAt: utc('2026-12-29T09:00:00Z') },
        { key: 'major', tenant: 'globex', severity: 'major', site: 'hq', firstSeen: x2.at, acknowledgedAt: utc('2026-12-26T09:30:00Z'), resolvedAt: null },
      ]);
      // Acknowledged after 0 and 3.5 h: median the 1st, p90 the 2nd, mean 1.75 h.
      expect(await foldHandlingTimes(store.handlingTimeStamps(december), () => calendar)).toEqual([
        { key: 'major', measure: 'acknowledge', count: 2, medianMs: 0, p90Ms: 3.5 * HOUR, meanMs: 1.75 * HOUR },
        { key: 'major', measure: 'resolve', count: 1, medianMs: 14 * HOUR, p90Ms: 14 * HOUR, meanMs: 14 * HOUR },
      ]);
      // Around the clock the fold gives what the store computes itself.
      const elapsed = { businessTimeBetween: (a: number, b: number) => b - a };
      expect(await foldHandlingTimes(store.handlingTimeStamps(december), () => elapsed)).toEqual(await store.handlingTimes(december));
      expect((await store.handlingTimes(december)).map((r) => [r.measure, r.p90Ms])).toEqual([['acknowledge', 89.5 * HOUR], ['resolve', 114 * HOUR]]);
      // Scoped: only the tenants asked for; none for an empty list.
      const acme = [];
      for await (const st of store.handlingTimeStamps({ ...december, tenants: ['acme'] })) acme.push(st.firstSeen);
      expect(acme).toEqual([x1.at]);
      expect(await foldHandlingTimes(store.handlingTimeStamps({ ...december, tenants: [] }), () => calendar)).toEqual([]);
    });

    /** Writes an `escalated` entry as the sweep, a raised severity or a person does: tier and timeline together. */
    async function escalate(fp: string, at: number, message: string, tier?: Tier): Promise<void> {
      const number = numbers.get(fp)!;
      const inc = (await store.get(number))!;
      await store.revise(number, {
        at,
        expect: { status: inc.status, severity: inc.severity, tier: inc.tier, nextTimerAt: inc.escalation.nextTimerAt },
        set: tier === undefined ? {} : { tier },
        timeline: [{ actor: 'system', action: 'escalated', message }],
        announce: null,
      });
    }

    it('escalations per tier: counted when they happened, in the zone, by the tier they handed over to', async () => {
      const swept = 'not acknowledged within 15m at L1; escalated to L2';
      const byHand = escalatedByHandMessage('L2', 'L3', 'printer fleet down; vendor call');
      const raised = 'severity raised to major; L2 takes over';
      const kept = 'severity raised to major';
      // The stores read the tier as the reference function does.
      expect([swept, byHand, raised, kept].map(escalatedInto)).toEqual(['L2', 'L3', 'L2', null]);
      // a1 (acme): to L2 on Mar 1 00:10 Berlin (still Feb 28 in UTC), to L3 on Apr 1 00:30 Berlin (Mar 31 in UTC).
      await escalate('a1', utc('2026-02-28T23:10:00Z'), swept, 'L2');
      await escalate('a1', utc('2026-03-31T22:30:00Z'), byHand, 'L3');
      // g3 (globex): severity raised, L2 takes over, Oct 26 01:00 CET. a6 (acme): raised, tier kept: not counted.
      await escalate('g3', utc('2026-10-26T00:00:00Z'), raised, 'L2');
      await escalate('a6', utc('2026-10-26T00:30:00Z'), kept);

      const spring = periodBoundaries('month', BERLIN, utc('2026-04-15T12:00:00Z'));
      // Months May 2025 .. April 2026: March is 10, April 11.
      expect(await store.escalations({ boundaries: spring })).toEqual([
        { period: 10, tier: 'L2', count: 1 },
        { period: 11, tier: 'L3', count: 1 },
      ]);
      // In UTC both fall a month earlier: February (9) and March (10).
      expect(await store.escalations({ boundaries: periodBoundaries('month', 'UTC', utc('2026-04-15T12:00:00Z')) })).toEqual([
        { period: 9, tier: 'L2', count: 1 },
        { period: 10, tier: 'L3', count: 1 },
      ]);
      expect(await store.escalations({ boundaries: spring, tenants: ['globex'] })).toEqual([]);
      const autumn = periodBoundaries('month', BERLIN, utc('2026-10-28T12:00:00Z'), 2);
      expect(await store.escalations({ boundaries: autumn })).toEqual([{ period: 1, tier: 'L2', count: 1 }]);
      expect(await store.escalations({ boundaries: autumn, tenants: ['acme'] })).toEqual([]);
      expect(await store.escalations({ boundaries: autumn, tenants: ['globex', 'acme'] })).toEqual([{ period: 1, tier: 'L2', count: 1 }]);
      expect(await store.escalations({ boundaries: spring, tenants: [] })).toEqual([]);
    });

    it('escalations per tier: counted by the tier the entry records, whatever its message says', async () => {
      // The tier travels with the entry, written as the sweep writes it (no move in the same revision).
      const entry = async (fp: string, at: number, message: string, tier?: Tier) => {
        const number = numbers.get(fp)!;
        const inc = (await store.get(number))!;
        await store.revise(number, {
          at,
          expect: { status: inc.status, severity: inc.severity, tier: inc.tier, nextTimerAt: inc.escalation.nextTimerAt },
          set: {},
          timeline: [tier === undefined ? { actor: 'system', action: 'escalated', message } : { actor: 'system', action: 'escalated', message, tier }],
          announce: null,
        });
      };
      // Wording the old parsing knew nothing of, and wording that names another tier than recorded.
      await entry('a1', utc('2026-03-10T10:00:00Z'), 'Eskaliert an das Netzwerkteam', 'L3');
      await entry('g3', utc('2026-11-11T10:00:00Z'), 'not acknowledged within 15m at L1; escalated to L2', 'L3');
      // Wording that names a tier, but the entry records none (the tier stayed): not counted.
      await entry('a6', utc('2026-11-12T10:00:00Z'), 'severity raised to major; L2 takes over');
      // Months March .. November 2026: March is 0, November 8.
      const months = periodBoundaries('month', BERLIN, utc('2026-11-15T12:00:00Z'), 9);
      expect(await store.escalations({ boundaries: months })).toEqual([
        { period: 0, tier: 'L3', count: 1 },
        { period: 8, tier: 'L3', count: 1 },
      ]);
      expect(await store.escalations({ boundaries: months, tenants: ['acme'] })).toEqual([{ period: 0, tier: 'L3', count: 1 }]);
      // The incident's timeline gives the tier back.
      const a1 = (await store.get(numbers.get('a1')!))!;
      expect(a1.timeline.filter((t) => t.action === 'escalated').map((t) => [t.message, t.tier])).toEqual([['Eskaliert an das Netzwerkteam', 'L3']]);
    });
  });
}
