// Single sign-on against a real OpenID provider (oidc-provider 8) on loopback: the browser's whole
// round trip is driven with fetch (manual redirects, cookies carried like a browser does), through
// the provider's own login and consent pages.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import Provider from 'oidc-provider';
import { afterEach, describe, expect, it } from 'vitest';
import { LOGIN_COOKIE, oidcRoutes, type SessionStarter, type SignInPrincipal } from '../../src/api/oidc.js';
import type { OidcSettings } from '../../src/config-core/oidc.js';
import { createMetrics } from '../../src/api/metrics.js';
import { buildApi } from '../../src/api/server.js';
import { Accounts } from '../../src/api/accounts.js';
import { BrowserSessions, SESSION_COOKIE } from '../../src/api/session.js';
import { DEFAULT_SESSION_LIMITS } from '../../src/domain/account.js';
import { FakeClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { storeCommands } from './harness.js';
import { makeStore } from './store.js';
import { freePort } from '../shared/free-port.js';

const CLIENT_ID = 'incidentd';
const CLIENT_SECRET = 'test-client-secret-4b1f0c9e27d35a68';

/** Who may log in at the test IdP, and their groups. */
const ACCOUNTS: Record<string, { groups: string[]; email: string }> = {
  alice: { groups: ['it-helpdesk', 'acme-engineers', 'unrelated'], email: 'alice@example.com' },
  mona: { groups: ['msp-managers'], email: 'mona@example.com' },
  victor: { groups: ['contractors'], email: 'victor@example.com' },
};

const GROUPS: OidcSettings['groups'] = {
  'it-helpdesk': { roles: ['agent'], tenants: ['globex'] },
  'acme-engineers': { roles: ['engineer'], tenants: ['acme'] },
  'msp-managers': { roles: ['manager'], tenants: '*' },
};

async function startProvider(port: number, redirectUri: string): Promise<{ issuer: string; server: Server }> {
  const issuer = `http://127.0.0.1:${port}`;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'test', use: 'sig', alg: 'RS256' }] },
    cookies: { keys: [randomBytes(16).toString('hex')] },
    ttl: { Grant: 600, AccessToken: 600, IdToken: 600, Interaction: 600, Session: 600, AuthorizationCode: 60 },
    claims: { openid: ['sub'], profile: ['preferred_username', 'groups'], email: ['email'] },
    findAccount: (_ctx: unknown, id: string) => {
      const account = ACCOUNTS[id];
      if (!account) return undefined;
      return { accountId: id, claims: () => ({ sub: id, preferred_username: id, email: account.email, groups: account.groups }) };
    },
  });
  // Its server errors are answers to the client; the test reads those.
  provider.on('server_error', () => {});
  const server = createServer(provider.callback());
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { issuer, server };
}

/** The session starter the tests use: a real cookie, and a record of who got a session. */
class RecordingSessions implements SessionStarter {
  readonly started: SignInPrincipal[] = [];
  startSession(principal: SignInPrincipal, reply: FastifyReply): Promise<void> {
    this.started.push(principal);
    reply.header('set-cookie', `incidentd_session=s${this.started.length}; Path=/; HttpOnly; SameSite=Lax`);
    return Promise.resolve();
  }
}

/** A browser: one cookie jar for 127.0.0.1 (cookies do not separate ports), redirects followed by hand. */
class Browser {
  readonly cookies = new Map<string, string>();

  async get(url: string): Promise<Response> {
    return this.send(url, { method: 'GET' });
  }

  async send(url: string, init: RequestInit): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const gone = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a) || (/^\s*expires=/i.test(a) && Date.parse(a.split('=')[1] ?? '') < Date.now()));
      if (gone || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  /**
   * From the daemon's login redirect through the IdP's login and consent pages, signing in as
   * `login`, until the IdP sends the browser back to `callback`; returns that URL, not yet opened.
   */
  async throughProvider(authorizeUrl: string, login: string, callback: string, opts: { cancel?: boolean } = {}): Promise<string> {
    let url = authorizeUrl;
    let res = await this.get(url);
    for (let hop = 0; hop < 20; hop++) {
      if (res.status >= 300 && res.status < 400) {
        url = new URL(res.headers.get('location') ?? '', url).href;
        if (url.startsWith(callback)) return url;
        res = await this.get(url);
        continue;
      }
      const html = await res.text();
      expect(res.status, html).toBe(200);
      if (opts.cancel) {
        const abort = /href="([^"]*\/abort)"/.exec(html)?.[1];
        url = new URL(abort ?? '', url).href;
        res = await this.get(url);
        continue;
      }
      const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
      const prompt = /name="prompt" value="([^"]+)"/.exec(html)?.[1];
      if (!action || !prompt) throw new Error(`no form on the IdP page: ${html.slice(0, 300)}`);
      const body = new URLSearchParams(prompt === 'login' ? { prompt, login, password: 'any' } : { prompt });
      url = new URL(action, url).href;
      res = await this.send(url, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    }
    throw new Error('the IdP never sent the browser back');
  }
}

