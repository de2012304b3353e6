// PagerDuty Events API v2 (POST /v2/enqueue), so any tool that can page PagerDuty can feed
// incidentd. The routing_key in the body names the source; answers follow PagerDuty's shapes.
//
// A trigger is about the host or service in payload.source (labels.instance; the source's
// `target.from_label` may name component, group or class instead), titled by payload.summary
// (annotations.summary). Acknowledge and resolve events carry only routing_key and dedup_key, so a
// PagerDuty alert's series follows from those two alone: its check is the dedup_key and its series
// is keyed by the source (Signal.seriesTarget), whatever host the trigger named.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { SourceConfig } from './config.js';
import type { Signal, Value } from '../domain/signal.js';
import { alertValues, epochMs, fieldIssues, InvalidAlertsError, targetOf, type FieldIssue } from './types.js';

export const PD_SEVERITIES = ['critical', 'error', 'warning', 'info'] as const;

const text = (max: number) => z.string().min(1, { error: 'must not be blank' }).max(max, { error: `must be at most ${max} characters` });

const payloadSchema = z.looseObject({
  summary: text(1024),
  source: text(255),
  severity: z.enum(PD_SEVERITIES, { error: `must be one of ${PD_SEVERITIES.join(', ')}` }),
  timestamp: z
    .string()
    .refine((s) => !Number.isNaN(Date.parse(s)), { error: 'must be an ISO 8601 date-time, e.g. 2015-07-17T08:42:58.315+0000' })
    .optional(),
  component: z.string().max(255).optional(),
  group: z.string().max(255).optional(),
  class: z.string().max(255).optional(),
  custom_details: z.unknown().optional(),
});

export const pagerdutyEventSchema = z
  .looseObject({
    routing_key: text(255),
    event_action: z.enum(['trigger', 'acknowledge', 'resolve'], { error: 'must be one of trigger, acknowledge, resolve' }),
    dedup_key: text(255).optional(),
    payload: payloadSchema.optional(),
  })
  .superRefine((e, ctx) => {
    if (e.event_action === 'trigger' && e.payload === undefined) {
      ctx.addIssue({ code: 'custom', path: ['payload'], message: 'is required for trigger events' });
    }
    if (e.event_action !== 'trigger' && e.dedup_key === undefined) {
      ctx.addIssue({ code: 'custom', path: ['dedup_key'], message: `is required for ${e.event_action} events` });
    }
  });

export type PagerDutyEvent = z.output<typeof pagerdutyEventSchema>;

// zod's compiled fast path, as for generic alerts: the same result, and the same issues (an invalid
// event is parsed again by the runtime parser).
const compiledEventSchema = z.compile(pagerdutyEventSchema);

/** PagerDuty's 400 body. */
export interface PagerDutyInvalid {
  status: 'invalid event';
  message: 'Event object is invalid';
  errors: string[];
}

export function invalidEvent(issues: FieldIssue[]): PagerDutyInvalid {
  return { status: 'invalid event', message: 'Event object is invalid', errors: issues.map((i) => `${i.field}: ${i.message}`) };
}

/** Validates one event; throws InvalidAlertsError. */
export function parsePagerDutyEvent(body: unknown): PagerDutyEvent {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new InvalidAlertsError([{ field: 'body', message: 'must be a JSON object (one event)' }]);
  }
  const r = compiledEventSchema.safeParse(body, { reportInput: true });
  if (!r.success) throw new InvalidAlertsError(fieldIssues(r.error));
  return r.data;
}

export interface PagerDutyAction {
  action: PagerDutyEvent['event_action'];
  /** The event's dedup_key, or a new one for a trigger without it (as PagerDuty does). */
  dedupKey: string;
  signal: Signal;
}

export function pagerdutyAction(e: PagerDutyEvent, source: SourceConfig, now: number): PagerDutyAction {
  const dedupKey = e.dedup_key ?? randomUUID();
  const p = e.payload;
  const labels: Record<string, string> = { ...source.labels };
  const annotations: Record<string, string> = {};
  let own: Record<string, Value> | undefined;
  if (p) {
    labels.severity = p.severity;
    labels.instance = p.source;
    if (p.component) labels.component = p.component;
    if (p.group) labels.group = p.group;
    if (p.class) labels.class = p.class;
    annotations.summary = p.summary;
    own = detailValues(p.custom_details, annotations);
  }
  // Without a payload (acknowledge, resolve) the event names no host: the series finds its incident.
  const targetId = p ? labels[source.target.fromLabel] || p.source : source.id;
  const signal: Signal = {
    source: source.id,
    target: targetOf(source, { id: targetId, name: p ? targetId : undefined }),
    check: { name: dedupKey, type: source.type },
    status: e.event_action === 'resolve' ? 'ok' : 'fail',
    message: p?.summary ?? `${e.event_action} event for ${dedupKey}`,
    values: alertValues(own, p?.severity, epochMs(p?.timestamp), null),
    labels,
    annotations,
    at: now,
    dedupKey,
    seriesTarget: source.id,
  };
  return { action: e.event_action, dedupKey, signal };
}

/** Scalar custom_details become values; anything else is kept as JSON text in annotations. */
function detailValues(details: unknown, annotations: Record<string, string>): Record<string, Value> | undefined {
  if (details === undefined || details === null) return undefined;
  if (typeof details !== 'object' || Array.isArray(details)) {
    annotations.custom_details = typeof details === 'string' ? details : JSON.stringify(details);
    return undefined;
  }
  const values: Record<string, Value> = {};
  for (const [k, v] of Object.entries(details as Record<string, unknown>)) {
    if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') values[k] = v;
    else annotations[k] = JSON.stringify(v);
  }
  return values;
}
