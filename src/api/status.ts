// GET /api/v1/status/:tenant: what a tenant's status page shows. Its services (targets) by site with
// their current state, the ongoing incidents in plain language (title, severity, since when, what
// is affected: no fingerprints, labels, rules or people), and the worst severity of each of the
// last 90 days. Registered PUBLIC, because a tenant may publish its page; a private page is
// answered only to a principal of that tenant, and to anyone else exactly like a tenant that does
// not exist (404), so the answer never confirms that a customer is configured.
import type { FastifyPluginCallback, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Severity } from '../domain/classification.js';
import type { Principal } from '../domain/principal.js';
import { DEFAULT_TENANT, seesTenant } from '../domain/principal.js';
import { permits } from '../domain/permissions.js';
import { isoTime } from '../domain/serialize.js';
import type { TargetRef } from '../domain/signal.js';
import {
  dailyWorst,
  historyWindow,
  overallState,
  serviceState,
  type HistoryDay,
  type OverallState,
  type ServiceState,
  type StatusPageVisibility,
} from '../domain/status-page.js';
import type { Clock } from '../shared/clock.js';
import { IncidentdError } from '../shared/errors.js';
import type { IncidentStore } from '../store/types.js';
import { PUBLIC } from './auth.js';
import type { CheckStatusReader } from './checks.js';
import { BadRequestError } from './validation.js';

export const STATUS_PATH = '/api/v1/status/:tenant';

/** Days of history the page shows, today included. */
export const HISTORY_DAYS = 90;
/** Most incidents the history reads; past it the mildest are left out (`history.truncated`). */
export const HISTORY_SPAN_LIMIT = 5000;
/** Most ongoing incidents listed. */
export const ONGOING_LIMIT = 100;

/** What the route needs of a configured tenant. */
export interface StatusTenant {
  id: string;
  name: string;
  timeZone: string | null;
  statusPage: StatusPageVisibility;
}

export interface StatusRoutesDeps {
  store: Pick<IncidentStore, 'list' | 'incidentSpans'>;
  checks: CheckStatusReader;
  /** The configured targets (a reload replaces them). */
  targets: () => ReadonlyMap<string, TargetRef>;
  /** The configured tenants; `default` is served like any other when it is listed. */
  tenants: () => readonly StatusTenant[];
  clock: Clock;
}

export const statusParams = z.strictObject({
  tenant: z.string().max(200).meta({ description: 'Tenant id, e.g. `acme`' }),
});

export interface ApiStatusService {
  id: string;
  name: string;
  state: ServiceState;
}

export interface ApiStatusIncident {
  title: string;
  severity: Severity;
  /** `investigating` while open, `identified` once acknowledged. */
  stage: 'investigating' | 'identified';
  since: string;
  service: string;
  site: string;
}

export interface ApiStatus {
  tenant: { id: string; name: string };
  state: OverallState;
  at: string;
  sites: { name: string; state: ServiceState; services: ApiStatusService[] }[];
  incidents: ApiStatusIncident[];
  history: { timeZone: string; days: HistoryDay[]; truncated: boolean };
}

/** No such tenant, or its page is private and the caller is not one of its people. */
export class StatusPageNotFoundError extends IncidentdError {
  constructor(readonly tenant: string) {
    super(`no status page "${tenant}"; check the address, or sign in if the page is private`);
  }
}

const SERVICE_ORDER: Record<ServiceState, number> = { down: 3, disrupted: 2, unknown: 1, up: 0 };

function worstService(states: readonly ServiceState[]): ServiceState {
  return states.reduce<ServiceState>((w, s) => (SERVICE_ORDER[s] > SERVICE_ORDER[w] ? s : w), 'up');
}

