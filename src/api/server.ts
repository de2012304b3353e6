// The HTTP API: health, readiness, metrics (open) and the incidents API under /api/v1 (bearer token,
// or another authenticator; each route declares its action, checked by the guard in auth.ts).
// Reads go straight to the store; changes go through the incident manager (IncidentCommands) so
// they are recorded, notified and escalated like any other.
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import type { ReportCalendar } from '../incidents/report-calendars.js';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyServerOptions, type FastifyReply, type FastifyRequest } from 'fastify';
import { SpanKind, SpanStatusCode, trace, type Span } from '../shared/otel.js';
import type { ApiToken } from '../config-core/types.js';
import { StoreBusyError } from '../incidents/commands.js';
import type { IncidentCommands } from '../incidents/types.js';
import {
  IncidentNotFoundError,
  InvalidCursorError,
  InvalidTransitionError,
  StoreUnavailableError,
  SubscriberLimitError,
} from '../shared/errors.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { AuditLog, IncidentStore } from '../store/types.js';
import { bearerAuthenticator, defaultRoleNote, installGuard, PUBLIC, requires, type Authenticator } from './auth.js';
import { AuthFailureLimiter } from './auth-limiter.js';
import type { Metrics } from './metrics.js';
import { isoTime, toApi, type ApiRelatedIncident, type ApiTicketLink } from '../domain/serialize.js';
import type { TicketLink } from '../notify/types.js';
import type { Incident } from '../domain/incident.js';
import type { RuleEngine } from '../rules/types.js';
import { explanationRoutes } from './incident-explanation.js';
import {
  BadRequestError,
  parseCommentBody,
  parseSubscriberBody,
  parseListQuery,
  parsePageQuery,
  parseNumberParam,
  parseTransitionBody,
} from './validation.js';
import { alertRoutes, refuseBlocked, type AlertRoutesDeps } from './alerts.js';
import { acceptJsonOnly } from './json-body.js';
import { checkRoutes, type CheckContext, type CheckStatusReader } from './checks.js';
import { redactUrl } from './log-url.js';
import { OPENAPI_PATH, openApiDocument, recordRoutes } from './openapi.js';
import type { Principal, TenantScope } from '../domain/principal.js';
import { silenceRoutes, type SilenceRoutesDeps } from './silences.js';
import { problemReportRoutes, type ProblemReportRoutesDeps } from './problem-reports.js';
import { ProblemReportNotFoundError } from '../incidents/problem-reports.js';
import { incidentActionRoutes } from './incident-actions.js';
import { reportRoutes } from './reports.js';
import { oidcRoutes, type OidcRoutesDeps } from './oidc.js';
import { sessionRoutes, SIGN_IN_METHODS_PATH, type BrowserSessions } from './session.js';
import { auditRoutes } from './audit.js';
import type { Accounts } from './accounts.js';
import { requestScope } from './tenant-scope.js';
import { mayAccess, visibleTenants } from '../domain/tenant-scope.js';
import { registerPortal, type PortalOptions } from './portal.js';
import { eventRoutes, type IncidentEventHub } from './events.js';
import { OIDC_LOGIN_PATH } from '../config-core/oidc.js';
import { StatusPageNotFoundError, statusRoutes, type StatusRoutesDeps } from './status.js';
import { SilenceExpiredError, SilenceNotFoundError } from '../domain/silence.js';

