// An alert source's configuration (the `sources:` list of config/incidentd.yaml): who may push
// alerts, and how its alerts become signals. The schema reads what admins write; its parsed output
// is the SourceConfig the endpoints and normalisers use.
import { z } from 'zod';
import { labelValue, secretList } from '../config-core/fields.js';
import { describeValue } from '../config-core/yaml.js';
import { DEFAULT_TENANT } from '../domain/principal.js';

const SOURCE_ID_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;

const sourceFields = {
  id: z
    .string()
    .regex(SOURCE_ID_PATTERN, {
      error: (iss) => `source id must start with a lowercase letter or digit and contain only a-z, 0-9, ".", "_", "-", got ${describeValue(iss.input)}`,
    })
    .describe('Unique id of the source; rules see it as `source`.'),
  labels: z
    .record(z.string(), labelValue())
    .default({})
    .describe('Labels added to every alert of this source (the alert\'s own labels win).'),
  tenant: z
    .string()
    .min(1)
    .optional()
    .describe('Tenant (customer) whose incidents its alerts open: an id from tenants. Default: default.'),
  target: z
    .strictObject({
      from_label: z.string().min(1).optional().describe('Label that names the target (alertmanager; pagerduty: instance is payload.source, or component, group, class). Default: instance.'),
      kind: z.string().min(1).optional().describe('Target kind when the alert does not say. Default: server (service for pagerduty).'),
      site_label: z.string().min(1).optional().describe('Label that names the target\'s site, if any.'),
    })
    .prefault({})
    .describe('How alerts of this source name their target.'),
};

const bearerTokens = secretList('token').describe('Bearer tokens this source sends; use `${ENV}` to keep them out of the file.');

const sourceSchema = z.discriminatedUnion('type', [
  z
    .strictObject({
      ...sourceFields,
      type: z.literal('generic'),
      tokens: bearerTokens,
      allow_subscribers: z
        .boolean()
        .default(true)
        .describe(
          'Alerts of this source may name `subscribers` (people kept informed of the incident, at most incidents.max_subscribers). ' +
            'false: an alert that names any is refused with 400. Default true.',
        ),
    })
    .describe('Generic JSON alerts posted to POST /api/v1/alerts.'),
  z
    .strictObject({ ...sourceFields, type: z.literal('alertmanager'), tokens: bearerTokens })
    .describe('Prometheus Alertmanager webhook (POST /api/v1/alertmanager).'),
  z
    .strictObject({
      ...sourceFields,
      type: z.literal('pagerduty'),
      routing_keys: secretList('routing key').describe('PagerDuty Events v2 routing keys (POST /v2/enqueue) that name this source.'),
    })
    .describe('PagerDuty Events API v2 events; the routing_key in the body names the source.'),
]);

export const sourcesSchema = z
  .array(sourceSchema)
  .default([])
  .superRefine((sources, ctx) => {
    // A token or routing key must name exactly one source, or the endpoints could not tell them apart.
    const seen = new Map<string, string>();
    sources.forEach((s, i) => {
      const claim = (kind: string, value: string, path: (string | number)[]) => {
        const key = `${kind}\u0000${value}`;
        const first = seen.get(key);
        if (first !== undefined) {
          ctx.addIssue({ code: 'custom', message: `${kind} is already used by ${first}; each ${kind} must name one source`, path });
        } else {
          seen.set(key, kind === 'id' ? `source #${i + 1}` : `source "${s.id}"`);
        }
      };
      claim('id', s.id, [i, 'id']);
      if (s.type === 'pagerduty') s.routing_keys.forEach((k, j) => claim('routing key', k, [i, 'routing_keys', j]));
      else s.tokens.forEach((t, j) => claim('token', t, [i, 'tokens', j]));
    });
  })
  .transform((sources) => sources.map(toSourceConfig))
  .describe('Alert sources that push alerts in (generic webhook, Alertmanager, PagerDuty Events v2).');

/** One source as its schema gives it, before the per-type defaults are filled in. */
type SourceFile = z.output<typeof sourceSchema>;

function toSourceConfig(s: SourceFile) {
  return {
    /** Unique; becomes the signal's `source`. */
    id: s.id,
    type: s.type,
    /** Bearer tokens of this source (generic, alertmanager); empty for pagerduty. */
    tokens: s.type === 'pagerduty' ? [] : s.tokens,
    /** PagerDuty routing keys that name this source; empty for the other types. */
    routingKeys: s.type === 'pagerduty' ? s.routing_keys : [],
    /** Its alerts may name subscribers (generic sources; the others never carry any). */
    allowSubscribers: s.type === 'generic' ? s.allow_subscribers : false,
    /** Added to every signal of this source; the alert's own labels win. */
    labels: s.labels,
    /** The tenant its alerts belong to (checked against `tenants` by the daemon file's schema). */
    tenant: s.tenant ?? DEFAULT_TENANT,
    target: {
      /** Label naming the target (alertmanager; default `instance`). */
      fromLabel: s.target.from_label ?? 'instance',
      /** Target kind when the alert does not say (default `server`, `service` for pagerduty). */
      kind: s.target.kind ?? (s.type === 'pagerduty' ? 'service' : 'server'),
      /** Label naming the target's site, if any. */
      siteLabel: s.target.site_label ?? null,
    },
  };
}

/** An alert source: who may push alerts, and how its alerts become signals. */
export type SourceConfig = z.output<typeof sourcesSchema>[number];
export type SourceType = SourceConfig['type'];
