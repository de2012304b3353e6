// Request validation for the incidents API. Query strings, paths and bodies are outside data:
// parsed here once, so handlers only see typed, checked values.
import { z } from 'zod';
import { IMPACTS, SEVERITIES, TIERS, type Impact, type Priority, type Severity, type Tier } from '../domain/classification.js';
import { DEFAULT_INCIDENT_SORT, INCIDENT_SORTS, PRIORITIES, type IncidentSort } from '../domain/paging.js';
import {
  INCIDENT_STATUSES,
  incidentNumber,
  parseIncidentNumber,
  type IncidentStatus,
} from '../domain/incident.js';
import type { IncidentFilter } from '../store/types.js';
import { subscriberAddress } from '../sources/generic.js';
import { IncidentdError } from '../shared/errors.js';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;
export const MAX_TEXT = 10_000;

export interface RequestIssue {
  field: string;
  message: string;
}

/** A request that does not validate; becomes 400 `{ error: "bad_request", message, issues }`. */
export class BadRequestError extends IncidentdError {
  constructor(readonly issues: RequestIssue[]) {
    super(issues.map((i) => `${i.field}: ${i.message}`).join('; '));
  }
}

// A query value may arrive once (`a,b`) or repeated (`?status=a&status=b`); both mean a list.
const csv = z
  .union([z.string(), z.array(z.string())])
  .transform((v) =>
    (Array.isArray(v) ? v.join(',') : v)
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  );

function csvOf<T extends string>(values: readonly [T, ...T[]]) {
  const message = `must be one of ${values.join(', ')}`;
  return csv
    .pipe(z.array(z.enum(values, { error: message })))
    .meta({ description: `One or more of ${values.join(', ')}: comma-separated or the parameter repeated`, examples: [values.slice(0, 2).join(',')] });
}

// An empty value (`category=`) means "no filter", the same as leaving the parameter out.
const text = z
  .string({ error: 'must be given at most once' })
  .max(500, { error: 'must be at most 500 characters' })
  .transform((s) => (s.trim() === '' ? undefined : s.trim()));

export const limit = z
  .string({ error: 'must be given at most once' })
  .regex(/^\d+$/, { error: `must be a whole number from 1 to ${MAX_LIMIT}` })
  .transform(Number)
  .pipe(
    z
      .number()
      .int()
      .min(1, { error: `must be a whole number from 1 to ${MAX_LIMIT}` })
      .max(MAX_LIMIT, { error: `must be a whole number from 1 to ${MAX_LIMIT}` }),
  );

// A time with its offset (`Z` or `+02:00`): a time without one would mean the server's zone.
const time = z
  .string({ error: 'must be given at most once' })
  .meta({ format: 'date-time' })
  .pipe(z.iso.datetime({ offset: true, error: 'must be an ISO 8601 time with an offset, e.g. 2026-03-14T09:30:00Z or 2026-03-14T10:30:00+01:00' }))
  .transform((s) => Date.parse(s));

export const cursor = z
  .string({ error: 'must be given at most once' })
  .max(1000, { error: 'is not a cursor returned by this API' })
  .meta({ description: 'The `next` of the previous page, with the same filters and sort' });

// Tenant ids as a filter: one naming a tenant the caller may not see (or none at all) matches
// nothing, and says nothing about whether it exists.
const tenantList = csv
  .pipe(z.array(z.string().max(100, { error: 'must be at most 100 characters' })).max(100, { error: 'must name at most 100 tenants' }))
  .meta({ description: 'One or more tenant ids: comma-separated or the parameter repeated', examples: ['acme,globex'] });

export const listQuery = z.strictObject({
  tenant: tenantList.optional(),
  status: csvOf(INCIDENT_STATUSES).optional(),
  severity: csvOf(SEVERITIES).optional(),
  priority: csvOf(PRIORITIES).optional(),
  tier: csvOf(TIERS).optional(),
  category: text.optional(),
  site: text.optional(),
  target: text.optional(),
  openedAfter: time.meta({ description: 'Opened at or after this time (inclusive)' }).optional(),
  openedBefore: time.meta({ description: 'Opened before this time (exclusive)' }).optional(),
  q: text.meta({ description: 'Text in the title or description, case-insensitive, taken literally' }).optional(),
  sort: z
    .enum(INCIDENT_SORTS, { error: `must be one of ${INCIDENT_SORTS.join(', ')}` })
    .meta({ description: `Order of the list; a leading - reverses it. Default ${DEFAULT_INCIDENT_SORT}` })
    .optional(),
  limit: limit.optional(),
  cursor: cursor.optional(),
});

