// The silences API over a real socket and a real SQLite store: who created it, validation errors in
// the API's JSON error shape, listing by state, and expiry.
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/api/metrics.js';
import { buildApi } from '../../src/api/server.js';
import { FakeClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import type { IncidentStore } from '../../src/store/types.js';
import { OPS_TOKEN, storeCommands } from './harness.js';
import { makeStore } from './store.js';

const T0 = Date.UTC(2026, 2, 14, 9, 30);
const HOUR = 3_600_000;

let store: IncidentStore;
let app: FastifyInstance;
let base: string;
let clock: FakeClock;
let changes = 0;

beforeEach(async () => {
  store = await makeStore();
  clock = new FakeClock(T0);
  changes = 0;
  app = buildApi({
    store,
    commands: storeCommands(store, clock),
    tokens: () => [OPS_TOKEN],
    ready: async () => ({ ready: true, checks: {} }),
    metrics: createMetrics({ countActive: () => store.countActive() }),
    logger: silentLogger(),
    clock,
    silences: { store, clock, changed: async () => void changes++ },
  });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterEach(async () => {
  await app.close();
  await store.close();
});

function call(path: string, init: { method?: string; body?: unknown; token?: string | null } = {}) {
  const headers: Record<string, string> = {};
  if (init.token !== null) headers.authorization = `Bearer ${init.token ?? OPS_TOKEN.token}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  return fetch(`${base}${path}`, { method: init.method ?? 'GET', headers, ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }) });
}

async function post(body: unknown) {
  const res = await call('/api/v1/silences', { method: 'POST', body });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

describe('POST /api/v1/silences', () => {
  it('creates an active silence from now for the duration, created by the token unless given', async () => {
    const r = await post({ matchers: ['target=ap-1', 'labels.alertname=~Disk.*'], duration: '2h', comment: 'swap of ap-1' });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      startsAt: new Date(T0).toISOString(),
      endsAt: new Date(T0 + 2 * HOUR).toISOString(),
      createdBy: 'ops-team',
      comment: 'swap of ap-1',
      status: { state: 'active' },
      matchers: [
        { name: 'target', op: '=', value: 'ap-1', text: 'target=ap-1' },
        { name: 'labels.alertname', op: '=~', value: 'Disk.*', text: 'labels.alertname=~Disk.*' },
      ],
    });
    expect(r.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(changes).toBe(1);
    const by = await post({ matchers: [{ name: 'site', op: '=', value: 'hq' }], endsAt: '2026-03-14T12:00:00Z', startsAt: '2026-03-14T10:00:00Z', createdBy: 'alice', comment: 'x' });
    expect(by.status).toBe(201);
    expect(by.body).toMatchObject({ createdBy: 'alice', status: { state: 'pending' } });
  });

  it('answers 400 with the field and what is wrong', async () => {
    const cases: [unknown, string, RegExp][] = [
      [{ matchers: ['labels.alertname=~Disk(('], duration: '1h', comment: 'c' }, 'matchers[0]', /invalid regular expression "Disk\(\(/],
      [{ matchers: ['target=ap-1'], startsAt: '2026-03-14T12:00:00Z', endsAt: '2026-03-14T11:00:00Z', comment: 'c' }, 'endsAt', /is not after startsAt/],
      [{ matchers: [], duration: '1h', comment: 'c' }, 'matchers', /at least one matcher/],
      [{ matchers: ['target=~.*'], duration: '1h', comment: 'c' }, 'matchers', /would hold back everything/],
      [{ matchers: ['host=ap-1'], duration: '1h', comment: 'c' }, 'matchers[0]', /"host" is not a field a silence can match/],
      [{ matchers: ['ap-1'], duration: '1h', comment: 'c' }, 'matchers[0]', /is not a matcher/],
      [{ matchers: ['target=ap-1'], duration: '1h' }, 'comment', /is required/],
      [{ matchers: ['target=ap-1'], duration: '1h', comment: '  ' }, 'comment', /must not be empty/],
      [{ matchers: ['target=ap-1'], comment: 'c' }, 'endsAt', /give endsAt .* or duration/],
      [{ matchers: ['target=ap-1'], duration: 'soon', comment: 'c' }, 'duration', /"soon" is not a duration/],
      [{ matchers: ['target=ap-1'], endsAt: '2026-03-14 12:00', comment: 'c' }, 'endsAt', /ISO 8601/],
      [{ matchers: ['target=ap-1'], duration: '1h', comment: 'c', owner: 'x' }, 'body', /unknown field owner/],
    ];
    for (const [body, field, message] of cases) {
      const r = await post(body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error).toBe('bad_request');
      expect(r.body.issues, JSON.stringify(body)).toEqual(expect.arrayContaining([{ field, message: expect.stringMatching(message) }]));
    }
    expect(await store.listSilences([], clock.now(), 10)).toEqual([]);
  });

  it('needs a token like the rest of the API', async () => {
    const res = await call('/api/v1/silences', { method: 'POST', body: { matchers: ['target=a'], duration: '1h', comment: 'c' }, token: null });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'unauthorized' });
    expect((await call('/api/v1/silences', { token: 'wrong-token' })).status).toBe(401);
  });
});

describe('GET and DELETE /api/v1/silences', () => {
  it('lists by state and expires by id; expiring twice is a conflict, an unknown id a 404', async () => {
    const a = (await post({ matchers: ['target=a'], duration: '1h', comment: 'a' })).body;
    const b = (await post({ matchers: ['target=b'], startsAt: '2026-03-14T11:00:00Z', duration: '1h', comment: 'b' })).body;
    const list = async (q: string) => ((await (await call(`/api/v1/silences${q}`)).json()) as { items: { id: string; status: { state: string } }[] }).items;
    expect((await list('?state=active')).map((s) => s.id)).toEqual([a.id]);
    expect((await list('?state=pending,active')).map((s) => s.id)).toEqual([a.id, b.id]);

    const del = await call(`/api/v1/silences/${a.id}`, { method: 'DELETE' });
    expect(del.status).toBe(200);
    expect(await del.json()).toMatchObject({ id: a.id, status: { state: 'expired' }, endsAt: new Date(T0).toISOString() });
    expect((await list('?state=expired')).map((s) => s.id)).toEqual([a.id]);
    expect((await list('')).map((s) => s.status.state)).toEqual(['pending', 'expired']);

    const again = await call(`/api/v1/silences/${a.id}`, { method: 'DELETE' });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ error: 'conflict', message: `silence ${a.id} has already expired; nothing to do` });
    const unknown = await call('/api/v1/silences/no-such-id', { method: 'DELETE' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: 'not_found', message: expect.stringContaining('no silence with id "no-such-id"') });

    const bad = await call('/api/v1/silences?state=gone');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ issues: [{ field: 'state', message: expect.stringContaining('pending, active, expired') }] });
  });
});

describe('GET /api/v1/silences a page at a time', () => {
  it('pages through live then ended silences with limit and cursor, each once, judged at the time of the first page', async () => {
    // Five active ones ending 1..5 h from now, two ended ones (expired at T0 and a minute later).
    const ids: string[] = [];
    for (let h = 1; h <= 5; h++) ids.push((await post({ matchers: [`target=t${h}`], duration: `${h}h`, comment: `s${h}` })).body.id as string);
    const gone1 = (await post({ matchers: ['target=g1'], duration: '1h', comment: 'g1' })).body.id as string;
    expect((await call(`/api/v1/silences/${gone1}`, { method: 'DELETE' })).status).toBe(200);
    await clock.advance(60_000);
    const gone2 = (await post({ matchers: ['target=g2'], duration: '1h', comment: 'g2' })).body.id as string;
    expect((await call(`/api/v1/silences/${gone2}`, { method: 'DELETE' })).status).toBe(200);

    const page = async (q: string) => {
      const res = await call(`/api/v1/silences${q}`);
      expect(res.status).toBe(200);
      return (await res.json()) as { items: { id: string; status: { state: string } }[]; next: string | null };
    };
    const first = await page('?limit=3');
    expect(first.items.map((s) => s.id)).toEqual(ids.slice(0, 3));
    expect(first.next).toEqual(expect.any(String));
    // The silence ending in 1 h ends between two pages: the listing still judges it active.
    await clock.advance(HOUR);
    const second = await page(`?limit=3&cursor=${first.next}`);
    expect(second.items.map((s) => s.id)).toEqual([ids[3], ids[4], gone2]);
    expect(second.items.map((s) => s.status.state)).toEqual(['active', 'active', 'expired']);
    const third = await page(`?limit=3&cursor=${second.next}`);
    expect(third.items.map((s) => s.id)).toEqual([gone1]);
    expect(third.next).toBeNull();

    // An exactly full last page says there is no more.
    expect((await page('?state=expired&limit=3')).next).toBeNull();
    const bad = await call('/api/v1/silences?limit=0&cursor=nonsense');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ issues: [{ field: 'limit', message: 'must be a whole number from 1 to 500' }] });
    const foreign = await call('/api/v1/silences?cursor=nonsense');
    expect(foreign.status).toBe(400);
    expect(await foreign.json()).toMatchObject({ issues: [{ field: 'cursor' }] });
  });
});
