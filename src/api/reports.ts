// The reports API (issue 18): GET /api/v1/reports/counts, /handling-times, /sla, /sla/breaches,
// /fingerprints, /targets, /heatmap, /backlog and /escalations.
// Figures are computed by the store (ReportStore); periods are cut here in the report's time zone.
// Scoped like the incident list: a scoped user's figures cover his tenants only, and asking for
// another tenant gives empty figures (as if it had no incidents), never a 403 that confirms it.
// Every table is also served as CSV (`?format=csv` or `Accept: text/csv`).
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  DURATION_GROUPS,
  foldHandlingTimes,
  HANDLING_TIMES,
  isValidZone,
  MAX_BREACHES,
  MAX_TOP,
  dayBoundaries,
  zoneOffsets,
  periodBoundaries,
  periodLabel,
  REPORT_DIMENSIONS,
  REPORT_PERIODS,
  SLA_GROUPS,
  TREND_PERIODS,
  type HandlingTimeRow,
  type ReportPeriod,
} from '../domain/reports.js';
import { TIERS } from '../domain/classification.js';
import { visibleTenants } from '../domain/tenant-scope.js';
import type { Clock } from '../shared/clock.js';
import { luxon } from '../shared/luxon.js';
import type { ReportStore } from '../store/types.js';
import { ALWAYS_OPEN } from '../incidents/calendar.js';
import type { ReportCalendar } from '../incidents/report-calendars.js';
import type { Severity } from '../domain/classification.js';
import { requires } from './auth.js';
import { requestScope } from './tenant-scope.js';
import { BadRequestError, type RequestIssue } from './validation.js';

export interface ReportRoutesDeps {
  store: ReportStore;
  clock: Clock;
  /** The configured time zone of a tenant (tenants[].time_zone), null when it has none. */
  tenantZone?: (tenant: string) => string | null;
  /** The calendar an incident's business time runs on (src/incidents/report-calendars.ts); absent: around the clock. */
  reportCalendar?: ReportCalendar;
  /** Every configured tenant (for GET /api/v1/reports/tenants); absent: none beyond a scoped caller's own. */
  tenants?: () => readonly string[];
}

const one = (what: string) => z.string({ error: `${what} must be given at most once` });

const tenantList = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v.join(',') : v).split(',').map((s) => s.trim()).filter((s) => s !== ''))
  .meta({ description: 'Only these tenants (comma-separated or repeated); default: every tenant the caller sees' });

const common = {
  period: z
    .enum(REPORT_PERIODS, { error: `must be one of ${REPORT_PERIODS.join(', ')}` })
    .default('month')
    .meta({ description: 'Length of a period: day, week (Monday to Monday) or month; default month' }),
  at: one('at')
    .optional()
    .meta({ description: 'A date (2026-03-15, local to `zone`) or an ISO instant in the period to report on; default now' }),
  zone: one('zone')
    .refine(isValidZone, { error: 'must be an IANA time zone like "Europe/Berlin", "America/New_York" or "UTC"' })
    .optional()
    .meta({ description: "IANA time zone periods are cut in; default the tenant's (when one tenant is asked for and it has one), else UTC" }),
  tenant: tenantList.optional(),
  format: z.enum(['json', 'csv'], { error: 'must be json or csv' }).optional().meta({ description: 'csv for the table as CSV (or send Accept: text/csv)' }),
};

export const countsQuery = z.strictObject({
  ...common,
  by: z.enum(REPORT_DIMENSIONS, { error: `must be one of ${REPORT_DIMENSIONS.join(', ')}` }).default('category').meta({ description: 'What to count by; default category' }),
});

export const handlingTimesQuery = z.strictObject({
  ...common,
  by: z.enum(DURATION_GROUPS, { error: `must be one of ${DURATION_GROUPS.join(', ')}` }).default('severity').meta({ description: 'What to group by; default severity' }),
  time: z
    .enum(HANDLING_TIMES, { error: `must be one of ${HANDLING_TIMES.join(', ')}` })
    .default('calendar')
    .meta({ description: "calendar: elapsed time; business: only the open hours (and not the holidays) of the calendar the incident's SLA clock runs on (its tenant's policy, its site's business hours); default calendar" }),
});

