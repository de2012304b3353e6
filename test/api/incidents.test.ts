import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { json, seed, startApi, type ApiIncidentJson, type Harness } from './harness.js';
import { makeStore } from './store.js';

interface ListJson {
  items: ApiIncidentJson[];
  next: string | null;
}

interface ErrorJson {
  error: string;
  message: string;
  issues?: { field: string; message: string }[];
}

describe('incidents API', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await startApi(await makeStore());
  });
  afterEach(async () => {
    await h.close();
  });

  /** Seeds one incident per spec, one minute apart, and returns their numbers in order. */
  async function seedMany(specs: Parameters<typeof seed>[2][]): Promise<string[]> {
    const numbers: string[] = [];
    for (const spec of specs) {
      numbers.push(await seed(h.store, h.clock, spec));
      await h.clock.advance(60_000);
    }
    return numbers;
  }

  describe('GET /api/v1/incidents', () => {
    it('lists newest first, serialised with ISO times and without timelines', async () => {
      const [first, second] = await seedMany([
        { targetId: 'ap-lobby', severity: 'major' },
        { targetId: 'printer-3', severity: 'minor', category: 'printing' },
      ]);
      const res = await h.call('/api/v1/incidents');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      const body = await json<ListJson>(res);
      expect(body.items.map((i) => i.number)).toEqual([second, first]);
      expect(body.next).toBeNull();

      const lobby = body.items[1]!;
      expect(lobby).toMatchObject({
        number: first,
        status: 'open',
        title: 'ap-lobby ping failing',
        category: 'network',
        severity: 'major',
        impact: 'site',
        priority: 'P1',
        tier: 'L1',
        ruleId: 'device-down',
        source: 'probe',
        target: { id: 'ap-lobby', kind: 'wifi-ap', name: 'AP ap-lobby', site: 'hq', labels: { floor: '2' } },
        check: { name: 'ping', type: 'icmp' },
        labels: { team: 'network' },
        occurrences: 1,
        lastMessage: '100% packet loss',
        firstSeen: '2026-03-14T09:30:00.000Z',
        lastSeen: '2026-03-14T09:30:00.000Z',
        acknowledgedAt: null,
        acknowledgedBy: null,
        resolvedAt: null,
        closedAt: null,
        reopenCount: 0,
        flapping: false,
        related: [],
      });
      expect(lobby.fingerprint).toMatch(/^[0-9a-f]{32}$/);
      expect(lobby).not.toHaveProperty('timeline');
      expect(lobby).not.toHaveProperty('seq');
    });

    it('filters by comma-separated status and severity lists', async () => {
      const [lobby, printer, mail] = await seedMany([
        { targetId: 'ap-lobby', severity: 'major' },
        { targetId: 'printer-3', severity: 'minor' },
        { targetId: 'mail-1', severity: 'severe' },
      ]);
      expect((await h.call(`/api/v1/incidents/${printer}/ack`, { method: 'POST' })).status).toBe(200);
      expect((await h.call(`/api/v1/incidents/${mail}/resolve`, { method: 'POST' })).status).toBe(200);

      const active = await json<ListJson>(await h.call('/api/v1/incidents?status=open,acknowledged'));
      expect(active.items.map((i) => i.number)).toEqual([printer, lobby]);

      const serious = await json<ListJson>(await h.call('/api/v1/incidents?severity=major,severe'));
      expect(serious.items.map((i) => i.number)).toEqual([mail, lobby]);

      const both = await json<ListJson>(await h.call('/api/v1/incidents?status=open&severity=minor,major'));
      expect(both.items.map((i) => i.number)).toEqual([lobby]);
    });

    it('filters by category, site and target; an empty value means no filter', async () => {
      const [lobby, printer, branch] = await seedMany([
        { targetId: 'ap-lobby', category: 'network', site: 'hq' },
        { targetId: 'printer-3', category: 'printing', site: 'hq' },
        { targetId: 'ap-branch', category: 'network', site: 'branch-lyon' },
      ]);
      const byCategory = await json<ListJson>(await h.call('/api/v1/incidents?category=printing'));
      expect(byCategory.items.map((i) => i.number)).toEqual([printer]);
      const bySite = await json<ListJson>(await h.call('/api/v1/incidents?site=branch-lyon'));
      expect(bySite.items.map((i) => i.number)).toEqual([branch]);
      const byTarget = await json<ListJson>(await h.call('/api/v1/incidents?target=ap-lobby&category='));
      expect(byTarget.items.map((i) => i.number)).toEqual([lobby]);
    });

    it('pages with limit and the next cursor until the end', async () => {
      const numbers = await seedMany(
        ['a', 'b', 'c', 'd', 'e'].map((id) => ({ targetId: `ap-${id}` })),
      );
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const qs: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
        const page = await json<ListJson>(await h.call(`/api/v1/incidents?limit=2${qs}`));
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items.map((i) => i.number));
        cursor = page.next;
        pages += 1;
      } while (cursor !== null && pages < 10);
      expect(pages).toBe(3);
      expect(seen).toEqual([...numbers].reverse());
    });

    it('defaults to 50 items per page', async () => {
      await seedMany(Array.from({ length: 51 }, (_, n) => ({ targetId: `ap-${n}` })));
      const page = await json<ListJson>(await h.call('/api/v1/incidents'));
      expect(page.items).toHaveLength(50);
      expect(page.next).not.toBeNull();
    });

    it('refuses a cursor the store did not hand out with 400', async () => {
      await seedMany([{ targetId: 'ap-a' }]);
      const res = await h.call('/api/v1/incidents?cursor=not-a-cursor');
      expect(res.status).toBe(400);
      const body = await json<ErrorJson>(res);
      expect(body.error).toBe('bad_request');
      expect(body.message).toMatch(/^cursor: /);
    });

    it.each([
      ['status=opne', 'status: must be one of open, acknowledged, resolved, closed'],
      ['severity=critical', 'severity: must be one of minor, medium, severe, major'],
      ['limit=0', 'limit: must be a whole number from 1 to 500'],
      ['limit=501', 'limit: must be a whole number from 1 to 500'],
      ['limit=ten', 'limit: must be a whole number from 1 to 500'],
      ['stauts=open', 'query: unknown parameter stauts'],
    ])('rejects ?%s with 400', async (qs, message) => {
      const res = await h.call(`/api/v1/incidents?${qs}`);
      expect(res.status).toBe(400);
      const body = await json<ErrorJson>(res);
      expect(body.error).toBe('bad_request');
      expect(body.message).toContain(message);
    });
  });

  describe('GET /api/v1/incidents/:number', () => {
    it('returns the incident with its timeline', async () => {
      const [number] = await seedMany([{ targetId: 'ap-lobby' }]);
      const res = await h.call(`/api/v1/incidents/${number}`);
      expect(res.status).toBe(200);
      const body = await json<ApiIncidentJson>(res);
      expect(body.number).toBe(number);
      expect(body.timeline).toEqual([
        { at: '2026-03-14T09:30:00.000Z', actor: 'device-down', action: 'opened', message: '100% packet loss' },
      ]);
    });

    it('answers 404 for a number that names no incident', async () => {
      const res = await h.call('/api/v1/incidents/INC-000123');
      expect(res.status).toBe(404);
      expect(await json(res)).toEqual({ error: 'not_found', message: 'incident INC-000123 does not exist' });
    });

    it.each(['123', 'INC-12', 'INC-00012a', 'incident-000001'])('answers 400 for the malformed number %s', async (n) => {
      const res = await h.call(`/api/v1/incidents/${n}`);
      expect(res.status).toBe(400);
      const body = await json<ErrorJson>(res);
      expect(body.error).toBe('bad_request');
      expect(body.message).toMatch(/INC-000123/);
    });
  });

  describe('acknowledge, resolve, comment', () => {
    let number: string;
    beforeEach(async () => {
      number = await seed(h.store, h.clock, { targetId: 'ap-lobby', severity: 'major' });
      await h.clock.advance(5 * 60_000);
    });

    it('acknowledges once (200), then refuses a second acknowledgement with 409', async () => {
      const res = await h.call(`/api/v1/incidents/${number}/ack`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ message: 'on it, driving to the site' }),
      });
      expect(res.status).toBe(200);
      const body = await json<ApiIncidentJson>(res);
      expect(body).toMatchObject({
        number,
        status: 'acknowledged',
        acknowledgedBy: 'ops-team',
        acknowledgedAt: '2026-03-14T09:35:00.000Z',
      });
      expect(body.timeline?.at(-1)).toEqual({
        at: '2026-03-14T09:35:00.000Z',
        actor: 'ops-team',
        action: 'acknowledged',
        message: 'on it, driving to the site',
      });

      const again = await h.call(`/api/v1/incidents/${number}/ack`, { method: 'POST' });
      expect(again.status).toBe(409);
      const err = await json<ErrorJson>(again);
      expect(err.error).toBe('conflict');
      expect(err.message).toMatch(/acknowledged/);
    });

    it('resolves an active incident and keeps it resolved in the store', async () => {
      const res = await h.call(`/api/v1/incidents/${number}/resolve`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ message: 'replaced the PoE injector' }),
      });
      expect(res.status).toBe(200);
      expect(await json(res)).toMatchObject({ status: 'resolved', resolvedBy: 'ops-team' });
      expect((await h.store.get(number))?.status).toBe('resolved');

      const again = await h.call(`/api/v1/incidents/${number}/resolve`, { method: 'POST' });
      expect(again.status).toBe(409);
    });

    it('answers 404 when acting on an incident that does not exist', async () => {
      const res = await h.call('/api/v1/incidents/INC-009999/ack', { method: 'POST' });
      expect(res.status).toBe(404);
      expect(await json(res)).toEqual({ error: 'not_found', message: 'incident INC-009999 does not exist' });
    });

    it('keeps a person informed: POST subscribers adds the address once (201) and 400s a bad one', async () => {
      const post = (body: unknown) =>
        h.call(`/api/v1/incidents/${number}/subscribers`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      const res = await post({ address: 'alice@example.org' });
      expect(res.status).toBe(201);
      const body = await json<ApiIncidentJson>(res);
      expect(body.subscribers).toEqual(['alice@example.org']);
      expect(body.timeline?.at(-1)).toMatchObject({ actor: 'ops-team', action: 'subscribed', message: 'alice@example.org is kept informed' });
      expect((await json<ApiIncidentJson>(await post({ address: 'alice@example.org' }))).subscribers).toEqual(['alice@example.org']);

      const bad = await post({ address: 'not-an-address' });
      expect(bad.status).toBe(400);
      expect(await json(bad)).toMatchObject({ issues: [{ field: 'address', message: 'must be a mail address like alice@example.org' }] });
      const missing = await post({});
      expect(await json(missing)).toMatchObject({ issues: [{ field: 'address', message: expect.stringMatching(/^is required/) }] });
      const unknown = await h.call('/api/v1/incidents/INC-009999/subscribers', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ address: 'bob@example.org' }),
      });
      expect(unknown.status).toBe(404);
      expect((await h.store.get(number))?.subscribers).toEqual(['alice@example.org']);
    });

    it('adds a comment with 201 and shows it in the timeline', async () => {
      const res = await h.call(`/api/v1/incidents/${number}/comments`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'Caller says the lobby AP blinks orange.' }),
      });
      expect(res.status).toBe(201);
      const body = await json<ApiIncidentJson>(res);
      expect(body.timeline?.at(-1)).toMatchObject({
        actor: 'ops-team',
        action: 'commented',
        message: 'Caller says the lobby AP blinks orange.',
      });
      const stored = await h.store.get(number);
      expect(stored?.timeline.some((e) => e.action === 'commented')).toBe(true);
    });

    it.each([
      ['empty text', { text: '' }],
      ['blank text', { text: '   ' }],
      ['no text', {}],
      ['text too long', { text: 'x'.repeat(10_001) }],
      ['a number', { text: 42 }],
    ])('refuses a comment with %s (400) and records nothing', async (_name, payload) => {
      const res = await h.call(`/api/v1/incidents/${number}/comments`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(payload),
      });
      expect(res.status).toBe(400);
      const body = await json<ErrorJson>(res);
      expect(body.error).toBe('bad_request');
      expect(body.message).toMatch(/^text: /);
      const stored = await h.store.get(number);
      expect(stored?.timeline.some((e) => e.action === 'commented')).toBe(false);
    });

    it('refuses a body that is not JSON with 415', async () => {
      const res = await h.call(`/api/v1/incidents/${number}/comments`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: 'hello',
      });
      expect(res.status).toBe(415);
      const body = await json<ErrorJson>(res);
      expect(body.error).toBe('unsupported_media_type');
      expect(body.message).toContain('application/json');
    });

    it('refuses invalid JSON with 400 and the parser message', async () => {
      const res = await h.call(`/api/v1/incidents/${number}/ack`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"message": "half',
      });
      expect(res.status).toBe(400);
      const body = await json<ErrorJson>(res);
      expect(body.error).toBe('bad_request');
      expect(body.message).toMatch(/^body: is not valid JSON: .*JSON/);
      expect((await h.store.get(number))?.status).toBe('open');
    });

    it('refuses unknown fields in an ack body', async () => {
      const res = await h.call(`/api/v1/incidents/${number}/ack`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ mesage: 'typo' }),
      });
      expect(res.status).toBe(400);
      expect((await json<ErrorJson>(res)).message).toContain('mesage');
    });

    it('refuses a body over 1 MiB with 413', async () => {
      const res = await h.call(`/api/v1/incidents/${number}/comments`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'x'.repeat(1024 * 1024) }),
      });
      expect(res.status).toBe(413);
      expect((await json<ErrorJson>(res)).error).toBe('payload_too_large');
    });
  });

  it('answers 503 when the store is unavailable', async () => {
    const number = await seed(h.store, h.clock, { targetId: 'ap-lobby' });
    // A closed store behaves as an unreachable one: every call throws StoreUnavailableError.
    await h.store.close();
    const list = await h.call('/api/v1/incidents');
    expect(list.status).toBe(503);
    expect((await json<ErrorJson>(list)).error).toBe('unavailable');
    const ack = await h.call(`/api/v1/incidents/${number}/ack`, { method: 'POST' });
    expect(ack.status).toBe(503);
  });

  it('answers unknown routes with a JSON 404', async () => {
    const res = await h.call('/api/v1/nothing-here');
    expect(res.status).toBe(404);
    expect(await json(res)).toEqual({ error: 'not_found', message: 'no route GET /api/v1/nothing-here' });
  });
});
