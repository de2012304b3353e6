// The problem-report part of the store contract (ProblemReportStore): a report stored with the
// incident it opened or joined, in one transaction; "my reports" per reporter, newest first and
// paged; the report's status is its incident's. Each store's test file calls
// `problemReportContract(name, makeStore)` with the same harness.
import { describe, expect, it } from 'vitest';
import type { ProblemReport } from '../../src/domain/problem-report.js';
import { IncidentNotFoundError, InvalidCursorError } from '../../src/shared/errors.js';
import type { IncidentDraft, IncidentStore, ReportFiling } from '../../src/store/types.js';
import { storeEachTest, type StoreHarness } from './contract.js';

const T0 = Date.UTC(2026, 2, 2, 9, 0, 0);
const MINUTE = 60_000;

function draft(fp: string, tenant: string): IncidentDraft {
  return {
    fingerprint: fp,
    tenant,
    classification: { category: 'printer', severity: 'minor', impact: 'single-user', tier: 'L1', priority: 'P3' },
    title: 'Printing at HQ: problem reported',
    description: 'the printer jams',
    runbook: '',
    ruleId: 'reports',
    source: 'report',
    target: { id: 'report:printer@hq', kind: 'report-printer', name: 'Printing at HQ', site: 'hq', labels: {} },
    check: { name: 'report.printer', type: 'report' },
    labels: {},
    message: 'the printer jams',
  };
}

async function openIncident(store: IncidentStore, fp: string, tenant: string, at: number): Promise<string> {
  const [r] = await store.commit([{ kind: 'fail', at, count: 1, reopenWindowMs: MINUTE, draft: draft(fp, tenant) }]);
  if (r?.kind !== 'fail') throw new Error(`expected a fail result, got ${JSON.stringify(r)}`);
  return r.number;
}

let seq = 0;
function report(o: Partial<ProblemReport> & Pick<ProblemReport, 'reporterId' | 'createdAt'>): ProblemReport {
  seq++;
  return {
    id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    tenant: 'acme',
    reporterName: `Person ${o.reporterId}`,
    category: 'printer',
    description: `report ${seq}: the printer on 3F jams`,
    site: 'hq',
    room: '3.14',
    target: null,
    affected: 'me',
    since: o.createdAt - 30 * MINUTE,
    contact: null,
    incident: null,
    ...o,
  };
}

function filing(r: ProblemReport, over: Partial<ReportFiling> = {}): ReportFiling {
  return {
    report: r,
    entry: r.incident === null ? null : { at: r.createdAt, actor: r.reporterName, action: 'reported', message: `reported by ${r.reporterName}: ${r.description}` },
    subscriber: null,
    maxSubscribers: 50,
    receipt: null,
    ...over,
  };
}

/** Every page of a reporter's reports, following the cursors. */
async function allReports(store: IncidentStore, reporterId: string, size: number): Promise<ProblemReport[]> {
  const out: ProblemReport[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 100; pages++) {
    const page = await store.listProblemReports(reporterId, size, cursor);
    out.push(...page.items);
    if (page.next === null) return out;
    cursor = page.next;
  }
  throw new Error('paging did not end');
}