export const slaQuery = z.strictObject({
  ...common,
  by: z.enum(SLA_GROUPS, { error: `must be one of ${SLA_GROUPS.join(', ')}` }).default('severity').meta({ description: 'What to group by; default severity' }),
});

export const breachesQuery = z.strictObject({
  ...common,
  limit: z
    .string({ error: 'limit must be given at most once' })
    .regex(/^\d+$/, { error: `must be a whole number from 1 to ${MAX_BREACHES}` })
    .transform(Number)
    .pipe(z.number().min(1, { error: `must be a whole number from 1 to ${MAX_BREACHES}` }).max(MAX_BREACHES, { error: `must be a whole number from 1 to ${MAX_BREACHES}` }))
    .optional()
    .meta({ description: `Most breaches listed, oldest opening first; default and at most ${MAX_BREACHES}` }),
});

const wholeNumber = (max: number) => {
  const message = `must be a whole number from 1 to ${max}`;
  return z
    .string({ error: 'must be given at most once' })
    .regex(/^\d+$/, { error: message })
    .transform(Number)
    .pipe(z.number().min(1, { error: message }).max(max, { error: message }));
};

export const topQuery = z.strictObject({
  ...common,
  limit: wholeNumber(MAX_TOP).optional().meta({ description: `Most rows, default 20, at most ${MAX_TOP}` }),
});

export const heatmapQuery = z.strictObject(common);

export const escalationsQuery = z.strictObject(common);

function issuesOf(error: z.ZodError, allowed: string): RequestIssue[] {
  return error.issues.map((i) => {
    if (i.code === 'unrecognized_keys') return { field: 'query', message: `unknown parameter${i.keys.length === 1 ? '' : 's'} ${i.keys.join(', ')}; allowed: ${allowed}` };
    return { field: String(i.path[0] ?? 'query'), message: i.message };
  });
}

function parse<T extends z.ZodObject>(schema: T, request: FastifyRequest): z.output<T> {
  const q = schema.safeParse(request.query ?? {});
  if (!q.success) throw new BadRequestError(issuesOf(q.error, Object.keys(schema.shape).join(', ')));
  return q.data;
}

interface Selection {
  tenants: readonly string[] | undefined;
  zone: string;
  period: ReportPeriod;
  /** TREND_PERIODS + 1 boundaries, the last period the one reported on. */
  boundaries: number[];
}

/** The period reported on: the last of the selection. */
function current(s: Selection): { from: number; to: number; label: string; range: { start: string; end: string; label: string } } {
  const from = s.boundaries[s.boundaries.length - 2]!;
  const to = s.boundaries[s.boundaries.length - 1]!;
  const label = periodLabel(s.period, s.zone, from);
  return { from, to, label, range: { start: new Date(from).toISOString(), end: new Date(to).toISOString(), label } };
}

function select(q: { period: ReportPeriod; at?: string | undefined; zone?: string | undefined; tenant?: string[] | undefined }, request: FastifyRequest, deps: ReportRoutesDeps): Selection {
  const visible = visibleTenants(requestScope(request), q.tenant);
  const tenants = visible === null ? undefined : visible;
  const zone = q.zone ?? (tenants?.length === 1 ? deps.tenantZone?.(tenants[0]!) : null) ?? 'UTC';
  let at = deps.clock.now();
  if (q.at !== undefined) {
    // A date without an offset is local to the zone; one with an offset is that instant.
    const d = luxon().DateTime.fromISO(q.at, { zone });
    if (!d.isValid) throw new BadRequestError([{ field: 'at', message: `expected a date like 2026-03-15 or an ISO instant like 2026-03-15T10:00:00Z, got "${q.at}"` }]);
    at = d.toMillis();
  }
  return { tenants, zone, period: q.period, boundaries: periodBoundaries(q.period, zone, at, TREND_PERIODS) };
}

function wantsCsv(request: FastifyRequest, format: string | undefined): boolean {
  if (format !== undefined) return format === 'csv';
  return /\btext\/csv\b/i.test(request.headers.accept ?? '');
}