const QUERY_KEYS = Object.keys(listQuery.shape);

export interface ListQuery {
  filter: IncidentFilter;
  limit: number;
  cursor: string | null;
  sort: IncidentSort;
}

function issuesOf(error: z.ZodError, what: 'query' | 'body'): RequestIssue[] {
  return error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const allowed = what === 'query' ? `; allowed: ${QUERY_KEYS.join(', ')}` : '';
      return {
        field: what,
        message: `unknown ${what === 'query' ? 'parameter' : 'field'}${issue.keys.length === 1 ? '' : 's'} ${issue.keys.join(', ')}${allowed}`,
      };
    }
    const first = issue.path[0];
    return { field: first === undefined ? what : String(first), message: issue.message };
  });
}

export function parseListQuery(raw: unknown): ListQuery {
  const r = listQuery.safeParse(raw ?? {});
  if (!r.success) throw new BadRequestError(issuesOf(r.error, 'query'));
  const q = r.data;
  const filter: IncidentFilter = {};
  if (q.tenant && q.tenant.length > 0) filter.tenant = [...new Set(q.tenant)];
  if (q.status && q.status.length > 0) filter.status = [...new Set<IncidentStatus>(q.status)];
  if (q.severity && q.severity.length > 0) filter.severity = [...new Set<Severity>(q.severity)];
  if (q.category !== undefined) filter.category = q.category;
  if (q.site !== undefined) filter.site = q.site;
  if (q.target !== undefined) filter.target = q.target;
  if (q.priority && q.priority.length > 0) filter.priority = [...new Set<Priority>(q.priority)];
  if (q.tier && q.tier.length > 0) filter.tier = [...new Set<Tier>(q.tier)];
  if (q.openedAfter !== undefined) filter.openedAfter = q.openedAfter;
  if (q.openedBefore !== undefined) filter.openedBefore = q.openedBefore;
  if (q.q !== undefined) filter.text = q.q;
  return { filter, limit: q.limit ?? DEFAULT_LIMIT, cursor: q.cursor ? q.cursor : null, sort: q.sort ?? DEFAULT_INCIDENT_SORT };
}

/** The `:number` of an incident route: `INC-` (any case) and at least six digits. */
export const incidentNumberParam = z
  .string()
  .regex(/^INC-\d{6,15}$/i, { error: 'is not an incident number; expected INC- and at least six digits, e.g. INC-000123' })
  .meta({ description: 'The incident number, e.g. INC-000123 (any case)', examples: ['INC-000123'] });

/** `INC-000123` (also `inc-000123`) → canonical `INC-000123`; anything else is a 400. */
export function parseNumberParam(raw: string): string {
  const seq = incidentNumberParam.safeParse(raw).success ? parseIncidentNumber(raw.toUpperCase()) : null;
  if (seq === null || !Number.isSafeInteger(seq) || seq < 1) {
    throw new BadRequestError([
      {
        field: 'number',
        message: `"${raw.slice(0, 40)}" is not an incident number; expected INC- and at least six digits, e.g. INC-000123`,
      },
    ]);
  }
  return incidentNumber(seq);
}

const notBlank = (what: string) =>
  z
    .string({ error: 'must be a string' })
    .max(MAX_TEXT, { error: `must be at most ${MAX_TEXT} characters` })
    .refine((s) => s.trim() !== '', { error: `must not be empty; write the ${what}` });

export const transitionBody = z.strictObject(
  {
    message: z
      .string({ error: 'must be a string' })
      .max(MAX_TEXT, { error: `must be at most ${MAX_TEXT} characters` })
      .optional(),
  },
  { error: 'must be a JSON object, e.g. {"message": "..."}' },
);

export const commentBody = z.strictObject(
  { text: notBlank('comment text') },
  { error: 'must be a JSON object with a "text" field, e.g. {"text": "..."}' },
);

export const subscriberBody = z.strictObject(
  { address: subscriberAddress },
  { error: 'must be a JSON object with an "address" field, e.g. {"address": "alice@example.org"}' },
);

/** Body of POST …/subscribers: `{ address }`, a mail address. */
export function parseSubscriberBody(raw: unknown): string {
  const r = subscriberBody.safeParse(raw);
  if (!r.success) {
    const issues = issuesOf(r.error, 'body').map((i) =>
      i.field === 'address' && raw !== null && typeof raw === 'object' && !('address' in raw)
        ? { field: 'address', message: 'is required; give the mail address to keep informed' }
        : i,
    );
    throw new BadRequestError(issues);
  }
  return r.data.address;
}