export interface ApiDeps {
  /** Reads (get/list). */
  store: IncidentStore;
  /** ack/resolve/comment go through the manager. */
  commands: IncidentCommands;
  /** Read on every request: a config reload changes them. */
  tokens: () => ApiToken[];
  /**
   * Asked after the bearer token, in order, when a request carries none (a browser session).
   * The first that finds a principal decides.
   */
  authenticators?: Authenticator[];
  /** e.g. `{ ready: true, checks: { store: "ok" } }`. */
  ready: () => Promise<{ ready: boolean; checks: Record<string, string> }>;
  metrics: Metrics;
  logger: Logger;
  /** Drives the block of addresses that keep presenting wrong tokens. */
  clock: Clock;
  /** The alert endpoints (generic, Alertmanager, PagerDuty); absent: not served. */
  alerts?: AlertRoutesDeps;
  /** The configured checks and their states (GET /api/v1/checks); absent: not served. */
  checks?: CheckStatusReader;
  /** Grouping, maintenance and silences of each check in that list; absent: left out. */
  checkContext?: CheckContext;
  /** Silences (GET/POST /api/v1/silences, DELETE /api/v1/silences/:id); absent: not served. */
  silences?: SilenceRoutesDeps;
  /** The configured time zone of a tenant, for reports; absent: reports default to UTC. */
  tenantZone?: (tenant: string) => string | null;
  /** The calendar of an incident's business time, for reports; absent: around the clock. */
  reportCalendar?: ReportCalendar;
  /** Every configured tenant, for GET /api/v1/reports/tenants; absent: staff who see all get none listed. */
  reportTenants?: () => readonly string[];
  /** Single sign-on (GET /auth/oidc/login and /auth/oidc/callback); absent: auth.oidc is not configured. */
  oidc?: OidcRoutesDeps;
  /**
   * Local sign-in and browser sessions (/api/v1/session) and the audit log (GET /api/v1/audit).
   * The sessions also go in `authenticators`, which is what makes their cookie sign a request in.
   */
  accounts?: { sessions: BrowserSessions; accounts: Accounts; store: AuditLog };
  /** The tenants' status pages (GET /api/v1/status/:tenant); absent: not served. */
  status?: StatusRoutesDeps;
  /** What employees report (/api/v1/problem-reports); absent: not served. */
  problemReports?: ProblemReportRoutesDeps;
  /** A channel's ticket reference as people know it, with its link into the helpdesk; null: shown as stored. */
  ticketLink?: (channelId: string, reference: string) => TicketLink | null;
  /** The rules as loaded now (GET /api/v1/incidents/:number/explanation); absent: not served. */
  rules?: () => RuleEngine;
  /** The web portal's built files (/, /assets/*, and index.html for its pages); absent: not served. */
  portal?: PortalOptions;
  /** Live incident events (GET /api/v1/events); absent: not served. */
  events?: IncidentEventHub;
}


export const BODY_LIMIT = 1024 * 1024;

/** Every error body has this shape. */
export interface ApiErrorBody {
  error: string;
  message: string;
  [extra: string]: unknown;
}

const ERROR_NAMES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
  500: 'internal',
  503: 'unavailable',
};

function errorName(status: number): string {
  return ERROR_NAMES[status] ?? (status >= 500 ? 'internal' : 'bad_request');
}

function sendError(reply: FastifyReply, status: number, message: string, extra: Record<string, unknown> = {}) {
  const body: ApiErrorBody = { error: errorName(status), message, ...extra };
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}

function isFastifyError(err: unknown): err is FastifyError {
  return err instanceof Error && typeof (err as FastifyError).statusCode === 'number';
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's server span, from onRequest to onResponse; null before. */
    traceSpan: Span | null;
  }
}

function principalOf(request: FastifyRequest): Principal {
  // Unreachable while the guard runs before every non-public route; failing loudly beats recording "unknown".
  if (request.principal === null) throw new Error('request reached an /api/ handler without authentication');
  return request.principal;
}

/** Who acted, as the timeline, acknowledgedBy and resolvedBy record it: the user's or the token's name. */
function actorOf(request: FastifyRequest): string {
  return principalOf(request).name;
}

/** The path without the query string, as matched by a route when there is one. */
function pathOf(request: FastifyRequest): string {
  return request.routeOptions.url ?? request.url.split('?', 1)[0] ?? request.url;
}

/**
 * Who sent a request to a public route that shows more to some (a private status page): the first
 * principal an authenticator finds; null for none. Wrong credentials count against the address
 * like on any other route, and a blocked address is answered as anonymous, so the route cannot be
 * used to guess tokens.
 */