/** The page's content, for a tenant the caller may see (maySeeStatus). */
export async function statusOf(deps: StatusRoutesDeps, tenant: StatusTenant): Promise<ApiStatus> {
  const now = deps.clock.now();
  const active = await deps.store.list({ tenant: [tenant.id], status: ['open', 'acknowledged'] }, ONGOING_LIMIT);
  const incidentTargets = new Set(active.items.map((i) => i.target.id));

  const targets = deps.targets();
  // Services: the tenant's configured targets, and the checks' states of each.
  const checkStates = new Map<string, string[]>();
  for (const c of deps.checks.list({ tenants: [tenant.id] })) {
    const list = checkStates.get(c.targetId) ?? [];
    list.push(c.state);
    checkStates.set(c.targetId, list);
  }
  const bySite = new Map<string, ApiStatusService[]>();
  for (const t of targets.values()) {
    if ((t.tenant ?? DEFAULT_TENANT) !== tenant.id) continue;
    const service: ApiStatusService = { id: t.id, name: t.name, state: serviceState(checkStates.get(t.id) ?? [], incidentTargets.has(t.id)) };
    const list = bySite.get(t.site) ?? [];
    list.push(service);
    bySite.set(t.site, list);
  }
  const sites = [...bySite]
    .sort(([a], [b]) => a.localeCompare(b, 'en'))
    .map(([name, services]) => ({
      name,
      state: worstService(services.map((s) => s.state)),
      services: services.sort((a, b) => a.name.localeCompare(b.name, 'en') || (a.id < b.id ? -1 : 1)),
    }));

  const incidents: ApiStatusIncident[] = active.items.map((i) => {
    // The service as configured, when the incident's target is one: an alert may name only its id.
    const configured = targets.get(i.target.id);
    const known = configured !== undefined && (configured.tenant ?? DEFAULT_TENANT) === tenant.id ? configured : null;
    return {
      title: i.title,
      severity: i.severity,
      stage: i.status === 'acknowledged' ? 'identified' : 'investigating',
      since: isoTime(i.firstSeen),
      service: known?.name ?? i.target.name,
      site: known?.site ?? i.target.site,
    };
  });

  const timeZone = tenant.timeZone ?? 'UTC';
  const window = historyWindow(now, HISTORY_DAYS, timeZone);
  // One more than kept: whether the cut applied.
  const read = await deps.store.incidentSpans(tenant.id, window.from, window.to, HISTORY_SPAN_LIMIT + 1);
  const spans = read.slice(0, HISTORY_SPAN_LIMIT);

  return {
    tenant: { id: tenant.id, name: tenant.name },
    state: overallState(
      sites.flatMap((s) => s.services.map((x) => x.state)),
      incidents.map((i) => i.severity),
    ),
    at: isoTime(now),
    sites,
    incidents,
    history: { timeZone, days: dailyWorst(window, spans, now), truncated: read.length > HISTORY_SPAN_LIMIT },
  };
}

/** Whether the caller may see the tenant's page. */
export function maySeeStatus(tenant: StatusTenant, principal: Principal | null): boolean {
  if (tenant.statusPage === 'public') return true;
  return principal !== null && permits(principal, 'status.read') && seesTenant(principal.tenants, tenant.id);
}

/**
 * `identify` finds the caller on this public route (null: anonymous, or credentials that do not
 * check out); it is asked only for a private page.
 */
export function statusRoutes(
  deps: StatusRoutesDeps & { identify: (request: FastifyRequest) => Promise<Principal | null> },
): FastifyPluginCallback {
  return (app, _opts, done) => {
    app.get<{ Params: { tenant: string } }>(STATUS_PATH, PUBLIC, async (request, reply) => {
      const parsed = statusParams.safeParse(request.params);
      if (!parsed.success) throw new BadRequestError([{ field: 'tenant', message: 'must be at most 200 characters' }]);
      const id = parsed.data.tenant;
      const tenant = deps.tenants().find((t) => t.id === id);
      if (tenant === undefined || !maySeeStatus(tenant, tenant.statusPage === 'public' ? null : await deps.identify(request))) {
        throw new StatusPageNotFoundError(id);
      }
      // A private page's answer is for the caller only.
      reply.header('cache-control', tenant.statusPage === 'public' ? 'no-cache' : 'private, no-store');
      return statusOf(deps, tenant);
    });
    done();
  };
}
