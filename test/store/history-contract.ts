// The status page's history part of the store contract: incidentSpans answers the incidents of one
// tenant that were active in a window, worst severity first, and never more than asked for. Each
// store's test file calls `historyContract(name, makeStore)` next to `storeContract`.
import { describe, expect, it } from 'vitest';
import type { Severity } from '../../src/domain/classification.js';
import type { IncidentDraft, IncidentStore, OpResult } from '../../src/store/types.js';
import { storeEachTest, type StoreHarness } from './contract.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 10, 8, 0, 0);

function draft(fp: string, tenant: string | undefined, severity: Severity): IncidentDraft {
  const d: IncidentDraft = {
    fingerprint: fp,
    classification: { category: 'printer', severity, impact: 'site', tier: 'L1', priority: 'P2' },
    title: `Printer ${fp} offline`,
    description: '',
    runbook: '',
    ruleId: 'printer-down',
    source: 'probe',
    target: { id: `printer-${fp}`, kind: 'printer', name: 'Printer', site: 'hq', labels: {} },
    check: { name: 'ping', type: 'icmp' },
    labels: {},
    message: 'timeout',
  };
  if (tenant !== undefined) d.tenant = tenant;
  return d;
}

function numberOf(r: OpResult | undefined): string {
  if (r?.kind !== 'fail') throw new Error(`expected a fail result, got ${JSON.stringify(r)}`);
  return r.number;
}

export function historyContract(name: string, makeStore: () => Promise<StoreHarness>): void {
  describe(`IncidentStore status history contract: ${name}`, () => {
    let store: IncidentStore;

    async function open(fp: string, tenant: string | undefined, severity: Severity, at: number): Promise<string> {
      const [r] = await store.commit([{ kind: 'fail', at, count: 1, reopenWindowMs: 0, draft: draft(fp, tenant, severity) }]);
      return numberOf(r);
    }

    storeEachTest(makeStore, async (opened) => {
      store = opened.store;
      // acme: a minor resolved long before the window, a major resolved inside it, a medium still
      // active, a severe opened after the window; globex and the default tenant: one each.
      await store.resolve(await open('old', 'acme', 'minor', T0 - 30 * DAY), 'ops', 'fixed', T0 - 29 * DAY);
      await store.resolve(await open('outage', 'acme', 'major', T0 - 2 * DAY), 'ops', 'fixed', T0 - 2 * DAY + 3_600_000);
      await open('slow', 'acme', 'medium', T0 - DAY);
      await open('later', 'acme', 'severe', T0 + 5 * DAY);
      await open('other', 'globex', 'major', T0 - DAY);
      await open('own', undefined, 'severe', T0 - DAY);
    });

    it('answers the tenant\'s incidents active in the window, worst first, with when they were active', async () => {
      const spans = await store.incidentSpans('acme', T0 - 10 * DAY, T0 + DAY, 100);
      expect(spans).toEqual([
        { severity: 'major', start: T0 - 2 * DAY, end: T0 - 2 * DAY + 3_600_000 },
        { severity: 'medium', start: T0 - DAY, end: null },
      ]);
    });

    it('counts an incident resolved at the window\'s start, not one opened at its end', async () => {
      expect(await store.incidentSpans('acme', T0 - 29 * DAY, T0 - 28 * DAY, 100)).toEqual([
        { severity: 'minor', start: T0 - 30 * DAY, end: T0 - 29 * DAY },
      ]);
      expect(await store.incidentSpans('acme', T0, T0 + 5 * DAY, 100)).toEqual([{ severity: 'medium', start: T0 - DAY, end: null }]);
    });

    it('reads incidents without a tenant as the default tenant\'s', async () => {
      expect(await store.incidentSpans('default', T0 - 10 * DAY, T0 + DAY, 100)).toEqual([{ severity: 'severe', start: T0 - DAY, end: null }]);
      expect(await store.incidentSpans('nobody', T0 - 10 * DAY, T0 + DAY, 100)).toEqual([]);
    });

    it('never answers more than the limit, keeping the worst', async () => {
      const spans = await store.incidentSpans('acme', T0 - 40 * DAY, T0 + 10 * DAY, 2);
      expect(spans.map((s) => s.severity)).toEqual(['major', 'severe']);
      expect(await store.incidentSpans('acme', T0 - 40 * DAY, T0 + 10 * DAY, 0)).toEqual([]);
    });
  });
}
