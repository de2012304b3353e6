// Every route the daemon registers × every token role and every user role: what the permission
// table allows gets past the guard (any answer but 401/403), what it denies is a 403 that names the
// action and the caller's roles, and changes nothing. Users sign in through an authenticator this
// test registers (a header naming the role), as the session authenticator will.
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  declaredAccess,
  installGuard,
  principalAuthenticator,
  requires,
  RouteAccessMissingError,
  type RouteAccess,
} from '../../src/api/auth.js';
import { createMetrics } from '../../src/api/metrics.js';
import { registeredRoutes } from '../../src/api/openapi.js';
import { PORTAL_ROUTES } from '../../src/api/portal.js';
import { buildApi } from '../../src/api/server.js';
import { Accounts } from '../../src/api/accounts.js';
import { BrowserSessions } from '../../src/api/session.js';
import { ProblemReports } from '../../src/incidents/problem-reports.js';
import { IncidentEventHub } from '../../src/api/events.js';
import { DEFAULT_SESSION_LIMITS } from '../../src/domain/account.js';
import type { ApiToken } from '../../src/config-core/types.js';
import { PERMISSIONS, permits, type Action } from '../../src/domain/permissions.js';
import { TOKEN_ROLES, USER_ROLES, type Principal, type TokenRole, type UserRole } from '../../src/domain/principal.js';
import { CheckStatusTable } from '../../src/scheduler/check-status.js';
import { FakeClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { harness, type Harness } from '../incidents/harness.js';
import { AM_TOKEN, GENERIC_TOKEN, ROUTING_KEY, RULES, SOURCES } from '../sources/harness.js';
import { seed } from './harness.js';

const TOKENS: ApiToken[] = TOKEN_ROLES.map((role) => ({ name: `${role}-bot`, token: `tok-${role}-5c1a7e93d2`, role }));

/** Signs a request in as a user with the role named in x-test-user (the session authenticator's stand-in). */
function testUser(request: FastifyRequest): Promise<Principal | null> {
  const role = request.headers['x-test-user'];
  if (typeof role !== 'string') return Promise.resolve(null);
  return Promise.resolve({
    kind: 'user',
    id: `u-${role}`,
    name: `${role} person`,
    roles: [role as UserRole],
    tenants: { all: true },
    sessionId: `s-${role}`,
  });
}

type Caller = { kind: 'token'; role: TokenRole } | { kind: 'user'; role: UserRole };
const CALLERS: Caller[] = [
  ...TOKEN_ROLES.map((role) => ({ kind: 'token' as const, role })),
  ...USER_ROLES.map((role) => ({ kind: 'user' as const, role })),
];

function headersOf(c: Caller): Record<string, string> {
  if (c.kind === 'token') return { authorization: `Bearer ${TOKENS.find((t) => t.role === c.role)!.token}` };
  return { 'x-test-user': c.role };
}

function principalLike(c: Caller): Principal {
  return c.kind === 'token'
    ? { kind: 'token', id: c.role, name: c.role, roles: [c.role], tenants: { all: true } }
    : { kind: 'user', id: c.role, name: c.role, roles: [c.role], tenants: { all: true }, sessionId: 's' };
}

describe('every route × every role', () => {
  let h: Harness;
  let app: FastifyInstance;
  let base: string;
  let number: string;
  const clock = new FakeClock(Date.UTC(2026, 2, 14, 9, 30));

  beforeEach(async () => {
    h = await harness({ rules: RULES, clock });
    const accounts = new Accounts(h.store, clock);
    const sessions = new BrowserSessions({ store: h.store, accounts, clock, secret: 'permissions-test-secret-9f3b2c71d04e', cookieSecure: false, limits: () => DEFAULT_SESSION_LIMITS });
    // Every optional part configured, so every route the daemon can serve is registered.
    app = buildApi({
      store: h.store,
      commands: h.manager,
      tokens: () => TOKENS,
      authenticators: [principalAuthenticator('test-user', testUser)],
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
      checks: new CheckStatusTable({ clock }),
      rules: () => h.engine,
      silences: { store: h.store, clock, changed: async () => {} },
      accounts: { sessions, accounts, store: h.store },
      status: {
        store: h.store,
        checks: new CheckStatusTable({ clock }),
        targets: () => new Map(),
        tenants: () => [{ id: 'default', name: 'Default', timeZone: null, statusPage: 'public' }],
        clock,
      },
      portal: { root: portalRoot },
      events: new IncidentEventHub({ clock }),
      problemReports: {
        clock,
        reports: new ProblemReports({
          store: h.store,
          manager: h.manager,
          clock,
          logger: silentLogger(),
          current: () => ({ engine: h.engine, targets: new Map(), tenants: [], maxSubscribers: 50 }),
        }),
      },
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    number = await seed(h.store, clock, { targetId: 'ap-lobby' });
  });
  afterEach(async () => {
    await app.close();
    await h.close();
  });

  let portalRoot: string;
  beforeAll(async () => {
    portalRoot = await mkdtemp(join(tmpdir(), 'incidentd-portal-'));
    await mkdir(join(portalRoot, 'assets'));
    await writeFile(join(portalRoot, 'index.html'), '<!doctype html><title>incidentd</title>');
    await writeFile(join(portalRoot, 'assets', 'index-1.js'), 'console.log(1);');
  });
  afterAll(async () => {
    await rm(portalRoot, { recursive: true, force: true });
  });

  function send(route: string, headers: Record<string, string>, body?: unknown): Promise<Response> {
    const [method, pattern] = route.split(' ') as [string, string];
    const path = pattern.replace(':number', number).replace(':id', 'no-such-silence').replace(':tenant', 'default').replace('*', 'index-1.js');
    const withBody = method === 'POST' || method === 'PUT' || method === 'PATCH';
    return fetch(`${base}${path}`, {
      method,
      headers: withBody ? { ...headers, 'content-type': 'application/json' } : headers,
      ...(withBody ? { body: JSON.stringify(body ?? {}) } : {}),
    });
  }

  it('knows the access of every registered route, and the daemon registers the ones this test expects', () => {
    // The portal's files are routes outside the API description (src/api/portal.ts).
    const routes = [...registeredRoutes(app), ...PORTAL_ROUTES];
    const access = declaredAccess(app);
    expect([...access.keys()].sort()).toEqual([...routes].sort());
    // A new route shows up here; then check its action is the one meant.
    expect(Object.fromEntries([...access].map(([r, a]) => [r, a === 'public' ? 'public' : a.action]))).toMatchObject({
      'GET /api/v1/incidents': 'incidents.read',
      'GET /api/v1/incidents/:number': 'incidents.read',
      'GET /api/v1/incidents/:number/explanation': 'incidents.read',
      'POST /api/v1/incidents/:number/ack': 'incidents.acknowledge',
      'POST /api/v1/incidents/:number/resolve': 'incidents.resolve',
      'POST /api/v1/incidents/:number/comments': 'incidents.comment',
      'POST /api/v1/incidents/:number/subscribers': 'incidents.subscribe',
      'POST /api/v1/incidents/:number/escalate': 'incidents.escalate',
      'POST /api/v1/incidents/:number/severity': 'incidents.change-severity',
      'POST /api/v1/incidents/:number/reopen': 'incidents.reopen',
      'GET /api/v1/events': 'incidents.read',
      'GET /api/v1/notifications/dead': 'notifications.read',
      'GET /api/v1/checks': 'checks.read',
      'GET /api/v1/silences': 'silences.read',
      'POST /api/v1/silences': 'silences.write',
      'DELETE /api/v1/silences/:id': 'silences.write',
      'GET /api/v1/reports/counts': 'reports.read',
      'GET /api/v1/reports/handling-times': 'reports.read',
      'GET /api/v1/reports/sla': 'reports.read',
      'GET /api/v1/reports/sla/breaches': 'reports.read',
      'GET /api/v1/reports/fingerprints': 'reports.read',
      'GET /api/v1/reports/targets': 'reports.read',
      'GET /api/v1/reports/heatmap': 'reports.read',
      'GET /api/v1/reports/backlog': 'reports.read',
      'GET /api/v1/reports/escalations': 'reports.read',
      'GET /api/v1/reports/tenants': 'reports.read',
      'POST /api/v1/alerts': 'alerts.ingest',
      'POST /api/v1/alertmanager': 'alerts.ingest',
      'POST /v2/enqueue': 'alerts.ingest',
      'GET /healthz': 'public',
      'GET /readyz': 'public',
      'GET /metrics': 'public',
      'GET /api/v1/openapi.json': 'public',
      'POST /api/v1/session': 'public',
      'GET /api/v1/session/methods': 'public',
      'GET /api/v1/session': 'session.own',
      'DELETE /api/v1/session': 'session.own',
      'GET /api/v1/audit': 'audit.read',
      // Open for a tenant whose status page is public; a private one checks the caller itself.
      'GET /api/v1/status/:tenant': 'public',
      'GET /': 'public',
      'GET /assets/*': 'public',
    });
  });

  it('lets through what the table allows and answers 403 naming the action and roles to what it denies', async () => {
    const access = declaredAccess(app);
    const checked: string[] = [];
    for (const [route, a] of access) {
      if (a === 'public' || a.credentials === 'source') continue;
      for (const caller of CALLERS) {
        const res = await send(route, headersOf(caller));
        const allowed = permits(principalLike(caller), a.action);
        // The event stream never ends by itself: its status is all this needs.
        if (route === 'GET /api/v1/events' && allowed) await res.body?.cancel();
        const label = `${route} as ${caller.kind} ${caller.role}`;
        if (allowed) {
          expect([401, 403], label).not.toContain(res.status);
        } else {
          expect(res.status, label).toBe(403);
          const body = (await res.json()) as { error: string; message: string };
          expect(body.error, label).toBe('forbidden');
          expect(body.message, label).toContain(a.action);
          expect(body.message, label).toContain(`has role ${caller.role}`);
        }
        checked.push(label);
      }
    }
    // 29 guarded API routes minus the 3 alert endpoints, × 9 callers.
    expect(checked).toHaveLength(33 * CALLERS.length);
  });

  it('answers 401 on every route but the public ones when no credentials come', async () => {
    for (const [route, a] of declaredAccess(app)) {
      const res = await send(route, {});
      if (a === 'public') expect([401, 403], route).not.toContain(res.status);
      else if (route === 'POST /v2/enqueue') expect(res.status, route).toBe(400); // no routing key in the body
      else expect(res.status, route).toBe(401);
    }
  });

  it('public routes answer whoever asks, signed in or not', async () => {
    for (const [route, a] of declaredAccess(app)) {
      if (a !== 'public') continue;
      for (const caller of CALLERS) {
        const res = await send(route, headersOf(caller));
        await res.arrayBuffer();
        expect([401, 403], route).not.toContain(res.status);
      }
    }
  });

  it('the alert endpoints take their sources’ credentials only, never an API token or a user of any role', async () => {
    const sourceRoutes = [...declaredAccess(app)].filter(([, a]) => a !== 'public' && a.credentials === 'source');
    expect(sourceRoutes.map(([r]) => r).sort()).toEqual(['POST /api/v1/alertmanager', 'POST /api/v1/alerts', 'POST /v2/enqueue']);
    for (const [route] of sourceRoutes) {
      for (const caller of CALLERS) {
        const res = await send(route, headersOf(caller));
        if (route === 'POST /v2/enqueue') expect(res.status, route).toBe(400);
        else expect([401, 403], `${route} as ${caller.kind} ${caller.role}`).toContain(res.status);
      }
    }
    const generic = await send('POST /api/v1/alerts', { authorization: `Bearer ${GENERIC_TOKEN}` }, { alerts: [] });
    expect([401, 403]).not.toContain(generic.status);
    const am = await send('POST /api/v1/alertmanager', { authorization: `Bearer ${AM_TOKEN}` }, { version: '4', alerts: [] });
    expect([401, 403]).not.toContain(am.status);
    const pd = await send('POST /v2/enqueue', {}, { routing_key: ROUTING_KEY, event_action: 'trigger', payload: { summary: 's', source: 'x', severity: 'error' } });
    expect(pd.status).toBe(202);
  });

  it('a denied action changes nothing: a read token cannot acknowledge, a manager cannot resolve', async () => {
    const read = await send('POST /api/v1/incidents/:number/ack', headersOf({ kind: 'token', role: 'read' }));
    expect(read.status).toBe(403);
    expect(((await read.json()) as { message: string }).message).toBe(
      'forbidden: incidents.acknowledge needs token role write or admin; token "read-bot" has role read',
    );
    const manager = await send('POST /api/v1/incidents/:number/resolve', headersOf({ kind: 'user', role: 'manager' }));
    expect(manager.status).toBe(403);
    expect(((await manager.json()) as { message: string }).message).toBe(
      'forbidden: incidents.resolve needs user role agent or engineer or admin; user "manager person" has role manager',
    );
    const incident = await h.store.get(number);
    expect(incident?.status).toBe('open');
    expect(incident?.timeline.map((e) => e.action)).not.toContain('acknowledged');
  });

  it('records the person who acted: the user’s name on the timeline and in acknowledgedBy and resolvedBy', async () => {
    expect((await send('POST /api/v1/incidents/:number/ack', headersOf({ kind: 'user', role: 'agent' }), { message: 'on it' })).status).toBe(200);
    expect((await send('POST /api/v1/incidents/:number/resolve', headersOf({ kind: 'token', role: 'write' }), { message: 'fixed' })).status).toBe(200);
    const incident = await h.store.get(number);
    expect(incident?.acknowledgedBy).toBe('agent person');
    expect(incident?.resolvedBy).toBe('write-bot');
    const actors = incident?.timeline.filter((e) => e.action === 'acknowledged' || e.action === 'resolved').map((e) => e.actor);
    expect(actors).toEqual(['agent person', 'write-bot']);
  });
});

describe('route registration', () => {
  it('refuses a route that declares no access, naming it', async () => {
    const app = Fastify();
    installGuard(app, { authenticators: [], refuseBlocked: () => false, failed: () => {}, sendError: (reply) => reply });
    expect(() => app.get('/api/v1/forgotten', () => ({}))).toThrow(RouteAccessMissingError);
    expect(() => app.get('/api/v1/forgotten', () => ({}))).toThrow(/GET \/api\/v1\/forgotten declares no access/);
    expect(() => app.get('/api/v1/typo', { config: { access: { action: 'incidents.raed' as Action } satisfies RouteAccess } }, () => ({}))).toThrow(
      RouteAccessMissingError,
    );
    app.get('/api/v1/fine', requires('incidents.read'), () => ({}));
    await app.close();
  });

  it('every action of the table is one a route can name, and each has a role that may do it', () => {
    for (const [action, allowed] of Object.entries(PERMISSIONS)) {
      expect(allowed.users.length + allowed.tokens.length, action).toBeGreaterThan(0);
      // Admin users may do everything there is for people to do.
      if (allowed.users.length > 0) expect(allowed.users, action).toContain('admin');
    }
  });
});
