// The tenant part of the store contract: incidents keep their tenant, the list filters by tenant
// (an empty list matches nothing), and countActive counts some tenants only. Each store's test
// file calls `tenantContract(name, makeStore)` next to `storeContract`, with the same harness.
import { describe, expect, it } from 'vitest';
import type { IncidentDraft, IncidentStore, OpResult } from '../../src/store/types.js';
import { storeEachTest, type StoreHarness } from './contract.js';

const T0 = Date.UTC(2026, 0, 1, 8, 0, 0);
const MINUTE = 60_000;

function draft(fp: string, tenant: string | undefined, severity: 'minor' | 'major' = 'major'): IncidentDraft {
  const d: IncidentDraft = {
    fingerprint: fp,
    classification: { category: 'printer', severity, impact: 'site', tier: 'L1', priority: 'P2' },
    title: 'Printer 3F offline',
    description: '',
    runbook: '',
    ruleId: 'printer-down',
    source: 'probe',
    // The same target at two customers: only the tenant tells them apart.
    target: { id: 'printer-3f', kind: 'printer', name: 'Printer 3F', site: 'hq', labels: {} },
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

export function tenantContract(name: string, makeStore: () => Promise<StoreHarness>): void {
  describe(`IncidentStore tenants contract: ${name}`, () => {
    let store: IncidentStore;
    let acme: string;
    let globex: string;
    let own: string;

    storeEachTest(makeStore, async (opened) => {
      store = opened.store;
      const results = await store.commit([
        { kind: 'fail', at: T0, count: 1, reopenWindowMs: MINUTE, draft: draft('fp-acme', 'acme') },
        { kind: 'fail', at: T0 + 1, count: 1, reopenWindowMs: MINUTE, draft: draft('fp-globex', 'globex', 'minor') },
        { kind: 'fail', at: T0 + 2, count: 1, reopenWindowMs: MINUTE, draft: draft('fp-own', undefined) },
      ]);
      [acme, globex, own] = results.map(numberOf) as [string, string, string];
    });

    it('keeps each incident\'s tenant; a draft without one is the default tenant\'s', async () => {
      expect((await store.get(acme))?.tenant).toBe('acme');
      expect((await store.get(globex))?.tenant).toBe('globex');
      expect((await store.get(own))?.tenant).toBe('default');
      const page = await store.list({}, 10);
      expect(page.items.map((i) => [i.number, i.tenant])).toEqual([
        [own, 'default'],
        [globex, 'globex'],
        [acme, 'acme'],
      ]);
    });

    it('lists only the tenants asked for, in every order; an empty list matches nothing', async () => {
      expect((await store.list({ tenant: ['acme'] }, 10)).items.map((i) => i.number)).toEqual([acme]);
      expect((await store.list({ tenant: ['acme', 'default'] }, 10)).items.map((i) => i.number)).toEqual([own, acme]);
      expect((await store.list({ tenant: ['acme', 'globex'] }, 10, null, 'severity')).items.map((i) => i.number)).toEqual([globex, acme]);
      expect((await store.list({ tenant: ['globex'], status: ['open'] }, 10, null, 'opened')).items.map((i) => i.number)).toEqual([globex]);
      expect((await store.list({ tenant: [] }, 10)).items).toEqual([]);
      expect((await store.list({ tenant: ['initech'] }, 10)).items).toEqual([]);
    });

    it('a cursor from one tenant\'s list pages on within the filter it is used with', async () => {
      const first = await store.list({}, 1);
      expect(first.items.map((i) => i.number)).toEqual([own]);
      const next = await store.list({ tenant: ['acme'] }, 10, first.next);
      expect(next.items.map((i) => i.number)).toEqual([acme]);
    });

    it('counts active incidents of some tenants only', async () => {
      expect(await store.countActive()).toEqual({ minor: 1, medium: 0, severe: 0, major: 2 });
      expect(await store.countActive(['acme'])).toEqual({ minor: 0, medium: 0, severe: 0, major: 1 });
      expect(await store.countActive(['globex', 'default'])).toEqual({ minor: 1, medium: 0, severe: 0, major: 1 });
      expect(await store.countActive([])).toEqual({ minor: 0, medium: 0, severe: 0, major: 0 });
    });
  });
}
