// Silences, after Prometheus Alertmanager: label matchers that hold back the announcements and the
// escalation of the incidents they match, from startsAt until endsAt, with who set them and why.
// The incident is still recorded; when the silence ends (by time or expired by hand) an incident
// still active is announced, as after a maintenance window. Pure: no clock, no I/O; epoch ms.
//
// Matchers are `name=value`, `name!=value`, `name=~regex`, `name!~regex` over a signal's fields
// (target, check, kind, source, category, severity, site) and its labels (`labels.<name>`). As in
// Alertmanager, a regex is anchored at both ends (`Disk.*` does not match `MyDisk`), a label the
// signal lacks reads as the empty string, and a silence must have at least one matcher that does not
// match the empty string, so it cannot silence everything by accident.
import { z } from 'zod';
import { IncidentdError } from '../shared/errors.js';
import { DEFAULT_TENANT } from './principal.js';

export const SILENCE_FIELDS = ['target', 'check', 'kind', 'source', 'category', 'severity', 'site'] as const;
export type SilenceField = (typeof SILENCE_FIELDS)[number];

export const MATCH_OPS = ['=', '!=', '=~', '!~'] as const;
export type MatchOp = (typeof MATCH_OPS)[number];

export interface Matcher {
  /** A field of SILENCE_FIELDS or `labels.<name>`. */
  name: string;
  op: MatchOp;
  value: string;
}

export type SilenceState = 'pending' | 'active' | 'expired';
export const SILENCE_STATES: readonly SilenceState[] = ['pending', 'active', 'expired'];

export interface Silence {
  /** A UUID, as Alertmanager's. */
  id: string;
  /** The tenant whose incidents it may hold back; no other tenant's, whatever its matchers say. */
  tenant: string;
  matchers: Matcher[];
  startsAt: number;
  /** Exclusive. Expiring a silence by hand sets it to that moment. */
  endsAt: number;
  createdBy: string;
  comment: string;
  createdAt: number;
  /** When it was last changed (created, expired). */
  updatedAt: number;
}

/** What a silence is matched against: the fields of a signal, or of the incident it opened. */
export interface SilenceSubject {
  /** Only silences of this tenant apply. */
  tenant: string;
  target: string;
  check: string;
  kind: string;
  source: string;
  category: string;
  severity: string;
  site: string;
  labels: Record<string, string>;
}

export class SilenceNotFoundError extends IncidentdError {
  constructor(readonly id: string) {
    super(`no silence with id "${id}"; list them with GET /api/v1/silences (or incidentd silence list)`);
  }
}

export class SilenceExpiredError extends IncidentdError {
  constructor(readonly id: string) {
    super(`silence ${id} has already expired; nothing to do`);
  }
}

/** The state of a silence at `now` (Alertmanager's: pending before startsAt, expired from endsAt). */
export function silenceState(s: Pick<Silence, 'startsAt' | 'endsAt'>, now: number): SilenceState {
  if (now >= s.endsAt) return 'expired';
  if (now < s.startsAt) return 'pending';
  return 'active';
}

/** What expiring at `at` changes: it ends now; a pending one never starts (Alertmanager does the same). */
export function expiredAt(s: Silence, at: number): Silence {
  if (silenceState(s, at) === 'expired') throw new SilenceExpiredError(s.id);
  return { ...s, startsAt: Math.min(s.startsAt, at), endsAt: at, updatedAt: at };
}

// --- matchers -----------------------------------------------------------------------------------

const NAME = /^(?:target|check|kind|source|category|severity|site|labels\.[A-Za-z_][A-Za-z0-9_.-]*)$/;
// The operator is the first one after the name; `=~` and `!~`/`!=` before `=`.
const MATCHER_TEXT = /^\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$/s;

export function nameProblem(name: string): string | null {
  if (NAME.test(name)) return null;
  return `"${name}" is not a field a silence can match; use one of ${SILENCE_FIELDS.join(', ')} or labels.<name>`;
}

/** The anchored regex of a `=~`/`!~` matcher, or a message saying why it does not compile. */
export function compileRegex(value: string): RegExp | string {
  try {
    // Anchored as Alertmanager does: the whole value must match.
    return new RegExp(`^(?:${value})$`, 's');
  } catch (err) {
    return `invalid regular expression "${value}": ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`;
  }
}

/** `labels.alertname=~Disk.*` → a matcher; throws SilenceMatcherError with what is wrong. */
export function parseMatcher(text: string): Matcher {
  const m = MATCHER_TEXT.exec(text);
  if (!m) {
    throw new SilenceMatcherError(
      `"${text}" is not a matcher; write name=value, name!=value, name=~regex or name!~regex, e.g. target=ap-1 or labels.alertname=~Disk.*`,
    );
  }
  let value = m[3]!;
  // Alertmanager's amtool accepts quoted values: name="a value".
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
  return { name: m[1]!, op: m[2] as MatchOp, value };
}

export class SilenceMatcherError extends IncidentdError {}