/** Body of ack/resolve: optional; `{ message? }`. Returns the message, '' when none. */
export function parseTransitionBody(raw: unknown): string {
  if (raw === undefined || raw === null) return '';
  const r = transitionBody.safeParse(raw);
  if (!r.success) throw new BadRequestError(issuesOf(r.error, 'body'));
  return r.data.message ?? '';
}

/** Body of a comment: `{ text }`, 1..10000 characters, not only whitespace. */
export function parseCommentBody(raw: unknown): string {
  const r = commentBody.safeParse(raw);
  if (!r.success) {
    const issues = issuesOf(r.error, 'body').map((i) =>
      // A missing field reads better as "text: is required" than as a type error.
      i.field === 'text' && raw !== null && typeof raw === 'object' && !('text' in raw)
        ? { field: 'text', message: 'is required; write the comment text' }
        : i,
    );
    throw new BadRequestError(issues);
  }
  return r.data.text;
}

const reason = notBlank('reason').meta({ description: 'Why; shown on the timeline and in the ticket update', examples: ['the site router is down too'] });

export const escalateBody = z.strictObject(
  {
    tier: z.enum(['L2', 'L3'], { error: 'must be L2 or L3, a tier above the incident’s' }),
    reason,
  },
  { error: 'must be a JSON object, e.g. {"tier": "L3", "reason": "..."}' },
);

export const reclassifyBody = z
  .strictObject(
    {
      severity: z.enum(SEVERITIES, { error: `must be one of ${SEVERITIES.join(', ')}` }).optional(),
      impact: z.enum(IMPACTS, { error: `must be one of ${IMPACTS.join(', ')}` }).optional(),
      reason,
    },
    { error: 'must be a JSON object, e.g. {"severity": "major", "reason": "..."}' },
  )
  .refine((b) => b.severity !== undefined || b.impact !== undefined, { error: 'give severity, impact or both', path: ['severity'] });

export const reopenBody = z.strictObject({ reason }, { error: 'must be a JSON object, e.g. {"reason": "..."}' });

/** A missing required field reads better as "reason: is required; …" than as a type error. */
function parseRequired<S extends z.ZodType>(schema: S, raw: unknown, required: Record<string, string>): z.output<S> {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  const given = raw !== null && typeof raw === 'object' ? raw : {};
  throw new BadRequestError(
    issuesOf(r.error, 'body').map((i) => {
      const hint = required[i.field];
      return hint !== undefined && !(i.field in given) ? { field: i.field, message: `is required; ${hint}` } : i;
    }),
  );
}

const REASON = 'say why (it goes on the timeline and to the ticket)';

/** Body of POST …/escalate: `{ tier: "L2" | "L3", reason }`. */
export function parseEscalateBody(raw: unknown): { tier: 'L2' | 'L3'; reason: string } {
  return parseRequired(escalateBody, raw, { tier: 'give the tier to escalate to, L2 or L3', reason: REASON });
}

/** Body of POST …/severity: `{ severity?, impact?, reason }`, at least one of severity and impact. */
export function parseReclassifyBody(raw: unknown): { severity?: Severity | undefined; impact?: Impact | undefined; reason: string } {
  return parseRequired(reclassifyBody, raw, { reason: REASON });
}

/** Body of POST …/reopen: `{ reason }`. */
export function parseReopenBody(raw: unknown): string {
  return parseRequired(reopenBody, raw, { reason: REASON }).reason;
}

export const pageQuery = z.strictObject({
  limit: limit.optional(),
  cursor: cursor.optional(),
});

/** `?limit=&cursor=` of a plain paged list (dead letters). */
export function parsePageQuery(raw: unknown): { limit: number; cursor: string | null } {
  const r = pageQuery.safeParse(raw ?? {});
  if (!r.success) {
    throw new BadRequestError(
      r.error.issues.map((i) =>
        i.code === 'unrecognized_keys'
          ? { field: 'query', message: `unknown parameter${i.keys.length === 1 ? '' : 's'} ${i.keys.join(', ')}; allowed: limit, cursor` }
          : { field: String(i.path[0] ?? 'query'), message: i.message },
      ),
    );
  }
  return { limit: r.data.limit ?? DEFAULT_LIMIT, cursor: r.data.cursor ? r.data.cursor : null };
}
