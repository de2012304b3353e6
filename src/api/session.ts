// Browser sessions: POST /api/v1/session signs a person in with a local account, GET answers who is
// signed in (and the CSRF token), DELETE signs out. The cookie carries a random value, signed with
// @fastify/cookie's signer; the server keeps the session (SessionStore) under the SHA-256 of that
// value, so signing out, disabling the account or expiry end it at once, whatever the browser keeps.
//
// CSRF: a synchronizer token kept in the session record. Every write (POST, PUT, PATCH, DELETE)
// authenticated by the cookie must send it as `x-csrf-token`; a request with a bearer token needs
// none (a browser never adds an Authorization header on its own). Chosen over
// @fastify/csrf-protection because the session is server-side already: one random value in the
// record and one constant-time comparison, no second cookie or secret to keep in step.
import { fastifyCookie } from '@fastify/cookie';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { sessionExpired, type SessionLimits, type SessionRecord } from '../domain/account.js';
import type { Principal, TenantScope } from '../domain/principal.js';
import type { Clock } from '../shared/clock.js';
import { formatDuration } from '../shared/duration.js';
import { WRONG_CREDENTIALS, type Accounts, type AccountStore } from './accounts.js';
import type { AuthFailureLimiter } from './auth-limiter.js';
import { PUBLIC, requires, type Authenticator, type AuthFailure } from './auth.js';
import type { SessionStarter, SignInPrincipal } from './oidc.js';
import { BadRequestError } from './validation.js';

export const SESSION_COOKIE = 'incidentd_session';
export const CSRF_HEADER = 'x-csrf-token';
export const SESSION_PATH = '/api/v1/session';
/** Public: what the sign-in page offers (src/api/server.ts answers it). */
export const SIGN_IN_METHODS_PATH = '/api/v1/session/methods';

/** Principals signed in with single sign-on have ids like this; they have no local account. */
const OIDC_ID_PREFIX = 'oidc:';

/** Activity is written at most this often per session: the idle limit is hours, not seconds. */
const TOUCH_EVERY_MS = 60_000;

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface BrowserSessionsOptions {
  store: AccountStore;
  accounts: Accounts;
  clock: Clock;
  /** Signs the cookie (32 characters or more). */
  secret: string;
  /** Send the cookie over HTTPS only. */
  cookieSecure: boolean;
  /** Read at every request: a reload may change them. */
  limits: () => SessionLimits;
}

function sha256(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex');
}

function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** What the API answers about a principal: tenants as "*" or a list. */
export function principalBody(p: Principal): { kind: Principal['kind']; id: string; name: string; roles: readonly string[]; tenants: '*' | readonly string[] } {
  return { kind: p.kind, id: p.id, name: p.name, roles: p.roles, tenants: tenantsBody(p.tenants) };
}

function tenantsBody(t: TenantScope): '*' | readonly string[] {
  return t.all ? '*' : t.tenants;
}

/**
 * Server-side browser sessions: creates them (local sign-in and single sign-on), finds the one a
 * request's cookie names (the guard's `session` authenticator), and ends them.
 */
export class BrowserSessions implements SessionStarter, Authenticator {
  readonly name = 'session';
  private readonly signer: ReturnType<typeof fastifyCookie.signerFactory>;
  /** The record each request was authenticated with (GET /api/v1/session answers its CSRF token). */
  private readonly ofRequest = new WeakMap<FastifyRequest, SessionRecord>();

  constructor(private readonly opts: BrowserSessionsOptions) {
    this.signer = fastifyCookie.signerFactory(opts.secret);
  }

  /** Creates a session for `principal` and sets its cookie on `reply`. */
  async create(principal: SignInPrincipal, reply: FastifyReply): Promise<SessionRecord> {
    const now = this.opts.clock.now();
    const value = randomBytes(32).toString('base64url');
    const record: SessionRecord = {
      id: sha256(value),
      userId: principal.id,
      name: principal.name,
      roles: [...principal.roles],
      tenants: principal.tenants,
      csrfToken: randomBytes(32).toString('base64url'),
      createdAt: now,
      lastSeenAt: now,
    };
    await this.opts.store.createSession(record);
    const maxAge = Math.ceil(this.opts.limits().absoluteMs / 1000);
    reply.header('set-cookie', fastifyCookie.serialize(SESSION_COOKIE, this.signer.sign(value), { ...this.cookieOptions(), maxAge }));
    this.ofRequest.set(reply.request, record);
    return record;
  }

  /** SessionStarter for single sign-on (src/api/oidc.ts): a session and an audit entry. */
  async startSession(principal: SignInPrincipal, reply: FastifyReply): Promise<void> {
    await this.create(principal, reply);
    const scope = principal.tenants.all ? 'all tenants' : `tenants ${principal.tenants.tenants.join(', ')}`;
    await this.opts.accounts.audit('sign-in-sso', { name: principal.name, address: reply.request.ip }, principal.name, `${principal.id}; roles ${principal.roles.join(', ')}; ${scope}`);
  }

  /** Ends the session and tells the browser to forget its cookie. */
  async end(sessionId: string, reply: FastifyReply): Promise<void> {
    await this.opts.store.deleteSession(sessionId);
    reply.header('set-cookie', fastifyCookie.serialize(SESSION_COOKIE, '', { ...this.cookieOptions(), maxAge: 0 }));
  }

  /** The session record this request was authenticated with, if it came with the cookie. */
  sessionOf(request: FastifyRequest): SessionRecord | undefined {
    return this.ofRequest.get(request);
  }

