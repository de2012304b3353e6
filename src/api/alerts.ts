// The alert endpoints: generic alerts (POST /api/v1/alerts), the Alertmanager webhook
// (POST /api/v1/alertmanager) and PagerDuty Events v2 (POST /v2/enqueue). A request is
// authenticated before its body is read, validated whole, and answered 2xx only once the incident
// manager has committed its signals, so a crash right after the answer loses nothing.
import type { FastifyError, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiToken, IngestConfig } from '../config-core/types.js';
import type { SourceConfig, SourceType } from '../sources/config.js';
import type { Signal } from '../domain/signal.js';
import { BatchTooLargeError, IngestAdmission, IngestBacklogError } from '../incidents/admission.js';
import { StoreBusyError } from '../incidents/commands.js';
import { JournalError } from '../incidents/intake-journal.js';
import { ManagerStoppedError } from '../incidents/manager.js';
import { QueueFullError } from '../incidents/signal-queue.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import { alertmanagerSignals } from '../sources/alertmanager.js';
import { authenticateSource, sourceForRoutingKey } from '../sources/auth.js';
import { genericSignals } from '../sources/generic.js';
import { invalidEvent, pagerdutyAction, parsePagerDutyEvent } from '../sources/pagerduty.js';
import type { ReceivedRequest } from '../sources/requests.js';
import { InvalidAlertsError, type AlertIngest } from '../sources/types.js';
import { AuthFailureLimiter } from './auth-limiter.js';
import { forbiddenMessage, sourcePrincipal, type RouteAccess } from './auth.js';
import { permits } from '../domain/permissions.js';
import { acceptJsonOnly } from './json-body.js';
import { redactUrl } from './log-url.js';

export const ALERT_PATHS = {
  generic: '/api/v1/alerts',
  alertmanager: '/api/v1/alertmanager',
  pagerduty: '/v2/enqueue',
} as const;

/** Seconds a client is asked to wait when the queue is full. */
const RETRY_AFTER_S = 1;
/** Seconds a client is asked to wait while the intake journal cannot be written (a full disk). */
const JOURNAL_RETRY_AFTER_S = 5;

export interface AlertRoutesDeps {
  ingest: AlertIngest;
  /** Read on every request: a config reload changes them. */
  sources: () => SourceConfig[];
  /** API tokens: known, but of the wrong scope here (403). */
  apiTokens: () => ApiToken[];
  /** Read on every request (max_queue); max_body_bytes is fixed when the routes register. */
  limits: () => IngestConfig;
  /**
   * The ingest bound shared with the daemon's other intake paths (SNMP traps); without it, one over
   * `ingest.queued()` and `limits().maxQueue`.
   */
  admission?: IngestAdmission;
  clock: Clock;
  logger: Logger;
  /** Called with the signals of every accepted request (metrics). */
  accepted?: (source: SourceConfig, signals: Signal[]) => void;
  /** Counts wrong tokens and routing keys per client address; shared with the API's token check. */
  authLimiter?: AuthFailureLimiter;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The source an alert request authenticated as (set by the alert routes' token check); null elsewhere. */
    alertSource: SourceConfig | null;
  }
}

/** The alert endpoints take their sources' credentials, checked here, not API tokens or sessions. */
const INGEST: { access: RouteAccess } = { access: { action: 'alerts.ingest', credentials: 'source' } };

/** Signs the request in as its source; false (and a 403 sent) if the table does not let sources ingest. */
function signInSource(request: FastifyRequest, reply: FastifyReply, source: SourceConfig): boolean {
  const principal = sourcePrincipal(source);
  request.principal = principal;
  if (permits(principal, 'alerts.ingest')) return true;
  void sendError(reply, 403, forbiddenMessage(principal, 'alerts.ingest'));
  return false;
}

/** Signals cannot be admitted now (queue full, manager stopping); `status` says which. */
class NotAdmittedError extends Error {
  constructor(
    readonly status: 413 | 429 | 503,
    message: string,
    readonly retryAfterS = RETRY_AFTER_S,
  ) {
    super(message);
  }
}

function isFastifyError(err: unknown): err is FastifyError {
  return err instanceof Error && typeof (err as FastifyError).statusCode === 'number';
}

const ERROR_NAMES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
  503: 'unavailable',
};

function sendError(reply: FastifyReply, status: number, message: string, extra: Record<string, unknown> = {}) {
  const error = ERROR_NAMES[status] ?? (status >= 500 ? 'internal' : 'bad_request');
  return reply.code(status).type('application/json; charset=utf-8').send({ error, message, ...extra });
}

/** Answers 429 when the client's address is blocked for wrong credentials; true if it did. */
export function refuseBlocked(limiter: AuthFailureLimiter, request: FastifyRequest, reply: FastifyReply): boolean {
  const state = limiter.check(request.ip);
  if (!state.blocked) return false;
  reply.header('retry-after', String(state.retryAfterS));
  void sendError(reply, 429, `too many failed authentication attempts from ${request.ip}; retry after ${state.retryAfterS}s`);
  return true;
}