export function problemReportContract(name: string, makeStore: () => Promise<StoreHarness>): void {
  describe(`IncidentStore problem reports contract: ${name}`, () => {
    let h: StoreHarness;
    let store: IncidentStore;

    storeEachTest(makeStore, (opened) => {
      h = opened;
      store = opened.store;
    });

    it('stores a report that opened no incident as filed, every field', async () => {
      const r = report({ reporterId: 'u-jane', createdAt: T0, contact: '+49 30 1234', target: 'printer-3f', since: null, affected: 'several' });
      expect(await store.fileProblemReport(filing(r))).toEqual({ reporters: 0 });
      expect(await store.getProblemReport(r.id)).toEqual(r);
      expect(await store.getProblemReport('00000000-0000-4000-8000-999999999999')).toBeNull();
    });

    it('links a report to its incident: timeline entry, subscriber and reporter count written with it', async () => {
      const number = await openIncident(store, 'fp-printer', 'acme', T0);
      const jane = report({ reporterId: 'u-jane', createdAt: T0 + MINUTE, incident: number });
      expect(await store.fileProblemReport(filing(jane, { subscriber: 'jane@example.org' }))).toEqual({ reporters: 1 });
      // The same person again is still one reporter; another person makes two.
      const jane2 = report({ reporterId: 'u-jane', createdAt: T0 + 2 * MINUTE, incident: number });
      expect(await store.fileProblemReport(filing(jane2, { subscriber: 'jane@example.org' }))).toEqual({ reporters: 1 });
      const max = report({ reporterId: 'u-max', createdAt: T0 + 3 * MINUTE, incident: number, affected: 'site' });
      expect(await store.fileProblemReport(filing(max, { subscriber: 'max@example.org' }))).toEqual({ reporters: 2 });

      expect((await store.getProblemReport(max.id))?.incident).toBe(number);
      const inc = await store.get(number);
      expect(inc?.subscribers).toEqual(['jane@example.org', 'max@example.org']);
      expect(inc?.timeline.filter((t) => t.action === 'reported').map((t) => [t.at, t.actor])).toEqual([
        [T0 + MINUTE, 'Person u-jane'],
        [T0 + 2 * MINUTE, 'Person u-jane'],
        [T0 + 3 * MINUTE, 'Person u-max'],
      ]);
      expect(await store.countReporters([number, number, 'INC-999999'])).toEqual(new Map([[number, 2]]));
    });

    it('keeps the report but not the person when the subscriber list is full', async () => {
      const number = await openIncident(store, 'fp-printer', 'acme', T0);
      const a = report({ reporterId: 'u-a', createdAt: T0 + 1, incident: number });
      await store.fileProblemReport(filing(a, { subscriber: 'a@example.org', maxSubscribers: 1 }));
      const b = report({ reporterId: 'u-b', createdAt: T0 + 2, incident: number });
      expect(await store.fileProblemReport(filing(b, { subscriber: 'b@example.org', maxSubscribers: 1 }))).toEqual({ reporters: 2 });
      expect(await store.getProblemReport(b.id)).toEqual(b);
      expect((await store.get(number))?.subscribers).toEqual(['a@example.org']);
    });

    it('stores nothing for an incident that does not exist', async () => {
      const r = report({ reporterId: 'u-jane', createdAt: T0, incident: 'INC-004711' });
      await expect(store.fileProblemReport(filing(r, { subscriber: 'jane@example.org' }))).rejects.toBeInstanceOf(IncidentNotFoundError);
      expect(await store.getProblemReport(r.id)).toBeNull();
      expect((await store.listProblemReports('u-jane', 10)).items).toEqual([]);
    });

    it('stores a report filed twice (a retry whose answer was lost) once', async () => {
      const number = await openIncident(store, 'fp-printer', 'acme', T0);
      const r = report({ reporterId: 'u-jane', createdAt: T0 + MINUTE, incident: number });
      expect(await store.fileProblemReport(filing(r, { subscriber: 'jane@example.org' }))).toEqual({ reporters: 1 });
      expect(await store.fileProblemReport(filing(r, { subscriber: 'jane@example.org' }))).toEqual({ reporters: 1 });
      expect((await store.listProblemReports('u-jane', 10)).items).toEqual([r]);
      expect((await store.get(number))?.timeline.filter((t) => t.action === 'reported')).toHaveLength(1);
    });

    it('writes the receipt to the outbox with the report', async () => {
      const number = await openIncident(store, 'fp-printer', 'acme', T0);
      const r = report({ reporterId: 'u-jane', createdAt: T0 + MINUTE, incident: number });
      const event = { id: `${number}:incident.commented:${r.createdAt}`, type: 'incident.commented' as const, at: r.createdAt, number, message: 'receipt' };
      await store.fileProblemReport(filing(r, { subscriber: 'jane@example.org', receipt: { event, channels: ['mail'] } }));
      const claimed = await store.claimDeliveries(T0 + 2 * MINUTE, 10, MINUTE, 'me');
      expect(claimed.map((d) => [d.eventId, d.channelId, d.event.number])).toEqual([[event.id, 'mail', number]]);
    });

    it("lists only the reporter's own reports, newest first (ties by id descending), page by page", async () => {
      const mine: ProblemReport[] = [];
      for (let i = 0; i < 7; i++) {
        // Two pairs share a time: the id decides their order.
        const at = T0 + Math.floor(i / 2) * MINUTE;
        const r = report({ reporterId: 'u-jane', createdAt: at });
        mine.push(r);
        await store.fileProblemReport(filing(r));
        await store.fileProblemReport(filing(report({ reporterId: 'u-max', createdAt: at + 1 })));
      }
      const expected = [...mine].sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1));
      expect((await store.listProblemReports('u-jane', 50)).items).toEqual(expected);
      const paged = await allReports(store, 'u-jane', 3);
      expect(paged).toEqual(expected);
      const first = await store.listProblemReports('u-jane', 3);
      expect(first.items).toHaveLength(3);
      expect(first.next).not.toBeNull();
      expect((await store.listProblemReports('u-nobody', 10)).items).toEqual([]);
      await expect(store.listProblemReports('u-jane', 3, 'not-a-cursor')).rejects.toBeInstanceOf(InvalidCursorError);
    });

    it("keeps tenants apart: each report carries its tenant and reporter, one tenant's incident is not another's", async () => {
      const acmeInc = await openIncident(store, 'fp-acme', 'acme', T0);
      const globexInc = await openIncident(store, 'fp-globex', 'globex', T0);
      const a = report({ reporterId: 'u-acme-1', tenant: 'acme', createdAt: T0 + 1, incident: acmeInc });
      const g = report({ reporterId: 'u-globex-1', tenant: 'globex', createdAt: T0 + 2, incident: globexInc });
      await store.fileProblemReport(filing(a));
      await store.fileProblemReport(filing(g));
      // The service shows a report only to its reporter (ProblemReports.get): what it checks is stored.
      expect(await store.getProblemReport(a.id)).toMatchObject({ tenant: 'acme', reporterId: 'u-acme-1', incident: acmeInc });
      expect(await store.getProblemReport(g.id)).toMatchObject({ tenant: 'globex', reporterId: 'u-globex-1', incident: globexInc });
      expect((await store.listProblemReports('u-acme-1', 10)).items.map((r) => r.id)).toEqual([a.id]);
      expect((await store.listProblemReports('u-globex-1', 10)).items.map((r) => r.id)).toEqual([g.id]);
      expect(await store.countReporters([acmeInc, globexInc])).toEqual(new Map([[acmeInc, 1], [globexInc, 1]]));
      expect((await store.get(acmeInc))?.timeline.filter((t) => t.action === 'reported').map((t) => t.actor)).toEqual([a.reporterName]);
    });

    it("follows its incident's status: acknowledged, resolved, and kept across a restart", async () => {
      const number = await openIncident(store, 'fp-printer', 'acme', T0);
      const r = report({ reporterId: 'u-jane', createdAt: T0 + MINUTE, incident: number });
      await store.fileProblemReport(filing(r));
      const statusOf = async (s: IncidentStore) => {
        const got = await s.getProblemReport(r.id);
        return got?.incident == null ? null : (await s.get(got.incident))?.status;
      };
      expect(await statusOf(store)).toBe('open');
      await store.acknowledge(number, 'alice', 'on it', T0 + 2 * MINUTE);
      expect(await statusOf(store)).toBe('acknowledged');
      await store.resolve(number, 'alice', 'paper path cleared', T0 + 3 * MINUTE);
      expect(await statusOf(store)).toBe('resolved');
      await store.close();
      const again = await h.reopen();
      expect(await again.getProblemReport(r.id)).toEqual(r);
      expect(await statusOf(again)).toBe('resolved');
      expect(await again.countReporters([number])).toEqual(new Map([[number, 1]]));
    });
  });
}
