// Who is asking, and may they. Authentication turns a request's credentials into a Principal: a
// bearer API token first, then whatever authenticators follow it (a browser session). The guard
// then checks the route's declared action against src/domain/permissions.ts. Every route declares
// its access when it is registered; one that does not is refused there, so none is forgotten.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiToken } from '../config-core/types.js';
import { isAction, permits, rolesAllowed, type Action } from '../domain/permissions.js';
import { DEFAULT_TENANT, type Principal, type TenantScope, type TokenRole } from '../domain/principal.js';
import { IncidentdError } from '../shared/errors.js';
import { digestOfSecret, PresentedDigests, sha256 } from '../shared/secret-digest.js';

/**
 * How a route is reached: `public` (no credentials: health, metrics, the API description), or an
 * action, checked against the caller's roles. `credentials: 'source'` marks the alert endpoints,
 * which take their sources' tokens and set the principal themselves (src/api/alerts.ts).
 */
export type RouteAccess = 'public' | { action: Action; credentials?: 'api' | 'source' };

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
  interface FastifyRequest {
    /** Who sent the request; null on public routes and before authentication. */
    principal: Principal | null;
  }
}

/** Route options naming the action a route needs: `app.get(path, requires('incidents.read'), handler)`. */
export function requires(action: Action): { config: { access: RouteAccess } } {
  return { config: { access: { action } } };
}

/** Route options of a route open to anyone. */
export const PUBLIC = { config: { access: 'public' as RouteAccess } };

/** A route was registered without saying which action it needs. */
export class RouteAccessMissingError extends IncidentdError {
  constructor(readonly route: string) {
    super(
      `route ${route} declares no access; register it with requires("<action>") (an action of src/domain/permissions.ts) or PUBLIC`,
    );
  }
}

export type AuthResult =
  | { ok: true; name: string; token: ApiToken }
  | { ok: false; reason: 'missing' | 'malformed' | 'invalid' | 'none-configured'; message: string };

// RFC 6750 b64token.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** Authorization headers that matched an API token, per token list (a reload drops them). */
const presented = new PresentedDigests();

/**
 * Checks an Authorization header against the configured tokens. Both sides are hashed to
 * equal-length SHA-256 digests and compared with timingSafeEqual, and every token is compared
 * (no early exit), so response time says nothing about how close a guess was.
 */
export function authenticate(header: string | undefined, tokens: readonly ApiToken[]): AuthResult {
  if (header === undefined || header.trim() === '') {
    return {
      ok: false,
      reason: 'missing',
      message: 'missing Authorization header; send "Authorization: Bearer <token>" with a token from api.tokens',
    };
  }
  // A header that matched before was well-formed; its digest is the one it had then.
  let given = presented.get(tokens, header);
  const known = given !== undefined;
  if (given === undefined) {
    const m = BEARER.exec(header);
    if (!m) {
      return {
        ok: false,
        reason: 'malformed',
        message: 'malformed Authorization header; expected "Authorization: Bearer <token>"',
      };
    }
    given = sha256(m[1]!);
  }
  let usable = 0;
  let match: ApiToken | null = null;
  for (const t of tokens) {
    if (t.token === '') continue;
    usable++;
    if (timingSafeEqual(given, digestOfSecret(t, t.token)) && match === null) match = t;
  }
  if (usable === 0) {
    return {
      ok: false,
      reason: 'none-configured',
      message: 'no API tokens are configured; add one under api.tokens in the daemon configuration',
    };
  }
  if (!known && match !== null) presented.remember(tokens, header, given);
  if (match === null) {
    return { ok: false, reason: 'invalid', message: 'invalid API token; check the token against api.tokens' };
  }
  return { ok: true, name: match.name, token: match };
}

/** The role of a token that names none: what every token could do before roles existed. */
export const DEFAULT_TOKEN_ROLE: TokenRole = 'write';

