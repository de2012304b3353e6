// GET /api/v1/openapi.json: an OpenAPI 3.1 description of every route the daemon serves, built
// from the same zod schemas that validate requests (z.toJSONSchema of their input side), so the
// document cannot drift from what the handlers accept. test/api/openapi.test.ts checks that every
// route registered in fastify appears here.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { alertmanagerPayloadSchema } from '../sources/alertmanager.js';
import { genericBatchSchema } from '../sources/generic.js';
import { pagerdutyEventSchema } from '../sources/pagerduty.js';
import { ALERT_PATHS } from './alerts.js';
import { CHECKS_PATH, checksQuery } from './checks.js';
import { STATUS_PATH } from './status.js';
import { silenceListQuery } from './silences.js';
import { problemReportInputSchema, problemReportListQuery } from './problem-reports.js';
import { SESSION_COOKIE, SESSION_PATH, SIGN_IN_METHODS_PATH, signInBody } from './session.js';
import { AUDIT_PATH } from './audit.js';
import { EVENTS_PATH } from './events.js';
import { breachesQuery, countsQuery, escalationsQuery, handlingTimesQuery, heatmapQuery, slaQuery, topQuery } from './reports.js';
import { silenceInputSchema } from '../domain/silence.js';
import { apiIncidentSchema, incidentPageSchema } from './responses.js';
import {
  commentBody,
  escalateBody,
  incidentNumberParam,
  reclassifyBody,
  reopenBody,
  listQuery,
  pageQuery,
  subscriberBody,
  transitionBody,
} from './validation.js';

export const OPENAPI_PATH = '/api/v1/openapi.json';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A route outside the API (the portal's files): left out of the document and of registeredRoutes. */
    undocumented?: true;
  }
}

type JsonSchema = Record<string, unknown>;
type Method = 'get' | 'post' | 'delete';
/** `optional`: open, and a token (or a session) may show more (a private status page). */
type Auth = 'api' | 'source' | 'none' | 'optional';

interface Operation {
  method: Method;
  /** The fastify route (`:number`); written `{number}` in the document. */
  route: string;
  summary: string;
  description?: string;
  tag: 'incidents' | 'alerts' | 'checks' | 'silences' | 'reports' | 'problem-reports' | 'notifications' | 'sessions' | 'status' | 'operations';
  auth: Auth;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** Request body may be left out (ack/resolve). */
  bodyOptional?: boolean;
  /** Success status and what it means. */
  ok: [status: string, description: string];
  /** The success body's schema in components.schemas, when it has one. */
  okSchema?: 'Incident' | 'IncidentPage';
  /** Client errors this route answers besides 401/429 (which every authenticated route may). */
  errors?: string[];
}

/** A zod schema as the JSON Schema of what a client sends (the input side of transforms). */
function jsonSchema(schema: z.ZodType): JsonSchema {
  const out = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
  // The document's jsonSchemaDialect says it once for all.
  delete out.$schema;
  return out;
}

const errorBody = z
  .object({
    error: z.string().meta({ description: 'Short machine name, e.g. bad_request, not_found, unavailable' }),
    message: z.string().meta({ description: 'What went wrong and what to do, for a person' }),
    issues: z
      .array(z.object({ field: z.string(), message: z.string() }))
      .optional()
      .meta({ description: 'For a 400: each parameter or field that did not validate' }),
  })
  .meta({ description: 'Every error answer of the API has this shape' });

const ERROR_TEXT: Record<string, string> = {
  '400': 'The request does not validate; `issues` names each parameter or field and what it takes',
  '401': 'No, a malformed or an unknown bearer token, or a session that ended (signed out, expired, account disabled)',
  '403': 'Known credentials whose roles may not do this (the message names the action and the roles), an API token on an alert endpoint, or a write with the session cookie but without its x-csrf-token',
  '404': 'No such incident (or silence)',
  '409': 'The incident is not in a state that allows this (or has too many subscribers), or the silence has already expired',
  '413': 'The body is larger than allowed',
  '415': 'The body is not JSON',
  '429': 'Too many wrong credentials from this address, or the intake queue is full; see Retry-After',
  '503': 'The store is unavailable or busy; nothing changed, send it again after Retry-After',
};

