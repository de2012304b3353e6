// Generic JSON alerts (POST /api/v1/alerts): a batch of alerts, each naming its target and status.
// The schema is also published as config/schemas/alerts.schema.json.
import { z } from 'zod';
import type { SourceConfig } from './config.js';
import type { Signal } from '../domain/signal.js';
import { addressLengthProblem } from '../domain/subscribers.js';
import { alertValues, epochMs, InvalidAlertsError, parseBody, targetOf, type FieldIssue } from './types.js';

const MAX_TEXT = 10_000;

/** A subscriber's mail address: the syntax, and RFC 5321's lengths (254 in all, 64 before the @). */
export const subscriberAddress = z.email({ error: 'must be a mail address like alice@example.org' }).superRefine((v, ctx) => {
  const problem = addressLengthProblem(v);
  if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
});

const stringMap = (what: string) =>
  z.record(z.string().max(200), z.string().max(MAX_TEXT)).describe(what);

const time = (what: string) =>
  z.iso
    .datetime({ offset: true, error: 'must be an RFC 3339 date-time with offset, e.g. 2026-01-01T10:00:00Z' })
    .describe(what);

const targetObject = z
  .strictObject({
    id: z.string().min(1).max(200).describe('Target id; the same id as in probes/*.yaml links the alert to that target.'),
    kind: z.string().min(1).max(100).optional().describe('wifi-ap, server, printer, mail, or any word. Default: the source\'s target.kind.'),
    name: z.string().min(1).max(200).optional().describe('Display name. Default: the id.'),
    site: z.string().max(200).optional().describe('Site or location.'),
  })
  .describe('The target the alert is about.');

const genericAlertSchema = z
  .strictObject({
    name: z.string().min(1).max(200).describe('Alert name, e.g. `DiskFull`; rules see it as `check.name` and `labels.alertname`.'),
    target: z.union([z.string().min(1).max(200).describe('Target id.'), targetObject], {
      error: 'must be a target id (a string) or an object { id, kind?, name?, site? }',
    }),
    status: z.enum(['firing', 'resolved'], { error: 'must be "firing" or "resolved"' }).describe('firing opens/repeats, resolved recovers.'),
    severity: z
      .string()
      .min(1)
      .max(50)
      .optional()
      .describe(
        'The sender\'s severity word (critical, error, warning, info, P1-P5…); rules see it as `labels.severity` and `values.severity`, ' +
          'and an alert no rule matches gets the severity class it names (critical: major, error: severe, warning: medium, info: minor).',
      ),
    labels: stringMap('Alert labels, available to rules as `labels`.').optional(),
    annotations: stringMap('Alert annotations (summary, description, runbook_url…), available to rules as `annotations`.').optional(),
    startsAt: time('When the problem started.').optional(),
    endsAt: time('When the problem ended.').optional(),
    dedup_key: z.string().min(1).max(255).optional().describe('Identity of the alert within its source; alerts with the same key are one series.'),
    message: z.string().max(MAX_TEXT).optional().describe('What happened. Default: annotations.summary, else the name.'),
    values: z
      .record(z.string().max(200), z.union([z.number(), z.string().max(MAX_TEXT), z.boolean()]))
      .optional()
      .describe('Measurements, available to rules as `values`.'),
    subscribers: z
      .array(subscriberAddress)
      .max(20)
      .optional()
      .describe(
        'People to keep informed (the reporter, affected users): receipt, status changes and resolution, by the channels named in `communication`. ' +
          'An incident keeps at most incidents.max_subscribers; a source with allow_subscribers: false may not send this field.',
      ),
  })
  .describe('One alert.');

export const genericBatchSchema = z
  .strictObject({
    alerts: z.array(genericAlertSchema).min(1, { error: 'must hold at least one alert' }).describe('The alerts of this batch.'),
  })
  .describe('A batch of generic alerts for POST /api/v1/alerts (incidentd).');

export type GenericBatch = z.output<typeof genericBatchSchema>;

// zod's compiled fast path: a valid body is checked by generated code, several times faster than
// the interpreter; an invalid one falls back to the runtime parser, so its issues are the same.
const compiledBatchSchema = z.compile(genericBatchSchema);

/** Validates the whole batch (throws InvalidAlertsError) and turns every alert into a signal. */
export function genericSignals(body: unknown, source: SourceConfig, now: number): Signal[] {
  const batch = parseBody(compiledBatchSchema, body);
  if (!source.allowSubscribers) {
    const issues: FieldIssue[] = [];
    batch.alerts.forEach((a, i) => {
      if (a.subscribers !== undefined && a.subscribers.length > 0) {
        issues.push({
          field: `alerts[${i}].subscribers`,
          message: `source "${source.id}" may not add subscribers (allow_subscribers: false); leave the field out`,
        });
      }
    });
    if (issues.length > 0) throw new InvalidAlertsError(issues);
  }
  return batch.alerts.map((a): Signal => {
    const labels: Record<string, string> = { ...source.labels, alertname: a.name, ...a.labels };
    if (a.severity !== undefined) labels.severity = a.severity;
    // The parsed body is this request's own: its maps need no copy.
    const annotations = a.annotations ?? {};
    const t = typeof a.target === 'string' ? { id: a.target } : a.target;
    const site = t.site ?? (source.target.siteLabel !== null ? labels[source.target.siteLabel] : undefined);
    const signal: Signal = {
      source: source.id,
      // Named fields, not `{ ...t, site }`: that spread cost more than the rest of the signal.
      target: targetOf(source, { id: t.id, kind: t.kind, name: t.name, site }),
      check: { name: a.name, type: source.type },
      status: a.status === 'firing' ? 'fail' : 'ok',
      message: a.message ?? annotations.summary ?? annotations.description ?? `${a.name} ${a.status}`,
      values: alertValues(a.values, a.severity, epochMs(a.startsAt), epochMs(a.endsAt)),
      labels,
      annotations,
      at: now,
    };
    if (a.dedup_key !== undefined) signal.dedupKey = a.dedup_key;
    if (a.subscribers !== undefined && a.subscribers.length > 0) signal.subscribers = a.subscribers;
    return signal;
  });
}