function scopeOf(tenants: ApiToken['tenants']): TenantScope {
  if (tenants === undefined || tenants === '*' || tenants.includes('*')) return { all: true };
  return { all: false, tenants: [...new Set(tenants)] };
}

/** A configured API token as a Principal; no role: write, no tenants: all. */
export function tokenPrincipal(t: ApiToken): Principal {
  return { kind: 'token', id: t.name, name: t.name, roles: [t.role ?? DEFAULT_TOKEN_ROLE], tenants: scopeOf(t.tenants) };
}

/**
 * An alert source as a Principal: its tokens (or routing keys) are ingest credentials by nature,
 * scoped to the source's tenant. API tokens never post alerts (the alert routes take source
 * credentials only), and every alert lands in its source's tenant (targetOf in src/sources/types.ts),
 * whatever the payload says: a credential of one customer's source cannot open another's incident.
 */
export function sourcePrincipal(source: { id: string; tenant?: string | undefined }): Principal {
  return { kind: 'token', id: `source:${source.id}`, name: source.id, roles: ['ingest'], tenants: { all: false, tenants: [source.tenant ?? DEFAULT_TENANT] } };
}

/** The start-up note for tokens configured before roles existed; null when every token has a role. */
export function defaultRoleNote(tokens: readonly ApiToken[]): string | null {
  const names = tokens.filter((t) => t.role === undefined).map((t) => `"${t.name}"`);
  if (names.length === 0) return null;
  return (
    `API token${names.length === 1 ? '' : 's'} ${names.join(', ')} name${names.length === 1 ? 's' : ''} no role and ` +
    `act${names.length === 1 ? 's' : ''} as ${DEFAULT_TOKEN_ROLE} (reads, incident actions, silences) as before roles existed; ` +
    'set api.tokens[].role to read, ingest, write or admin to choose'
  );
}

/**
 * Credentials that were presented and are refused. `malformed` and `invalid` are answered 401 and
 * counted as a guess; `ended` (a browser session that expired or was signed out) is a 401 that is
 * not a guess, so a browser polling with an old cookie does not block its office's address;
 * `csrf` (a cookie-authenticated write without its session's token) is a 403.
 */
export interface AuthFailure {
  reason: 'malformed' | 'invalid' | 'none-configured' | 'ended' | 'csrf';
  message: string;
}

/**
 * One way of signing a request in. Answers the principal, `null` when the request carries none
 * of its credentials (the next authenticator is asked), or a failure for wrong ones.
 */
export interface Authenticator {
  name: string;
  authenticate(request: FastifyRequest): Promise<Principal | AuthFailure | null> | Principal | AuthFailure | null;
}

/** `Authorization: Bearer <api token>`. */
export function bearerAuthenticator(tokens: () => readonly ApiToken[]): Authenticator {
  return {
    name: 'bearer',
    authenticate(request) {
      const header = request.headers.authorization;
      const result = authenticate(header, tokens());
      if (result.ok) return tokenPrincipal(result.token);
      if (result.reason === 'missing') return null;
      return { reason: result.reason, message: result.message };
    },
  };
}

/** An authenticator from a function that finds the request's principal or null (a session cookie). */
export function principalAuthenticator(name: string, find: (request: FastifyRequest) => Promise<Principal | null>): Authenticator {
  return { name, authenticate: find };
}

function isFailure(r: Principal | AuthFailure): r is AuthFailure {
  return 'reason' in r;
}

export interface GuardOptions {
  /** Asked in order; the first that answers a principal or a failure decides. */
  authenticators: readonly Authenticator[];
  /** Answers 429 to a blocked address (true if it did). */
  refuseBlocked(request: FastifyRequest, reply: FastifyReply): boolean;
  /** A wrong credential from this request's address. */
  failed(request: FastifyRequest): void;
  sendError(reply: FastifyReply, status: number, message: string): FastifyReply;
}

function isApiPath(url: string): boolean {
  const path = url.split('?', 1)[0] ?? url;
  return path === '/api' || path.startsWith('/api/');
}