const INCIDENT = '/api/v1/incidents/:number';

const OPERATIONS: Operation[] = [
  { method: 'get', route: '/healthz', summary: 'Liveness: the process answers', tag: 'operations', auth: 'none', ok: ['200', '`{"status":"ok"}`'] },
  {
    method: 'get',
    route: '/readyz',
    summary: 'Readiness: the store is reachable and the pipeline runs',
    tag: 'operations',
    auth: 'none',
    ok: ['200', '`{"status":"ready","checks":{…}}`; 503 with `not_ready` and the failing checks otherwise'],
    errors: ['503'],
  },
  { method: 'get', route: '/metrics', summary: 'Prometheus metrics (text exposition format)', tag: 'operations', auth: 'none', ok: ['200', 'Prometheus text format'] },
  {
    method: 'get',
    route: OPENAPI_PATH,
    summary: 'This document',
    description: 'Open like /healthz: it describes only what the README publishes and holds no data or configuration.',
    tag: 'operations',
    auth: 'none',
    ok: ['200', 'OpenAPI 3.1 document'],
  },
  {
    method: 'get',
    route: '/api/v1/incidents',
    summary: 'List incidents',
    description:
      'Filters combine with AND. Answers `{ items, next }`; items carry no timeline. Pass `next` back as `cursor` with the same filters and sort for the next page; a cursor of another sort is a 400.',
    tag: 'incidents',
    auth: 'api',
    query: listQuery,
    ok: ['200', 'A page of incidents'], okSchema: 'IncidentPage',
    errors: ['400', '503'],
  },
  { method: 'get', route: INCIDENT, summary: 'One incident with its timeline', tag: 'incidents', auth: 'api', ok: ['200', 'The incident'], okSchema: 'Incident', errors: ['400', '404', '503'] },
  {
    method: 'get',
    route: `${INCIDENT}/explanation`,
    summary: 'Why the incident is classified as it is (like `incidentd rules explain`)',
    description:
      'The rules as loaded now, run against what the incident keeps of its signal (source, target, check, labels, last message; measured values and annotations are not stored). Answers each rule looked at and why it did or did not match, the rule that matches now and its classification, whether that is the rule that classified the incident, and where the incident differs from it (a rule edited since, or a change by a person). Needs incidents.read.',
    tag: 'incidents',
    auth: 'api',
    ok: ['200', '`{ number, ruleId, signal, notStored, trace, shadowed, usedDefault, now, sameRule, differences }`'],
    errors: ['400', '404', '503'],
  },
  {
    method: 'post',
    route: `${INCIDENT}/ack`,
    summary: 'Acknowledge an open incident',
    tag: 'incidents',
    auth: 'api',
    body: transitionBody,
    bodyOptional: true,
    ok: ['200', 'The acknowledged incident'], okSchema: 'Incident',
    errors: ['400', '404', '409', '415', '503'],
  },
  {
    method: 'post',
    route: `${INCIDENT}/resolve`,
    summary: 'Resolve an active incident',
    tag: 'incidents',
    auth: 'api',
    body: transitionBody,
    bodyOptional: true,
    ok: ['200', 'The resolved incident'], okSchema: 'Incident',
    errors: ['400', '404', '409', '415', '503'],
  },
  {
    method: 'post',
    route: `${INCIDENT}/comments`,
    summary: 'Add a comment to the timeline',
    tag: 'incidents',
    auth: 'api',
    body: commentBody,
    ok: ['201', 'The incident with the comment'], okSchema: 'Incident',
    errors: ['400', '404', '415', '503'],
  },
  {
    method: 'post',
    route: `${INCIDENT}/subscribers`,
    summary: 'Keep a person informed of the incident by mail',
    tag: 'incidents',
    auth: 'api',
    body: subscriberBody,
    ok: ['201', 'The incident with the subscriber'], okSchema: 'Incident',
    errors: ['400', '404', '409', '415', '503'],
  },
  {
    method: 'post',
    route: `${INCIDENT}/escalate`,
    summary: 'Escalate an active incident by hand to a higher tier',
    description:
      'The tier’s channels hear of it as of an escalation by the sweep (the person is the actor, the reason the message), and an unacknowledged incident climbs on from the new tier after its time. The current or a lower tier is a 409. Needs incidents.escalate (engineer, admin; write and admin tokens).',
    tag: 'incidents',
    auth: 'api',
    body: escalateBody,
    ok: ['200', 'The escalated incident'], okSchema: 'Incident',
    errors: ['400', '404', '409', '415', '503'],
  },
  {
    method: 'post',
    route: `${INCIDENT}/severity`,
    summary: 'Change the severity and/or impact of an active incident',
    description:
      'The priority follows (the ITIL matrix, as at classification); the SLA due times follow the new severity from the same start; a raise may move it to the severity’s starting tier and is announced like a raise by a rule. Nothing to change is a 409. Needs incidents.change-severity.',
    tag: 'incidents',
    auth: 'api',
    body: reclassifyBody,
    ok: ['200', 'The reclassified incident'], okSchema: 'Incident',
    errors: ['400', '404', '409', '415', '503'],
  },
  {
    method: 'post',
    route: `${INCIDENT}/reopen`,
    summary: 'Reopen a resolved incident',
    description:
      'It starts over as open (acknowledge it again), its SLA and escalation start again, and the channels told of it hear of it. An open, acknowledged or closed incident is a 409, as is one whose problem has another active incident. Needs incidents.reopen.',
    tag: 'incidents',
    auth: 'api',
    body: reopenBody,
    ok: ['200', 'The reopened incident'], okSchema: 'Incident',
    errors: ['400', '404', '409', '415', '503'],
  },
  {
    method: 'get',
    route: EVENTS_PATH,
    summary: 'Live incident changes as server-sent events (text/event-stream)',
    description:
      'One `incident` event per committed change of an incident the caller may see (the tenant scope of the list): `event: incident` with `data: {"number":"INC-000123","tenant":"acme","status":"acknowledged","change":"acknowledged","at":"2026-03-14T09:30:00.000Z"}`. ' +
      '`change` is one of opened, reopened, acknowledged, commented, subscribed, escalated, sla, silenced, reclassified, flapping, related, resolved, closed; fetch the incident (or the list page) again for the rest. ' +
      'A comment line (`: heartbeat`) every 25 s; the stream ends after 15 minutes and the client reconnects (`retry: 3000`), signed in again. At most 8 streams per person or token and 32 per address: more is a 429.',
    tag: 'incidents',
    auth: 'api',
    ok: ['200', 'text/event-stream'],
    errors: ['429'],
  },
  {
    method: 'get',
    route: '/api/v1/notifications/dead',
    summary: 'Notifications the outbox gave up on, newest first',
    tag: 'notifications',
    auth: 'api',
    query: pageQuery,
    ok: ['200', '`{ items, next }`'],
    errors: ['400', '503'],
  },
  {
    method: 'get',
    route: CHECKS_PATH,
    summary: 'Every configured check with its state, and the count per state',
    description:
      'Answers `{ items: [{ id, tenant, target: { id, name, site, kind }, check, kind, state, since, lastRun, latencyMs, lastError, lastErrorAt, consecutiveFailures, maintenance, silenced, history? }], counts }`. ' +
      'A caller scoped to some tenants sees and counts only their checks. `maintenance` is the window the target is in now (`{ id, reason, until }`) or null; ' +
      '`silenced` the silences that would hold back the check\'s incidents now (`{ ids, text, until }`) or null, matched on the check\'s target, check, kind, site, source `probe` and target labels (matchers on category or severity see an empty value, as before a rule classifies). ' +
      'With `include=history`, `history` holds the last results (up to 60, oldest first): `{ at: [epoch ms], latencyMs: [ms or null], outcome: [ok|fail|cannot-run] }`, kept in memory (lost at a restart); only the first 500 checks listed carry it, and `historyOmitted` counts the others (narrow with `state` or `target`).',
    tag: 'checks',
    auth: 'api',
    query: checksQuery,
    ok: ['200', '`{ items, counts }`'],
    errors: ['400'],
  },
  {
    method: 'get',
    route: STATUS_PATH,
    summary: 'A tenant\'s status page: its services by site, ongoing incidents and 90 days of history',
    description:
      'Open when the tenant\'s `status_page` is `public`; a `private` page answers only a caller of that tenant (a token or a signed-in person whose role may read the status) and 404 to anyone else, as for a tenant that does not exist. ' +
      'Answers `{ tenant, state, at, sites: [{ name, state, services: [{ id, name, state }] }], incidents: [{ title, severity, stage, since, service, site }], history: { timeZone, days: [{ date, worst }], truncated } }`. ' +
      'Service states: up, disrupted (an ongoing incident), down (a check fails), unknown. Days are calendar days in the tenant\'s time zone; `worst` is the worst severity of an incident active that day, or null.',
    tag: 'status',
    auth: 'optional',
    ok: ['200', 'The status page\'s content'],
    errors: ['400', '404', '503'],
  },
  {
    method: 'get',
    route: '/api/v1/silences',
    summary: 'Silences, a page at a time',
    description:
      'Not yet ended ones first (soonest end first), then ended ones (latest end first). Answers `{ items, next }`; pass `next` back as `cursor` with the same `state` for the next page. All pages of one listing judge the states at the time of the first.',
    tag: 'silences',
    auth: 'api',
    query: silenceListQuery,
    ok: ['200', '`{ items, next }`, each item with id, tenant, matchers, startsAt, endsAt, createdBy, comment, state (a scoped caller sees those of its own tenants only)'],
    errors: ['400', '503'],
  },
  {
    method: 'post',
    route: '/api/v1/silences',
    summary: 'Create a silence: matching incidents are recorded but not announced or escalated until it ends',
    tag: 'silences',
    auth: 'api',
    body: silenceInputSchema,
    ok: ['201', 'The silence'],
    errors: ['400', '415', '503'],
  },
  {
    method: 'delete',
    route: '/api/v1/silences/:id',
    summary: 'Expire a silence now; incidents it held back are announced',
    tag: 'silences',
    auth: 'api',
    ok: ['200', 'The expired silence'],
    errors: ['404', '409', '503'],
  },
  {
    method: 'get',
    route: '/api/v1/problem-reports/form',
    summary: 'What the report form offers the caller: tenants, categories with their self-help hint, sites and targets',
    tag: 'problem-reports',
    auth: 'api',
    ok: ['200', '`{ tenants: [{ id, name }], categories: [{ id, hint }], sites: [{ tenant, name }], targets: [{ tenant, id, name, site, category }] }` of the tenants the caller may see'],
    errors: ['503'],
  },
  {
    method: 'post',
    route: '/api/v1/problem-reports',
    summary: 'Report a problem: it becomes a signal the rules classify, and opens an incident or joins the active one about the same thing',
    description:
      'The caller is mailed a receipt with the incident number (to the account\'s address, or `contact` when it is one) and kept informed of the incident. `tenant` is required when the caller may report for several. A report naming a `target` (a device of the form) joins the tenant\'s active incident about that device, whatever opened it (monitoring, an alert). The receipt of a report that joins an active incident is its own mail with that incident\'s number and status. A tenant, site or target the caller may not see is refused like one that does not exist.',
    tag: 'problem-reports',
    auth: 'api',
    body: problemReportInputSchema,
    ok: ['201', '`{ id, number, joined, status, affected, hint }`: the incident it opened or joined (number null when its rule waits for more reports), how many people reported it, the rule\'s self-help hint'],
    errors: ['400', '415', '503'],
  },
  {
    method: 'get',
    route: '/api/v1/problem-reports',
    summary: 'The caller\'s own reports, newest first, each with the status of its incident',
    tag: 'problem-reports',
    auth: 'api',
    query: problemReportListQuery,
    ok: ['200', '`{ items, next }`, each `{ id, tenant, createdAt, category, description, site, room, target, affected, since, contact, incident: { number, title, status, acknowledgedAt, resolvedAt, resolution, affected, hint } | null }`'],
    errors: ['400', '503'],
  },
  {
    method: 'get',
    route: '/api/v1/problem-reports/:id',
    summary: 'One of the caller\'s own reports with the status of its incident',
    tag: 'problem-reports',
    auth: 'api',
    ok: ['200', 'The report, as in the list'],
    errors: ['404', '503'],
  },
  {
    method: 'get',
    route: '/api/v1/reports/counts',
    summary: 'Incidents opened per period by one dimension: the period, the one before (change and % change) and the last 12 periods',
    description:
      'Periods are cut in `zone` (exact at DST changes: a day may be 23 or 25 hours). An incident counts in the period it was opened in. A scoped caller gets his tenants\' figures only; another tenant\'s are empty. `?format=csv` (or `Accept: text/csv`) answers the table as CSV.',
    tag: 'reports',
    auth: 'api',
    query: countsQuery,
    ok: ['200', '`{ period, zone, by, current, previous, periods, totals, rows }`, each row `{ key, current, previous, change, changePct, trend }`; or CSV'],
    errors: ['400', '503'],
  },
  {
    method: 'get',
    route: '/api/v1/reports/handling-times',
    summary: 'Time to acknowledge and to resolve (median, p90, mean; calendar ms from opening) of the incidents opened in a period, by severity, tier or category',
    description: 'Percentiles are nearest-rank. Scoped and exported as CSV like the counts.',
    tag: 'reports',
    auth: 'api',
    query: handlingTimesQuery,
    ok: ['200', '`{ period, zone, by, current, rows }`, each row `{ key, measure, count, medianMs, p90Ms, meanMs }`; or CSV'],
    errors: ['400', '503'],
  },
  {
    method: 'get',
    route: '/api/v1/reports/sla',
    summary: 'SLA compliance of the incidents opened in a period, by severity, tier or tenant',
    description:
      'Over the incidents with an SLA (due times from their escalation policy): met at or before the due time, breached after it or not done by now past it, pending otherwise; `metPct` is met / (met + breached). Scoped and exported as CSV like the counts.',
    tag: 'reports',
    auth: 'api',
    query: slaQuery,
    ok: ['200', '`{ period, zone, by, current, rows }`, each row `{ key, measure, withSla, met, breached, pending, metPct }`; or CSV'],
    errors: ['400', '503'],
  },
  {
    method: 'get',
    route: '/api/v1/reports/sla/breaches',
    summary: 'The SLAs missed by the incidents opened in a period, oldest first',
    tag: 'reports',
    auth: 'api',
    query: breachesQuery,
    ok: ['200', '`{ period, zone, current, items }`, each item `{ number, tenant, severity, tier, measure, openedAt, dueAt, doneAt }`; or CSV'],
    errors: ['400', '503'],
  },
  {
    method: 'get',
    route: '/api/v1/reports/fingerprints',
    summary: 'Recurring problems: the fingerprints with the most openings and reopenings of incidents opened in a period',
    tag: 'reports',
    auth: 'api',
    query: topQuery,
    ok: ['200', '`{ period, zone, current, rows }`, each row `{ fingerprint, targetId, openings, reopenings, flapping }`; or CSV'],
    errors: ['400', '503'],
  },
  {
    method: 'get',
    route: '/api/v1/reports/targets',
    summary: 'The targets with the most incidents opened in a period, and their downtime (each incident to its resolution, or now)',
    tag: 'reports',
    auth: 'api',
    query: topQuery,
    ok: ['200', '`{ period, zone, current, rows }`, each row `{ targetId, targetName, incidents, downtimeMs }`; or CSV'],
    errors: ['400', '503'],
  },
  {
    method: 'get',
    route: '/api/v1/reports/heatmap',
    summary: 'Incidents opened in a period per weekday and hour of the day, local to the zone',
    tag: 'reports',
    auth: 'api',
    query: heatmapQuery,
    ok: ['200', '`{ period, zone, current, weekdays, hours }`: `hours[d][h]` counts openings on weekday d (Monday 0) in hour h; or CSV'],
    errors: ['400', '503'],
  },
  {
    method: 'get',
    route: '/api/v1/reports/backlog',
    summary: 'Incidents open at the end of each local day of a period',
    tag: 'reports',
    auth: 'api',
    query: heatmapQuery,
    ok: ['200', '`{ period, zone, current, rows }`, each row `{ day, endsAt, open }`; or CSV'],
    errors: ['400', '503'],
  },
  {
    method: 'get',
    route: '/api/v1/reports/tenants',
    summary: 'The tenants a report can be asked for',
    description: "A scoped caller's own tenants; every configured tenant (the default one included) for those who see all. For the reports page's tenant filter.",
    tag: 'reports',
    auth: 'api',
    ok: ['200', '`{ tenants }`, tenant ids sorted'],
    errors: [],
  },
  {
    method: 'get',
    route: '/api/v1/reports/escalations',
    summary: 'Escalations into each tier per period (by the sweep, a raised severity or a person), with the period before and the last 12 periods',
    description: 'An escalation counts in the period it happened in, cut in `zone`; a raised severity that kept the tier is none. Scoped and exported as CSV like the counts.',
    tag: 'reports',
    auth: 'api',
    query: escalationsQuery,
    ok: ['200', '`{ period, zone, current, previous, periods, rows }`, each row `{ tier, current, previous, change, changePct, trend }`; or CSV'],
    errors: ['400', '503'],
  },
  {
    method: 'post',
    route: ALERT_PATHS.generic,
    summary: 'Generic alerts (JSON webhook)',
    description: 'Authenticated with the token of a `generic` source. Answered once the signals are committed.',
    tag: 'alerts',
    auth: 'source',
    body: genericBatchSchema,
    ok: ['200', '`{ "status": "success", "accepted": n }`'],
    errors: ['400', '403', '413', '415', '503'],
  },
  {
    method: 'post',
    route: ALERT_PATHS.alertmanager,
    summary: 'Prometheus Alertmanager webhook (payload version 4)',
    description: 'Authenticated with the token of an `alertmanager` source (Alertmanager `http_config.authorization`).',
    tag: 'alerts',
    auth: 'source',
    body: alertmanagerPayloadSchema,
    ok: ['200', '`{ "status": "success", "accepted": n }`'],
    errors: ['400', '403', '413', '415', '503'],
  },
  {
    method: 'post',
    route: ALERT_PATHS.pagerduty,
    summary: 'PagerDuty Events API v2',
    description: 'The `routing_key` in the body names a `pagerduty` source; no Authorization header, as PagerDuty senders send none.',
    tag: 'alerts',
    auth: 'none',
    body: pagerdutyEventSchema,
    ok: ['202', '`{ "status": "success", "message": "Event processed", "dedup_key": … }`'],
    errors: ['400', '413', '415', '503'],
  },
  {
    method: 'post',
    route: SESSION_PATH,
    summary: 'Sign in with a local account',
    description:
      'Answers the principal and the CSRF token, and sets the session cookie (signed, HttpOnly, SameSite=Lax). Every POST/PUT/PATCH/DELETE sent with the cookie must carry the token in `x-csrf-token`. A wrong name or password is one 401 that does not say which; 5 failures in 15 minutes lock the account for 15 minutes, and too many wrong credentials from one address block it: both 429 with Retry-After.',
    tag: 'sessions',
    auth: 'none',
    body: signInBody,
    ok: ['201', '`{ "principal": { "kind": "user", "id", "name", "roles", "tenants" }, "csrfToken": … }`'],
    errors: ['400', '401', '415', '429'],
  },
  {
    method: 'get',
    route: SIGN_IN_METHODS_PATH,
    summary: 'How people can sign in: the password form, and single sign-on when configured',
    description: 'Open: the sign-in page asks it. Answers `{ "password": true, "sso": { "provider": "sso.example.com", "loginPath": "/auth/oidc/login" } | null }`; `provider` is the host of the identity provider.',
    tag: 'sessions',
    auth: 'none',
    ok: ['200', '`{ password, sso }`'],
  },
  {
    method: 'get',
    route: SESSION_PATH,
    summary: 'Who is signed in, and the CSRF token of the session',
    tag: 'sessions',
    auth: 'api',
    ok: ['200', '`{ "principal": { … }, "csrfToken": … }` (csrfToken null when not signed in with the cookie)'],
  },
  {
    method: 'delete',
    route: SESSION_PATH,
    summary: 'Sign out: ends the session on the server; its cookie no longer signs anything in',
    tag: 'sessions',
    auth: 'api',
    ok: ['204', 'Signed out'],
  },
  {
    method: 'get',
    route: AUDIT_PATH,
    summary: 'The audit log of security events, newest first (admins)',
    description: 'Sign-ins and their failures, lockouts, sign-outs, single sign-on, and account changes made with `incidentd users`.',
    tag: 'sessions',
    auth: 'api',
    query: pageQuery,
    ok: ['200', '`{ "items": [{ "id", "at", "type", "actor", "subject", "address", "detail" }], "next": cursor | null }`'],
    errors: ['400', '503'],
  },
];