async function identify(authenticators: readonly Authenticator[], limiter: AuthFailureLimiter, request: FastifyRequest): Promise<Principal | null> {
  if (limiter.check(request.ip).blocked) return null;
  for (const a of authenticators) {
    const r = await a.authenticate(request);
    if (r === null) continue;
    if ('reason' in r) {
      if (r.reason !== 'none-configured') limiter.fail(request.ip);
      return null;
    }
    return r;
  }
  return null;
}

/** Fastify's own schema compilers, required from fastify's folder when first asked for. */
type SchemaCompilers = Required<NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>>;
export const lazySchemaCompilers: SchemaCompilers = (() => {
  const fromFastify = createRequire(createRequire(import.meta.url).resolve('fastify'));
  let validator: SchemaCompilers['buildValidator'] | undefined;
  let serializer: SchemaCompilers['buildSerializer'] | undefined;
  return {
    buildValidator: (...args) => (validator ??= (fromFastify('@fastify/ajv-compiler') as () => SchemaCompilers['buildValidator'])())(...args),
    buildSerializer: (...args) => (serializer ??= (fromFastify('@fastify/fast-json-stringify-compiler') as () => SchemaCompilers['buildSerializer'])())(...args),
  };
})();

export function buildApi(deps: ApiDeps): FastifyInstance {
  const log = deps.logger.child({ component: 'api' });
  const tracer = trace.getTracer('incidentd');
  const app = Fastify({
    // Fastify's logger stays off; requests are logged below at debug with our own Logger,
    // which is a subset of pino's and not a full FastifyBaseLogger.
    logger: false,
    bodyLimit: BODY_LIMIT,
    return503OnClosing: true,
    // No route declares a JSON schema (requests are checked with zod): ajv and fast-json-stringify
    // load only should one ever do so (about 1.5 MB of heap the daemon otherwise holds for nothing).
    schemaController: { compilersFactory: lazySchemaCompilers },
  });

  // Before any route, so the route-coverage test sees them all (test/api/openapi.test.ts).
  recordRoutes(app);
  acceptJsonOnly(app, (issue) => new BadRequestError([issue]));
  // One count of wrong credentials per address, whichever endpoint they were tried on.
  const limiter = new AuthFailureLimiter(deps.clock);
  // Also before any route: a route that declares no access is refused at registration.
  const authenticators = [bearerAuthenticator(deps.tokens), ...(deps.authenticators ?? [])];
  installGuard(app, {
    authenticators,
    refuseBlocked: (request, reply) => refuseBlocked(limiter, request, reply),
    failed: (request) => limiter.fail(request.ip),
    sendError,
  });
  // Once at start, not per request: tokens configured before roles keep working as write tokens.
  const note = defaultRoleNote(deps.tokens());
  if (note !== null) log.info({ tokens: deps.tokens().filter((t) => t.role === undefined).map((t) => t.name) }, note);

  app.decorateRequest('traceSpan', null);
  // Callback hooks, not async ones: every request runs them, and an async hook costs a promise and
  // a turn of the microtask queue each.
  app.addHook('onRequest', (request, _reply, done) => {
    const route = pathOf(request);
    const span = tracer.startSpan(`${request.method} ${route}`, {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': request.method, 'http.route': route },
    });
    // On the request, not in a WeakMap: a WeakMap entry per request was a measurable part of its CPU.
    request.traceSpan = span;
    done();
  });

  app.addHook('onResponse', (request, reply, done) => {
    const span = request.traceSpan;
    if (span !== null) {
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
    log.debug(
      {
        method: request.method,
        url: redactUrl(request.url),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        actor: request.principal?.name,
      },
      'api request',
    );
    done();
  });

  // The portal's pages are index.html; its router shows them.
  const portalPage = deps.portal ? registerPortal(app, deps.portal) : null;
  app.setNotFoundHandler((request, reply) => {
    if (portalPage?.(request, reply)) return reply;
    return sendError(reply, 404, `no route ${request.method} ${request.url.split('?', 1)[0]}`);
  });

  app.setErrorHandler((err: unknown, request, reply) => {
    if (err instanceof BadRequestError) return sendError(reply, 400, err.message, { issues: err.issues });
    if (err instanceof IncidentNotFoundError) return sendError(reply, 404, err.message);
    if (err instanceof InvalidTransitionError) return sendError(reply, 409, err.message);
    if (err instanceof SubscriberLimitError) return sendError(reply, 409, err.message);
    if (err instanceof SilenceNotFoundError) return sendError(reply, 404, err.message);
    if (err instanceof ProblemReportNotFoundError) return sendError(reply, 404, err.message);
    if (err instanceof StatusPageNotFoundError) return sendError(reply, 404, err.message);
    if (err instanceof SilenceExpiredError) return sendError(reply, 409, err.message);
    if (err instanceof InvalidCursorError) {
      return sendError(reply, 400, `cursor: ${err.message}`, { issues: [{ field: 'cursor', message: err.message }] });
    }
    // A human command refused at once during a store outage: nothing changed, send it again.
    if (err instanceof StoreBusyError) {
      reply.header('retry-after', String(err.retryAfterS));
      return sendError(reply, 503, err.message);
    }
    if (err instanceof StoreUnavailableError) {
      log.warn({ err, url: redactUrl(request.url) }, 'store unavailable while serving the API');
      reply.header('retry-after', '5');
      return sendError(reply, 503, `${err.message}; retry shortly`);
    }
    // Fastify's own client errors: 415 wrong content type, 400 invalid JSON (the parser's message), 413 too large.
    if (isFastifyError(err) && err.statusCode === 415) {
      const given = request.headers['content-type'] ?? 'none';
      return sendError(reply, 415, `unsupported content type "${given}"; send a JSON body with Content-Type: application/json`);
    }
    if (isFastifyError(err) && err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      return sendError(reply, err.statusCode, err.message);
    }
    log.error({ err, method: request.method, url: redactUrl(request.url) }, 'API request failed');
    return sendError(reply, 500, 'internal error; see the incidentd log for details');
  });

  app.get('/healthz', PUBLIC, () => ({ status: 'ok' }));

  app.get('/readyz', PUBLIC, async (_request, reply) => {
    let state: { ready: boolean; checks: Record<string, string> };
    try {
      state = await deps.ready();
    } catch (err) {
      state = { ready: false, checks: { readiness: `check failed: ${(err as Error).message}` } };
    }
    return reply
      .code(state.ready ? 200 : 503)
      .send({ status: state.ready ? 'ready' : 'not_ready', checks: state.checks });
  });

  app.get('/metrics', PUBLIC, async (_request, reply) => {
    const text = await deps.metrics.render();
    return reply.type(deps.metrics.registry.contentType).send(text);
  });

  // `info.version` is the API's version (the /api/v1 in every path).
  let openApi: Record<string, unknown> | null = null;
  app.get(OPENAPI_PATH, PUBLIC, async () => (openApi ??= openApiDocument('1')));

  // A scoped request sees its tenants' incidents only; another tenant's incident is answered
  // exactly as a number that does not exist (a 403 would confirm that it does).
  const visibleIncident = async (request: FastifyRequest, number: string) => {
    const incident = await deps.store.get(number);
    if (!incident || !mayAccess(requestScope(request), incident.tenant)) throw new IncidentNotFoundError(number);
    return incident;
  };
  // Before a change: an all-tenants request skips the extra read (the command finds the incident).
  const mayChange = async (request: FastifyRequest, number: string) => {
    if (!requestScope(request).all) await visibleIncident(request, number);
  };

  // Bounded: a switch can hold back hundreds of access points; the page shows the first ones.
  const RELATED_LIMIT = 20;
  const relatedIncidents = async (incident: Incident): Promise<ApiRelatedIncident[]> => {
    const brief = (i: Incident, relation: ApiRelatedIncident['relation']): ApiRelatedIncident => ({
      number: i.number,
      title: i.title,
      status: i.status,
      severity: i.severity,
      firstSeen: isoTime(i.firstSeen),
      relation,
    });
    // Always within the incident's own tenant, whatever else the request may see.
    const tenant = [incident.tenant];
    const out: ApiRelatedIncident[] = [];
    const same = await deps.store.list({ tenant, target: incident.target.id }, RELATED_LIMIT + 1);
    for (const i of same.items) if (i.number !== incident.number) out.push(brief(i, 'same-target'));
    for (const r of incident.related.slice(0, RELATED_LIMIT)) {
      const held = await deps.store.list({ tenant, fingerprint: r.fingerprint }, 1);
      const first = held.items[0];
      if (first !== undefined && first.number !== incident.number) out.push(brief(first, 'held-back'));
    }
    return out.slice(0, RELATED_LIMIT);
  };

  const visibleDeadLetters = async <D extends { event: { number: string } }>(scope: TenantScope, items: D[]): Promise<D[]> => {
    const tenants = new Map<string, string | null>();
    for (const d of items) {
      if (!tenants.has(d.event.number)) tenants.set(d.event.number, (await deps.store.get(d.event.number))?.tenant ?? null);
    }
    return items.filter((d) => {
      const tenant = tenants.get(d.event.number);
      return tenant !== undefined && tenant !== null && mayAccess(scope, tenant);
    });
  };

  app.get('/api/v1/incidents', requires('incidents.read'), async (request) => {
    const q = parseListQuery(request.query);
    const tenants = visibleTenants(requestScope(request), q.filter.tenant);
    // A cursor only says where the previous page ended: the filter is applied again, so a cursor
    // handed out to another scope shows nothing of that scope.
    const filter = tenants === null ? q.filter : { ...q.filter, tenant: tenants };
    const page = await deps.store.list(filter, q.limit, q.cursor, q.sort);
    return { items: page.items.map((i) => toApi(i)), next: page.next };
  });

  // Notifications the outbox gave up on (a channel refused them or kept failing), newest first.
  app.get('/api/v1/notifications/dead', requires('notifications.read'), async (request) => {
    const q = parsePageQuery(request.query);
    const page = await deps.store.listDeadLetters(q.limit, q.cursor);
    // A dead letter names its incident by number only: a scoped request sees those of its
    // tenants' incidents. Filtered after the page is read, so a page may come back short; `next`
    // still leads on.
    const scope = requestScope(request);
    const visible = scope.all ? page.items : await visibleDeadLetters(scope, page.items);
    return {
      items: visible.map((d) => ({
        id: d.id,
        channel: d.channelId,
        event: { ...d.event, at: isoTime(d.event.at) },
        attempts: d.attempts,
        lastError: d.lastError,
        createdAt: isoTime(d.createdAt),
        finishedAt: d.finishedAt === null ? null : isoTime(d.finishedAt),
      })),
      next: page.next,
    };
  });

  app.get<{ Params: { number: string } }>('/api/v1/incidents/:number', requires('incidents.read'), async (request) => {
    const number = parseNumberParam(request.params.number);
    const incident = await visibleIncident(request, number);
    const ticketLinks = Object.entries(incident.tickets).map(([channel, reference]): ApiTicketLink => {
      const link = deps.ticketLink?.(channel, reference) ?? null;
      return { channel, reference, display: link?.display ?? reference, url: link?.url ?? null };
    });
    return { ...toApi(incident, { withTimeline: true }), relatedIncidents: await relatedIncidents(incident), ticketLinks };
  });

  app.post<{ Params: { number: string } }>('/api/v1/incidents/:number/ack', requires('incidents.acknowledge'), async (request) => {
    const number = parseNumberParam(request.params.number);
    const message = parseTransitionBody(request.body);
    await mayChange(request, number);
    const incident = await deps.commands.acknowledge(number, actorOf(request), message);
    return toApi(incident, { withTimeline: true });
  });

  app.post<{ Params: { number: string } }>('/api/v1/incidents/:number/resolve', requires('incidents.resolve'), async (request) => {
    const number = parseNumberParam(request.params.number);
    const message = parseTransitionBody(request.body);
    await mayChange(request, number);
    const incident = await deps.commands.resolve(number, actorOf(request), message);
    return toApi(incident, { withTimeline: true });
  });

  app.post<{ Params: { number: string } }>('/api/v1/incidents/:number/comments', requires('incidents.comment'), async (request, reply) => {
    const number = parseNumberParam(request.params.number);
    const text = parseCommentBody(request.body);
    await mayChange(request, number);
    const incident = await deps.commands.comment(number, actorOf(request), text);
    return reply.code(201).send(toApi(incident, { withTimeline: true }));
  });

  // Keeps a person (the reporter, an affected user) informed by the communication channels.
  app.post<{ Params: { number: string } }>('/api/v1/incidents/:number/subscribers', requires('incidents.subscribe'), async (request, reply) => {
    const number = parseNumberParam(request.params.number);
    const address = parseSubscriberBody(request.body);
    await mayChange(request, number);
    const incident = await deps.commands.subscribe(number, address, actorOf(request));
    return reply.code(201).send(toApi(incident, { withTimeline: true }));
  });

  void app.register(incidentActionRoutes({ commands: deps.commands, actorOf, mayChange }));

  if (deps.rules) void app.register(explanationRoutes({ rules: deps.rules, visibleIncident }));
  if (deps.alerts) void app.register(alertRoutes({ ...deps.alerts, authLimiter: limiter }));
  if (deps.checks) void app.register(checkRoutes(deps.checks, deps.checkContext));
  if (deps.silences) void app.register(silenceRoutes({ ...deps.silences, actorOf }));
  if (deps.problemReports) void app.register(problemReportRoutes(deps.problemReports));
  if (deps.oidc) void app.register(oidcRoutes(deps.oidc));
  // What the sign-in page offers: the password form, and single sign-on when it is configured.
  const sso = deps.oidc ? { provider: new URL(deps.oidc.settings.issuer).hostname, loginPath: OIDC_LOGIN_PATH } : null;
  app.get(SIGN_IN_METHODS_PATH, PUBLIC, async (_request, reply) => reply.header('cache-control', 'no-store').send({ password: deps.accounts !== undefined, sso }));
  // Connections that never sent a request (a browser's speculative preconnect, a client's spare
  // socket) are not idle to Node's server.close(), which then waits for its headers timeout: they
  // carry nothing, so closing drops them at once.
  const silent = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    silent.add(socket);
    socket.once('close', () => silent.delete(socket));
  });
  app.server.on('request', (request: { socket: Socket }) => silent.delete(request.socket));
  app.addHook('preClose', (done) => {
    for (const socket of silent) socket.destroy();
    done();
  });
  if (deps.events) {
    const hub = deps.events;
    // Before the server closes: an open stream would keep its connection, and stop, waiting.
    app.addHook('preClose', (done) => {
      hub.closeAll();
      done();
    });
    void app.register(eventRoutes({ hub, sendError }));
  }
  if (deps.accounts) {
    void app.register(sessionRoutes({ ...deps.accounts, clock: deps.clock, authLimiter: limiter, sendError }));
    void app.register(auditRoutes({ store: deps.accounts.store }));
  }
  if (deps.status) void app.register(statusRoutes({ ...deps.status, identify: (request) => identify(authenticators, limiter, request) }));
  void app.register(
    reportRoutes({ store: deps.store, clock: deps.clock, ...(deps.tenantZone ? { tenantZone: deps.tenantZone } : {}), ...(deps.reportCalendar ? { reportCalendar: deps.reportCalendar } : {}), ...(deps.reportTenants ? { tenants: deps.reportTenants } : {}) }),
  );
  return app;
}
