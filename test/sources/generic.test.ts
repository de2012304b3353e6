// Generic alert batches, every class of bad input, authentication and overload, over real HTTP.
import { afterEach, describe, expect, it } from 'vitest';
import type { IncidentStore } from '../../src/store/types.js';
import { AM_TOKEN, API_TOKEN, GENERIC_TOKEN, alertServer, type AlertServer } from './harness.js';

let s: AlertServer | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

const disk = (target: unknown, status = 'firing', extra: Record<string, unknown> = {}) => ({
  name: 'DiskFull',
  target,
  status,
  annotations: { summary: 'disk /var is 97% full' },
  values: { usedPercent: 97 },
  ...extra,
});

describe('POST /api/v1/alerts', () => {
  it('turns a batch into incidents, dedups repeats into one incident each, and resolves them', async () => {
    s = await alertServer();
    const batch = {
      alerts: [
        disk('srv-1'),
        disk({ id: 'srv-2', kind: 'server', name: 'Mail server', site: 'hq' }, 'firing', { severity: 'critical' }),
      ],
    };
    const r = await s.post('/api/v1/alerts', batch, { token: GENERIC_TOKEN });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: 'success', accepted: 2 });
    // The same batch again, and the same alert twice within one batch: still one incident per alert.
    expect((await s.post('/api/v1/alerts', batch, { token: GENERIC_TOKEN })).status).toBe(200);
    expect((await s.post('/api/v1/alerts', { alerts: [disk('srv-1'), disk('srv-1')] }, { token: GENERIC_TOKEN })).status).toBe(200);

    const open = await s.active();
    expect(open).toHaveLength(2);
    const srv1 = open.find((i) => i.target.id === 'srv-1')!;
    const srv2 = open.find((i) => i.target.id === 'srv-2')!;
    expect(srv1.occurrences).toBe(4);
    expect(srv1.ruleId).toBe('uncategorized');
    expect(srv1.labels).toMatchObject({ alertname: 'DiskFull', team: 'ops' });
    expect(srv1.lastMessage).toBe('disk /var is 97% full');
    // The severity hint reaches the rules as labels.severity.
    expect(srv2).toMatchObject({ ruleId: 'critical-alert', severity: 'major', occurrences: 2 });
    expect(srv2.target).toMatchObject({ name: 'Mail server', site: 'hq' });

    const done = { alerts: [disk('srv-1', 'resolved'), disk({ id: 'srv-2' }, 'resolved', { severity: 'critical' })] };
    expect((await s.post('/api/v1/alerts', done, { token: GENERIC_TOKEN })).status).toBe(200);
    expect(await s.active()).toHaveLength(0);
    expect((await s.all()).map((i) => i.status)).toEqual(['resolved', 'resolved']);
  });

  it('keeps the reporter informed: subscribers of an alert land on its incident; a bad address is a 400', async () => {
    s = await alertServer();
    const r = await s.post('/api/v1/alerts', { alerts: [disk('srv-1', 'firing', { subscribers: ['alice@example.org'] })] }, { token: GENERIC_TOKEN });
    expect(r.status).toBe(200);
    const [inc] = await s.active();
    expect(inc!.subscribers).toEqual(['alice@example.org']);
    const bad = await s.post('/api/v1/alerts', { alerts: [disk('srv-1', 'firing', { subscribers: ['alice'] })] }, { token: GENERIC_TOKEN });
    expect(bad.status).toBe(400);
    expect(bad.body.issues).toEqual([{ field: 'alerts[0].subscribers[0]', message: 'must be a mail address like alice@example.org' }]);
  });

  it('keeps alerts with distinct dedup keys apart as series: one resolving does not resolve the other', async () => {
    s = await alertServer();
    const a = disk('srv-1', 'firing', { dedup_key: 'var' });
    const b = disk('srv-1', 'firing', { dedup_key: 'home' });
    expect((await s.post('/api/v1/alerts', { alerts: [a, b] }, { token: GENERIC_TOKEN })).status).toBe(200);
    expect(await s.active()).toHaveLength(1);
    expect((await s.post('/api/v1/alerts', { alerts: [{ ...a, status: 'resolved' }] }, { token: GENERIC_TOKEN })).status).toBe(200);
    // The problem (same target, name, rule) is still fired by the other series.
    expect(await s.active()).toHaveLength(1);
    expect((await s.post('/api/v1/alerts', { alerts: [{ ...b, status: 'resolved' }] }, { token: GENERIC_TOKEN })).status).toBe(200);
    expect(await s.active()).toHaveLength(0);
  });
});

