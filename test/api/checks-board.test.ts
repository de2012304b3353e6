// GET /api/v1/checks as the checks board reads it: each check's tenant, site and kind, whether its
// target is in maintenance or the check silenced, and with include=history its last results;
// a request scoped to one tenant sees none of another's, histories included.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Principal, TenantScope } from '../../src/domain/principal.js';
import type { TargetRef } from '../../src/domain/signal.js';
import { compileSilence, silencedBy, type Silence } from '../../src/domain/silence.js';
import { MaintenanceWindows } from '../../src/incidents/maintenance.js';
import { CheckStatusTable } from '../../src/scheduler/check-status.js';
import { FakeClock } from '../../src/shared/clock.js';
import { json, startApi, type Harness } from './harness.js';
import { makeStore } from './store.js';

const SCOPE_HEADER = 'x-test-scope';

function testAuthenticator(app: FastifyInstance): void {
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const header = request.headers[SCOPE_HEADER];
    if (typeof header !== 'string') return;
    const tenants: TenantScope = header === 'all' ? { all: true } : { all: false, tenants: header.split(',').filter((t) => t !== '') };
    const principal: Principal = { kind: 'token', id: `scoped-${header}`, name: `scoped-${header}`, roles: ['read'], tenants };
    (request as FastifyRequest & { principal?: Principal }).principal = principal;
  });
}

interface BoardJson {
  items: {
    id: string;
    tenant: string;
    target: { id: string; site?: string; kind?: string };
    state: string;
    maintenance?: { id: string; reason: string; until: string } | null;
    silenced?: { ids: string[]; until: string } | null;
    history?: { at: number[]; latencyMs: (number | null)[]; outcome: string[] };
  }[];
  counts: Record<string, number>;
}

const NOW = Date.UTC(2026, 2, 14, 9, 30);
const target = (id: string, site: string, tenant: string, kind = 'server'): TargetRef => ({ id, kind, name: id, site, labels: {}, dependsOn: [], tenant });

