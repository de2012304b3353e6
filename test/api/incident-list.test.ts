// GET /api/v1/incidents: the priority, opening-time and text filters, the sorts, and the 400s a
// caller gets for values it cannot use (naming the parameter and what it takes).
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

describe('GET /api/v1/incidents: filters and sorts', () => {
  let h: Harness;
  // 2026-03-14T09:30:00Z, one minute apart.
  let numbers: string[];

  beforeEach(async () => {
    h = await startApi(await makeStore());
    numbers = [];
    const specs = [
      { targetId: 'ap-lobby', severity: 'major', impact: 'organisation' }, // P1, 09:30
      { targetId: 'printer-3', severity: 'minor', impact: 'single-user', message: 'Toner low' }, // P5, 09:31
      { targetId: 'mail-1', severity: 'severe', impact: 'site' }, // 09:32
    ] as const;
    for (const spec of specs) {
      numbers.push(await seed(h.store, h.clock, spec));
      await h.clock.advance(60_000);
    }
  });
  afterEach(async () => {
    await h.close();
  });

  async function list(qs: string): Promise<string[]> {
    const res = await h.call(`/api/v1/incidents?${qs}`);
    expect(res.status).toBe(200);
    return (await json<ListJson>(res)).items.map((i) => i.number);
  }

  it('filters by priority (repeated or comma-separated), opening time and text', async () => {
    const [lobby, printer, mail] = numbers as [string, string, string];
    expect(await list('priority=P1')).toEqual([lobby]);
    expect(await list('priority=P1,P5')).toEqual([printer, lobby]);
    expect(await list('priority=P1&priority=P5')).toEqual([printer, lobby]);
    // openedAfter inclusive, openedBefore exclusive; any offset.
    expect(await list('openedAfter=2026-03-14T09:31:00Z&openedBefore=2026-03-14T09:32:00Z')).toEqual([printer]);
    expect(await list(`openedAfter=${encodeURIComponent('2026-03-14T10:31:00+01:00')}`)).toEqual([mail, printer]);
    expect(await list('q=PRINTER-3')).toEqual([printer]);
    expect(await list('q=ping%20failing&priority=P1')).toEqual([lobby]);
    // Tier: every seeded incident is at L1.
    expect(await list('tier=L1')).toEqual([mail, printer, lobby]);
    expect(await list('tier=L2,L3')).toEqual([]);
  });

  it('sorts, pages with the cursor of its own sort, and refuses one of another sort', async () => {
    const [lobby, printer, mail] = numbers as [string, string, string];
    expect(await list('')).toEqual([mail, printer, lobby]);
    expect(await list('sort=opened')).toEqual([lobby, printer, mail]);
    expect(await list('sort=-severity')).toEqual([lobby, mail, printer]);
    expect(await list('sort=priority')).toEqual([lobby, mail, printer]);
    const first = await json<ListJson>(await h.call('/api/v1/incidents?sort=-severity&limit=2'));
    expect(first.items.map((i) => i.number)).toEqual([lobby, mail]);
    expect(await list(`sort=-severity&limit=2&cursor=${first.next}`)).toEqual([printer]);
    const res = await h.call(`/api/v1/incidents?sort=opened&cursor=${first.next}`);
    expect(res.status).toBe(400);
    const body = await json<ErrorJson>(res);
    expect(body.issues).toEqual([{ field: 'cursor', message: expect.stringContaining('was returned for sort=-severity, not sort=opened') }]);
  });

  it.each([
    ['priority=P0', 'priority', 'must be one of P1, P2, P3, P4, P5'],
    ['priority=P1,high', 'priority', 'must be one of P1, P2, P3, P4, P5'],
    ['openedAfter=yesterday', 'openedAfter', 'must be an ISO 8601 time with an offset'],
    // Without an offset the time would be read in the server's zone.
    ['openedBefore=2026-03-14T09:30:00', 'openedBefore', 'must be an ISO 8601 time with an offset'],
    ['openedAfter=2026-03-14T09:30:00Z&openedAfter=2026-03-15T09:30:00Z', 'openedAfter', 'must be given at most once'],
    ['sort=newest', 'sort', 'must be one of -opened, opened, -lastSeen, lastSeen, -number, number, -severity, severity, -priority, priority'],
    ['sort=-opened&sort=opened', 'sort', 'must be one of'],
    [`q=${'x'.repeat(501)}`, 'q', 'must be at most 500 characters'],
  ])('rejects ?%s with 400 naming %s', async (qs, field, message) => {
    const res = await h.call(`/api/v1/incidents?${qs}`);
    expect(res.status).toBe(400);
    const body = await json<ErrorJson>(res);
    expect(body.error).toBe('bad_request');
    expect(body.issues).toEqual([{ field, message: expect.stringContaining(message) }]);
    expect(body.message).toContain(`${field}: `);
  });
});