export function alertRoutes(deps: AlertRoutesDeps): FastifyPluginCallback {
  const log = deps.logger.child({ component: 'alerts' });
  const limiter = deps.authLimiter ?? new AuthFailureLimiter(deps.clock);
  const admission = deps.admission ?? new IngestAdmission(() => deps.ingest.queued(), () => deps.limits().maxQueue);

  // Registers its routes synchronously: a callback plugin, nothing to await.
  return (app, _opts, done) => {
    // This plugin's own context: JSON bodies only, and its own error shapes.
    acceptJsonOnly(app, (issue) => new InvalidAlertsError([issue]), { keepText: true });
    // A property of the request, not a WeakMap entry per request (that was a measurable part of its CPU).
    app.decorateRequest('alertSource', null);

    app.setErrorHandler((err: unknown, request, reply) => {
      const pagerduty = request.routeOptions.url === ALERT_PATHS.pagerduty;
      if (err instanceof InvalidAlertsError) {
        if (pagerduty) return reply.code(400).send(invalidEvent(err.issues));
        return sendError(reply, 400, err.message, { issues: err.issues });
      }
      if (err instanceof NotAdmittedError) {
        if (err.status !== 413) reply.header('retry-after', String(err.retryAfterS));
        return sendError(reply, err.status, err.message);
      }
      if (isFastifyError(err) && err.statusCode === 415) {
        const given = request.headers['content-type'] ?? 'none';
        return sendError(reply, 415, `unsupported content type "${given}"; send a JSON body with Content-Type: application/json`);
      }
      if (isFastifyError(err) && err.statusCode === 413) {
        return sendError(reply, 413, `request body is larger than ingest.max_body_bytes (${deps.limits().maxBodyBytes} bytes); send smaller batches`);
      }
      if (isFastifyError(err) && err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
        return sendError(reply, err.statusCode, err.message);
      }
      log.error({ err, url: redactUrl(request.url) }, 'alert request failed');
      return sendError(reply, 500, 'internal error; see the incidentd log for details');
    });

    const bodyLimit = deps.limits().maxBodyBytes;

    // Authenticates before the body is read, so an unknown caller cannot make us read a large body.
    // A callback hook (all of it is synchronous): an async one costs a promise and a microtask turn
    // on every alert request. Answered: done is not called, and the request goes no further.
    const bearer = (type: SourceType) => (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
      if (refuseBlocked(limiter, request, reply)) return;
      const auth = authenticateSource(request.headers.authorization, type, deps.sources(), deps.apiTokens());
      if (!auth.ok) {
        // A request that presented a credential which matched nothing counts as a guess.
        if (auth.reason === 'invalid' || auth.reason === 'malformed') limiter.fail(request.ip);
        if (auth.status === 401) reply.header('www-authenticate', 'Bearer realm="incidentd"');
        void sendError(reply, auth.status, auth.message);
        return;
      }
      if (!signInSource(request, reply, auth.source)) return;
      request.alertSource = auth.source;
      done();
    };

    /** Commits the signals, or says why not; resolves once they are in the store. */
    const submit = async (source: SourceConfig, signals: Signal[], request?: ReceivedRequest): Promise<void> => {
      try {
        admission.check(signals.length);
      } catch (err) {
        if (err instanceof BatchTooLargeError) throw new NotAdmittedError(413, err.message);
        if (err instanceof IngestBacklogError) throw new NotAdmittedError(429, `${err.message}; retry after ${RETRY_AFTER_S}s`);
        throw err;
      }
      try {
        await deps.ingest.submitMany(signals, request);
      } catch (err) {
        if (err instanceof ManagerStoppedError) throw new NotAdmittedError(503, `${err.message}; retry shortly`);
        // Not written to disk, so not taken: the sender keeps the alerts and tries again.
        if (err instanceof JournalError) {
          throw new NotAdmittedError(503, `${err.message}; retry after ${JOURNAL_RETRY_AFTER_S}s`, JOURNAL_RETRY_AFTER_S);
        }
        // The manager's own bound (the store has been away a while): the same answer, retry later.
        if (err instanceof QueueFullError) throw new NotAdmittedError(429, `${err.message}; retry after ${RETRY_AFTER_S}s`);
        throw err;
      }
      deps.accepted?.(source, signals);
    };

    const batchRoute = (type: 'generic' | 'alertmanager', toSignals: typeof genericSignals) =>
      app.post(ALERT_PATHS[type], { bodyLimit, onRequest: bearer(type), config: INGEST }, async (request) => {
        const source = request.alertSource!;
        const at = deps.clock.now();
        const signals = toSignals(request.body, source, at);
        // The journal keeps the body as received (the same normaliser runs over it at a replay).
        const body = request.jsonText;
        await submit(source, signals, body === null ? undefined : { type, source, at, body });
        return { status: 'success', accepted: signals.length };
      });

    batchRoute('generic', genericSignals);
    batchRoute('alertmanager', alertmanagerSignals);

    const notBlocked = (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
      if (!refuseBlocked(limiter, request, reply)) done();
    };

    app.post(ALERT_PATHS.pagerduty, { bodyLimit, onRequest: notBlocked, config: INGEST }, async (request, reply) => {
      const event = parsePagerDutyEvent(request.body);
      const source = sourceForRoutingKey(event.routing_key, deps.sources());
      if (source === null) {
        limiter.fail(request.ip);
        return reply.code(400).send({ ...invalidEvent([]), errors: ['Invalid routing key'] });
      }
      if (!signInSource(request, reply, source)) return reply;
      const { action, dedupKey, signal } = pagerdutyAction(event, source, deps.clock.now());
      if (action === 'acknowledge') {
        const note = event.payload?.summary ?? `acknowledge event for ${dedupKey}`;
        try {
          await deps.ingest.acknowledgeSeries(signal, `pagerduty:${source.id}`, note);
        } catch (err) {
          // Refused during a store outage without acknowledging anything: the sender retries.
          if (err instanceof StoreBusyError) throw new NotAdmittedError(503, err.message, err.retryAfterS);
          throw err;
        }
      } else {
        await submit(source, [signal]);
      }
      return reply.code(202).send({ status: 'success', message: 'Event processed', dedup_key: dedupKey });
    });
    done();
  };
}
