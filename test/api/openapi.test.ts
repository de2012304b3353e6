// GET /api/v1/openapi.json: a valid OpenAPI 3.1 document, readable without a token, that names
// every route the server registers (so a new route cannot be left out) and describes the list
// parameters from the schemas that validate them.
import { Validator } from '@seriousme/openapi-schema-validator';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/api/metrics.js';
import { registeredRoutes } from '../../src/api/openapi.js';
import { apiIncidentSchema, incidentPageSchema } from '../../src/api/responses.js';
import { buildApi } from '../../src/api/server.js';
import { ProblemReports } from '../../src/incidents/problem-reports.js';
import { IncidentEventHub } from '../../src/api/events.js';
import { Accounts } from '../../src/api/accounts.js';
import { BrowserSessions } from '../../src/api/session.js';
import { DEFAULT_SESSION_LIMITS } from '../../src/domain/account.js';
import { INCIDENT_SORTS } from '../../src/domain/paging.js';
import { CheckStatusTable } from '../../src/scheduler/check-status.js';
import { FakeClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { harness, type Harness } from '../incidents/harness.js';
import { API_TOKEN, GENERIC_TOKEN, RULES, SOURCES } from '../sources/harness.js';

interface Doc {
  openapi: string;
  paths: Record<string, Record<string, { security: unknown[]; responses: Record<string, unknown>; parameters?: { name: string; in: string; required: boolean; schema: Record<string, unknown>; description?: string }[]; requestBody?: { content: Record<string, { schema: Record<string, unknown> }> } }>>;
  components: { securitySchemes: Record<string, { type: string; scheme?: string; in?: string; name?: string }> };
}

describe('GET /api/v1/openapi.json', () => {
  let h: Harness;
  let app: FastifyInstance;
  let base: string;

  beforeEach(async () => {
    const clock = new FakeClock(Date.UTC(2026, 2, 14, 9, 30));
    h = await harness({ rules: RULES });
    const accounts = new Accounts(h.store, clock);
    const sessions = new BrowserSessions({ store: h.store, accounts, clock, secret: 'openapi-test-secret-5d2e8a1c9b7f40', cookieSecure: false, limits: () => DEFAULT_SESSION_LIMITS });
    // Every optional part configured, so every route the daemon can serve is registered.
    app = buildApi({
      store: h.store,
      commands: h.manager,
      tokens: () => [{ name: 'admin', token: API_TOKEN }],
      ready: async () => ({ ready: true, checks: {} }),
      metrics: createMetrics({ countActive: () => h.store.countActive() }),
      logger: silentLogger(),
      clock,
      alerts: {
        ingest: h.manager.alertIngest(),
        sources: () => SOURCES,
        apiTokens: () => [{ name: 'admin', token: API_TOKEN }],
        limits: () => ({ maxQueue: 10_000, maxBodyBytes: 1024 * 1024, journalDir: null }),
        clock,
        logger: silentLogger(),
      },
      checks: new CheckStatusTable({ clock }),
      rules: () => h.engine,
      silences: { store: h.store, clock, changed: async () => {} },
      reportTenants: () => ['default', 'acme'],
      accounts: { sessions, accounts, store: h.store },
      status: { store: h.store, checks: new CheckStatusTable({ clock }), targets: () => new Map(), tenants: () => [], clock },
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
  });
  afterEach(async () => {
    await app.close();
    await h.close();
  });

  async function fetchDoc(): Promise<Doc> {
    // No Authorization header: the description is open (see server.ts).
    const res = await fetch(`${base}/api/v1/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    return (await res.json()) as Doc;
  }

  it('is a valid OpenAPI 3.1 document, served without a token', async () => {
    const doc = await fetchDoc();
    expect(doc.openapi).toMatch(/^3\.1\./);
    const validator = new Validator();
    const result = await validator.validate(doc as unknown as Parameters<Validator['validate']>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    // Every $ref resolves.
    expect(() => validator.resolveRefs()).not.toThrow();
  });

  it('describes every route the server registers, and no route it does not serve', async () => {
    const doc = await fetchDoc();
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`),
    );
    const served = registeredRoutes(app);
    expect(served.length).toBeGreaterThan(10);
    expect(served.filter((r) => !documented.includes(r))).toEqual([]);
    expect(documented.filter((r) => !served.includes(r))).toEqual([]);
  });

  it('says which routes need which token', async () => {
    const doc = await fetchDoc();
    expect(doc.components.securitySchemes.apiToken).toMatchObject({ type: 'http', scheme: 'bearer' });
    // People's browsers use the session cookie where tokens use the bearer header.
    expect(doc.paths['/api/v1/incidents']!.get!.security).toEqual([{ apiToken: [] }, { sessionCookie: [] }]);
    expect(doc.components.securitySchemes.sessionCookie).toMatchObject({ type: 'apiKey', in: 'cookie', name: 'incidentd_session' });
    expect(doc.paths['/api/v1/session']!.post!.security).toEqual([]);
    expect(doc.paths['/api/v1/alertmanager']!.post!.security).toEqual([{ sourceToken: [] }]);
    expect(doc.paths['/healthz']!.get!.security).toEqual([]);
    expect(doc.paths['/api/v1/openapi.json']!.get!.security).toEqual([]);
  });

  it('describes the list parameters and the alert bodies from the schemas that validate them', async () => {
    const doc = await fetchDoc();
    const params = Object.fromEntries(doc.paths['/api/v1/incidents']!.get!.parameters!.map((p) => [p.name, p]));
    expect(Object.keys(params)).toEqual(
      expect.arrayContaining(['status', 'severity', 'priority', 'openedAfter', 'openedBefore', 'q', 'sort', 'limit', 'cursor']),
    );
    expect(params.sort!.schema).toMatchObject({ enum: [...INCIDENT_SORTS] });
    expect(params.priority!.description).toContain('P1, P2, P3, P4, P5');
    expect(params.openedAfter!.schema).toMatchObject({ type: 'string', format: 'date-time' });
    expect(params.openedAfter!.description).toMatch(/inclusive/);
    expect(params.openedBefore!.description).toMatch(/exclusive/);
    expect(Object.values(params).every((p) => p.in === 'query' && p.required === false)).toBe(true);
    const number = doc.paths['/api/v1/incidents/{number}']!.get!.parameters!.find((p) => p.name === 'number')!;
    expect(number).toMatchObject({ in: 'path', required: true, schema: { type: 'string' } });
    const am = doc.paths['/api/v1/alertmanager']!.post!.requestBody!.content['application/json']!.schema;
    expect(am).toMatchObject({ type: 'object', required: expect.arrayContaining(['version', 'alerts']) });
  });

  it('describes the incident answers with the schemas real answers parse with', async () => {
    const res = await fetch(`${base}/api/v1/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${GENERIC_TOKEN}` },
      body: JSON.stringify({ alerts: [{ name: 'DiskFull', target: 'srv-1', status: 'firing' }] }),
    });
    expect(res.status).toBe(200);
    const auth = { authorization: `Bearer ${API_TOKEN}` };
    const page = incidentPageSchema.parse(await (await fetch(`${base}/api/v1/incidents`, { headers: auth })).json());
    expect(page.items).toHaveLength(1);
    const one = apiIncidentSchema.parse(await (await fetch(`${base}/api/v1/incidents/${page.items[0]!.number}`, { headers: auth })).json());
    expect(one.timeline!.length).toBeGreaterThan(0);
    const doc = await fetchDoc();
    expect(doc.paths['/api/v1/incidents']!.get!).toMatchObject({
      responses: { '200': { content: { 'application/json': { schema: { $ref: '#/components/schemas/IncidentPage' } } } } },
    });
  });
});