interface Setup {
  daemon: string;
  callback: string;
  issuer: string;
  sessions: RecordingSessions;
  clock: FakeClock;
  startIdp(): Promise<void>;
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()?.();
});

async function setup(opts: { idpUp?: boolean } = {}): Promise<Setup> {
  const idpPort = await freePort();
  const daemonPort = await freePort();
  const daemon = `http://127.0.0.1:${daemonPort}`;
  const callback = `${daemon}/auth/oidc/callback`;
  const issuer = `http://127.0.0.1:${idpPort}`;
  const sessions = new RecordingSessions();
  const clock = new FakeClock(Date.now());
  const settings: OidcSettings = {
    issuer,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    redirectUri: callback,
    scopes: ['openid', 'profile', 'email'],
    groupsClaim: 'groups',
    nameClaim: null,
    groups: GROUPS,
  };
  const app: FastifyInstance = Fastify();
  await app.register(oidcRoutes({ settings, sessions, clock, logger: silentLogger(), requestTimeoutS: 5 }));
  await app.listen({ host: '127.0.0.1', port: daemonPort });
  closers.push(() => app.close());
  const startIdp = async () => {
    const { server } = await startProvider(idpPort, callback);
    closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  };
  if (opts.idpUp !== false) await startIdp();
  return { daemon, callback, issuer, sessions, clock, startIdp };
}

/** Opens the daemon's login page; returns the IdP URL it redirects to. */
async function startLogin(b: Browser, s: Setup, returnTo?: string): Promise<string> {
  const q = returnTo === undefined ? '' : `?return_to=${encodeURIComponent(returnTo)}`;
  const res = await b.get(`${s.daemon}/auth/oidc/login${q}`);
  expect(res.status, await res.clone().text()).toBe(302);
  return res.headers.get('location') ?? '';
}