export function formatMatcher(m: Matcher): string {
  return `${m.name}${m.op}${m.value}`;
}

function subjectValue(subject: SilenceSubject, name: string): string {
  if (name.startsWith('labels.')) {
    const key = name.slice('labels.'.length);
    return Object.hasOwn(subject.labels, key) ? subject.labels[key]! : '';
  }
  return subject[name as SilenceField] ?? '';
}

type Test = (subject: SilenceSubject) => boolean;

function compileMatcher(m: Matcher): Test {
  if (m.op === '=' || m.op === '!=') {
    const equal = m.op === '=';
    return (s) => (subjectValue(s, m.name) === m.value) === equal;
  }
  const re = compileRegex(m.value);
  // Validated on the way in; a stored silence whose regex no longer compiles matches nothing.
  if (typeof re === 'string') return () => false;
  const want = m.op === '=~';
  return (s) => re.test(subjectValue(s, m.name)) === want;
}

/** A silence with its matchers compiled once. */
export interface CompiledSilence {
  silence: Silence;
  matches(subject: SilenceSubject): boolean;
}

export function compileSilence(silence: Silence): CompiledSilence {
  const tests = silence.matchers.map(compileMatcher);
  return { silence, matches: (s) => s.tenant === silence.tenant && tests.every((t) => t(s)) };
}

const EMPTY_SUBJECT: SilenceSubject = { tenant: '', target: '', check: '', kind: '', source: '', category: '', severity: '', site: '', labels: {} };

/** Whether the matcher also matches a field that is empty or missing. */
function matchesEmpty(m: Matcher): boolean {
  return compileMatcher(m)(EMPTY_SUBJECT);
}

/** The subject of an incident (or an incident draft): its signal's fields, target labels under its own labels. */
export function subjectOf(inc: {
  tenant?: string | undefined;
  target: { id: string; kind: string; site: string; labels: Record<string, string> };
  check?: { name: string } | undefined;
  source?: string | undefined;
  category?: string | undefined;
  severity: string;
  labels?: Record<string, string> | undefined;
}): SilenceSubject {
  return {
    tenant: inc.tenant ?? DEFAULT_TENANT,
    target: inc.target.id,
    check: inc.check?.name ?? '',
    kind: inc.target.kind,
    source: inc.source ?? '',
    category: inc.category ?? '',
    severity: inc.severity,
    site: inc.target.site,
    labels: { ...inc.target.labels, ...(inc.labels ?? {}) },
  };
}

/** The silences holding back a subject at `at`; `until` = the latest end among them. */
export interface SilenceHit {
  ids: string[];
  /** `silence <id> (<comment>)`, joined with `, ` when several match. */
  text: string;
  until: number;
}

export function silencedBy(silences: Iterable<CompiledSilence>, subject: SilenceSubject, at: number): SilenceHit | null {
  const hits: Silence[] = [];
  for (const c of silences) {
    if (silenceState(c.silence, at) === 'active' && c.matches(subject)) hits.push(c.silence);
  }
  if (hits.length === 0) return null;
  return {
    ids: hits.map((s) => s.id),
    text: hits.map(describeSilence).join(', '),
    until: Math.max(...hits.map((s) => s.endsAt)),
  };
}

export function describeSilence(s: Pick<Silence, 'id' | 'comment'>): string {
  return `silence ${s.id} (${s.comment})`;
}

// --- the input of POST /api/v1/silences ---------------------------------------------------------

const MAX_TEXT = 10_000;
/** Longest silence: a year, like a maintenance window; past that, fix the rule. */
export const MAX_SILENCE_MS = 366 * 86_400_000;

const matcherObject = z.strictObject({
  name: z.string(),
  op: z.enum(MATCH_OPS, { error: `op must be one of ${MATCH_OPS.join(' ')}` }),
  value: z.string(),
});

const MATCHER_SHAPE = 'a matcher is a string like "target=ap-1" or an object {"name", "op", "value"}';

