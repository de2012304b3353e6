// GET /api/v1/status/:tenant: a public status page answers anyone, in plain words (no fingerprints,
// labels, rules or people); a private one answers only callers of its tenant and is a 404 to anyone
// else, worded exactly like a tenant that does not exist.
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/api/metrics.js';
import { buildApi } from '../../src/api/server.js';
import type { StatusTenant } from '../../src/api/status.js';
import type { ApiToken } from '../../src/config-core/types.js';
import type { TargetRef } from '../../src/domain/signal.js';
import { CheckStatusTable } from '../../src/scheduler/check-status.js';
import { FakeClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import type { IncidentStore } from '../../src/store/types.js';
import { seed, storeCommands } from './harness.js';
import { makeStore } from './store.js';

const TENANTS: StatusTenant[] = [
  { id: 'acme', name: 'ACME Corp', timeZone: 'Europe/Berlin', statusPage: 'public' },
  { id: 'globex', name: 'Globex', timeZone: null, statusPage: 'private' },
];

const TOKENS: ApiToken[] = [
  { name: 'all-reader', token: 'tok-all-reader-91c2', role: 'read' },
  { name: 'globex-reader', token: 'tok-globex-reader-4d7e', role: 'read', tenants: ['globex'] },
  { name: 'acme-reader', token: 'tok-acme-reader-0b3f', role: 'read', tenants: ['acme'] },
  { name: 'globex-ingest', token: 'tok-globex-ingest-6a1d', role: 'ingest', tenants: ['globex'] },
];

function target(id: string, name: string, site: string, tenant?: string): TargetRef {
  return { id, kind: 'printer', name, site, labels: { rack: 'r7-secret' }, dependsOn: [], ...(tenant === undefined ? {} : { tenant }) };
}

const TARGETS = new Map<string, TargetRef>([
  ['printer-3f', target('printer-3f', 'Printer 3F', 'hq', 'acme')],
  ['mail', target('mail', 'Mail', 'hq', 'acme')],
  ['wifi-branch', target('wifi-branch', 'Branch Wi-Fi', 'branch', 'acme')],
  ['globex-vpn', target('globex-vpn', 'VPN', 'hq', 'globex')],
  ['own-server', target('own-server', 'Own server', 'hq')],
]);

const DAY = 86_400_000;

interface StatusJson {
  tenant: { id: string; name: string };
  state: string;
  sites: { name: string; state: string; services: { id: string; name: string; state: string }[] }[];
  incidents: { title: string; severity: string; stage: string; since: string; service: string; site: string }[];
  history: { timeZone: string; days: { date: string; worst: string | null }[]; truncated: boolean };
}

describe('GET /api/v1/status/:tenant', () => {
  // 10:30 in Berlin.
  const clock = new FakeClock(Date.UTC(2026, 2, 14, 9, 30));
  let store: IncidentStore;
  let app: FastifyInstance;
  let base: string;
  let checks: CheckStatusTable;

  beforeEach(async () => {
    store = await makeStore();
    checks = new CheckStatusTable({ clock });
    checks.setChecks([
      { targetId: 'printer-3f', targetName: 'Printer 3F', checkName: 'ping', kind: 'icmp', tenant: 'acme' },
      { targetId: 'mail', targetName: 'Mail', checkName: 'smtp', kind: 'smtp', tenant: 'acme' },
      { targetId: 'globex-vpn', targetName: 'VPN', checkName: 'tcp', kind: 'tcp', tenant: 'globex' },
    ]);
    checks.record('printer-3f', 'ping', { status: 'fail', message: '100% packet loss from 192.0.2.7', latencyMs: 3, values: {} });
    checks.record('mail', 'smtp', { status: 'ok', message: 'ok', latencyMs: 3, values: {} });
    app = buildApi({
      store,
      commands: storeCommands(store, clock),
      tokens: () => TOKENS,
      ready: async () => ({ ready: true, checks: {} }),
      metrics: createMetrics({ countActive: () => store.countActive() }),
      logger: silentLogger(),
      clock,
      status: { store, checks, targets: () => TARGETS, tenants: () => TENANTS, clock },
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterEach(async () => {
    await app.close();
    await store.close();
  });

  const get = (tenant: string, token?: string) =>
    fetch(`${base}/api/v1/status/${tenant}`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });

  it('shows a public tenant’s services by site, its ongoing incidents in plain words, to anyone', async () => {
    await seed(store, clock, { targetId: 'printer-3f', tenant: 'acme', severity: 'severe', site: 'hq' });
    await seed(store, clock, { targetId: 'globex-vpn', tenant: 'globex', severity: 'major' });
    const res = await get('acme');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const text = await res.text();
    const body = JSON.parse(text) as StatusJson;
    expect(body.tenant).toEqual({ id: 'acme', name: 'ACME Corp' });
    expect(body.state).toBe('outage');
    expect(body.sites).toEqual([
      { name: 'branch', state: 'unknown', services: [{ id: 'wifi-branch', name: 'Branch Wi-Fi', state: 'unknown' }] },
      {
        name: 'hq',
        state: 'down',
        services: [
          { id: 'mail', name: 'Mail', state: 'up' },
          { id: 'printer-3f', name: 'Printer 3F', state: 'down' },
        ],
      },
    ]);
    expect(body.incidents).toEqual([
      { title: 'printer-3f ping failing', severity: 'severe', stage: 'investigating', since: '2026-03-14T09:30:00.000Z', service: 'Printer 3F', site: 'hq' },
    ]);
    // Nothing internal: no fingerprint, labels, rule, message with addresses, or the other tenant.
    for (const secret of ['fingerprint', 'r7-secret', 'network', 'device-down', '192.0.2.7', 'packet loss', 'VPN', 'globex']) expect(text).not.toContain(secret);
  });

  it('has 90 days of history in the tenant’s time zone: the worst severity of each day', async () => {
    // Two days ago (Berlin): a minor and a major, the major resolved the same day.
    await clock.advance(-2 * DAY);
    await seed(store, clock, { targetId: 'mail', tenant: 'acme', severity: 'minor', check: 'smtp' });
    const major = await seed(store, clock, { targetId: 'printer-3f', tenant: 'acme', severity: 'major' });
    await store.resolve(major, 'ops', 'fixed', clock.now() + 3_600_000);
    await clock.advance(2 * DAY);
    const body = (await (await get('acme')).json()) as StatusJson;
    expect(body.history.timeZone).toBe('Europe/Berlin');
    expect(body.history.truncated).toBe(false);
    expect(body.history.days).toHaveLength(90);
    expect(body.history.days.at(-1)).toEqual({ date: '2026-03-14', worst: 'minor' }); // the minor is still active
    expect(body.history.days.at(-2)).toEqual({ date: '2026-03-13', worst: 'minor' });
    expect(body.history.days.at(-3)).toEqual({ date: '2026-03-12', worst: 'major' });
    expect(body.history.days[0]).toEqual({ date: '2025-12-15', worst: null });
    expect(body.history.days.filter((d) => d.worst !== null)).toHaveLength(3);
    // Acknowledged is "identified", still ongoing; the overall state follows the active minor.
    expect(body.incidents.map((i) => [i.severity, i.stage])).toEqual([['minor', 'investigating']]);
    expect(body.state).toBe('outage'); // the printer's check fails
  });

  it('answers a private page to callers of its tenant only; to anyone else like a tenant that does not exist', async () => {
    const missing = await get('initech');
    expect(missing.status).toBe(404);
    const missingBody = (await missing.json()) as { error: string; message: string };
    expect(missingBody.error).toBe('not_found');

    for (const token of [undefined, 'tok-acme-reader-0b3f', 'tok-globex-ingest-6a1d', 'wrong-token-5e9a']) {
      const res = await get('globex', token);
      expect(res.status, String(token)).toBe(404);
      const body = (await res.json()) as { message: string };
      expect(body.message, String(token)).toBe(missingBody.message.replace('initech', 'globex'));
    }
    for (const token of ['tok-globex-reader-4d7e', 'tok-all-reader-91c2']) {
      const res = await get('globex', token);
      expect(res.status, token).toBe(200);
      expect(res.headers.get('cache-control')).toBe('private, no-store');
      expect(((await res.json()) as StatusJson).sites[0]!.services).toEqual([{ id: 'globex-vpn', name: 'VPN', state: 'unknown' }]);
    }
  });

  it('counts wrong tokens on a private page like anywhere else: a guessing address is then refused even the right one', async () => {
    for (let i = 0; i < 10; i++) expect((await get('globex', `guess-${i}-aaaaaaaa`)).status).toBe(404);
    expect((await get('globex', 'tok-globex-reader-4d7e')).status).toBe(404);
    // The rest of the API says why.
    expect((await fetch(`${base}/api/v1/incidents`, { headers: { authorization: 'Bearer tok-all-reader-91c2' } })).status).toBe(429);
    // Public pages stay open to it.
    expect((await get('acme')).status).toBe(200);
  });

  it('says operational when nothing is down and nothing is ongoing', async () => {
    checks.record('printer-3f', 'ping', { status: 'ok', message: 'ok', latencyMs: 3, values: {} });
    const body = (await (await get('acme')).json()) as StatusJson;
    expect(body.state).toBe('operational');
    expect(body.incidents).toEqual([]);
    expect(body.history.days.every((d) => d.worst === null)).toBe(true);
  });
});
