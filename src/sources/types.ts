// What the alert sources share: where accepted alerts go, how a body's problems are reported
// (JSON path and reason), and the small pieces every source uses to build a Signal.
import { createHash } from 'node:crypto';
import type { z } from 'zod';
import type { SourceConfig } from './config.js';
import type { ReceivedRequest } from './requests.js';
import type { Signal, TargetRef, Value } from '../domain/signal.js';
import { IncidentdError } from '../shared/errors.js';

/** Where accepted alerts go: the incident manager implements it. */
export interface AlertIngest {
  /**
   * Resolves once the signals are durable: in the intake journal (committed to the store right
   * after), or committed to the store when there is no journal. `request`, when the signals are
   * what an endpoint made of one request, is what the journal keeps instead of the signals.
   */
  submitMany(signals: Signal[], request?: ReceivedRequest): Promise<void>;
  /** Signals accepted and not yet committed. */
  queued(): number;
  /** Acknowledges what the signal's series has open (a PagerDuty `acknowledge`). */
  acknowledgeSeries(signal: Signal, actor: string, message: string): Promise<unknown>;
}

/** One invalid field: where (`alerts[2].status`) and why. */
export interface FieldIssue {
  field: string;
  message: string;
}

/** A request body that does not validate; nothing of it was applied. */
export class InvalidAlertsError extends IncidentdError {
  constructor(readonly issues: FieldIssue[]) {
    super(issues.map((i) => `${i.field}: ${i.message}`).join('; '));
  }
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `["alerts", 0, "labels", "a b"]` → `alerts[0].labels["a b"]`; the root is `body`. */
export function jsonPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (typeof p === 'string' && IDENT.test(p)) out += out === '' ? p : `.${p}`;
    else out += `[${JSON.stringify(String(p))}]`;
  }
  return out === '' ? 'body' : out;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `"${v.length > 40 ? `${v.slice(0, 40)}…` : v}"`;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return `${typeof v} ${String(v)}`;
  return typeof v === 'object' ? 'an object' : typeof v;
}

type Issue = z.core.$ZodIssue;

/** Every issue of a failed parse, as JSON path and reason. */
export function fieldIssues(error: z.ZodError, root: readonly PropertyKey[] = []): FieldIssue[] {
  const out: FieldIssue[] = [];
  for (const iss of error.issues) collect(iss, root, out);
  return out;
}

function collect(iss: Issue, root: readonly PropertyKey[], out: FieldIssue[]): void {
  const path = [...root, ...iss.path];
  switch (iss.code) {
    case 'unrecognized_keys':
      for (const key of iss.keys) out.push({ field: jsonPath([...path, key]), message: 'is not a known field; remove it or check its spelling' });
      return;
    case 'invalid_union': {
      // `target` may be a string or an object: report the branch that fits the kind of value given,
      // not "invalid input" for both.
      const input = (iss as { input?: unknown }).input;
      const branch = iss.errors.find((issues) => issues.every((i) => !(i.code === 'invalid_type' && i.path.length === 0)));
      if (input !== undefined && branch) {
        for (const i of branch) collect(i, path, out);
        return;
      }
      out.push({ field: jsonPath(path), message: iss.message });
      return;
    }
    case 'invalid_type': {
      const input = (iss as { input?: unknown }).input;
      out.push({
        field: jsonPath(path),
        message: input === undefined ? `is required (${iss.expected})` : `must be ${article(iss.expected)}, got ${describe(input)}`,
      });
      return;
    }
    default:
      out.push({ field: jsonPath(path), message: iss.message });
  }
}

function article(expected: string): string {
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

/** Parses the whole body; throws InvalidAlertsError listing every problem. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  if (body === undefined) throw new InvalidAlertsError([{ field: 'body', message: 'is empty; send a JSON object' }]);
  const r = schema.safeParse(body, { reportInput: true });
  if (!r.success) throw new InvalidAlertsError(fieldIssues(r.error));
  return r.data;
}

/** Epoch ms of an RFC 3339 time; null for Go's zero time (`0001-01-01T00:00:00Z`, "not set"). */
export function epochMs(text: string | undefined): number | null {
  if (text === undefined) return null;
  const t = Date.parse(text);
  return Number.isNaN(t) || t <= 0 ? null : t;
}

/** A stable identity for an alert that has only labels: the hash of its sorted label pairs. */
export function labelsHash(labels: Record<string, string>): string {
  const h = createHash('sha256');
  for (const k of Object.keys(labels).sort()) {
    h.update(k);
    h.update('\u0000');
    h.update(labels[k]!);
    h.update('\u0001');
  }
  return h.digest().toString('hex', 0, 8);
}

export function targetOf(
  source: SourceConfig,
  t: { id: string; kind?: string | undefined; name?: string | undefined; site?: string | undefined },
): TargetRef {
  // An alert lands in its source's tenant: two customers' sources naming the same host stay apart.
  return { id: t.id, kind: t.kind ?? source.target.kind, name: t.name ?? t.id, site: t.site ?? '', labels: {}, dependsOn: [], tenant: source.tenant };
}

/** Values shared by the sources: the severity hint and the alert's own start and end times. */
export function alertValues(
  own: Record<string, Value> | undefined,
  severity: string | undefined,
  startsAt: number | null,
  endsAt: number | null,
): Record<string, Value> {
  const values: Record<string, Value> = { ...own };
  if (severity !== undefined) values.severity = severity;
  if (startsAt !== null) values.startsAt = startsAt;
  if (endsAt !== null) values.endsAt = endsAt;
  return values;
}