describe('the checks list for the checks board', () => {
  let h: Harness;
  let clock: FakeClock;
  let checks: CheckStatusTable;
  const targets = new Map<string, TargetRef>([
    ['web-acme', target('web-acme', 'Berlin', 'acme')],
    ['printer-acme', target('printer-acme', 'Hamburg', 'acme', 'printer')],
    ['web-globex', target('web-globex', 'Springfield', 'globex')],
  ]);
  const maintenance = new MaintenanceWindows([
    { id: 'toner-swap', reason: 'new toner', start: '2026-03-14T09:00:00Z', end: '2026-03-14T11:00:00Z', match: { targets: ['printer-*'], sites: [], kinds: [], labels: {} } },
  ]);
  const silence: Silence = {
    id: 'b3f0c8a2-0000-4000-8000-000000000001',
    tenant: 'acme',
    matchers: [{ name: 'target', op: '=', value: 'web-acme' }],
    startsAt: NOW - 3_600_000,
    endsAt: NOW + 3_600_000,
    createdBy: 'anna',
    comment: 'moving racks',
    createdAt: NOW - 3_600_000,
    updatedAt: NOW - 3_600_000,
  };
  // The same silence written for globex must not touch acme's web-acme, nor the reverse.
  const silences = [compileSilence(silence), compileSilence({ ...silence, id: 'b3f0c8a2-0000-4000-8000-000000000002', tenant: 'globex', matchers: [{ name: 'target', op: '=', value: 'printer-acme' }] })];

  const as = (scope: string) => ({ headers: { [SCOPE_HEADER]: scope } });

  beforeEach(async () => {
    clock = new FakeClock(NOW - 120_000);
    checks = new CheckStatusTable({ clock });
    checks.setChecks([
      { targetId: 'web-acme', targetName: 'web-acme', checkName: 'tcp:443', kind: 'tcp', tenant: 'acme' },
      { targetId: 'printer-acme', targetName: 'printer-acme', checkName: 'ping', kind: 'icmp', tenant: 'acme' },
      { targetId: 'web-globex', targetName: 'web-globex', checkName: 'tcp:443', kind: 'tcp', tenant: 'globex' },
    ]);
    for (const latencyMs of [4, 6, 5]) {
      await clock.advance(30_000);
      checks.record('web-acme', 'tcp:443', { status: 'ok', message: 'open', latencyMs, values: {} });
      checks.record('web-globex', 'tcp:443', { status: 'ok', message: 'open', latencyMs: 99, values: {} });
    }
    await clock.advance(30_000);
    checks.record('web-acme', 'tcp:443', { status: 'fail', message: 'connection refused', latencyMs: 1, values: {} });
    h = await startApi(await makeStore(), testAuthenticator, {
      checks,
      checkContext: { targets: () => targets, maintenance: (t, at) => maintenance.active(t, at), silenced: (s, at) => silencedBy(silences, s, at), clock },
    });
  });
  afterEach(async () => {
    await h.close();
  });

  it('names each check\'s tenant, site and kind, its maintenance window and its silences', async () => {
    const body = await json<BoardJson>(await h.call('/api/v1/checks', as('acme')));
    const byId = new Map(body.items.map((i) => [i.id, i]));
    expect([...byId.keys()]).toEqual(['printer-acme/ping', 'web-acme/tcp:443']);
    expect(byId.get('web-acme/tcp:443')).toMatchObject({
      tenant: 'acme',
      state: 'down',
      target: { id: 'web-acme', site: 'Berlin', kind: 'server' },
      maintenance: null,
      silenced: { ids: [silence.id], until: new Date(NOW + 3_600_000).toISOString() },
    });
    expect(byId.get('printer-acme/ping')).toMatchObject({
      target: { site: 'Hamburg', kind: 'printer' },
      maintenance: { id: 'toner-swap', reason: 'new toner', until: '2026-03-14T11:00:00.000Z' },
      // globex's silence names printer-acme, but a silence holds back its own tenant's checks only.
      silenced: null,
    });
    // Without include=history the list stays as small as before.
    expect(byId.get('web-acme/tcp:443')!.history).toBeUndefined();
  });

  it('include=history adds the last results, oldest first', async () => {
    const body = await json<BoardJson>(await h.call('/api/v1/checks?include=history&target=web-acme', as('acme')));
    expect(body.items).toHaveLength(1);
    const history = body.items[0]!.history!;
    expect(history.latencyMs).toEqual([4, 6, 5, 1]);
    expect(history.outcome).toEqual(['ok', 'ok', 'ok', 'fail']);
    expect(history.at).toEqual([NOW - 90_000, NOW - 60_000, NOW - 30_000, NOW]);
    // A check that has not run has an empty history, not none.
    const printer = await json<BoardJson>(await h.call('/api/v1/checks?include=history&target=printer-acme', as('acme')));
    expect(printer.items[0]!.history).toEqual({ at: [], latencyMs: [], outcome: [] });
  });

  it('a request of one tenant gets no other tenant\'s check or history, even by naming its target', async () => {
    const foreign = await json<BoardJson>(await h.call('/api/v1/checks?include=history&target=web-globex', as('acme')));
    expect(foreign.items).toEqual([]);
    const all = await json<BoardJson>(await h.call('/api/v1/checks?include=history', as('acme')));
    expect(all.items.map((i) => i.tenant)).toEqual(['acme', 'acme']);
    expect(JSON.stringify(all)).not.toContain('99');
    expect(all.counts).toEqual({ up: 0, down: 1, unknown: 1, 'cannot-run': 0 });
    const everyone = await json<BoardJson>(await h.call('/api/v1/checks?include=history', as('all')));
    expect(everyone.items.find((i) => i.id === 'web-globex/tcp:443')!.history!.latencyMs).toEqual([99, 99, 99]);
  });

  it('carries the history of at most 500 checks and counts the others; naming a target gets its history', async () => {
    checks.setChecks(Array.from({ length: 502 }, (_, i) => ({ targetId: `t-${String(i).padStart(3, '0')}`, targetName: 't', checkName: 'ping', kind: 'icmp', tenant: 'acme' })));
    checks.record('t-501', 'ping', { status: 'ok', message: 'fine', latencyMs: 7, values: {} });
    const body = await json<BoardJson & { historyOmitted?: number }>(await h.call('/api/v1/checks?include=history', as('acme')));
    expect(body.items).toHaveLength(502);
    expect(body.historyOmitted).toBe(2);
    expect(body.items.filter((i) => i.history !== undefined)).toHaveLength(500);
    expect(body.items.at(-1)!.history).toBeUndefined();
    const one = await json<BoardJson & { historyOmitted?: number }>(await h.call('/api/v1/checks?include=history&target=t-501', as('acme')));
    expect(one.items[0]!.history!.latencyMs).toEqual([7]);
    expect(one.historyOmitted).toBe(0);
    const plain = await json<BoardJson & { historyOmitted?: number }>(await h.call('/api/v1/checks', as('acme')));
    expect(plain.historyOmitted).toBeUndefined();
  });

  it('refuses an include it does not know, saying what it accepts', async () => {
    const res = await h.call('/api/v1/checks?include=everything', as('acme'));
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('must be history');
  });
});
