// Wrong tokens and routing keys, over real HTTP: the 403 does not name whose token it is, and an
// address that keeps guessing is answered 429 with Retry-After for a while, whatever it sends.
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuthFailureLimiter } from '../../src/api/auth-limiter.js';
import { createMetrics } from '../../src/api/metrics.js';
import { buildApi } from '../../src/api/server.js';
import { FakeClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { harness, type Harness } from '../incidents/harness.js';
import { AM_TOKEN, API_TOKEN, GENERIC_TOKEN, ROUTING_KEY, RULES, SOURCES } from '../sources/harness.js';

const alert = { alerts: [{ name: 'DiskFull', target: 'srv-1', status: 'firing' }] };

let h: Harness;
let app: FastifyInstance;
let base: string;
let clock: FakeClock;

beforeEach(async () => {
  clock = new FakeClock(Date.UTC(2026, 2, 14, 9, 30));
  h = await harness({ rules: RULES });
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
  });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});
afterEach(async () => {
  await app.close();
  await h.close();
});

function post(path: string, body: unknown, token?: string) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  return fetch(base + path, { method: 'POST', headers, body: JSON.stringify(body) });
}

describe('403 for a token of another scope', () => {
  it('says only that the token may not do this, not whose it is', async () => {
    for (const [path, token, body] of [
      ['/api/v1/alerts', API_TOKEN, alert],
      ['/api/v1/alerts', AM_TOKEN, alert],
      ['/api/v1/alertmanager', GENERIC_TOKEN, { version: '4', alerts: [] }],
    ] as const) {
      const r = await post(path, body, token);
      expect(r.status).toBe(403);
      const text = await r.text();
      expect(text).toMatch(/this token may not send alerts here/);
      expect(text).not.toMatch(/admin|prom|webhook|API token|of type|source "/);
    }
  });
});

describe('rate limit on wrong credentials', () => {
  it('answers 429 with Retry-After after 10 wrong source tokens in a minute, even for a right one, until the block ends', async () => {
    for (let i = 0; i < 10; i++) expect((await post('/api/v1/alerts', alert, `guess-${i}`)).status).toBe(401);
    const blocked = await post('/api/v1/alerts', alert, GENERIC_TOKEN);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await blocked.json()) as { message: string }).message).toMatch(/too many failed/);
    // The same address is blocked on the API and the PagerDuty route as well.
    expect((await fetch(`${base}/api/v1/incidents`, { headers: { authorization: `Bearer ${API_TOKEN}` } })).status).toBe(429);
    expect((await post('/v2/enqueue', { routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: 'x' })).status).toBe(429);
    expect((await h.store.list({}, 10)).items).toHaveLength(0);

    await clock.advance(Number(blocked.headers.get('retry-after')) * 1000);
    expect((await post('/api/v1/alerts', alert, GENERIC_TOKEN)).status).toBe(200);
  });

  it('counts wrong API tokens and wrong routing keys too; failures spread over more than a minute do not block', async () => {
    for (let i = 0; i < 5; i++) {
      expect((await fetch(`${base}/api/v1/incidents`, { headers: { authorization: `Bearer nope-${i}` } })).status).toBe(401);
    }
    for (let i = 0; i < 4; i++) {
      const r = await post('/v2/enqueue', { routing_key: `R-wrong-${i}`, event_action: 'resolve', dedup_key: 'x' });
      expect(r.status).toBe(400);
    }
    await clock.advance(61_000);
    // A new window: nine more failures are not ten.
    for (let i = 0; i < 9; i++) expect((await post('/api/v1/alerts', alert, `guess-${i}`)).status).toBe(401);
    expect((await fetch(`${base}/api/v1/incidents`, { headers: { authorization: `Bearer ${API_TOKEN}` } })).status).toBe(200);
    // The tenth within the window blocks.
    expect((await post('/v2/enqueue', { routing_key: 'R-wrong', event_action: 'resolve', dedup_key: 'x' })).status).toBe(400);
    expect((await fetch(`${base}/api/v1/incidents`, { headers: { authorization: `Bearer ${API_TOKEN}` } })).status).toBe(429);
  });

  it('a caller without any Authorization header is told so, not blocked', async () => {
    for (let i = 0; i < 20; i++) expect((await post('/api/v1/alerts', alert)).status).toBe(401);
    expect((await post('/api/v1/alerts', alert, GENERIC_TOKEN)).status).toBe(200);
  });
});

describe('AuthFailureLimiter', () => {
  it('blocks only the failing address', () => {
    const c = new FakeClock();
    const l = new AuthFailureLimiter(c, { maxFailures: 3, windowMs: 60_000, blockMs: 120_000 });
    for (let i = 0; i < 3; i++) l.fail('192.0.2.1');
    expect(l.check('192.0.2.1')).toEqual({ blocked: true, retryAfterS: 120 });
    expect(l.check('192.0.2.2')).toEqual({ blocked: false });
  });

  it('holds at most maxEntries addresses however many fail, dropping the least recently seen', () => {
    const c = new FakeClock();
    const l = new AuthFailureLimiter(c, { maxFailures: 2, maxEntries: 100 });
    l.fail('198.51.100.1');
    l.fail('198.51.100.1');
    for (let i = 0; i < 10_000; i++) l.fail(`2001:db8::${i.toString(16)}`);
    expect(l.size()).toBe(100);
    // The oldest went first; the newest are still counted.
    expect(l.check('198.51.100.1')).toEqual({ blocked: false });
    l.fail('2001:db8::270f');
    expect(l.check('2001:db8::270f').blocked).toBe(true);
  });

  it('forgets an address once its window or block has passed', async () => {
    const c = new FakeClock();
    const l = new AuthFailureLimiter(c, { maxFailures: 2, windowMs: 60_000, blockMs: 60_000 });
    l.fail('192.0.2.9');
    await c.advance(60_000);
    expect(l.check('192.0.2.9')).toEqual({ blocked: false });
    expect(l.size()).toBe(0);
    l.fail('192.0.2.9');
    l.fail('192.0.2.9');
    expect(l.check('192.0.2.9').blocked).toBe(true);
    await c.advance(60_000);
    expect(l.check('192.0.2.9')).toEqual({ blocked: false });
    expect(l.size()).toBe(0);
  });
});
