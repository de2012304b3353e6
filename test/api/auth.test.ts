import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { authenticate } from '../../src/api/auth.js';
import { HELPDESK_TOKEN, OPS_TOKEN, json, seed, startApi, type Harness } from './harness.js';
import { makeStore } from './store.js';

describe('authenticate', () => {
  const tokens = [OPS_TOKEN, HELPDESK_TOKEN];

  it('names the token that matched', () => {
    expect(authenticate(`Bearer ${HELPDESK_TOKEN.token}`, tokens)).toMatchObject({ ok: true, name: 'helpdesk' });
    expect(authenticate(`bearer ${OPS_TOKEN.token}`, tokens)).toMatchObject({ ok: true, name: 'ops-team' });
  });

  it('tells missing, malformed and wrong apart', () => {
    expect(authenticate(undefined, tokens)).toMatchObject({ ok: false, reason: 'missing' });
    expect(authenticate(`Basic ${OPS_TOKEN.token}`, tokens)).toMatchObject({ ok: false, reason: 'malformed' });
    expect(authenticate('Bearer', tokens)).toMatchObject({ ok: false, reason: 'malformed' });
    expect(authenticate(`Bearer ${OPS_TOKEN.token}x`, tokens)).toMatchObject({ ok: false, reason: 'invalid' });
    // A prefix of a real token is not that token.
    expect(authenticate(`Bearer ${OPS_TOKEN.token.slice(0, 6)}`, tokens)).toMatchObject({ ok: false, reason: 'invalid' });
  });

  it('accepts nothing when no tokens are configured, not even an empty one', () => {
    expect(authenticate('Bearer abc', [])).toMatchObject({ ok: false, reason: 'none-configured' });
    expect(authenticate('Bearer abc', [{ name: 'empty', token: '' }])).toMatchObject({
      ok: false,
      reason: 'none-configured',
    });
  });
});

describe('API authentication over HTTP', () => {
  let h: Harness;
  let number: string;

  beforeEach(async () => {
    h = await startApi(await makeStore());
    number = await seed(h.store, h.clock, { targetId: 'ap-lobby' });
  });
  afterEach(async () => {
    await h.close();
  });

  it('rejects a request without a token with 401 and a Bearer challenge', async () => {
    const res = await fetch(`${h.base}/api/v1/incidents`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const body = await json(res);
    expect(body.error).toBe('unauthorized');
    expect(body.message).toMatch(/Authorization: Bearer/);
  });

  it('rejects a malformed Authorization header with 401', async () => {
    const res = await fetch(`${h.base}/api/v1/incidents`, { headers: { authorization: `Token ${OPS_TOKEN.token}` } });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await json(res)).message).toMatch(/malformed/);
  });

  it('rejects a wrong token with 401', async () => {
    const res = await fetch(`${h.base}/api/v1/incidents`, { headers: { authorization: 'Bearer not-a-real-token' } });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('invalid_token');
    expect(await json(res)).toMatchObject({ error: 'unauthorized', message: expect.stringMatching(/invalid API token/) });
  });

  it('accepts a right token', async () => {
    const res = await h.call('/api/v1/incidents');
    expect(res.status).toBe(200);
    expect((await json<{ items: unknown[] }>(res)).items).toHaveLength(1);
  });

  it('checks the token before anything else, so a POST without one changes nothing', async () => {
    const res = await fetch(`${h.base}/api/v1/incidents/${number}/ack`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(401);
    expect((await h.store.get(number))?.status).toBe('open');
  });

  it('guards unknown paths under /api/ too, and percent-encoded paths', async () => {
    expect((await fetch(`${h.base}/api/v2/nothing`)).status).toBe(401);
    // The router decodes %61 to "a"; the check goes by the matched route, so this is guarded too.
    expect((await fetch(`${h.base}/%61pi/v1/incidents`)).status).toBe(401);
  });

  it('records the token name as the actor', async () => {
    const res = await h.call(`/api/v1/incidents/${number}/ack`, {
      method: 'POST',
      headers: { authorization: `Bearer ${HELPDESK_TOKEN.token}` },
    });
    expect(res.status).toBe(200);
    expect((await json(res)).acknowledgedBy).toBe('helpdesk');
  });

  it('reads the tokens on every request, so a reload takes effect at once', async () => {
    h.tokens = [{ name: 'rotated', token: 'tok-new-91b2' }];
    expect((await h.call('/api/v1/incidents')).status).toBe(401);
    const res = await h.call('/api/v1/incidents', { headers: { authorization: 'Bearer tok-new-91b2' } });
    expect(res.status).toBe(200);
  });

  it('stops taking a token that was in use once a reload removes it', async () => {
    for (let i = 0; i < 3; i++) expect((await h.call('/api/v1/incidents')).status).toBe(200);
    expect((await h.call('/api/v1/incidents', { headers: { authorization: `Bearer ${OPS_TOKEN.token}0` } })).status).toBe(401);
    h.tokens = [HELPDESK_TOKEN];
    const res = await h.call('/api/v1/incidents');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('invalid_token');
    h.tokens = [OPS_TOKEN, HELPDESK_TOKEN];
    expect((await h.call('/api/v1/incidents')).status).toBe(200);
  });

  it('leaves the health, readiness and metrics endpoints open', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics']) {
      const res = await fetch(`${h.base}${path}`);
      expect(res.status, path).toBe(200);
    }
  });
});