// A string (as amtool and the CLI write it) or Alertmanager-like parts; each says what is wrong.
const matcherSchema = z.unknown().transform((v, ctx): Matcher => {
  if (typeof v === 'string') {
    try {
      return parseMatcher(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  }
  const r = matcherObject.safeParse(v);
  if (r.success) return r.data;
  ctx.addIssue({ code: 'custom', message: v !== null && typeof v === 'object' ? `${MATCHER_SHAPE}: ${r.error.issues[0]?.message ?? ''}` : MATCHER_SHAPE });
  return z.NEVER;
});

const instant = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 time with a UTC offset, e.g. 2026-12-01T20:00:00Z' });

export const silenceInputSchema = z.strictObject(
  {
    matchers: z.array(matcherSchema, { error: 'must be a list of matchers, e.g. ["target=ap-1"]' }),
    startsAt: instant.optional(),
    endsAt: instant.optional(),
    /** `2h`, `30m`… from startsAt; instead of endsAt. */
    duration: z.string().optional(),
    createdBy: z.string().trim().min(1, { error: 'must not be empty' }).max(200).optional(),
    /** The tenant whose incidents it holds back; may be left out by a request that sees one tenant. */
    tenant: z.string().trim().min(1, { error: 'must not be empty' }).max(200).optional(),
    comment: z
      .string({ error: (iss) => (iss.input === undefined ? 'is required: say why, for the incidents it holds back' : 'must be a string') })
      .max(MAX_TEXT)
      .refine((s) => s.trim() !== '', { error: 'must not be empty: say why, for the incidents it holds back' }),
  },
  { error: 'must be a JSON object, e.g. {"matchers": ["target=ap-1"], "duration": "2h", "comment": "..."}' },
);

export type SilenceInput = z.output<typeof silenceInputSchema>;

export interface SilenceIssue {
  field: string;
  message: string;
}

export class InvalidSilenceError extends IncidentdError {
  constructor(readonly issues: SilenceIssue[]) {
    super(issues.map((i) => `${i.field}: ${i.message}`).join('; '));
  }
}

/**
 * Checks what the schema cannot see alone (names, regexes, times) and builds the silence. `now`
 * is the default start; `parseDuration` turns `2h` into ms (null when it cannot).
 */
export function buildSilence(
  input: SilenceInput,
  opts: { id: string; now: number; createdBy: string; tenant: string; parseDuration: (text: string) => number | null },
): Silence {
  const issues: SilenceIssue[] = [];
  input.matchers.forEach((m, i) => {
    const bad = nameProblem(m.name);
    if (bad) issues.push({ field: `matchers[${i}]`, message: bad });
    if (m.op === '=~' || m.op === '!~') {
      const re = compileRegex(m.value);
      if (typeof re === 'string') issues.push({ field: `matchers[${i}]`, message: re });
    }
  });
  if (input.matchers.length === 0) {
    issues.push({ field: 'matchers', message: 'give at least one matcher, e.g. "target=ap-1"; a silence without matchers would hold back everything' });
  } else if (issues.length === 0 && input.matchers.every(matchesEmpty)) {
    issues.push({
      field: 'matchers',
      message: 'every matcher also matches an empty value, so the silence would hold back everything; add one that names something, e.g. "target=ap-1"',
    });
  }
  const startsAt = input.startsAt === undefined ? opts.now : Date.parse(input.startsAt);
  let endsAt: number | null = null;
  if (input.endsAt !== undefined && input.duration !== undefined) {
    issues.push({ field: 'endsAt', message: 'give either endsAt or duration, not both' });
  } else if (input.endsAt !== undefined) {
    endsAt = Date.parse(input.endsAt);
  } else if (input.duration !== undefined) {
    const ms = opts.parseDuration(input.duration);
    if (ms === null || ms <= 0) issues.push({ field: 'duration', message: `"${input.duration}" is not a duration; write e.g. 30m, 2h or 1d` });
    else endsAt = startsAt + ms;
  } else {
    issues.push({ field: 'endsAt', message: 'is required: give endsAt (ISO 8601) or duration (e.g. 2h)' });
  }
  if (endsAt !== null) {
    if (endsAt <= startsAt) {
      issues.push({ field: 'endsAt', message: `${new Date(endsAt).toISOString()} is not after startsAt ${new Date(startsAt).toISOString()}` });
    } else if (endsAt <= opts.now) {
      issues.push({ field: 'endsAt', message: `${new Date(endsAt).toISOString()} is in the past; a silence must end in the future` });
    } else if (endsAt - startsAt > MAX_SILENCE_MS) {
      issues.push({ field: 'endsAt', message: 'a silence lasts at most 366 days; fix the rule instead of silencing it for longer' });
    }
  }
  if (issues.length > 0 || endsAt === null) throw new InvalidSilenceError(issues);
  return {
    id: opts.id,
    tenant: opts.tenant,
    matchers: input.matchers.map((m) => ({ name: m.name, op: m.op, value: m.value })),
    startsAt,
    endsAt,
    createdBy: input.createdBy ?? opts.createdBy,
    comment: input.comment.trim(),
    createdAt: opts.now,
    updatedAt: opts.now,
  };
}

/** The JSON shape on the API. */
export interface ApiSilence {
  id: string;
  tenant: string;
  matchers: (Matcher & { text: string })[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
  createdAt: string;
  updatedAt: string;
  status: { state: SilenceState };
}

export function silenceToApi(s: Silence, now: number): ApiSilence {
  const iso = (t: number) => new Date(t).toISOString();
  return {
    id: s.id,
    tenant: s.tenant,
    matchers: s.matchers.map((m) => ({ ...m, text: formatMatcher(m) })),
    startsAt: iso(s.startsAt),
    endsAt: iso(s.endsAt),
    createdBy: s.createdBy,
    comment: s.comment,
    createdAt: iso(s.createdAt),
    updatedAt: iso(s.updatedAt),
    status: { state: silenceState(s, now) },
  };
}
