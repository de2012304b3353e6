// Single sign-on with OpenID Connect: GET /auth/oidc/login sends the browser to the identity
// provider (authorization code with PKCE S256, state and nonce); GET /auth/oidc/callback takes it
// back, has openid-client exchange the code and validate the ID token, maps the claims to a
// Principal (./oidc-principal.ts) and hands it to the session starter. What the login must remember
// until the callback rides in a short-lived signed HttpOnly cookie, so any daemon instance can finish
// a sign-in another one started. Every failure is a short text a person can act on, never a stack.
import { fastifyCookie } from '@fastify/cookie';
import { hkdfSync } from 'node:crypto';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type * as oidc from 'openid-client';
import { OIDC_CALLBACK_PATH, OIDC_LOGIN_PATH, isLoopbackUrl, type OidcSettings } from '../config-core/oidc.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import { principalFromClaims, type Claims, type SignInPrincipal } from './oidc-principal.js';
import { PUBLIC } from './auth.js';

/**
 * openid-client (with jose and oauth4webapi), loaded at the first sign-in: a daemon without
 * auth.oidc never loads it, and none loads it while it starts.
 */
let loaded: typeof oidc | null = null;
async function openid(): Promise<typeof oidc> {
  return (loaded ??= await import('openid-client'));
}

export type { SignInPrincipal } from './oidc-principal.js';

/** Creates the browser session of a person who signed in (the sessions module builds the real one). */
export interface SessionStarter {
  /** Sets the session cookie on `reply`; the route then redirects. */
  startSession(principal: SignInPrincipal, reply: FastifyReply): Promise<void>;
}

export interface OidcRoutesDeps {
  settings: OidcSettings;
  sessions: SessionStarter;
  clock: Clock;
  logger: Logger;
  /** How long a person may take at the identity provider. Default 10 minutes. */
  loginTtlMs?: number;
  /** Timeout of each request to the identity provider, in seconds. Default 10. */
  requestTimeoutS?: number;
}

export const LOGIN_COOKIE = 'incidentd_oidc_login';
const DEFAULT_LOGIN_TTL_MS = 10 * 60_000;

/** A sign-in refused for a reason the person (or the admin) can act on. */
export class SignInError extends Error {
  constructor(
    readonly status: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SignInError';
  }
}

/** Discovery or a token request could not reach the identity provider. */
export class IdentityProviderUnreachableError extends Error {
  constructor(issuer: string, cause: unknown) {
    super(`the identity provider at ${issuer} is not reachable (${reasonOf(cause)}); try again shortly`, { cause });
    this.name = 'IdentityProviderUnreachableError';
  }
}

function reasonOf(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // fetch wraps the socket error ("fetch failed"); its cause says what happened (ECONNREFUSED…).
  const cause = err.cause;
  if (cause instanceof Error && cause.message) return `${err.message}: ${cause.message}`;
  return err.message;
}

/**
 * The identity provider's metadata, discovered at the first sign-in and kept: a daemon starts even
 * when the IdP is down. A failed discovery is not kept, so the next sign-in tries again; sign-ins
 * arriving while one discovery runs share it.
 */
export class IdentityProvider {
  private config: oidc.Configuration | null = null;
  private pending: Promise<oidc.Configuration> | null = null;

  constructor(
    private readonly settings: OidcSettings,
    private readonly timeoutS: number,
  ) {}

  get issuer(): string {
    return this.settings.issuer;
  }

  async configuration(): Promise<oidc.Configuration> {
    if (this.config) return this.config;
    this.pending ??= this.discover().finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  private async discover(): Promise<oidc.Configuration> {
    const issuer = new URL(this.settings.issuer);
    // The schema allows plain http only to this machine.
    const insecure = issuer.protocol === 'http:' && isLoopbackUrl(issuer);
    const client = await openid();
    try {
      this.config = await client.discovery(
        issuer,
        this.settings.clientId,
        undefined,
        client.ClientSecretBasic(this.settings.clientSecret),
        { timeout: this.timeoutS, ...(insecure ? { execute: [client.allowInsecureRequests] } : {}) },
      );
      return this.config;
    } catch (err) {
      throw new IdentityProviderUnreachableError(this.settings.issuer, err);
    }
  }
}

/** What the login remembers until the callback. */
interface LoginState {
  /** PKCE code verifier. */
  v: string;
  /** state */
  s: string;
  /** nonce */
  n: string;
  /** Where to go after signing in (a checked relative path). */
  r: string;
  /** Expiry, epoch ms. */
  e: number;
}

/**
 * Only a path on this site: "/incidents?x=1". Not "//evil.example" or "/\evil.example" (browsers
 * read both as another host), not "https://…", not control characters.
 */
export function safeReturnTo(value: unknown): string | null {
  if (value === undefined) return '/';
  if (typeof value !== 'string') return null;
  if (!value.startsWith('/') || value.startsWith('//') || value.includes('\\')) return null;
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f]/.test(value)) return null;
  // Resolved against a placeholder origin, it must stay on it.
  const resolved = new URL(value, 'http://incidentd.invalid');
  return resolved.origin === 'http://incidentd.invalid' ? value : null;
}