describe('bad input', () => {
  it('names every invalid field by JSON path and applies nothing of the batch', async () => {
    s = await alertServer();
    const body = {
      alerts: [
        disk('srv-1'),
        { name: '', target: { id: 'srv-2', color: 'red' }, status: 'burning', labels: { a: 1 }, startsAt: 'yesterday' },
        { target: 42, status: 'firing' },
      ],
    };
    const r = await s.post('/api/v1/alerts', body, { token: GENERIC_TOKEN });
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('bad_request');
    const byField = Object.fromEntries(r.body.issues.map((i: { field: string; message: string }) => [i.field, i.message]));
    expect(Object.keys(byField).sort()).toEqual(
      [
        'alerts[1].name',
        'alerts[1].target.color',
        'alerts[1].status',
        'alerts[1].labels.a',
        'alerts[1].startsAt',
        'alerts[2].name',
        'alerts[2].target',
      ].sort(),
    );
    expect(byField['alerts[1].status']).toBe('must be "firing" or "resolved"');
    expect(byField['alerts[1].target.color']).toMatch(/not a known field/);
    expect(byField['alerts[2].name']).toMatch(/is required/);
    expect(byField['alerts[2].target']).toMatch(/target id \(a string\) or an object/);
    expect(byField['alerts[1].startsAt']).toMatch(/RFC 3339/);
    expect(await s.all()).toHaveLength(0);
  });

  it('answers 400 for invalid JSON, an empty body, a non-object and an empty batch', async () => {
    s = await alertServer();
    const cases: [string | undefined, unknown, string][] = [
      ['{"alerts": [', undefined, 'body'],
      ['', undefined, 'body'],
      [undefined, [1, 2], 'body'],
      [undefined, { alerts: [] }, 'alerts'],
    ];
    for (const [raw, body, field] of cases) {
      const r = await s.post('/api/v1/alerts', body, { token: GENERIC_TOKEN, raw });
      expect(r.status, JSON.stringify(raw ?? body)).toBe(400);
      expect(r.body.issues[0].field).toBe(field);
    }
    const invalid = await s.post('/api/v1/alerts', undefined, { token: GENERIC_TOKEN, raw: '{"alerts": [' });
    expect(invalid.body.message).toMatch(/not valid JSON/);
  });

  it('answers 415 for a body that is not JSON and 413 above max_body_bytes', async () => {
    s = await alertServer({ maxBodyBytes: 2048 });
    const text = await s.post('/api/v1/alerts', undefined, { token: GENERIC_TOKEN, contentType: 'text/plain', raw: 'DiskFull on srv-1' });
    expect(text.status).toBe(415);
    expect(text.body.message).toMatch(/Content-Type: application\/json/);
    const form = await s.post('/api/v1/alerts', undefined, { token: GENERIC_TOKEN, contentType: 'application/x-www-form-urlencoded', raw: 'a=b' });
    expect(form.status).toBe(415);

    const big = { alerts: Array.from({ length: 40 }, (_, i) => disk(`srv-${i}`)) };
    const r = await s.post('/api/v1/alerts', big, { token: GENERIC_TOKEN });
    expect(r.status).toBe(413);
    expect(r.body.message).toMatch(/max_body_bytes \(2048 bytes\)/);
    expect(await s.all()).toHaveLength(0);
  });
});

