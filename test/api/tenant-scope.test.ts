// Tenant scoping of the API, tested as an attacker would: a request scoped to tenant A asks for
// tenant B's incident numbers, names B in filters, replays a cursor handed out for B, and acts on
// B's incidents. Each answer must look exactly like one for something that does not exist.
// The real authentication hook (which sets request.principal) arrives separately; a test
// authenticator stands in for it here, scoped by a header.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Principal, TenantScope } from '../../src/domain/principal.js';
import { CheckStatusTable } from '../../src/scheduler/check-status.js';
import { FakeClock } from '../../src/shared/clock.js';
import { json, seed, startApi, type ApiIncidentJson, type Harness } from './harness.js';
import { makeStore } from './store.js';

const SCOPE_HEADER = 'x-test-scope';

/** Sets request.principal as the auth hook will: `all`, or a comma-separated list of tenants. */
function testAuthenticator(app: FastifyInstance): void {
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const header = request.headers[SCOPE_HEADER];
    if (typeof header !== 'string') return;
    const tenants: TenantScope = header === 'all' ? { all: true } : { all: false, tenants: header.split(',').filter((t) => t !== '') };
    const principal: Principal = { kind: 'token', id: `scoped-${header}`, name: `scoped-${header}`, roles: ['write'], tenants };
    (request as FastifyRequest & { principal?: Principal }).principal = principal;
  });
}

interface ListJson {
  items: ApiIncidentJson[];
  next: string | null;
}

describe('tenant scope of the incidents API', () => {
  let h: Harness;
  let acme: string;
  let globex: string;
  let own: string;
  const checks = new CheckStatusTable({ clock: new FakeClock(Date.UTC(2026, 2, 14, 9, 0)) });
  checks.setChecks([
    { targetId: 'printer-3f', targetName: 'Printer 3F', checkName: 'ping', kind: 'icmp', tenant: 'acme' },
    { targetId: 'printer-3f-globex', targetName: 'Printer 3F', checkName: 'ping', kind: 'icmp', tenant: 'globex' },
    { targetId: 'vpn', targetName: 'VPN', checkName: 'tcp:443', kind: 'tcp' },
  ]);

  const as = (scope: string) => ({ headers: { [SCOPE_HEADER]: scope } });
  const post = (scope: string, body: unknown) => ({
    method: 'POST',
    headers: { [SCOPE_HEADER]: scope, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

  beforeEach(async () => {
    h = await startApi(await makeStore(), testAuthenticator, { checks });
    // The same printer at two customers, and one of the MSP's own.
    acme = await seed(h.store, h.clock, { targetId: 'printer-3f', tenant: 'acme', severity: 'major' });
    await h.clock.advance(60_000);
    globex = await seed(h.store, h.clock, { targetId: 'printer-3f', tenant: 'globex', severity: 'major' });
    await h.clock.advance(60_000);
    own = await seed(h.store, h.clock, { targetId: 'vpn' });
  });
  afterEach(async () => {
    await h.close();
  });

  it('the same target at two customers is two incidents, each showing its tenant', async () => {
    const list = await json<ListJson>(await h.call('/api/v1/incidents'));
    expect(list.items.map((i) => [i.number, i.tenant])).toEqual([
      [own, 'default'],
      [globex, 'globex'],
      [acme, 'acme'],
    ]);
  });

  it('a scoped list shows only its tenants, intersected with the tenant filter', async () => {
    const numbers = async (path: string, scope: string) => (await json<ListJson>(await h.call(path, as(scope)))).items.map((i) => i.number);
    expect(await numbers('/api/v1/incidents', 'acme')).toEqual([acme]);
    expect(await numbers('/api/v1/incidents?tenant=globex', 'acme')).toEqual([]);
    expect(await numbers('/api/v1/incidents?tenant=globex&tenant=acme', 'acme')).toEqual([acme]);
    expect(await numbers('/api/v1/incidents?tenant=globex,default', 'all')).toEqual([own, globex]);
    // B's fingerprint or target as a filter finds nothing either.
    const b = await json<ApiIncidentJson>(await h.call(`/api/v1/incidents/${globex}`));
    expect(await numbers(`/api/v1/incidents?target=printer-3f&q=printer`, 'acme')).toEqual([acme]);
    expect(b.tenant).toBe('globex');
    // A scope that sees no tenant sees nothing.
    expect(await numbers('/api/v1/incidents', '')).toEqual([]);
  });

  it('a cursor handed out for another tenant shows nothing of that tenant', async () => {
    const first = await json<ListJson>(await h.call('/api/v1/incidents?limit=1', as('globex,default')));
    expect(first.items.map((i) => i.number)).toEqual([own]);
    expect(first.next).not.toBeNull();
    const replay = await json<ListJson>(await h.call(`/api/v1/incidents?limit=5&cursor=${encodeURIComponent(first.next!)}`, as('acme')));
    expect(replay.items.map((i) => i.number)).toEqual([acme]);
    expect(replay.items.every((i) => i.tenant === 'acme')).toBe(true);
  });

  it('another tenant\'s incident is answered exactly as a number that does not exist', async () => {
    const missing = 'INC-000999';
    const shapeOf = async (res: Response, number: string) => ({
      status: res.status,
      body: JSON.stringify(await res.json()).replace(number, 'N'),
    });
    const paths: [string, (scope: string) => RequestInit][] = [
      ['', (s) => as(s)],
      ['/ack', (s) => post(s, { message: 'mine now' })],
      ['/resolve', (s) => post(s, { message: 'fixed' })],
      ['/comments', (s) => post(s, { text: 'hello from acme' })],
      ['/subscribers', (s) => post(s, { address: 'spy@example.invalid' })],
    ];
    for (const [suffix, init] of paths) {
      const foreign = await shapeOf(await h.call(`/api/v1/incidents/${globex}${suffix}`, init('acme')), globex);
      const absent = await shapeOf(await h.call(`/api/v1/incidents/${missing}${suffix}`, init('acme')), missing);
      expect(foreign, suffix).toEqual(absent);
      expect(foreign.status, suffix).toBe(404);
    }
    // Nothing was changed on B's incident.
    const b = await json<ApiIncidentJson>(await h.call(`/api/v1/incidents/${globex}`));
    expect(b.status).toBe('open');
    expect(b.subscribers).toEqual([]);
    expect(b.timeline?.map((t) => t.action)).toEqual(['opened']);
    // Its own incident it may read and act on.
    expect((await h.call(`/api/v1/incidents/${acme}`, as('acme'))).status).toBe(200);
    const acked = await h.call(`/api/v1/incidents/${acme}/ack`, post('acme', { message: 'on it' }));
    expect(acked.status).toBe(200);
    expect((await json<ApiIncidentJson>(acked)).status).toBe('acknowledged');
  });

  it('checks and their counts are scoped too', async () => {
    const scoped = await json<{ items: { target: { id: string } }[]; counts: Record<string, number> }>(await h.call('/api/v1/checks', as('acme')));
    expect(scoped.items.map((c) => c.target.id)).toEqual(['printer-3f']);
    expect(scoped.counts).toEqual({ up: 0, down: 0, unknown: 1, 'cannot-run': 0 });
    const everything = await json<{ items: unknown[]; counts: Record<string, number> }>(await h.call('/api/v1/checks', as('all')));
    expect(everything.items).toHaveLength(3);
    expect(everything.counts.unknown).toBe(3);
    // The filter by target does not reach past the scope.
    const foreign = await json<{ items: unknown[] }>(await h.call('/api/v1/checks?target=printer-3f-globex', as('acme')));
    expect(foreign.items).toEqual([]);
  });
});