function sendText(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply.code(status).header('cache-control', 'no-store').type('text/plain; charset=utf-8').send(`${message}\n`);
}

export function oidcRoutes(deps: OidcRoutesDeps): FastifyPluginAsync {
  const { settings, clock } = deps;
  const log = deps.logger.child({ component: 'oidc' });
  const ttlMs = deps.loginTtlMs ?? DEFAULT_LOGIN_TTL_MS;
  const idp = new IdentityProvider(settings, deps.requestTimeoutS ?? 10);
  const redirect = new URL(settings.redirectUri);
  // The login cookie is signed with a key derived from the client secret: every instance of the
  // daemon has it, and nobody without it can forge a login state.
  const key = Buffer.from(hkdfSync('sha256', settings.clientSecret, 'incidentd', 'oidc login cookie', 32));
  const signer = fastifyCookie.signerFactory(key);
  const cookieOptions = {
    path: '/auth/oidc',
    httpOnly: true,
    // Lax: the IdP sends the browser back with a top-level GET from another site.
    sameSite: 'lax' as const,
    secure: redirect.protocol === 'https:',
  };

  function readLogin(request: FastifyRequest): LoginState {
    const header = request.headers.cookie;
    const raw = header === undefined ? undefined : fastifyCookie.parse(header)[LOGIN_COOKIE];
    const restart = `start again at ${OIDC_LOGIN_PATH}`;
    if (raw === undefined) {
      throw new SignInError(400, `this browser has no sign-in in progress (it was not started here, or its cookie was lost); ${restart}`);
    }
    const unsigned = signer.unsign(raw);
    let state: LoginState | null = null;
    if (unsigned.valid && unsigned.value !== null) {
      try {
        state = JSON.parse(Buffer.from(unsigned.value, 'base64url').toString('utf8')) as LoginState;
      } catch {
        state = null;
      }
    }
    if (state === null || typeof state.s !== 'string' || typeof state.v !== 'string' || typeof state.n !== 'string') {
      throw new SignInError(400, `the sign-in cookie is not valid (changed, or signed with another client secret); ${restart}`);
    }
    if (state.e <= clock.now()) {
      throw new SignInError(400, `the sign-in took longer than ${Math.round(ttlMs / 60_000)} minutes and expired; ${restart}`);
    }
    return state;
  }

  async function userClaims(config: oidc.Configuration, tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers) {
    const idClaims = tokens.claims();
    if (!idClaims) throw new SignInError(502, 'the identity provider sent no ID token; is the "openid" scope allowed for this client?');
    const claims: Claims = { ...idClaims };
    const nameClaims = settings.nameClaim === null ? ['preferred_username', 'email'] : [settings.nameClaim];
    const missing = claims[settings.groupsClaim] === undefined || nameClaims.every((c) => claims[c] === undefined);
    // Many IdPs keep the ID token small and give groups and profile claims from userinfo.
    if (missing && config.serverMetadata().userinfo_endpoint !== undefined) {
      const client = await openid();
      const info = await client.fetchUserInfo(config, tokens.access_token, idClaims.sub);
      for (const [k, v] of Object.entries(info)) if (claims[k] === undefined) claims[k] = v;
    }
    return claims;
  }

  return async (app: FastifyInstance) => {
    // Scoped to these routes: the API's JSON errors stay as they are elsewhere.
    app.setErrorHandler((err: unknown, request, reply) => {
      if (err instanceof SignInError) return sendText(reply, err.status, err.message);
      if (err instanceof IdentityProviderUnreachableError) {
        log.warn({ err: err.message }, 'identity provider unreachable');
        return sendText(reply.header('retry-after', '30'), 503, err.message);
      }
      log.error({ err, url: request.url.split('?', 1)[0] }, 'single sign-on failed');
      return sendText(reply, 500, 'sign-in failed because of an internal error; see the incidentd log for details');
    });

    app.get<{ Querystring: { return_to?: unknown } }>(OIDC_LOGIN_PATH, PUBLIC, async (request, reply) => {
      const returnTo = safeReturnTo(request.query.return_to);
      if (returnTo === null) {
        throw new SignInError(400, 'return_to must be a path on this site, like /incidents; other sites are not allowed');
      }
      const config = await idp.configuration();
      const client = await openid();
      const state: LoginState = {
        v: client.randomPKCECodeVerifier(),
        s: client.randomState(),
        n: client.randomNonce(),
        r: returnTo,
        e: clock.now() + ttlMs,
      };
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: settings.redirectUri,
        scope: settings.scopes.join(' '),
        code_challenge: await client.calculatePKCECodeChallenge(state.v),
        code_challenge_method: 'S256',
        state: state.s,
        nonce: state.n,
      });
      const value = signer.sign(Buffer.from(JSON.stringify(state)).toString('base64url'));
      reply.header('set-cookie', fastifyCookie.serialize(LOGIN_COOKIE, value, { ...cookieOptions, maxAge: Math.ceil(ttlMs / 1000) }));
      return reply.header('cache-control', 'no-store').redirect(url.href, 302);
    });

    app.get<{ Querystring: Record<string, unknown> }>(OIDC_CALLBACK_PATH, PUBLIC, async (request, reply) => {
      // One use: whatever happens below, this browser's login state is spent.
      reply.header('set-cookie', fastifyCookie.serialize(LOGIN_COOKIE, '', { ...cookieOptions, maxAge: 0 }));
      const login = readLogin(request);
      const q = request.query;
      if (q.state !== login.s) {
        throw new SignInError(
          400,
          `this answer of the identity provider does not belong to the sign-in this browser started (state mismatch: replayed or forged); start again at ${OIDC_LOGIN_PATH}`,
        );
      }
      if (typeof q.error === 'string') {
        const description = typeof q.error_description === 'string' ? `: ${q.error_description}` : '';
        const status = q.error === 'access_denied' ? 403 : 400;
        throw new SignInError(status, `the identity provider refused the sign-in (${q.error}${description})`);
      }
      const config = await idp.configuration();
      // The URL the IdP sent the browser to, with the query as received (openid-client checks iss, state and code).
      const current = new URL(settings.redirectUri);
      const query = request.url.indexOf('?');
      current.search = query === -1 ? '' : request.url.slice(query);
      let tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
      let claims: Claims;
      try {
        const client = await openid();
        tokens = await client.authorizationCodeGrant(config, current, {
          pkceCodeVerifier: login.v,
          expectedState: login.s,
          expectedNonce: login.n,
          idTokenExpected: true,
        });
        claims = await userClaims(config, tokens);
      } catch (err) {
        throw idpFailure(idp.issuer, err);
      }
      const mapped = principalFromClaims(settings, config.serverMetadata().issuer, claims);
      if (!mapped.ok) {
        log.info({ user: mapped.name, groups: mapped.groups }, 'single sign-on refused: no mapped group');
        throw new SignInError(403, mapped.message);
      }
      await deps.sessions.startSession(mapped.principal, reply);
      log.info({ user: mapped.principal.name, roles: mapped.principal.roles }, 'signed in with single sign-on');
      return reply.header('cache-control', 'no-store').redirect(login.r, 302);
    });
  };
}

