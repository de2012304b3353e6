// Schemas of what the incidents API answers, for the OpenAPI document. The incident's shape is
// ApiIncident (src/domain/serialize.ts); the type checks below fail to compile when the two part,
// and test/api/openapi.test.ts parses real answers with these (strict) schemas.
import { z } from 'zod';
import { IMPACTS, SEVERITIES, TIERS } from '../domain/classification.js';
import { INCIDENT_STATUSES } from '../domain/incident.js';
import { PRIORITIES } from '../domain/paging.js';
import type { ApiIncident } from '../domain/serialize.js';

const time = z.string().meta({ format: 'date-time' });
const nullableTime = time.nullable();
const stringMap = z.record(z.string(), z.string());

export const apiIncidentSchema = z
  .strictObject({
    number: z.string().meta({ examples: ['INC-000123'] }),
    tenant: z.string().meta({ description: 'The tenant (customer) it belongs to; `default` without tenants.', examples: ['default'] }),
    status: z.enum(INCIDENT_STATUSES),
    title: z.string(),
    description: z.string(),
    runbook: z.string(),
    category: z.string(),
    severity: z.enum(SEVERITIES),
    impact: z.enum(IMPACTS),
    priority: z.enum(PRIORITIES),
    tier: z.enum(TIERS),
    fingerprint: z.string(),
    ruleId: z.string(),
    source: z.string(),
    target: z.strictObject({ id: z.string(), kind: z.string(), name: z.string(), site: z.string(), labels: stringMap }),
    check: z.strictObject({ name: z.string(), type: z.string() }),
    labels: stringMap,
    occurrences: z.number().int(),
    lastMessage: z.string(),
    firstSeen: time.meta({ description: 'When it was opened' }),
    lastSeen: time.meta({ description: 'When its failure was last observed' }),
    acknowledgedAt: nullableTime,
    acknowledgedBy: z.string().nullable(),
    resolvedAt: nullableTime,
    resolvedBy: z.string().nullable(),
    closedAt: nullableTime,
    reopenCount: z.number().int(),
    flapping: z.boolean(),
    related: z.array(z.strictObject({ targetId: z.string(), fingerprint: z.string(), since: time })),
    escalation: z.strictObject({ level: z.number().int(), nextEscalationAt: nullableTime, mutedUntil: nullableTime, mutedBy: z.string().nullable() }),
    silencedBy: z.array(z.string()).meta({ description: 'Ids of the silences holding back its announcement or escalation (active incidents only)' }),
    sla: z.strictObject({ ackDueAt: nullableTime, resolveDueAt: nullableTime, ackBreachedAt: nullableTime, resolveBreachedAt: nullableTime }),
    notified: z.array(z.string()),
    tickets: stringMap,
    subscribers: z.array(z.string()),
    timeline: z
      .array(z.strictObject({ at: time, actor: z.string(), action: z.string(), message: z.string() }))
      .optional()
      .meta({ description: 'Only on the single-incident endpoint and the commands; lists carry none' }),
    resolution: z
      .strictObject({
        at: time,
        by: z.string().meta({ description: 'The person who resolved it, or `system` when it recovered' }),
        note: z.string().meta({ description: 'The resolution note: the message given on resolve' }),
      })
      .nullable()
      .optional()
      .meta({ description: 'How it was resolved, while resolved or closed (null while active); with the timeline only' }),
    relatedIncidents: z
      .array(
        z.strictObject({
          number: z.string(),
          title: z.string(),
          status: z.enum(INCIDENT_STATUSES),
          severity: z.enum(SEVERITIES),
          firstSeen: time,
          relation: z.enum(['same-target', 'held-back']).meta({ description: '`same-target`: another incident of this target; `held-back`: the incident of a dependent target held back by this one' }),
        }),
      )
      .optional()
      .meta({ description: 'Only on GET of one incident: other incidents of the same tenant about its target or its held-back targets, newest first' }),
    ticketLinks: z
      .array(
        z.strictObject({
          channel: z.string(),
          reference: z.string().meta({ description: 'As stored in `tickets`' }),
          display: z.string().meta({ description: 'The number people know the ticket by', examples: ['INC0010002'] }),
          url: z.string().nullable().meta({ description: 'The ticket in the helpdesk; null when the channel has no page for it (mail)' }),
        }),
      )
      .optional()
      .meta({ description: 'Only on GET of one incident: `tickets` as people know them, with links into the helpdesk' }),
  })
  .meta({ description: 'An incident, as the API and webhook bodies show it' });

export const incidentPageSchema = z.strictObject({
  items: z.array(apiIncidentSchema),
  next: z.string().nullable().meta({ description: 'Pass back as `cursor` for the next page; null on the last' }),
});

// Compile-time guard: the schema names exactly ApiIncident's fields and accepts every ApiIncident.
type SchemaIncident = z.output<typeof apiIncidentSchema>;
type SameKeys = [keyof SchemaIncident] extends [keyof ApiIncident] ? ([keyof ApiIncident] extends [keyof SchemaIncident] ? true : false) : false;
const sameKeys: SameKeys = true;
const accepts = (i: ApiIncident): SchemaIncident => i;
void sameKeys;
void accepts;
