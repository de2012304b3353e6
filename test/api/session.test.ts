// Browser sessions over real HTTP on loopback, a real SQLite file and the fake clock: sign in, the
// cookie, CSRF on cookie writes, sign out, lockout and the per-address limit, idle and absolute
// expiry, disabled accounts, and the audit log for admins only.
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Accounts } from '../../src/api/accounts.js';
import { createMetrics } from '../../src/api/metrics.js';
import { BrowserSessions, SESSION_COOKIE } from '../../src/api/session.js';
import { buildApi } from '../../src/api/server.js';
import type { UserRole } from '../../src/domain/principal.js';
import { FakeClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import type { IncidentStore } from '../../src/store/types.js';
import { OPS_TOKEN, seed, storeCommands } from './harness.js';
import { makeStore } from './store.js';

const PASSWORD = 'correct horse battery staple';
const HOUR = 3_600_000;
const CLI = { name: 'cli:test', address: '' };

interface Setup {
  base: string;
  store: IncidentStore;
  clock: FakeClock;
  accounts: Accounts;
  number: string;
}

let s: Setup;
let app: FastifyInstance;

beforeEach(async () => {
  const store = await makeStore();
  const clock = new FakeClock(Date.UTC(2026, 2, 14, 9, 30));
  const accounts = new Accounts(store, clock);
  const sessions = new BrowserSessions({
    store,
    accounts,
    clock,
    secret: 'session-test-secret-0b7e4d19a2c85f36',
    cookieSecure: false,
    limits: () => ({ idleMs: 8 * HOUR, absoluteMs: 7 * 24 * HOUR }),
  });
  app = buildApi({
    store,
    commands: storeCommands(store, clock),
    tokens: () => [OPS_TOKEN],
    authenticators: [sessions],
    accounts: { sessions, accounts, store },
    ready: async () => ({ ready: true, checks: {} }),
    metrics: createMetrics({ countActive: () => store.countActive() }),
    logger: silentLogger(),
    clock,
  });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const number = await seed(store, clock, { targetId: 'ap-lobby' });
  s = { base, store, clock, accounts, number };
});

afterEach(async () => {
  await app.close();
  await s.store.close();
});

async function addUser(name: string, roles: UserRole[] = ['agent']): Promise<void> {
  await s.accounts.add({ name, roles, tenants: { all: true }, password: PASSWORD }, CLI);
}

function signIn(name: string, password = PASSWORD): Promise<Response> {
  return fetch(`${s.base}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, password }) });
}

interface Browser {
  cookie: string;
  csrf: string;
}

async function signedIn(name: string): Promise<Browser> {
  const res = await signIn(name);
  expect(res.status, await res.clone().text()).toBe(201);
  const set = res.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`)) ?? '';
  const body = (await res.json()) as { csrfToken: string };
  return { cookie: set.split(';', 1)[0]!, csrf: body.csrfToken };
}

function send(b: Browser | null, method: string, path: string, opts: { csrf?: string | null; body?: unknown } = {}): Promise<Response> {
  const headers: Record<string, string> = {};
  if (b) headers.cookie = b.cookie;
  const csrf = opts.csrf === undefined ? b?.csrf : opts.csrf;
  if (csrf !== null && csrf !== undefined) headers['x-csrf-token'] = csrf;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  return fetch(`${s.base}${path}`, { method, headers, ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}) });
}

async function auditTypes(): Promise<string[]> {
  const page = await s.store.listAudit(100);
  return page.items.map((e) => e.type).reverse();
}