describe('authentication', () => {
  it('401 without a token, with a malformed header or an unknown token; 403 for a token of another scope', async () => {
    s = await alertServer();
    const ok = { alerts: [disk('srv-1')] };
    const none = await s.post('/api/v1/alerts', ok, { token: null });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);

    const res = await fetch(`${s.url}/api/v1/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from('a:b').toString('base64')}` },
      body: JSON.stringify(ok),
    });
    expect(res.status).toBe(401);
    expect((await s.post('/api/v1/alerts', ok, { token: 'not-a-known-token' })).status).toBe(401);
    // A token one character off is as unknown as any other.
    expect((await s.post('/api/v1/alerts', ok, { token: `${GENERIC_TOKEN}x` })).status).toBe(401);

    const api = await s.post('/api/v1/alerts', ok, { token: API_TOKEN });
    expect(api.status).toBe(403);
    expect(api.body.message).toMatch(/this token may not send alerts here/);
    const am = await s.post('/api/v1/alerts', ok, { token: AM_TOKEN });
    expect(am.status).toBe(403);
    expect(am.body.message).not.toMatch(/prom/);
    const generic = await s.post('/api/v1/alertmanager', { version: '4', alerts: [] }, { token: GENERIC_TOKEN });
    expect(generic.status).toBe(403);
    expect(generic.body.message).toMatch(/takes tokens of alertmanager sources/);

    expect(await s.all()).toHaveLength(0);
    expect((await s.post('/api/v1/alerts', ok, { token: GENERIC_TOKEN })).status).toBe(200);
  });

  it('authenticates before reading the body: an unknown caller gets 401 even for an oversized body', async () => {
    s = await alertServer({ maxBodyBytes: 1024 });
    const r = await s.post('/api/v1/alerts', undefined, { token: 'nobody', raw: 'x'.repeat(10_000) });
    expect(r.status).toBe(401);
  });
});

/** A real store whose commits wait until the gate opens, so the manager's queue fills up. */
function gated(store: IncidentStore): { store: IncidentStore; open: () => void; committing: Promise<void> } {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let entered!: () => void;
  const committing = new Promise<void>((r) => (entered = r));
  const wrapped = new Proxy(store, {
    get(obj, prop, recv) {
      if (prop === 'commit') {
        return async (ops: Parameters<IncidentStore['commit']>[0]) => {
          entered();
          await gate;
          return obj.commit(ops);
        };
      }
      const v = Reflect.get(obj, prop, recv);
      return typeof v === 'function' ? v.bind(obj) : v;
    },
  });
  return { store: wrapped, open: release, committing };
}

describe('overload', () => {
  it('answers 429 with Retry-After when the queue is full, and accepts again once it drains', async () => {
    let g!: ReturnType<typeof gated>;
    s = await alertServer({
      maxQueue: 3,
      wrapStore: (store) => {
        g = gated(store);
        return g.store;
      },
    });
    const batch = (n: number, prefix: string) => ({ alerts: Array.from({ length: n }, (_, i) => disk(`${prefix}-${i}`)) });
    // First batch: taken by the manager, stuck in the store's commit.
    const first = s.post('/api/v1/alerts', batch(2, 'a'), { token: GENERIC_TOKEN });
    await g.committing;
    // Second batch: waits in the queue behind it (2 queued).
    const second = s.post('/api/v1/alerts', batch(2, 'b'), { token: GENERIC_TOKEN });
    // The second request reaches the queue asynchronously; wait until the queue holds it.
    while (s.h.manager.queued() < 2) await new Promise((r) => setTimeout(r, 5));
    const third = await s.post('/api/v1/alerts', batch(2, 'c'), { token: GENERIC_TOKEN });
    expect(third.status).toBe(429);
    expect(third.headers.get('retry-after')).toBe('1');
    expect(third.body.message).toMatch(/ingest.max_queue 3/);

    const tooBig = await s.post('/api/v1/alerts', batch(4, 'd'), { token: GENERIC_TOKEN });
    expect(tooBig.status).toBe(413);

    g.open();
    expect((await first).status).toBe(200);
    expect((await second).status).toBe(200);
    expect((await s.post('/api/v1/alerts', batch(2, 'c'), { token: GENERIC_TOKEN })).status).toBe(200);
    const ids = (await s.active()).map((i) => i.target.id).sort();
    expect(ids).toEqual(['a-0', 'a-1', 'b-0', 'b-1', 'c-0', 'c-1']);
  });
});
