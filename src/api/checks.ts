// GET /api/v1/checks: every configured check with its state, as the check-status table holds it.
// Answers "are my checks green?" without Prometheus; token-protected like the rest of /api/.
import type { FastifyPluginCallback } from 'fastify';
import { z } from 'zod';
import { CHECK_STATES, type CheckState, type CheckStatus, type CheckStatusFilter } from '../scheduler/check-status.js';
import { isoTime } from '../domain/serialize.js';
import { requires } from './auth.js';
import { BadRequestError, type RequestIssue } from './validation.js';
import { requestScope } from './tenant-scope.js';
import { visibleTenants } from '../domain/tenant-scope.js';
import { DEFAULT_TENANT } from '../domain/principal.js';
import type { TargetRef } from '../domain/signal.js';
import type { SilenceHit, SilenceSubject } from '../domain/silence.js';
import type { CheckHistoryView } from '../scheduler/check-history.js';
import type { Clock } from '../shared/clock.js';

export const CHECKS_PATH = '/api/v1/checks';

/** What the route reads; the check-status table implements it. */
export interface CheckStatusReader {
  list(filter: CheckStatusFilter): CheckStatus[];
  counts(): Record<CheckState, number>;
  /** The check's recent results (`include=history`); absent: the list never has them. */
  history?(id: string): CheckHistoryView | undefined;
}

/** The maintenance window a target is in, as the escalation sees it. */
export interface CheckMaintenance {
  id: string;
  reason: string;
  until: number;
}

/**
 * What the list adds to each check besides its state: the target's grouping (tenant, site, kind)
 * and whether the target is in maintenance or the check silenced now. Absent: not in the answer.
 */
export interface CheckContext {
  targets: () => ReadonlyMap<string, TargetRef>;
  maintenance: (target: TargetRef, at: number) => CheckMaintenance | null;
  silenced?: (subject: SilenceSubject, at: number) => SilenceHit | null;
  clock: Clock;
}

export interface ApiCheck {
  id: string;
  /** `site` and `kind` with a CheckContext (the board groups by tenant, site, target). */
  target: { id: string; name: string; site?: string; kind?: string };
  check: string;
  kind: string;
  state: CheckState;
  since: string;
  lastRun: string | null;
  latencyMs: number | null;
  lastError: string | null;
  lastErrorAt: string | null;
  consecutiveFailures: number;
  /** The target's tenant. */
  tenant: string;
  /** With a CheckContext: the maintenance window the target is in now, or null. */
  maintenance?: { id: string; reason: string; until: string } | null;
  /** With a CheckContext: the silences holding back this check's incidents now, or null. */
  silenced?: { ids: string[]; text: string; until: string } | null;
  /** With `include=history`: the last results, oldest first (epoch ms; latency null when it could not run). */
  history?: CheckHistoryView;
}

// Like the incident list: a value given once (`up,down`) or repeated (`?state=up&state=down`) is a list.
const states = z
  .union([z.string(), z.array(z.string())])
  .transform((v) =>
    (Array.isArray(v) ? v.join(',') : v)
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  )
  .pipe(z.array(z.enum(CHECK_STATES, { error: `must be one of ${CHECK_STATES.join(', ')}` })));

export const checksQuery = z.strictObject({
  state: states.optional(),
  target: z
    .string({ error: 'must be given at most once' })
    .max(500, { error: 'must be at most 500 characters' })
    .transform((s) => (s.trim() === '' ? undefined : s.trim()))
    .optional(),
  include: z
    .literal('history', { error: 'must be history (the last results of each check, for a latency chart)' })
    .optional()
    .meta({ description: '`history`: add each check\'s last results (up to 60: `at` epoch ms, `latencyMs`, `outcome` ok/fail/cannot-run), oldest first, for the first 500 checks listed; `historyOmitted` counts the others (narrow with `state` or `target`)' }),
});

export interface ChecksRequest {
  filter: CheckStatusFilter;
  history: boolean;
}