describe('single sign-on with a real OpenID provider', () => {
  it('signs a person in: PKCE, state and nonce; their groups become roles and tenants; back to return_to', async () => {
    const s = await setup();
    const b = new Browser();
    const res = await b.get(`${s.daemon}/auth/oidc/login?return_to=${encodeURIComponent('/incidents?status=open')}`);
    expect(res.status).toBe(302);
    const authorize = new URL(res.headers.get('location') ?? '');
    expect(authorize.origin).toBe(s.issuer);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(authorize.searchParams.get('state')).toBeTruthy();
    expect(authorize.searchParams.get('nonce')).toBeTruthy();
    expect(authorize.searchParams.get('redirect_uri')).toBe(s.callback);
    const loginCookie = res.headers.getSetCookie().find((c) => c.startsWith(`${LOGIN_COOKIE}=`)) ?? '';
    expect(loginCookie).toMatch(/HttpOnly/i);
    expect(loginCookie).toMatch(/SameSite=Lax/i);
    expect(loginCookie).toMatch(/Path=\/auth\/oidc/);

    const back = await b.throughProvider(authorize.href, 'alice', s.callback);
    const done = await b.get(back);
    expect(done.status, await done.clone().text()).toBe(302);
    expect(done.headers.get('location')).toBe('/incidents?status=open');
    expect(b.cookies.get('incidentd_session')).toBe('s1');
    expect(b.cookies.has(LOGIN_COOKIE)).toBe(false);
    expect(s.sessions.started).toEqual([
      {
        kind: 'user',
        id: `oidc:${s.issuer}#alice`,
        name: 'alice',
        roles: ['agent', 'engineer'],
        tenants: { all: false, tenants: ['acme', 'globex'] },
      },
    ]);
  });

  it('a group mapped to "*" sees every tenant; return_to defaults to /', async () => {
    const s = await setup();
    const b = new Browser();
    const back = await b.throughProvider(await startLogin(b, s), 'mona', s.callback);
    const done = await b.get(back);
    expect(done.status).toBe(302);
    expect(done.headers.get('location')).toBe('/');
    expect(s.sessions.started[0]).toMatchObject({ name: 'mona', roles: ['manager'], tenants: { all: true } });
  });

  it('refuses a person none of whose groups is mapped, saying why', async () => {
    const s = await setup();
    const b = new Browser();
    const back = await b.throughProvider(await startLogin(b, s), 'victor', s.callback);
    const res = await b.get(back);
    expect(res.status).toBe(403);
    const text = await res.text();
    expect(text).toContain('victor may not sign in to incidentd');
    expect(text).toContain('your groups: contractors');
    expect(text).toContain('auth.oidc.groups');
    expect(s.sessions.started).toEqual([]);
    expect(b.cookies.has('incidentd_session')).toBe(false);
  });

  it('refuses an answer whose state is not the one this browser started, and a replayed callback', async () => {
    const s = await setup();
    const b = new Browser();
    const back = new URL(await b.throughProvider(await startLogin(b, s), 'alice', s.callback));
    const saved = b.cookies.get(LOGIN_COOKIE) ?? '';
    const forged = new URL(back);
    forged.searchParams.set('state', 'not-the-state-this-browser-got');
    const res = await b.get(forged.href);
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).toContain('state mismatch');
    expect(text).not.toMatch(/\n\s+at /);
    expect(s.sessions.started).toEqual([]);

    // The login cookie is spent by that answer: the genuine one now finds no sign-in in progress.
    const replay = await b.get(back.href);
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain('no sign-in in progress');

    // Sending the old cookie again does not help: the IdP takes each code once.
    const again = new Browser();
    again.cookies.set(LOGIN_COOKIE, saved);
    const first = await again.get(back.href);
    expect(first.status).toBe(302);
    again.cookies.set(LOGIN_COOKIE, saved);
    const second = await again.get(back.href);
    expect(second.status).toBe(400);
    expect(await second.text()).toContain('the identity provider did not accept this sign-in (invalid_grant');
    expect(s.sessions.started).toHaveLength(1);
  });

  it('refuses a changed login cookie', async () => {
    const s = await setup();
    const b = new Browser();
    const back = await b.throughProvider(await startLogin(b, s), 'alice', s.callback);
    const cookie = b.cookies.get(LOGIN_COOKIE) ?? '';
    b.cookies.set(LOGIN_COOKIE, `x${cookie}`);
    const res = await b.get(back);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('the sign-in cookie is not valid');
    expect(s.sessions.started).toEqual([]);
  });

  it('refuses a sign-in that took longer than the login lifetime', async () => {
    const s = await setup();
    const b = new Browser();
    const back = await b.throughProvider(await startLogin(b, s), 'alice', s.callback);
    await s.clock.advance(10 * 60_000 + 1);
    const res = await b.get(back);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('took longer than 10 minutes and expired; start again at /auth/oidc/login');
    expect(s.sessions.started).toEqual([]);
  });

  it('says so when the person cancels at the identity provider (access_denied)', async () => {
    const s = await setup();
    const b = new Browser();
    const back = await b.throughProvider(await startLogin(b, s), 'alice', s.callback, { cancel: true });
    expect(new URL(back).searchParams.get('error')).toBe('access_denied');
    const res = await b.get(back);
    expect(res.status).toBe(403);
    expect(await res.text()).toBe('the identity provider refused the sign-in (access_denied: End-User aborted interaction)\n');
    expect(s.sessions.started).toEqual([]);
  });

  it('refuses a return_to that leaves the site, before going to the identity provider', async () => {
    const s = await setup();
    for (const target of ['//evil.example/x', 'https://evil.example/', '/\\evil.example', 'incidents', '/a\r\nSet-Cookie: x=1']) {
      const b = new Browser();
      const res = await b.get(`${s.daemon}/auth/oidc/login?return_to=${encodeURIComponent(target)}`);
      expect(res.status, target).toBe(400);
      expect(res.headers.get('location'), target).toBeNull();
      expect(await res.text()).toContain('return_to must be a path on this site');
    }
  });

  it('starts without the identity provider: 503 naming it while it is down, signs in once it is up', async () => {
    const s = await setup({ idpUp: false });
    const b = new Browser();
    const down = await b.get(`${s.daemon}/auth/oidc/login`);
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('30');
    const text = await down.text();
    expect(text).toContain(`the identity provider at ${s.issuer} is not reachable`);
    expect(text).not.toMatch(/\n\s+at /);

    await s.startIdp();
    const back = await b.throughProvider(await startLogin(b, s), 'alice', s.callback);
    expect((await b.get(back)).status).toBe(302);
    expect(s.sessions.started).toHaveLength(1);
  });
});

