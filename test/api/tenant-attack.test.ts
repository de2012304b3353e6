// Tenant isolation tested as an attacker would, on a real API on loopback with real tokens scoped
// to two customers (acme, globex): for every route the daemon registers, acme's token tries
// globex's incident numbers, silence ids, cursors, filters and search text. Every answer must look
// like one about something that does not exist (404, an empty list, acme's own counts), never a
// 403 that confirms it exists, and no body may carry anything of globex.
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { declaredAccess } from '../../src/api/auth.js';
import { createMetrics } from '../../src/api/metrics.js';
import { buildApi } from '../../src/api/server.js';
import type { ApiToken } from '../../src/config-core/types.js';
import { CheckStatusTable } from '../../src/scheduler/check-status.js';
import { FakeClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { Accounts } from '../../src/api/accounts.js';
import { BrowserSessions, SESSION_COOKIE } from '../../src/api/session.js';
import { DEFAULT_SESSION_LIMITS } from '../../src/domain/account.js';
import { rolesAllowed } from '../../src/domain/permissions.js';
import { harness, type Harness } from '../incidents/harness.js';
import { RULES, SOURCES } from '../sources/harness.js';
import { seed } from './harness.js';
import { ProblemReports } from '../../src/incidents/problem-reports.js';
import { EVENTS_PATH, IncidentEventHub } from '../../src/api/events.js';
import { openEvents } from './sse.js';

const ACME = 'tok-acme-write-6b1f0c2d9e';
const GLOBEX = 'tok-globex-write-71d3a8e4c5';
const MSP = 'tok-msp-admin-0e9c4b7a12';
const TOKENS: ApiToken[] = [
  { name: 'acme-bot', token: ACME, role: 'write', tenants: ['acme'] },
  { name: 'globex-bot', token: GLOBEX, role: 'write', tenants: ['globex'] },
  { name: 'msp-admin', token: MSP, role: 'admin' },
];

// Every string of globex's that must never reach acme.
const GLOBEX_SECRETS = ['globex', 'ap-vault-globex', 'GLOBEX-ONLY'];

/** A valid body for each action route, so only the scope can refuse it. */
function bodyFor(pattern: string): unknown {
  if (pattern.endsWith('/comments')) return { text: 'mine now' };
  if (pattern.endsWith('/subscribers')) return { address: 'attacker@example.invalid' };
  if (pattern.endsWith('/escalate')) return { tier: 'L3', reason: 'mine now' };
  if (pattern.endsWith('/severity')) return { severity: 'minor', reason: 'mine now' };
  if (pattern.endsWith('/reopen')) return { reason: 'mine now' };
  if (pattern === '/api/v1/problem-reports') return { tenant: 'globex', category: 'printer', description: 'mine now', affected: 'me' };
  return { message: 'mine now' };
}

interface ListJson {
  items: Record<string, unknown>[];
  next: string | null;
}

// The attacker is acme's token, and again a person of acme signed in with a browser session.
describe.each(['token', 'session'] as const)('tenant isolation: every route as an attacker of another tenant (acme by %s)', (mode) => {
  let h: Harness;
  let app: FastifyInstance;
  let base: string;
  let acmeIncident: string;
  let globexIncident: string;
  let acmeSilence: string;
  let globexSilence: string;
  const clock = new FakeClock(Date.UTC(2026, 2, 14, 9, 30));
  const checks = new CheckStatusTable({ clock });
  checks.setChecks([
    { targetId: 'ap-lobby-acme', targetName: 'AP lobby', checkName: 'ping', kind: 'icmp', tenant: 'acme' },
    { targetId: 'ap-vault-globex', targetName: 'AP vault GLOBEX-ONLY', checkName: 'ping', kind: 'icmp', tenant: 'globex' },
  ]);

  let browser: { cookie: string; csrf: string } | null = null;
  let hub: IncidentEventHub;

  /** acme's credentials as headers (the session cookie in session mode). */
  function acmeHeaders(): Record<string, string> {
    return browser !== null ? { cookie: browser.cookie } : { authorization: `Bearer ${ACME}` };
  }

  function call(path: string, token: string, init: { method?: string; body?: unknown } = {}): Promise<Response> {
    const withBody = init.body !== undefined;
    // In session mode acme's requests carry the session cookie and its CSRF token instead.
    const auth: Record<string, string> =
      token === ACME && browser !== null ? { cookie: browser.cookie, 'x-csrf-token': browser.csrf } : { authorization: `Bearer ${token}` };
    return fetch(`${base}${path}`, {
      method: init.method ?? 'GET',
      headers: { ...auth, ...(withBody ? { 'content-type': 'application/json' } : {}) },
      ...(withBody ? { body: JSON.stringify(init.body) } : {}),
    });
  }

  /** The body as text, after checking it carries nothing of globex. */
  async function clean(res: Response): Promise<string> {
    const text = await res.text();
    for (const secret of GLOBEX_SECRETS) expect(text.toLowerCase(), `${res.url} answered ${text}`).not.toContain(secret.toLowerCase());
    expect(text).not.toMatch(/another tenant|forbidden/i);
    return text;
  }

  beforeEach(async () => {
    h = await harness({ rules: RULES, clock });
    hub = new IncidentEventHub({ clock });
    const accounts = new Accounts(h.store, clock);
    const sessions = new BrowserSessions({ store: h.store, accounts, clock, secret: 'tenant-attack-secret-4c9e1b7d20af', cookieSecure: false, limits: () => DEFAULT_SESSION_LIMITS });
    app = buildApi({
      store: h.store,
      commands: h.manager,
      tokens: () => TOKENS,
      authenticators: [sessions],
      accounts: { sessions, accounts, store: h.store },
      ready: async () => ({ ready: true, checks: {} }),
      metrics: createMetrics({ countActive: () => h.store.countActive() }),
      logger: silentLogger(),
      clock,
      alerts: {
        ingest: h.manager.alertIngest(),
        sources: () => SOURCES,
        apiTokens: () => TOKENS,
        limits: () => ({ maxQueue: 10_000, maxBodyBytes: 1024 * 1024, journalDir: null }),
        clock,
        logger: silentLogger(),
      },
      checks,
      rules: () => h.engine,
      silences: { store: h.store, clock, changed: async () => {}, tenants: () => ['default', 'acme', 'globex'] },
      reportTenants: () => ['default', 'acme', 'globex'],
      events: hub,
      problemReports: {
        clock,
        reports: new ProblemReports({
          store: h.store,
          manager: h.manager,
          clock,
          logger: silentLogger(),
          current: () => ({
            engine: h.engine,
            targets: new Map(),
            tenants: [
              { id: 'acme', name: 'ACME' },
              { id: 'globex', name: 'GLOBEX-ONLY Industries' },
            ],
            maxSubscribers: 50,
          }),
        }),
      },
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    browser = null;
    if (mode === 'session') {
      await accounts.add({ name: 'erin', roles: ['engineer'], tenants: { all: false, tenants: ['acme'] }, password: 'erin-long-password-1' }, { name: 'test', address: '' });
      const res = await fetch(`${base}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'erin', password: 'erin-long-password-1' }) });
      expect(res.status).toBe(201);
      const cookie = res.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`))!.split(';', 1)[0]!;
      browser = { cookie, csrf: ((await res.json()) as { csrfToken: string }).csrfToken };
    }
    acmeIncident = await seed(h.store, clock, { targetId: 'ap-lobby-acme', tenant: 'acme', severity: 'major' });
    await clock.advance(60_000);
    globexIncident = await seed(h.store, clock, { targetId: 'ap-vault-globex', tenant: 'globex', severity: 'minor', message: 'GLOBEX-ONLY' });
    // One dead letter each: the notice of an acknowledgement a channel refused for good.
    await h.store.acknowledge(acmeIncident, 'acme-bot', 'on it', clock.now(), ['helpdesk-hook']);
    await h.store.acknowledge(globexIncident, 'globex-bot', 'on it GLOBEX-ONLY', clock.now(), ['helpdesk-hook']);
    for (const d of await h.store.claimDeliveries(clock.now(), 10, 60_000, 'test')) {
      await h.store.completeDelivery(d.id, { dead: true, at: clock.now(), error: 'refused' });
    }
    const made = async (token: string, matcher: string) => {
      const res = await call('/api/v1/silences', token, { method: 'POST', body: { matchers: [matcher], duration: '2h', comment: `for ${matcher}` } });
      expect(res.status).toBe(201);
      return (await res.json()) as { id: string; tenant: string };
    };
    const a = await made(ACME, 'target=ap-lobby-acme');
    const g = await made(GLOBEX, 'target=ap-vault-globex');
    expect([a.tenant, g.tenant]).toEqual(['acme', 'globex']);
    acmeSilence = a.id;
    globexSilence = g.id;
  });
  afterEach(async () => {
    await app.close();
    await h.close();
  });

  it('every route, given globex\'s incident number and silence id, answers acme as if they did not exist', async () => {
    const tried: string[] = [];
    for (const [route, access] of declaredAccess(app)) {
      if (access === 'public' || access.credentials === 'source') continue;
      const [method, pattern] = route.split(' ') as [string, string];
      if (!pattern.includes(':')) continue;
      // Only people (and admin tokens) file problem reports: acme's write token is refused (403)
      // before anything is looked up; the session run walks them.
      if (mode === 'token' && pattern.startsWith('/api/v1/problem-reports')) continue;
      const path = pattern.replace(':number', globexIncident).replace(':id', globexSilence);
      const body = method === 'POST' ? bodyFor(pattern) : undefined;
      const res = await call(path, ACME, { method, body });
      expect(res.status, `${route} as acme`).toBe(404);
      const text = await clean(res);
      // The same words as for a number or id that was never handed out.
      const missing = await call(pattern.replace(':number', 'INC-999999').replace(':id', 'no-such-silence'), ACME, { method, body });
      expect(missing.status).toBe(404);
      expect(text.replaceAll(globexIncident, 'X').replaceAll(globexSilence, 'X')).toBe(
        (await missing.text()).replaceAll('INC-999999', 'X').replaceAll('no-such-silence', 'X'),
      );
      tried.push(route);
    }
    expect(tried).toEqual(expect.arrayContaining(['GET /api/v1/incidents/:number', 'POST /api/v1/incidents/:number/ack', 'DELETE /api/v1/silences/:id']));
    // Nothing of globex changed.
    const g = await h.store.get(globexIncident);
    expect(g?.status).toBe('acknowledged');
    expect(g?.timeline.map((t) => t.actor)).not.toContain('acme-bot');
    const silences = (await (await call('/api/v1/silences', GLOBEX)).json()) as ListJson;
    expect(silences.items.map((s) => [s['id'], (s['status'] as { state: string }).state])).toEqual([[globexSilence, 'active']]);
  });

  it('every list route shows acme only its own, with globex\'s filters, search text and cursors', async () => {
    const lists: string[] = [];
    for (const [route, access] of declaredAccess(app)) {
      if (access === 'public' || access.credentials === 'source') continue;
      const [method, pattern] = route.split(' ') as [string, string];
      if (method !== 'GET' || pattern.includes(':')) continue;
      // A route acme's role may not use at all (the audit log, a token on /session) is refused for
      // the role, whatever the tenant: permissions.test.ts walks those.
      if (!rolesAllowed(access.action, mode === 'session' ? 'user' : 'token').includes(mode === 'session' ? 'engineer' : 'write')) continue;
      lists.push(pattern);
      if (pattern === EVENTS_PATH) {
        // A stream never ends: its headers say it opened; what it carries is tested below.
        const stream = await openEvents(`${base}${pattern}?tenant=globex`, acmeHeaders());
        expect(stream.status).toBe(200);
        stream.close();
        continue;
      }
      for (const query of ['', '?tenant=globex', '?q=globex', '?target=ap-vault-globex', '?include=history&target=ap-vault-globex', '?include=history']) {
        const res = await call(`${pattern}${query}`, ACME);
        // A parameter a route does not take is a 400 naming it, which tells nothing either.
        expect([200, 400], `${pattern}${query}`).toContain(res.status);
        await clean(res);
      }
    }
    expect(lists).toEqual(expect.arrayContaining(['/api/v1/incidents', '/api/v1/silences', '/api/v1/checks', '/api/v1/notifications/dead', EVENTS_PATH]));

    const mine = (await (await call('/api/v1/incidents', ACME)).json()) as ListJson;
    expect(mine.items.map((i) => i['number'])).toEqual([acmeIncident]);
    const silences = (await (await call('/api/v1/silences', ACME)).json()) as ListJson;
    expect(silences.items.map((s) => s['id'])).toEqual([acmeSilence]);
    const dead = (await (await call('/api/v1/notifications/dead', ACME)).json()) as ListJson;
    expect(dead.items.map((d) => (d['event'] as { number: string }).number)).toEqual([acmeIncident]);
    const all = (await (await call('/api/v1/notifications/dead', MSP)).json()) as ListJson;
    expect(all.items).toHaveLength(2);
  });

  it('the live event stream tells acme of acme\'s changes only, never of globex\'s', async () => {
    const stream = await openEvents(`${base}${EVENTS_PATH}`, acmeHeaders());
    expect(stream.status).toBe(200);
    const at = clock.now();
    hub.publish({ number: globexIncident, tenant: 'globex', status: 'acknowledged', change: 'acknowledged', at });
    hub.publish({ number: acmeIncident, tenant: 'acme', status: 'acknowledged', change: 'commented', at });
    await stream.waitFor((e) => e['number'] === acmeIncident);
    stream.close();
    expect(stream.events.map((e) => e['number'])).toEqual([acmeIncident]);
    expect(stream.raw()).not.toContain(globexIncident);
    for (const secret of GLOBEX_SECRETS) expect(stream.raw().toLowerCase()).not.toContain(secret.toLowerCase());
  });

  it('a cursor handed out to globex, replayed by acme, pages through nothing of globex', async () => {
    await seed(h.store, clock, { targetId: 'ap-vault-globex', tenant: 'globex', check: 'http', message: 'GLOBEX-ONLY' });
    for (const path of ['/api/v1/incidents?limit=1', '/api/v1/silences?limit=1']) {
      const page = (await (await call(path, GLOBEX)).json()) as ListJson;
      if (page.next === null) continue;
      const res = await call(`${path}&cursor=${encodeURIComponent(page.next)}`, ACME);
      expect([200, 400]).toContain(res.status);
      await clean(res);
    }
  });

  it('acme cannot create a silence for globex: refused in the words used for a tenant that does not exist', async () => {
    const body = (tenant: string) => ({ matchers: ['target=ap-vault-globex'], duration: '1h', comment: 'hide it', tenant });
    const other = await call('/api/v1/silences', ACME, { method: 'POST', body: body('globex') });
    const none = await call('/api/v1/silences', ACME, { method: 'POST', body: body('initech') });
    expect([other.status, none.status]).toEqual([400, 400]);
    const o = (await other.json()) as { message: string };
    const n = (await none.json()) as { message: string };
    expect(o.message.replace('globex', 'X')).toBe(n.message.replace('initech', 'X'));
    // A silence acme makes holds back acme's incidents only, even with a matcher naming globex's target.
    const res = await call('/api/v1/silences', ACME, { method: 'POST', body: { matchers: ['target=~ap-.*'], duration: '1h', comment: 'all APs' } });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { tenant: string }).tenant).toBe('acme');
  });

  it('the MSP\'s all-tenants token sees both; /metrics names no incident title or target', async () => {
    const all = (await (await call('/api/v1/incidents', MSP)).json()) as ListJson;
    expect(all.items.map((i) => i['number'])).toEqual([globexIncident, acmeIncident]);
    // The MSP names the tenant of a silence; one that does not exist is refused, not stored to hold back nothing.
    const silence = (tenant: string) => ({ matchers: ['target=ap-vault-globex'], duration: '1h', comment: 'vault swap', tenant });
    const made = await call('/api/v1/silences', MSP, { method: 'POST', body: silence('globex') });
    expect(made.status).toBe(201);
    expect(((await made.json()) as { tenant: string }).tenant).toBe('globex');
    const typo = await call('/api/v1/silences', MSP, { method: 'POST', body: silence('globx') });
    expect(typo.status).toBe(400);
    expect(((await typo.json()) as { message: string }).message).toContain('no tenant "globx"');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).not.toContain('ap-vault-globex');
    expect(metrics).not.toContain('GLOBEX-ONLY');
  });
});