/** A failed code exchange, as a person can act on it. */
function idpFailure(issuer: string, err: unknown): Error {
  if (err instanceof SignInError) return err;
  // Its errors come from openid-client, so it is loaded when one of them is here.
  const client = loaded;
  if (client !== null && err instanceof client.ResponseBodyError) {
    // invalid_grant: the code was used already or expired at the IdP (a reload of the callback page).
    return new SignInError(400, `the identity provider did not accept this sign-in (${err.error}${err.error_description ? `: ${err.error_description}` : ''}); start again at ${OIDC_LOGIN_PATH}`, { cause: err });
  }
  if (client !== null && err instanceof client.AuthorizationResponseError) {
    return new SignInError(400, `the identity provider refused the sign-in (${err.error}${err.error_description ? `: ${err.error_description}` : ''})`, { cause: err });
  }
  if (err instanceof TypeError || (err instanceof Error && err.name === 'TimeoutError') || (err instanceof Error && err.name === 'AbortError')) {
    return new IdentityProviderUnreachableError(issuer, err);
  }
  if (client !== null && err instanceof client.ClientError) {
    // The IdP's answer failed a check (ID token signature, audience, nonce, issuer…).
    return new SignInError(502, `the identity provider's answer failed validation (${err.message}); the sign-in was refused`, { cause: err });
  }
  return err instanceof Error ? err : new Error(String(err));
}