const declared = new WeakMap<FastifyInstance, Map<string, RouteAccess>>();

/** Every route registered since installGuard, with its access (`GET /api/v1/incidents` → …). */
export function declaredAccess(app: FastifyInstance): Map<string, RouteAccess> {
  return new Map(declared.get(app) ?? []);
}

/** "incidents.acknowledge needs token role write or admin; token "ci" has role read". */
export function forbiddenMessage(principal: Principal, action: Action): string {
  const allowed = rolesAllowed(action, principal.kind);
  const who = principal.kind === 'user' ? `user "${principal.name}"` : `token "${principal.name}"`;
  const has = `${principal.roles.length === 1 ? 'role' : 'roles'} ${principal.roles.join(', ') || 'none'}`;
  const needs =
    allowed.length === 0
      ? `no ${principal.kind} role may do ${action}`
      : `${action} needs ${principal.kind} role ${allowed.join(' or ')}`;
  return `forbidden: ${needs}; ${who} has ${has}`;
}

/**
 * Installs, before any route: the check that every route declares its access, `request.principal`,
 * and one onRequest hook that authenticates and checks the permission before the body is read.
 * Routes with `credentials: 'source'` are left to their own hook (src/api/alerts.ts).
 */
export function installGuard(app: FastifyInstance, opts: GuardOptions): void {
  const routes = new Map<string, RouteAccess>();
  declared.set(app, routes);
  app.decorateRequest('principal', null);

  app.addHook('onRoute', (route) => {
    const methods = (Array.isArray(route.method) ? route.method : [route.method]).filter((m) => m !== 'HEAD');
    const name = `${methods.join(',')} ${route.url}`;
    const access = route.config?.access;
    if (access === undefined || (access !== 'public' && !isAction(access.action))) {
      // HEAD is fastify's automatic companion of a GET, which was checked already.
      if (methods.length === 0) return;
      throw new RouteAccessMissingError(name);
    }
    for (const m of methods) routes.set(`${m} ${route.url}`, access);
  });

  /** Signs the request in and checks its permission; false when it was answered (401, 403, 429). */
  const signIn = async (request: FastifyRequest, reply: FastifyReply, access: Exclude<RouteAccess, 'public'> | undefined): Promise<boolean> => {
    if (opts.refuseBlocked(request, reply)) return false;
    for (const a of opts.authenticators) {
      const r = await a.authenticate(request);
      if (r === null) continue;
      if (isFailure(r)) {
        if (r.reason === 'csrf') {
          void opts.sendError(reply, 403, r.message);
          return false;
        }
        if (r.reason === 'malformed' || r.reason === 'invalid') opts.failed(request);
        const invalid = r.reason === 'invalid';
        reply.header('www-authenticate', invalid ? 'Bearer realm="incidentd", error="invalid_token"' : 'Bearer realm="incidentd"');
        void opts.sendError(reply, 401, r.message);
        return false;
      }
      request.principal = r;
      if (access !== undefined && !permits(r, access.action)) {
        void opts.sendError(reply, 403, forbiddenMessage(r, access.action));
        return false;
      }
      return true;
    }
    reply.header('www-authenticate', 'Bearer realm="incidentd"');
    void opts.sendError(
      reply,
      401,
      'missing Authorization header; send "Authorization: Bearer <token>" with a token from api.tokens',
    );
    return false;
  };

  // A callback hook: the routes that need no sign-in here (public ones, the alert endpoints) pass
  // without the promise and microtask turn an async hook costs on every request.
  app.addHook('onRequest', (request, reply, done) => {
    const access = request.routeOptions.config?.access;
    if (access === 'public' || (access !== undefined && access.credentials === 'source')) return done();
    // No route matched: under /api/ the caller still signs in first, so the 404 names no route to a stranger.
    if (access === undefined && !isApiPath(request.url)) return done();
    // Answered: the request goes no further (done is not called).
    signIn(request, reply, access).then((signedIn) => {
      if (signedIn) done();
    }, done);
  });
}