  /** The guard's authenticator: null without a session cookie, else the principal or why not. */
  async authenticate(request: FastifyRequest): Promise<Principal | AuthFailure | null> {
    const header = request.headers.cookie;
    const raw = header === undefined ? undefined : fastifyCookie.parse(header)[SESSION_COOKIE];
    if (raw === undefined || raw === '') return null;
    const unsigned = this.signer.unsign(raw);
    if (!unsigned.valid || unsigned.value === null) {
      return { reason: 'invalid', message: `the session cookie is not valid (changed, or signed with another secret); sign in again with POST ${SESSION_PATH}` };
    }
    const id = sha256(unsigned.value);
    const record = await this.opts.store.getSession(id);
    const again = `sign in again with POST ${SESSION_PATH}`;
    if (record === null) return { reason: 'ended', message: `this session has ended (signed out, or ended by an administrator); ${again}` };
    const now = this.opts.clock.now();
    const limits = this.opts.limits();
    if (sessionExpired(record, now, limits)) {
      await this.opts.store.deleteSession(id);
      const why =
        now - record.createdAt >= limits.absoluteMs
          ? `it is ${formatDuration(limits.absoluteMs)} since sign-in`
          : `there was no request for ${formatDuration(limits.idleMs)}`;
      return { reason: 'ended', message: `this session has expired: ${why}; ${again}` };
    }
    let principal: Principal = {
      kind: 'user',
      id: record.userId,
      name: record.name,
      roles: record.roles,
      tenants: record.tenants,
      sessionId: record.id,
    };
    if (!record.userId.startsWith(OIDC_ID_PREFIX)) {
      // A local account is read again: disabled or removed, its sessions stop working at once.
      const user = await this.opts.store.getUser(record.userId);
      if (user === null || user.disabled) {
        await this.opts.store.deleteSession(id);
        return { reason: 'ended', message: `the account "${record.name}" is disabled; ask an administrator` };
      }
      principal = { ...principal, name: user.name, roles: user.roles, tenants: user.tenants };
    }
    if (!SAFE_METHODS.has(request.method)) {
      const given = request.headers[CSRF_HEADER];
      if (typeof given !== 'string' || !sameSecret(given, record.csrfToken)) {
        return {
          reason: 'csrf',
          message: `missing or wrong ${CSRF_HEADER} header: a change made with the session cookie must send the CSRF token that sign-in and GET ${SESSION_PATH} answer`,
        };
      }
    }
    if (now - record.lastSeenAt >= TOUCH_EVERY_MS) await this.opts.store.touchSession(id, now);
    this.ofRequest.set(request, record);
    return principal;
  }

  private cookieOptions() {
    return { path: '/', httpOnly: true, sameSite: 'lax' as const, secure: this.opts.cookieSecure };
  }
}

export interface SessionRoutesDeps {
  sessions: BrowserSessions;
  accounts: Accounts;
  clock: Clock;
  /** Counts wrong passwords per client address with every other wrong credential (the API's one limiter). */
  authLimiter: AuthFailureLimiter;
  sendError: (reply: FastifyReply, status: number, message: string) => FastifyReply;
}

export const signInBody = z.strictObject({
  name: z.string({ error: 'name: give the user name' }).min(1, { error: 'name: give the user name' }),
  password: z.string({ error: 'password: give the password' }).min(1, { error: 'password: give the password' }),
});

function parseSignIn(body: unknown): { name: string; password: string } {
  const parsed = signInBody.safeParse(body ?? {});
  if (parsed.success) return parsed.data;
  throw new BadRequestError(
    parsed.error.issues.map((i) => ({ field: i.path.join('.') || 'body', message: i.message.replace(/^\w+: /, '') })),
  );
}

export function sessionRoutes(deps: SessionRoutesDeps): FastifyPluginAsync {
  const { sessions, accounts, clock, authLimiter, sendError } = deps;

  function answer(principal: Principal, record: SessionRecord | undefined) {
    return { principal: principalBody(principal), csrfToken: record?.csrfToken ?? null };
  }

  return async (app) => {
    app.post(SESSION_PATH, PUBLIC, async (request, reply) => {
      const { name, password } = parseSignIn(request.body);
      const address = request.ip;
      const blocked = authLimiter.check(address);
      if (blocked.blocked) {
        reply.header('retry-after', String(blocked.retryAfterS));
        return sendError(reply, 429, `too many failed sign-ins from ${address}; try again in ${blocked.retryAfterS}s`);
      }
      const result = await accounts.signIn(name, password, address);
      if (!result.ok) {
        authLimiter.fail(address);
        if (result.lockedUntil !== null) {
          reply.header('retry-after', String(Math.max(1, Math.ceil((result.lockedUntil - clock.now()) / 1000))));
          return sendError(reply, 429, result.message);
        }
        return sendError(reply, 401, WRONG_CREDENTIALS);
      }
      const u = result.user;
      const principal: SignInPrincipal = { kind: 'user', id: u.id, name: u.name, roles: u.roles, tenants: u.tenants };
      const record = await sessions.create(principal, reply);
      return reply.code(201).header('cache-control', 'no-store').send(answer({ ...principal, sessionId: record.id }, record));
    });

    app.get(SESSION_PATH, requires('session.own'), async (request, reply) => {
      return reply.header('cache-control', 'no-store').send(answer(request.principal!, sessions.sessionOf(request)));
    });

    app.delete(SESSION_PATH, requires('session.own'), async (request, reply) => {
      const principal = request.principal!;
      if (principal.kind === 'user') {
        await sessions.end(principal.sessionId, reply);
        await accounts.audit('sign-out', { name: principal.name, address: request.ip }, principal.name, '');
      }
      return reply.code(204).send();
    });
  };
}