describe('browser sessions', () => {
  it('sign in → cookie → read incidents → write with the CSRF token; without it 403 → sign out → the cookie is dead', async () => {
    await addUser('Dana');
    const res = await signIn('dana');
    expect(res.status).toBe(201);
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`)) ?? '';
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Path=\//);
    expect(cookie).toMatch(/Max-Age=604800/);
    // Listening on loopback without cookie_secure: no Secure flag, or plain http could not send it back.
    expect(cookie).not.toMatch(/Secure/i);
    const body = (await res.json()) as { principal: Record<string, unknown>; csrfToken: string };
    expect(body.principal).toMatchObject({ kind: 'user', name: 'Dana', roles: ['agent'], tenants: '*' });
    expect(body.csrfToken).toMatch(/^[\w-]{43}$/);
    const b: Browser = { cookie: cookie.split(';', 1)[0]!, csrf: body.csrfToken };

    const me = await send(b, 'GET', '/api/v1/session');
    expect(me.status).toBe(200);
    expect(await me.json()).toEqual({ principal: body.principal, csrfToken: body.csrfToken });

    expect((await send(b, 'GET', '/api/v1/incidents')).status).toBe(200);

    const forged = await send(b, 'POST', `/api/v1/incidents/${s.number}/comments`, { csrf: null, body: { text: 'from another site' } });
    expect(forged.status).toBe(403);
    expect(((await forged.json()) as { message: string }).message).toContain('x-csrf-token');
    const wrong = await send(b, 'POST', `/api/v1/incidents/${s.number}/comments`, { csrf: 'x'.repeat(43), body: { text: 'guessed token' } });
    expect(wrong.status).toBe(403);

    const ok = await send(b, 'POST', `/api/v1/incidents/${s.number}/comments`, { body: { text: 'rebooted the AP' } });
    expect(ok.status, await ok.clone().text()).toBe(201);
    const incident = (await ok.json()) as { timeline: { actor: string; message?: string }[] };
    // The person, not a token, is on the timeline.
    expect(incident.timeline.at(-1)).toMatchObject({ actor: 'Dana' });
    const texts = JSON.stringify(incident.timeline);
    expect(texts).not.toContain('from another site');
    expect(texts).not.toContain('guessed token');

    // Signing out is a write too.
    expect((await send(b, 'DELETE', '/api/v1/session', { csrf: null })).status).toBe(403);
    const out = await send(b, 'DELETE', '/api/v1/session');
    expect(out.status).toBe(204);
    expect(out.headers.getSetCookie().join()).toMatch(new RegExp(`${SESSION_COOKIE}=;.*Max-Age=0`));

    const replay = await send(b, 'GET', '/api/v1/incidents');
    expect(replay.status).toBe(401);
    expect(((await replay.json()) as { message: string }).message).toContain('session has ended');
    expect(await auditTypes()).toEqual(['user-added', 'sign-in', 'sign-out']);
  });

  it('a bearer token writes without a CSRF token, and GET /api/v1/session is for people only', async () => {
    const res = await fetch(`${s.base}/api/v1/incidents/${s.number}/comments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OPS_TOKEN.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'from the ticket system' }),
    });
    expect(res.status).toBe(201);
    const me = await fetch(`${s.base}/api/v1/session`, { headers: { authorization: `Bearer ${OPS_TOKEN.token}` } });
    expect(me.status).toBe(403);
  });

  it('is 401 without a cookie, and refuses a cookie whose signature was changed', async () => {
    expect((await fetch(`${s.base}/api/v1/session`)).status).toBe(401);
    await addUser('dana');
    const b = await signedIn('dana');
    const [name, value] = b.cookie.split('=') as [string, string];
    const tampered = { ...b, cookie: `${name}=${value.slice(0, -2)}${value.endsWith('AA') ? 'BB' : 'AA'}` };
    const res = await send(tampered, 'GET', '/api/v1/session');
    expect(res.status).toBe(401);
    expect(((await res.json()) as { message: string }).message).toContain('not valid');
  });

  it('answers a wrong password and an unknown name alike, and locks the account after 5 failures with Retry-After', async () => {
    await addUser('dana');
    const unknown = await signIn('nobody', PASSWORD);
    const wrongPassword = await signIn('dana', 'not the password at all');
    expect(unknown.status).toBe(401);
    expect(wrongPassword.status).toBe(401);
    const a = (await unknown.json()) as { message: string };
    const b = (await wrongPassword.json()) as { message: string };
    expect(a.message).toBe('wrong user name or password');
    expect(b.message).toBe(a.message);

    for (let i = 2; i <= 4; i++) expect((await signIn('dana', `wrong password ${i}`)).status).toBe(401);
    const fifth = await signIn('dana', 'wrong password 5');
    expect(fifth.status).toBe(429);
    expect(fifth.headers.get('retry-after')).toBe('900');
    expect(((await fifth.json()) as { message: string }).message).toBe(
      'too many failed sign-ins; try again after 09:45 UTC or ask an admin to unlock with `incidentd users enable dana`',
    );
    // Locked: even the right password waits.
    await s.clock.advance(5 * 60_000);
    const locked = await signIn('dana');
    expect(locked.status).toBe(429);
    expect(locked.headers.get('retry-after')).toBe('600');

    await s.clock.advance(10 * 60_000);
    expect((await signIn('dana')).status).toBe(201);
    const types = await auditTypes();
    expect(types.filter((t) => t === 'sign-in-failed')).toHaveLength(7);
    expect(types.filter((t) => t === 'locked-out')).toHaveLength(1);
    expect(types.at(-1)).toBe('sign-in');
  });

  it('blocks an address that keeps failing, whatever names it tries, with Retry-After', async () => {
    await addUser('dana');
    // Ten different names: no account locks, the address does.
    for (let i = 0; i < 10; i++) expect((await signIn(`guess-${i}`, 'password guess')).status).toBe(401);
    const blocked = await signIn('dana');
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get('retry-after')).toBe('300');
    expect(((await blocked.json()) as { message: string }).message).toBe('too many failed sign-ins from 127.0.0.1; try again in 300s');
    await s.clock.advance(5 * 60_000);
    expect((await signIn('dana')).status).toBe(201);
  });

  it('ends a session after 8 hours without a request, and 7 days after sign-in however active', async () => {
    await addUser('dana');
    const idle = await signedIn('dana');
    await s.clock.advance(8 * HOUR - 60_000);
    expect((await send(idle, 'GET', '/api/v1/session')).status).toBe(200);
    // That request counted as activity: another 8 hours less a minute is still fine.
    await s.clock.advance(8 * HOUR - 60_000);
    expect((await send(idle, 'GET', '/api/v1/session')).status).toBe(200);
    await s.clock.advance(8 * HOUR);
    const gone = await send(idle, 'GET', '/api/v1/session');
    expect(gone.status).toBe(401);
    expect(((await gone.json()) as { message: string }).message).toContain('no request for 8h');

    const busy = await signedIn('dana');
    for (let h = 0; h < 7 * 24 - 4; h += 4) {
      await s.clock.advance(4 * HOUR);
      expect((await send(busy, 'GET', '/api/v1/incidents')).status, `after ${h + 4}h`).toBe(200);
    }
    await s.clock.advance(4 * HOUR);
    const old = await send(busy, 'GET', '/api/v1/incidents');
    expect(old.status).toBe(401);
    expect(((await old.json()) as { message: string }).message).toContain('7d since sign-in');
  });

  it('a disabled user cannot sign in, and the sessions he had stop working', async () => {
    await addUser('dana');
    const b = await signedIn('dana');
    await s.accounts.disable('dana', CLI);
    const res = await send(b, 'GET', '/api/v1/incidents');
    expect(res.status).toBe(401);
    const again = await signIn('dana');
    expect(again.status).toBe(401);
    expect(((await again.json()) as { message: string }).message).toBe('wrong user name or password');
    await s.accounts.enable('dana', CLI);
    expect((await signIn('dana')).status).toBe(201);
  });

  it('a disabled account stops its sessions even when they were not deleted (another process disabled it)', async () => {
    await addUser('dana');
    const b = await signedIn('dana');
    const user = await s.store.getUserByName('dana');
    await s.store.updateUser(user!.id, { disabled: true });
    const res = await send(b, 'GET', '/api/v1/incidents');
    expect(res.status).toBe(401);
    expect(((await res.json()) as { message: string }).message).toContain('disabled');
  });

  it('the audit log is for admins: newest first, a page at a time', async () => {
    await addUser('ada', ['admin']);
    await addUser('dana', ['agent']);
    const agent = await signedIn('dana');
    const denied = await send(agent, 'GET', '/api/v1/audit');
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { message: string }).message).toContain('audit.read needs user role admin');
    expect((await signIn('dana', 'wrong password here')).status).toBe(401);
    await s.clock.advance(1000);
    const admin = await signedIn('ada');

    const first = await send(admin, 'GET', '/api/v1/audit?limit=2');
    expect(first.status).toBe(200);
    const p1 = (await first.json()) as { items: { type: string; subject: string; address: string; at: string }[]; next: string };
    expect(p1.items.map((e) => [e.type, e.subject])).toEqual([
      ['sign-in', 'ada'],
      ['sign-in-failed', 'dana'],
    ]);
    expect(p1.items[0]!.address).toBe('127.0.0.1');
    expect(p1.items[0]!.at).toBe('2026-03-14T09:30:01.000Z');
    const second = await send(admin, 'GET', `/api/v1/audit?limit=10&cursor=${p1.next}`);
    const p2 = (await second.json()) as { items: { type: string; subject: string }[]; next: string | null };
    expect(p2.items.map((e) => [e.type, e.subject])).toEqual([
      ['sign-in', 'dana'],
      ['user-added', 'dana'],
      ['user-added', 'ada'],
    ]);
    expect(p2.next).toBeNull();
  });
});