/** `/a/:b/c` → `/a/{b}/c`. */
function openApiPath(route: string): string {
  return route.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function errorResponse(status: string): Record<string, unknown> {
  return {
    description: ERROR_TEXT[status] ?? 'Error',
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  };
}

function operationObject(op: Operation): Record<string, unknown> {
  const parameters: Record<string, unknown>[] = [];
  if (op.route.includes(':number')) {
    parameters.push({ name: 'number', in: 'path', required: true, schema: jsonSchema(incidentNumberParam) });
  }
  if (op.route.includes(':tenant')) {
    parameters.push({ name: 'tenant', in: 'path', required: true, description: 'The tenant id, e.g. `acme`', schema: { type: 'string', maxLength: 200 } });
  }
  if (op.route.includes(':id')) {
    parameters.push({ name: 'id', in: 'path', required: true, description: 'The silence id', schema: { type: 'string' } });
  }
  if (op.query) {
    for (const [name, schema] of Object.entries(op.query.shape)) {
      const s = jsonSchema(schema as z.ZodType);
      const description = typeof s.description === 'string' ? s.description : undefined;
      parameters.push({ name, in: 'query', required: !(schema as z.ZodType).safeParse(undefined).success, ...(description ? { description } : {}), schema: s });
    }
  }
  const errors = [...(op.errors ?? [])];
  if (op.auth === 'api' || op.auth === 'source') errors.push('401', '429');
  // Every API route checks the caller's roles against its action (src/domain/permissions.ts).
  if (op.auth === 'api') errors.push('403');
  const ok: Record<string, unknown> = { description: op.ok[1] };
  if (op.okSchema) ok.content = { 'application/json': { schema: { $ref: `#/components/schemas/${op.okSchema}` } } };
  const responses: Record<string, unknown> = { [op.ok[0]]: ok };
  for (const status of [...new Set(errors)].sort()) responses[status] = errorResponse(status);
  return {
    operationId: `${op.method}${openApiPath(op.route).replace(/[{}]/g, '').replace(/(^|[/.-])([a-z])/g, (_m, _s, c: string) => c.toUpperCase())}`,
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    tags: [op.tag],
    security: op.auth === 'api' ? [{ apiToken: [] }, { sessionCookie: [] }] : op.auth === 'source' ? [{ sourceToken: [] }] : op.auth === 'optional' ? [{}, { apiToken: [] }, { sessionCookie: [] }] : [],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(op.body
      ? { requestBody: { required: !op.bodyOptional, content: { 'application/json': { schema: jsonSchema(op.body) } } } }
      : {}),
    responses,
  };
}

/** The document; built once, it only depends on code. */
export function openApiDocument(version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) {
    const path = openApiPath(op.route);
    paths[path] ??= {};
    paths[path][op.method] = operationObject(op);
  }
  return {
    openapi: '3.1.1',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'incidentd API',
      version,
      description: 'Incidents, alerts in, check states, health and metrics of incidentd. See the README for the behaviour behind each route.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    tags: [
      { name: 'incidents', description: 'Read and act on incidents' },
      { name: 'alerts', description: 'Alerts in from Alertmanager, webhooks and PagerDuty senders' },
      { name: 'checks', description: 'The configured checks and their states' },
      { name: 'problem-reports', description: 'Problems employees report through the portal, and their status' },
      { name: 'silences', description: 'Mute matching incidents for a time, with who and why' },
      { name: 'reports', description: 'Counts, trends and handling times of incidents, per tenant' },
      { name: 'notifications', description: 'The notification outbox' },
      { name: 'sessions', description: 'Sign-in of people (browser sessions) and the audit log' },
      { name: 'status', description: 'The tenants\' status pages' },
      { name: 'operations', description: 'Health, readiness, metrics and this document' },
    ],
    security: [{ apiToken: [] }],
    paths,
    components: {
      securitySchemes: {
        apiToken: { type: 'http', scheme: 'bearer', description: 'A token from `api.tokens` in config/incidentd.yaml; its `role` (read, ingest, write, admin) says which routes it may use' },
        sessionCookie: {
          type: 'apiKey',
          in: 'cookie',
          name: SESSION_COOKIE,
          description: 'The browser session set by POST /api/v1/session or single sign-on; writes with it also send `x-csrf-token`',
        },
        sourceToken: { type: 'http', scheme: 'bearer', description: 'The token of an alert source (`sources` in config/incidentd.yaml) of the endpoint’s type' },
      },
      schemas: { Error: jsonSchema(errorBody), Incident: jsonSchema(apiIncidentSchema), IncidentPage: jsonSchema(incidentPageSchema) },
    },
  };
}

/** The routes the document describes, as fastify spells them (`GET /api/v1/incidents/:number`). */
export function documentedRoutes(): string[] {
  return OPERATIONS.map((op) => `${op.method.toUpperCase()} ${op.route}`);
}

const registered = new WeakMap<FastifyInstance, string[]>();

/**
 * Records every route registered on `app` from now on, including those of plugins registered
 * later (fastify passes onRoute hooks down to them), so a test can hold them against the document.
 */
export function recordRoutes(app: FastifyInstance): void {
  const routes: string[] = [];
  registered.set(app, routes);
  app.addHook('onRoute', (route) => {
    if (route.config?.undocumented === true) return;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    // HEAD is fastify's automatic companion of every GET.
    for (const m of methods) if (m !== 'HEAD') routes.push(`${m} ${route.url}`);
  });
}

/** The routes recorded by recordRoutes (empty when it was not called). */
export function registeredRoutes(app: FastifyInstance): string[] {
  return [...(registered.get(app) ?? [])];
}