describe('the daemon API with auth.oidc', () => {
  it('serves the sign-in routes without a bearer token, and the API still wants one', async () => {
    const store = await makeStore();
    const clock = new FakeClock(Date.now());
    const issuer = `http://127.0.0.1:${await freePort()}`;
    const app = buildApi({
      store,
      commands: storeCommands(store, clock),
      tokens: () => [{ name: 'ops', token: 'tok-ops-5e1d' }],
      ready: () => Promise.resolve({ ready: true, checks: {} }),
      metrics: createMetrics({ countActive: () => store.countActive() }),
      logger: silentLogger(),
      clock,
      oidc: {
        settings: {
          issuer,
          clientId: CLIENT_ID,
          clientSecret: CLIENT_SECRET,
          redirectUri: 'http://127.0.0.1:9/auth/oidc/callback',
          scopes: ['openid'],
          groupsClaim: 'groups',
          nameClaim: null,
          groups: GROUPS,
        },
        sessions: new RecordingSessions(),
        clock,
        logger: silentLogger(),
      },
    });
    closers.push(async () => {
      await app.close();
      await store.close();
    });
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    // Reaches the route (the IdP is down), not the token check.
    const login = await fetch(`${base}/auth/oidc/login`, { redirect: 'manual' });
    expect(login.status).toBe(503);
    expect(await login.text()).toContain(`the identity provider at ${issuer} is not reachable`);
    const callback = await fetch(`${base}/auth/oidc/callback?code=x&state=y`, { redirect: 'manual' });
    expect(callback.status).toBe(400);
    expect(await callback.text()).toContain('no sign-in in progress');
    expect((await fetch(`${base}/api/v1/incidents`)).status).toBe(401);
  });
});

describe('single sign-on into a real browser session', () => {
  it('the callback starts a session whose cookie reads the API, with the mapped roles and tenants, and is audited', async () => {
    const idpPort = await freePort();
    const daemonPort = await freePort();
    const daemon = `http://127.0.0.1:${daemonPort}`;
    const callback = `${daemon}/auth/oidc/callback`;
    const store = await makeStore();
    const clock = new FakeClock(Date.now());
    const accounts = new Accounts(store, clock);
    const sessions = new BrowserSessions({
      store,
      accounts,
      clock,
      secret: 'oidc-session-test-secret-3c9a71e0d5b2',
      cookieSecure: false,
      limits: () => DEFAULT_SESSION_LIMITS,
    });
    const app = buildApi({
      store,
      commands: storeCommands(store, clock),
      tokens: () => [{ name: 'ops', token: 'tok-ops-5e1d' }],
      authenticators: [sessions],
      accounts: { sessions, accounts, store },
      ready: () => Promise.resolve({ ready: true, checks: {} }),
      metrics: createMetrics({ countActive: () => store.countActive() }),
      logger: silentLogger(),
      clock,
      oidc: {
        settings: {
          issuer: `http://127.0.0.1:${idpPort}`,
          clientId: CLIENT_ID,
          clientSecret: CLIENT_SECRET,
          redirectUri: callback,
          scopes: ['openid', 'profile', 'email'],
          groupsClaim: 'groups',
          nameClaim: null,
          groups: GROUPS,
        },
        sessions,
        clock,
        logger: silentLogger(),
        requestTimeoutS: 5,
      },
    });
    closers.push(async () => {
      await app.close();
      await store.close();
    });
    await app.listen({ host: '127.0.0.1', port: daemonPort });
    const { server } = await startProvider(idpPort, callback);
    closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));

    const b = new Browser();
    expect((await b.get(`${daemon}/api/v1/session`)).status).toBe(401);
    const login = await b.get(`${daemon}/auth/oidc/login?return_to=/incidents`);
    const back = await b.throughProvider(login.headers.get('location') ?? '', 'alice', callback);
    const done = await b.get(back);
    expect(done.status, await done.clone().text()).toBe(302);
    expect(done.headers.get('location')).toBe('/incidents');
    expect(done.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`))).toMatch(/HttpOnly.*SameSite=Lax|SameSite=Lax.*HttpOnly/i);

    const me = await b.get(`${daemon}/api/v1/session`);
    expect(me.status, await me.clone().text()).toBe(200);
    const body = (await me.json()) as { principal: unknown; csrfToken: string };
    expect(body.principal).toEqual({
      kind: 'user',
      id: `oidc:http://127.0.0.1:${idpPort}#alice`,
      name: 'alice',
      roles: ['agent', 'engineer'],
      tenants: ['acme', 'globex'],
    });
    expect((await b.get(`${daemon}/api/v1/incidents`)).status).toBe(200);
    const audit = await store.listAudit(10);
    expect(audit.items.map((e) => [e.type, e.subject])).toEqual([['sign-in-sso', 'alice']]);

    // Signing out needs the CSRF token like any cookie write, then the cookie is dead.
    expect((await b.send(`${daemon}/api/v1/session`, { method: 'DELETE' })).status).toBe(403);
    const out = await b.send(`${daemon}/api/v1/session`, { method: 'DELETE', headers: { 'x-csrf-token': body.csrfToken } });
    expect(out.status).toBe(204);
    expect(b.cookies.has(SESSION_COOKIE)).toBe(false);
  });
});
