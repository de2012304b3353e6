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

export const CHECKS_PATH = '/api/v1/checks';

/** What the route reads; the check-status table implements it. */
export interface CheckStatusReader {
  list(filter: CheckStatusFilter): CheckStatus[];
  counts(): Record<CheckState, number>;
}

export interface ApiCheck {
  id: string;
  target: { id: string; name: string };
  check: string;
  kind: string;
  state: CheckState;
  since: string;
  lastRun: string | null;
  latencyMs: number | null;
  lastError: string | null;
  lastErrorAt: string | null;
  consecutiveFailures: number;
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
});

export function parseChecksQuery(raw: unknown): CheckStatusFilter {
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
  return filter;
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
  };
}

/**
 * `{ items, counts }`: the matching checks ordered by target id, then check name, and the number
 * of all configured checks in each state (unfiltered), so one call says whether everything is green.
 */
export function checkRoutes(reader: CheckStatusReader): FastifyPluginCallback {
  return (app, _opts, done) => {
    app.get(CHECKS_PATH, requires('checks.read'), (request) => {
      const filter = parseChecksQuery(request.query);
      const scope = requestScope(request);
      if (scope.all) return { items: reader.list(filter).map(toApiCheck), counts: reader.counts() };
      // A scoped request sees its tenants' checks only, and counts only those.
      const tenants = visibleTenants(scope, undefined) ?? [];
      const counts = Object.fromEntries(CHECK_STATES.map((s) => [s, 0])) as Record<CheckState, number>;
      for (const c of reader.list({ tenants })) counts[c.state]++;
      return { items: reader.list({ ...filter, tenants }).map(toApiCheck), counts };
    });
    done();
  };
}