/** One CSV field (RFC 4180): quoted when it holds a comma, quote or line break. */
function csvField(v: string | number | null): string {
  const s = v === null ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function sendCsv(reply: FastifyReply, name: string, header: string[], rows: (string | number | null)[][]): FastifyReply {
  const text = [header, ...rows].map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
  return reply
    .type('text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${name}.csv"`)
    .send(text);
}

/** Change from the previous period: absolute, and in percent (null when the previous was 0). */
function change(current: number, previous: number): { change: number; changePct: number | null } {
  return { change: current - previous, changePct: previous === 0 ? null : Math.round(((current - previous) / previous) * 1000) / 10 };
}

export function reportRoutes(deps: ReportRoutesDeps): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    // The tenants a report can be asked for: a scoped caller's own, or every configured one for
    // those who see all (the portal's tenant filter).
    app.get('/api/v1/reports/tenants', requires('reports.read'), async (request) => {
      const scope = requestScope(request);
      const ids = scope.all ? (deps.tenants?.() ?? []) : scope.tenants;
      return { tenants: [...new Set(ids)].sort() };
    });

    app.get('/api/v1/reports/counts', requires('reports.read'), async (request, reply) => {
      const q = parse(countsQuery, request);
      const s = select(q, request, deps);
      const rows = await deps.store.countByPeriod({ dimension: q.by, boundaries: s.boundaries, ...(s.tenants === undefined ? {} : { tenants: s.tenants }) });
      const periods = s.boundaries.slice(0, -1).map((start, i) => ({ start: new Date(start).toISOString(), end: new Date(s.boundaries[i + 1]!).toISOString(), label: periodLabel(s.period, s.zone, start) }));
      const byKey = new Map<string, number[]>();
      for (const r of rows) {
        let trend = byKey.get(r.key);
        if (!trend) byKey.set(r.key, (trend = new Array<number>(periods.length).fill(0)));
        trend[r.period] = r.count;
      }
      const last = periods.length - 1;
      const table = [...byKey].map(([key, trend]) => ({ key, current: trend[last]!, previous: trend[last - 1]!, ...change(trend[last]!, trend[last - 1]!), trend }));
      // Most incidents in the period first, then the key, so the order is stable.
      table.sort((a, b) => b.current - a.current || b.previous - a.previous || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      const totals = periods.map((_, i) => table.reduce((n, r) => n + r.trend[i]!, 0));
      if (wantsCsv(request, q.format)) {
        return sendCsv(
          reply,
          `incidents-by-${q.by}-${periods[last]!.label}`,
          [q.by, 'current', 'previous', 'change', 'change_pct', ...periods.map((p) => p.label)],
          table.map((r) => [r.key, r.current, r.previous, r.change, r.changePct, ...r.trend]),
        );
      }
      return {
        period: q.period,
        zone: s.zone,
        by: q.by,
        tenants: s.tenants ?? null,
        current: periods[last],
        previous: periods[last - 1],
        periods,
        totals: { current: totals[last], previous: totals[last - 1], ...change(totals[last]!, totals[last - 1]!), trend: totals },
        rows: table,
      };
    });

    app.get('/api/v1/reports/handling-times', requires('reports.read'), async (request, reply) => {
      const q = parse(handlingTimesQuery, request);
      const s = select(q, request, deps);
      const { from, to, label, range } = current(s);
      const query = { groupBy: q.by, from, to, ...(s.tenants === undefined ? {} : { tenants: s.tenants }) };
      // Business time needs the calendars, which the store does not know: it streams the instants
      // and they are folded here (only the durations of each group are kept).
      const calendar = deps.reportCalendar ?? (() => ALWAYS_OPEN);
      const rows: HandlingTimeRow[] =
        q.time === 'business'
          ? await foldHandlingTimes(deps.store.handlingTimeStamps(query), (st) => calendar(st.tenant, st.severity as Severity, st.site))
          : await deps.store.handlingTimes(query);
      const round = (r: HandlingTimeRow) => ({ ...r, meanMs: Math.round(r.meanMs) });
      if (wantsCsv(request, q.format)) {
        return sendCsv(
          reply,
          `handling-times${q.time === 'business' ? '-business' : ''}-by-${q.by}-${label}`,
          [q.by, 'measure', 'count', 'median_ms', 'p90_ms', 'mean_ms'],
          rows.map(round).map((r) => [r.key, r.measure, r.count, r.medianMs, r.p90Ms, r.meanMs]),
        );
      }
      return {
        period: q.period,
        zone: s.zone,
        by: q.by,
        time: q.time,
        tenants: s.tenants ?? null,
        current: range,
        rows: rows.map(round),
      };
    });

    // SLA compliance of the incidents opened in the period, judged now (an unmet SLA past due is breached).
    app.get('/api/v1/reports/sla', requires('reports.read'), async (request, reply) => {
      const q = parse(slaQuery, request);
      const s = select(q, request, deps);
      const { from, to, label, range } = current(s);
      const rows = await deps.store.slaCompliance({ groupBy: q.by, from, to, now: deps.clock.now(), ...(s.tenants === undefined ? {} : { tenants: s.tenants }) });
      // Share met of those decided (met or breached); null while none is.
      const table = rows.map((r) => ({ ...r, metPct: r.met + r.breached === 0 ? null : Math.round((r.met / (r.met + r.breached)) * 1000) / 10 }));
      if (wantsCsv(request, q.format)) {
        return sendCsv(
          reply,
          `sla-by-${q.by}-${label}`,
          [q.by, 'measure', 'with_sla', 'met', 'breached', 'pending', 'met_pct'],
          table.map((r) => [r.key, r.measure, r.withSla, r.met, r.breached, r.pending, r.metPct]),
        );
      }
      return { period: q.period, zone: s.zone, by: q.by, tenants: s.tenants ?? null, current: range, rows: table };
    });

    const scoped = (s: Selection) => (s.tenants === undefined ? {} : { tenants: s.tenants });

    app.get('/api/v1/reports/fingerprints', requires('reports.read'), async (request, reply) => {
      const q = parse(topQuery, request);
      const s = select(q, request, deps);
      const { from, to, label, range } = current(s);
      const rows = await deps.store.topFingerprints({ from, to, ...scoped(s) }, q.limit ?? 20);
      if (wantsCsv(request, q.format)) {
        return sendCsv(reply, `fingerprints-${label}`, ['fingerprint', 'target', 'openings', 'reopenings', 'flapping'], rows.map((r) => [r.fingerprint, r.targetId, r.openings, r.reopenings, r.flapping]));
      }
      return { period: q.period, zone: s.zone, tenants: s.tenants ?? null, current: range, rows };
    });

    app.get('/api/v1/reports/targets', requires('reports.read'), async (request, reply) => {
      const q = parse(topQuery, request);
      const s = select(q, request, deps);
      const { from, to, label, range } = current(s);
      const rows = await deps.store.topTargets({ from, to, now: deps.clock.now(), ...scoped(s) }, q.limit ?? 20);
      if (wantsCsv(request, q.format)) {
        return sendCsv(reply, `targets-${label}`, ['target', 'name', 'incidents', 'downtime_ms'], rows.map((r) => [r.targetId, r.targetName, r.incidents, r.downtimeMs]));
      }
      return { period: q.period, zone: s.zone, tenants: s.tenants ?? null, current: range, rows };
    });

    // Openings per weekday (Monday first) and hour of the day, local to the zone: 7 rows of 24.
    app.get('/api/v1/reports/heatmap', requires('reports.read'), async (request, reply) => {
      const q = parse(heatmapQuery, request);
      const s = select(q, request, deps);
      const { from, to, label, range } = current(s);
      const cells = await deps.store.heatmap({ from, to, offsets: zoneOffsets(s.zone, from, to), ...scoped(s) });
      const grid = Array.from({ length: 7 }, () => new Array<number>(24).fill(0));
      for (const c of cells) grid[c.weekday]![c.hour] = c.count;
      const days = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
      if (wantsCsv(request, q.format)) {
        return sendCsv(reply, `heatmap-${label}`, ['weekday', ...Array.from({ length: 24 }, (_, h) => String(h))], grid.map((row, d) => [days[d]!, ...row]));
      }
      return { period: q.period, zone: s.zone, tenants: s.tenants ?? null, current: range, weekdays: days, hours: grid };
    });

    // Open incidents at the end of each local day of the period, up to today.
    app.get('/api/v1/reports/backlog', requires('reports.read'), async (request, reply) => {
      const q = parse(heatmapQuery, request);
      const s = select(q, request, deps);
      const { from, to, label, range } = current(s);
      // Days after today (local to the zone) have no figures yet: the table stops at today.
      const all = dayBoundaries(s.zone, from, to);
      const now = deps.clock.now();
      let started = 0;
      while (started + 1 < all.length && all[started]! <= now) started++;
      const days = all.slice(0, started + 1);
      const open = await deps.store.backlog({ boundaries: days, ...scoped(s) });
      const rows = open.map((n, i) => ({ day: luxon().DateTime.fromMillis(days[i]!, { zone: s.zone }).toFormat('yyyy-MM-dd'), endsAt: new Date(days[i + 1]!).toISOString(), open: n }));
      if (wantsCsv(request, q.format)) return sendCsv(reply, `backlog-${label}`, ['day', 'ends_at', 'open'], rows.map((r) => [r.day, r.endsAt, r.open]));
      return { period: q.period, zone: s.zone, tenants: s.tenants ?? null, current: range, rows };
    });

    // Escalations into each tier per period (counted when they happened), with the period before
    // and the trend; every tier above the first has a row, zero or not, so the table keeps its shape.
    app.get('/api/v1/reports/escalations', requires('reports.read'), async (request, reply) => {
      const q = parse(escalationsQuery, request);
      const s = select(q, request, deps);
      const rows = await deps.store.escalations({ boundaries: s.boundaries, ...scoped(s) });
      const periods = s.boundaries.slice(0, -1).map((start, i) => ({ start: new Date(start).toISOString(), end: new Date(s.boundaries[i + 1]!).toISOString(), label: periodLabel(s.period, s.zone, start) }));
      const byTier = new Map<string, number[]>(TIERS.slice(1).map((t) => [t, new Array<number>(periods.length).fill(0)]));
      for (const r of rows) {
        let trend = byTier.get(r.tier);
        if (!trend) byTier.set(r.tier, (trend = new Array<number>(periods.length).fill(0)));
        trend[r.period] = r.count;
      }
      const last = periods.length - 1;
      const table = [...byTier].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([tier, trend]) => ({ tier, current: trend[last]!, previous: trend[last - 1]!, ...change(trend[last]!, trend[last - 1]!), trend }));
      if (wantsCsv(request, q.format)) {
        return sendCsv(
          reply,
          `escalations-${periods[last]!.label}`,
          ['tier', 'current', 'previous', 'change', 'change_pct', ...periods.map((p) => p.label)],
          table.map((r) => [r.tier, r.current, r.previous, r.change, r.changePct, ...r.trend]),
        );
      }
      return { period: q.period, zone: s.zone, tenants: s.tenants ?? null, current: periods[last], previous: periods[last - 1], periods, rows: table };
    });

    app.get('/api/v1/reports/sla/breaches', requires('reports.read'), async (request, reply) => {
      const q = parse(breachesQuery, request);
      const s = select(q, request, deps);
      const { from, to, label, range } = current(s);
      const rows = await deps.store.slaBreaches({ from, to, now: deps.clock.now(), ...(s.tenants === undefined ? {} : { tenants: s.tenants }) }, q.limit ?? MAX_BREACHES);
      const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
      const items = rows.map((r) => ({ ...r, openedAt: iso(r.openedAt), dueAt: iso(r.dueAt), doneAt: iso(r.doneAt) }));
      if (wantsCsv(request, q.format)) {
        return sendCsv(
          reply,
          `sla-breaches-${label}`,
          ['number', 'tenant', 'severity', 'tier', 'measure', 'opened_at', 'due_at', 'done_at'],
          items.map((r) => [r.number, r.tenant, r.severity, r.tier, r.measure, r.openedAt, r.dueAt, r.doneAt]),
        );
      }
      return { period: q.period, zone: s.zone, tenants: s.tenants ?? null, current: range, items };
    });
  };
}