export function parseChecksQuery(raw: unknown): ChecksRequest {
  const r = checksQuery.safeParse(raw ?? {});
  if (!r.success) {
    const issues: RequestIssue[] = r.error.issues.map((issue) =>
      issue.code === 'unrecognized_keys'
        ? { field: 'query', message: `unknown parameter${issue.keys.length === 1 ? '' : 's'} ${issue.keys.join(', ')}; allowed: state, target` }
        : { field: issue.path[0] === undefined ? 'query' : String(issue.path[0]), message: issue.message },
    );
    throw new BadRequestError(issues);
  }
  const filter: CheckStatusFilter = {};
  if (r.data.state && r.data.state.length > 0) filter.state = [...new Set(r.data.state)];
  if (r.data.target !== undefined) filter.targetId = r.data.target;
  return { filter, history: r.data.include === 'history' };
}

export function toApiCheck(s: CheckStatus): ApiCheck {
  return {
    id: s.id,
    target: { id: s.targetId, name: s.targetName },
    check: s.checkName,
    kind: s.kind,
    state: s.state,
    since: isoTime(s.since),
    lastRun: s.lastRunAt === null ? null : isoTime(s.lastRunAt),
    latencyMs: s.latencyMs,
    lastError: s.lastError,
    lastErrorAt: s.lastErrorAt === null ? null : isoTime(s.lastErrorAt),
    consecutiveFailures: s.consecutiveFailures,
    tenant: s.tenant ?? DEFAULT_TENANT,
  };
}

/** Adds the target's site and kind, maintenance and silences: one maintenance answer per target. */
function withContext(items: ApiCheck[], ctx: CheckContext): void {
  const targets = ctx.targets();
  const now = ctx.clock.now();
  const maintenanceOf = new Map<string, ApiCheck['maintenance']>();
  for (const item of items) {
    const target = targets.get(item.target.id);
    if (target === undefined) {
      item.maintenance = null;
      item.silenced = null;
      continue;
    }
    item.target.site = target.site;
    item.target.kind = target.kind;
    let maintenance = maintenanceOf.get(target.id);
    if (maintenance === undefined) {
      const hit = ctx.maintenance(target, now);
      maintenance = hit === null ? null : { id: hit.id, reason: hit.reason, until: isoTime(hit.until) };
      maintenanceOf.set(target.id, maintenance);
    }
    item.maintenance = maintenance;
    // As the incident of a failing run would be matched, before a rule classifies it: matchers on
    // category or severity see an empty value, as Alertmanager reads a label a signal lacks.
    const hit =
      ctx.silenced?.(
        { tenant: item.tenant, target: target.id, check: item.check, kind: target.kind, source: 'probe', category: '', severity: '', site: target.site, labels: target.labels },
        now,
      ) ?? null;
    item.silenced = hit === null ? null : { ids: hit.ids, text: hit.text, until: isoTime(hit.until) };
  }
}

/**
 * `{ items, counts }`: the matching checks ordered by target id, then check name, and the number
 * of all configured checks in each state (unfiltered), so one call says whether everything is green.
 */
/**
 * Most checks one answer carries the history of: 60 results are about 1.9 kB of JSON per check, so
 * 15,000 would be 28 MB and seconds of the event loop. The ones past it are counted in `historyOmitted`.
 */
export const HISTORY_MAX_CHECKS = 500;

export function checkRoutes(reader: CheckStatusReader, context?: CheckContext): FastifyPluginCallback {
  const answer = (list: CheckStatus[], history: boolean, counts: Record<CheckState, number>) => {
    const items = list.map(toApiCheck);
    if (context) withContext(items, context);
    if (!history || !reader.history) return { items, counts };
    const withHistory = Math.min(items.length, HISTORY_MAX_CHECKS);
    for (let i = 0; i < withHistory; i++) items[i]!.history = reader.history(items[i]!.id) ?? { at: [], latencyMs: [], outcome: [] };
    return { items, counts, historyOmitted: items.length - withHistory };
  };
  return (app, _opts, done) => {
    app.get(CHECKS_PATH, requires('checks.read'), (request) => {
      const { filter, history } = parseChecksQuery(request.query);
      const scope = requestScope(request);
      if (scope.all) return answer(reader.list(filter), history, reader.counts());
      // A scoped request sees its tenants' checks only, and counts only those.
      const tenants = visibleTenants(scope, undefined) ?? [];
      const counts = Object.fromEntries(CHECK_STATES.map((s) => [s, 0])) as Record<CheckState, number>;
      for (const c of reader.list({ tenants })) counts[c.state]++;
      return answer(reader.list({ ...filter, tenants }), history, counts);
    });
    done();
  };
}
