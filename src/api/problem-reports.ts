// What employees report through the portal: GET /api/v1/problem-reports/form (what the form
// offers), POST /api/v1/problem-reports (file one), GET /api/v1/problem-reports (my reports, newest
// first) and GET /api/v1/problem-reports/:id (one of mine). Every route is `reports.own`: each
// person sees only the reports he filed, for the tenants he may see.
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Incident } from '../domain/incident.js';
import type { Principal } from '../domain/principal.js';
import {
  MAX_REPORT_CONTACT,
  MAX_REPORT_DESCRIPTION,
  MAX_REPORT_ROOM,
  REPORT_AFFECTED,
  REPORT_CATEGORIES,
} from '../domain/problem-report.js';
import { InvalidReportError, type ProblemReports, type Reporter, type ReportStatus } from '../incidents/problem-reports.js';
import type { Clock } from '../shared/clock.js';
import { requires } from './auth.js';
import { BadRequestError, cursor, limit, MAX_LIMIT, type RequestIssue } from './validation.js';

export interface ProblemReportRoutesDeps {
  reports: ProblemReports;
  clock: Clock;
}

const BODY_FIELDS = 'tenant, category, description, site, room, target, affected, since, contact';

/** A text field: trimmed; empty means not given. */
function optionalText(field: string, max: number) {
  return z
    .string({ error: `${field} must be text` })
    .max(max, { error: `${field} must be at most ${max} characters` })
    .transform((s) => (s.trim() === '' ? undefined : s.trim()))
    .optional();
}

export const problemReportInputSchema = z.strictObject({
  tenant: optionalText('tenant', 100).meta({ description: 'The tenant the report is for; required when the person may report for several.' }),
  category: z.enum(REPORT_CATEGORIES, { error: `must be one of ${REPORT_CATEGORIES.join(', ')}` }).meta({ description: 'What kind of problem.' }),
  description: z
    .string({ error: 'describe what happens (text)' })
    .transform((s) => s.trim())
    .pipe(
      z
        .string()
        .min(1, { error: 'describe what happens' })
        .max(MAX_REPORT_DESCRIPTION, { error: `must be at most ${MAX_REPORT_DESCRIPTION} characters` }),
    )
    .meta({ description: `What happens, 1 to ${MAX_REPORT_DESCRIPTION} characters.` }),
  site: optionalText('site', 200).meta({ description: 'Where: a site of the tenant (see the form).' }),
  room: optionalText('room', MAX_REPORT_ROOM).meta({ description: 'Where: room, floor, desk.' }),
  target: optionalText('target', 200).meta({ description: 'Which device or service: a target id from the form.' }),
  affected: z.enum(REPORT_AFFECTED, { error: `must be one of ${REPORT_AFFECTED.join(', ')}` }).meta({ description: 'Who is affected: me, several people, the whole site.' }),
  since: z
    .iso.datetime({ offset: true, error: 'must be an ISO 8601 time with an offset, e.g. 2026-03-14T09:30:00Z' })
    .optional()
    .meta({ description: 'Since when the problem exists.' }),
  contact: optionalText('contact', MAX_REPORT_CONTACT).meta({ description: 'How to reach the person (phone, or a mail address for the updates).' }),
});

export const problemReportListQuery = z.strictObject({
  limit: limit.meta({ description: `Reports per page, at most ${MAX_LIMIT} (default 50)` }).optional(),
  cursor: cursor.meta({ description: 'The `next` of the previous page' }).optional(),
});

function issuesOf(error: z.ZodError, what: 'query' | 'body'): RequestIssue[] {
  return error.issues.map((i) => {
    if (i.code === 'unrecognized_keys') {
      const allowed = what === 'query' ? 'limit, cursor' : BODY_FIELDS;
      return { field: what, message: `unknown ${what === 'query' ? 'parameter' : 'field'}${i.keys.length === 1 ? '' : 's'} ${i.keys.join(', ')}; allowed: ${allowed}` };
    }
    const path = i.path.map(String).join('.');
    if (i.code === 'invalid_type' && i.input === undefined) return { field: path || what, message: 'is required' };
    return { field: path === '' ? what : path, message: i.message };
  });
}

function reporterOf(request: FastifyRequest): Reporter {
  const principal = (request as FastifyRequest & { principal?: Principal | null }).principal;
  // Unreachable behind requires(): it sets a principal or answers 401.
  if (!principal) throw new Error('request reached a report route without authentication');
  return {
    id: `${principal.kind}:${principal.id}`,
    accountId: principal.kind === 'user' ? principal.id : null,
    name: principal.name,
    tenants: principal.tenants,
  };
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** The note the incident was resolved with: the last resolution's message on its timeline. */
function resolutionOf(inc: Incident): string | null {
  if (inc.resolvedAt === null) return null;
  for (let i = inc.timeline.length - 1; i >= 0; i--) {
    const e = inc.timeline[i]!;
    if (e.action === 'resolved') return e.message === '' ? null : e.message;
  }
  return null;
}

export function reportToApi(s: ReportStatus) {
  const r = s.report;
  const inc = s.incident;
  return {
    id: r.id,
    tenant: r.tenant,
    createdAt: new Date(r.createdAt).toISOString(),
    category: r.category,
    description: r.description,
    site: r.site,
    room: r.room,
    target: r.target,
    affected: r.affected,
    since: iso(r.since),
    contact: r.contact,
    incident:
      inc === null
        ? null
        : {
            number: inc.number,
            title: inc.title,
            status: inc.status,
            acknowledgedAt: iso(inc.acknowledgedAt),
            resolvedAt: iso(inc.resolvedAt),
            resolution: resolutionOf(inc),
            affected: s.affected,
            hint: s.hint,
          },
  };
}

export function problemReportRoutes(deps: ProblemReportRoutesDeps): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    app.get('/api/v1/problem-reports/form', requires('reports.own'), async (request) => deps.reports.form(reporterOf(request)));

    app.post('/api/v1/problem-reports', requires('reports.own'), async (request, reply) => {
      const parsed = problemReportInputSchema.safeParse(request.body ?? {});
      if (!parsed.success) throw new BadRequestError(issuesOf(parsed.error, 'body'));
      const b = parsed.data;
      const since = b.since === undefined ? undefined : Date.parse(b.since);
      if (since !== undefined && since > deps.clock.now() + 60_000) {
        throw new BadRequestError([{ field: 'since', message: 'must not be in the future' }]);
      }
      try {
        const receipt = await deps.reports.file(reporterOf(request), {
          tenant: b.tenant,
          category: b.category,
          description: b.description,
          site: b.site,
          room: b.room,
          target: b.target,
          affected: b.affected,
          since,
          contact: b.contact,
        });
        return reply.code(201).send(receipt);
      } catch (err) {
        if (err instanceof InvalidReportError) throw new BadRequestError([{ field: err.field, message: err.reason }]);
        throw err;
      }
    });

    app.get('/api/v1/problem-reports', requires('reports.own'), async (request) => {
      const q = problemReportListQuery.safeParse(request.query ?? {});
      if (!q.success) throw new BadRequestError(issuesOf(q.error, 'query'));
      const page = await deps.reports.list(reporterOf(request), q.data.limit ?? 50, q.data.cursor ?? null);
      return { items: page.items.map(reportToApi), next: page.next };
    });

    app.get<{ Params: { id: string } }>('/api/v1/problem-reports/:id', requires('reports.own'), async (request) => {
      return reportToApi(await deps.reports.get(reporterOf(request), request.params.id));
    });
  };
}
