// The zod schemas of the three YAML file kinds as admins write them (snake_case, duration strings),
// and the JSON Schemas generated from them for editors. The loader turns the parsed values into
// the camelCase types of ./types.ts.
import { z } from 'zod';
import { IMPACTS, SEVERITIES, TIERS, type Tier } from '../domain/classification.js';
import { DEFAULT_MAX_SUBSCRIBERS } from '../domain/subscribers.js';
import { probeKinds } from '../probe-kinds/registry.js';
import { DURATION_PATTERN, describeValue } from './yaml.js';
import { parseDuration } from '../shared/duration.js';
import { ruleTestFileSchema } from '../rules/rule-tests.js';
import { genericBatchSchema } from '../sources/generic.js';
import { AUTH_PROTOCOLS, PRIV_PROTOCOLS } from '../probe-kinds/snmp/session.js';
import { channelConfigSchema } from '../notify/registry.js';
import { businessHoursListSchema } from '../incidents/calendar.js';
import { maintenanceListSchema } from '../incidents/maintenance.js';

export const duration = z
  .string({
    error: (iss) => (iss.input === undefined ? undefined : `expected a duration like "30s", "5m" or "1h30m", got ${describeValue(iss.input)}`),
  })
  .regex(DURATION_PATTERN, {
    error: (iss) => `expected a duration like "30s", "5m" or "1h30m" (units ms, s, m, h, d), got ${describeValue(iss.input)}`,
  });

// ---------------------------------------------------------------------------------------------
// config/incidentd.yaml

const classificationFields = {
  severity: z.enum(SEVERITIES).describe('Severity class, lowest first: minor, medium, severe, major.'),
  impact: z.enum(IMPACTS).describe('Who is affected: single-user, multiple-users, site, organisation.'),
  tier: z.enum(TIERS).describe('Support tier that takes it first: L1, L2, L3.'),
};

const sqliteStore = z
  .strictObject({
    type: z.literal('sqlite'),
    path: z.string().min(1).default('data/incidentd.db').describe('SQLite database file, relative to the working directory.'),
  })
  .describe('Embedded SQLite store (the default).');

const mongoStore = z
  .strictObject({
    type: z.literal('mongodb'),
    uri: z.string().min(1).describe('MongoDB connection string, e.g. `${MONGODB_URI}`.'),
    database: z.string().min(1).default('incidentd').describe('Database name.'),
  })
  .describe('MongoDB store, for production and several daemon instances.');

// Alert sources: who may push alerts into incidentd and how their alerts name targets.
const SOURCE_ID_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;

const secretList = (what: string) =>
  z
    .array(z.string().min(1, { error: `${what} must not be empty (an unset \${ENV} gives an empty one)` }))
    .min(1, { error: `give at least one ${what}` });

const sourceFields = {
  id: z
    .string()
    .regex(SOURCE_ID_PATTERN, {
      error: (iss) => `source id must start with a lowercase letter or digit and contain only a-z, 0-9, ".", "_", "-", got ${describeValue(iss.input)}`,
    })
    .describe('Unique id of the source; rules see it as `source`.'),
  labels: z
    .record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v)))
    .default({})
    .describe('Labels added to every alert of this source (the alert\'s own labels win).'),
  target: z
    .strictObject({
      from_label: z
        .string()
        .min(1)
        .optional()
        .describe(
          'Label that names the target (alertmanager; pagerduty: instance is payload.source, or component, group, class). Default: instance.',
        ),
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

const sourcesSchema = z
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
  .describe('Alert sources that push alerts in (generic webhook, Alertmanager, PagerDuty Events v2).');

// The SNMP trap receiver: a UDP port, the communities and v3 users it believes.
const trapUserSchema = z
  .strictObject({
    name: z.string().min(1).max(32).describe('SNMPv3 user (security) name the devices send traps as.'),
    level: z
      .enum(['noAuthNoPriv', 'authNoPriv', 'authPriv'])
      .default('authPriv')
      .describe('Security level: `authPriv` (authenticated and encrypted, default), `authNoPriv` or `noAuthNoPriv`.'),
    auth_protocol: z.enum(AUTH_PROTOCOLS).default('sha').describe('Authentication digest: md5, sha (default), sha224, sha256, sha384 or sha512.'),
    // RFC 3414 section 11.2: passphrases shorter than 8 characters are not allowed.
    auth_key: z.string().min(8).optional().describe('Authentication passphrase, at least 8 characters; use `${ENV}`.'),
    priv_protocol: z.enum(PRIV_PROTOCOLS).default('aes').describe('Privacy cipher: aes (default), aes256b, aes256r or des.'),
    priv_key: z.string().min(8).optional().describe('Privacy passphrase, at least 8 characters; use `${ENV}`.'),
  })
  .superRefine((u, ctx) => {
    if (u.level !== 'noAuthNoPriv' && u.auth_key === undefined)
      ctx.addIssue({ code: 'custom', path: ['auth_key'], message: `auth_key is required for level ${u.level}` });
    if (u.level === 'authPriv' && u.priv_key === undefined)
      ctx.addIssue({ code: 'custom', path: ['priv_key'], message: 'priv_key is required for level authPriv' });
  })
  .describe('An SNMPv3 user whose traps are accepted.');

const snmpTrapsSchema = z
  .strictObject({
    enabled: z.boolean().default(false).describe('Start the trap receiver.'),
    host: z
      .string()
      .min(1)
      .default('127.0.0.1')
      .describe('Address the UDP socket binds: 127.0.0.1 (default), 0.0.0.0 to take traps from the network (containers), :: for IPv6.'),
    port: z
      .number()
      .int()
      .min(1)
      .max(65535)
      .default(1162)
      .describe('UDP port. Default 1162 (needs no privilege); the standard 162 in containers or with CAP_NET_BIND_SERVICE.'),
    communities: z
      .array(z.string().min(1, { error: 'community must not be empty (an unset ${ENV} gives an empty one)' }))
      .default([])
      .describe('v1/v2c communities accepted; a trap with any other community is dropped and counted.'),
    users: z.array(trapUserSchema).default([]).describe('SNMPv3 users accepted.'),
    target: z
      .strictObject({
        kind: z.string().min(1).default('device').describe('Kind of a target known only by the sender address. Default: device.'),
        site_label: z.string().min(1).optional().describe('Label (of `labels`) naming the target\'s site, if any.'),
      })
      .prefault({})
      .describe('How traps name their target: the probe target with the sender\'s address as host, else the address itself.'),
    labels: z
      .record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v)))
      .default({})
      .describe('Labels added to every trap signal.'),
  })
  .superRefine((t, ctx) => {
    if (t.enabled && t.communities.length === 0 && t.users.length === 0)
      ctx.addIssue({ code: 'custom', path: ['communities'], message: 'give at least one community or user, or every trap is dropped' });
  })
  .prefault({})
  .describe('SNMP trap receiver (v1, v2c, v3): traps from printers, APs and switches become signals.');

// Escalation: per severity a starting tier and SLA, per tier its channels and how long it waits for
// an acknowledgement before the next tier is told.
const DEFAULT_SEVERITY_POLICY = {
  minor: { tier: 'L1', ack: '1d', resolve: '5d', business_hours: true },
  medium: { tier: 'L1', ack: '4h', resolve: '2d', business_hours: true },
  severe: { tier: 'L2', ack: '30m', resolve: '8h', business_hours: false },
  major: { tier: 'L3', ack: '15m', resolve: '4h', business_hours: false },
} as const;

const channelRefs = z
  .array(z.string().min(1))
  .describe('Channel ids (from `channels:`); "*" means every configured channel.');

const severityPolicy = (sev: keyof typeof DEFAULT_SEVERITY_POLICY) => {
  const d = DEFAULT_SEVERITY_POLICY[sev];
  return z
    .strictObject({
      tier: classificationFields.tier
        .default(d.tier)
        .describe(`Tier that takes a ${sev} incident first (a rule naming a higher tier wins). Default ${d.tier}.`),
      ack: z
        .union([duration, z.null()])
        .default(d.ack)
        .describe(`SLA: time to acknowledge (null: none). Default ${d.ack}.`),
      resolve: z
        .union([duration, z.null()])
        .default(d.resolve)
        .describe(`SLA: time to resolve (null: none). Default ${d.resolve}.`),
      business_hours: z
        .boolean()
        .default(d.business_hours)
        .describe(
          `SLA clocks and escalation waits count only business hours of the incident's site (see business_hours). Default ${d.business_hours}.`,
        ),
      notify: channelRefs
        .default([])
        .describe('Channels told at once besides the tier\'s, e.g. a major-incident channel.'),
    })
    .prefault({})
    .describe(`Policy for ${sev} incidents.`);
};

const tierPolicy = (tier: Tier, next: Tier | null) =>
  z
    .strictObject({
      channels: channelRefs.default(['*']).describe('Channels this tier hears on. Default ["*"] (every channel).'),
      escalate_after: z
        .union([duration, z.null()])
        .default('30m')
        .describe('How long an unacknowledged incident waits at this tier before the next tier is told (null: never). Default 30m.'),
      next: z
        .union([classificationFields.tier, z.null()])
        .default(next)
        .describe(`The tier it climbs to (null: this is the top tier). Default ${next ?? 'null'}.`),
    })
    .prefault({})
    .describe(`Tier ${tier}.`);

const escalationSchema = z
  .strictObject({
    sweep_interval: duration
      .refine((d) => (parseDuration(d) ?? 0) >= 100, { error: 'sweep_interval must be at least 100ms' })
      .default('5s')
      .describe('How often due escalation and SLA timers are looked for in the store. Default 5s.'),
    severities: z
      .strictObject({
        minor: severityPolicy('minor'),
        medium: severityPolicy('medium'),
        severe: severityPolicy('severe'),
        major: severityPolicy('major'),
      })
      .prefault({})
      .describe('Per severity: starting tier, SLA and extra channels.'),
    tiers: z
      .strictObject({ L1: tierPolicy('L1', 'L2'), L2: tierPolicy('L2', 'L3'), L3: tierPolicy('L3', null) })
      .prefault({})
      .describe('Per support tier: its channels, how long it waits for an acknowledgement, and the next tier.'),
  })
  .prefault({})
  .superRefine((e, ctx) => {
    const rank = (t: string) => TIERS.indexOf(t as (typeof TIERS)[number]);
    for (const t of TIERS) {
      const next = e.tiers[t].next;
      if (next !== null && rank(next) <= rank(t)) {
        ctx.addIssue({
          code: 'custom',
          path: ['tiers', t, 'next'],
          message: `tier ${t} escalates to ${next}, which is not above it; escalation only climbs (L1 → L2 → L3)`,
        });
      }
    }
    const majorTier = e.severities.major.tier;
    if (e.tiers[majorTier].next !== null) {
      ctx.addIssue({
        code: 'custom',
        path: ['severities', 'major', 'tier'],
        message: `major incidents start at the top tier, but ${majorTier} escalates to ${e.tiers[majorTier].next}; set major.tier to the tier without a next`,
      });
    }
  })
  .describe('Escalation by severity through the support tiers, with SLA timers.');

/** Default of config.max_file_bytes. */
export const DEFAULT_MAX_FILE_BYTES = 8_000_000;

export const daemonFileSchema = z
  .strictObject({
    listen: z
      .strictObject({
        host: z.string().min(1).default('127.0.0.1').describe('Address the HTTP API listens on.'),
        port: z.number().int().min(1).max(65535).default(9740).describe('TCP port of the HTTP API.'),
      })
      .prefault({})
      .describe('Where the HTTP API (health, metrics, incidents, alert endpoints) listens.'),
    store: z
      .discriminatedUnion('type', [sqliteStore, mongoStore])
      .prefault({ type: 'sqlite' })
      .describe('Where incidents are stored.'),
    api: z
      .strictObject({
        tokens: z
          .array(
            z.strictObject({
              name: z.string().min(1).describe('Who uses the token; shown in incident timelines.'),
              token: z.string().min(1).describe('Bearer token; use `${ENV}` to keep it out of the file.'),
            }),
          )
          .optional()
          .describe('API tokens. Default: one token `admin` read from INCIDENTD_API_TOKEN (else "change-me").'),
      })
      .prefault({})
      .describe('HTTP API access.'),
    incidents: z
      .strictObject({
        reopen_window: duration.default('1h').describe('A resolved incident that recurs within this window is reopened.'),
        close_after: z
          .union([duration, z.null()])
          .default('7d')
          .describe(
            'A resolved incident is closed this long after its resolution (ITIL: resolve, then close); a closed one never reopens. null: never. Default 7d.',
          ),
        flapping: z
          .strictObject({
            window: duration.default('10m').describe('Window in which state changes are counted.'),
            threshold: z.number().int().min(2).default(6).describe('State changes within the window that make it flapping.'),
          })
          .prefault({})
          .describe('Flap detection.'),
        uncategorized: z
          .strictObject({
            category: z.string().min(1).default('uncategorized'),
            severity: classificationFields.severity.default('medium'),
            impact: classificationFields.impact.default('single-user'),
            tier: classificationFields.tier.default('L1'),
          })
          .prefault({})
          .describe('Classification of failing signals that no rule matches.'),
        max_subscribers: z
          .number()
          .int()
          .min(0)
          .max(10_000)
          .default(DEFAULT_MAX_SUBSCRIBERS)
          .describe(
            `Most people one incident keeps informed (its subscribers). Past it, POST …/subscribers answers 409 and further addresses from alerts are dropped, ` +
              `with one timeline note when the list fills. 0: none. Default ${DEFAULT_MAX_SUBSCRIBERS}.`,
          ),
      })
      .prefault({})
      .describe('Incident policy.'),
    scheduler: z
      .strictObject({
        concurrency: z.number().int().min(1).default(64).describe('Most checks running at the same time.'),
        jitter: z
          .number()
          .min(0)
          .max(1)
          .default(1)
          .describe('Spread of first runs, as a fraction of each check interval (0 = all at once).'),
      })
      .prefault({})
      .describe('Probe scheduling.'),
    sources: sourcesSchema,
    ingest: z
      .strictObject({
        max_queue: z
          .number()
          .int()
          .min(1)
          .default(10_000)
          .describe('Most alerts waiting to be stored; above it the alert endpoints answer 429 with Retry-After.'),
        max_body_bytes: z
          .number()
          .int()
          .min(1024)
          .max(64 * 1024 * 1024)
          .default(1024 * 1024)
          .describe('Largest request body the alert endpoints accept, in bytes (413 above).'),
        journal_dir: z
          .string()
          .min(1)
          .optional()
          .describe(
            'The intake journal: alerts are answered 2xx once written and fsynced here, and committed to the store right after; ' +
              'what was not committed before a crash is committed at the next start. Relative to the working directory. ' +
              'Default: next to the SQLite file (<path>-intake), or data/intake with MongoDB. One directory per daemon instance.',
          ),
      })
      .prefault({})
      .describe('Limits of the alert endpoints.'),
    config: z
      .strictObject({
        max_file_bytes: z
          .number()
          .int()
          .min(1024)
          .default(DEFAULT_MAX_FILE_BYTES)
          .describe(
            'Largest probe or rule file read, in bytes; a larger file is a configuration error. Default 8 MB ' +
              '(about 50,000 targets). A valid probe file loads in about 35 times its size in memory, but a file with ' +
              'an error is read again with a position for every node, up to about 180 times its size. This file itself is read with the default.',
          ),
      })
      .prefault({})
      .describe('Limits of the configuration files.'),
    snmp_traps: snmpTrapsSchema,
    channels: z
      .array(channelConfigSchema)
      .default([])
      .superRefine((cs, ctx) => {
        const seen = new Set<string>();
        cs.forEach((c, i) => {
          if (seen.has(c.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate channel id "${c.id}"` });
          seen.add(c.id);
        });
      })
      .describe(
        'Notification and ticket channels. Which channel hears of an incident follows escalation: the tiers name their channels; every channel told of an incident hears of its end.',
      ),
    escalation: escalationSchema,
    communication: z
      .strictObject({
        channels: channelRefs
          .default([])
          .describe(
            'Channels that keep each incident\'s subscribers (reporter, affected users) informed: receipt, status changes, resolution. Usually an email channel with audience: subscribers.',
          ),
      })
      .prefault({})
      .describe('ITIL communication with the people an incident affects.'),
    business_hours: businessHoursListSchema.describe(
      'Business hours per site: SLA clocks and escalation waits of severities with business_hours: true count only these hours.',
    ),
    maintenance: maintenanceListSchema.describe(
      'Maintenance windows: incidents of matching targets are recorded but neither announced nor escalated until the window ends.',
    ),
  })
  .superRefine((f, ctx) => {
    // Channel names in escalation must exist: a typo would silently tell nobody.
    const known = new Set(f.channels.map((c) => c.id));
    const check = (refs: string[], path: (string | number)[]) =>
      refs.forEach((ref, i) => {
        if (ref !== '*' && !known.has(ref)) {
          const list = known.size > 0 ? `configured channels: ${[...known].join(', ')}` : 'no channels are configured';
          ctx.addIssue({ code: 'custom', path: [...path, i], message: `unknown channel "${ref}" (${list})` });
        }
      });
    for (const t of TIERS) check(f.escalation.tiers[t].channels, ['escalation', 'tiers', t, 'channels']);
    for (const sev of SEVERITIES) check(f.escalation.severities[sev].notify, ['escalation', 'severities', sev, 'notify']);
    check(f.communication.channels, ['communication', 'channels']);
  })
  .describe('incidentd daemon configuration (config/incidentd.yaml).');

export type DaemonFile = z.output<typeof daemonFileSchema>;

// ---------------------------------------------------------------------------------------------
// probes/*.yaml

export const TARGET_ID_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;

/** Fields every check has, whatever its type; the kind's own fields come on top. */
export const commonCheckFields = {
  type: z.string().describe('Probe kind.'),
  name: z.string().min(1).optional().describe('Check name, unique within the target. Default depends on the type, e.g. `tcp:22`.'),
  interval: duration.optional().describe('How often the check runs. Default: the file `defaults.interval`, else 30s.'),
  timeout: duration.optional().describe('How long one run may take; must be shorter than the interval. Default: `defaults.timeout`, else 5s.'),
};

/** Checks are validated in two steps: these common fields here, the kind's own fields by the kind. */
export const checkCommonSchema = z.looseObject(commonCheckFields);

const labelValue = z
  .union([z.string(), z.number(), z.boolean()])
  .transform((v) => String(v));

function targetSchema<C extends z.ZodType>(check: C) {
  return z.strictObject({
    id: z
      .string()
      .regex(TARGET_ID_PATTERN, {
        error: (iss) =>
          `target id must start with a lowercase letter or digit and contain only a-z, 0-9, ".", "_", "-", got ${describeValue(iss.input)}`,
      })
      .describe('Unique id of the target across all probe files, e.g. `ap-floor2`.'),
    kind: z.string().min(1).default('server').describe('What it is: wifi-ap, server, printer, mail, or any word.'),
    name: z.string().min(1).optional().describe('Display name. Default: the id.'),
    site: z.string().default('').describe('Site or location, e.g. `hq`.'),
    labels: z.record(z.string(), labelValue).default({}).describe('Free-form labels, available to rules as `target.labels`.'),
    depends_on: z
      .array(z.string())
      .default([])
      .describe('Ids of parent targets (e.g. the switch an AP hangs on); their failure suppresses this one.'),
    trap_sources: z
      .array(z.string().min(1))
      .default([])
      .describe(
        'Addresses or host names this target sends SNMP traps from, when not the `host` of one of its checks (another interface, a NAT). Names are resolved at load and reload.',
      ),
    checks: z.array(check).default([]).describe('Checks of this target.'),
  });
}

const probesDefaults = z
  .strictObject({
    interval: duration.optional().describe('Default interval of the checks in this file.'),
    timeout: duration.optional().describe('Default timeout of the checks in this file.'),
  })
  .optional()
  .describe('Defaults for the checks in this file.');

/** One target as the loader validates it; each check is validated on its own after. */
export const targetSchemaForLoading = targetSchema(z.unknown());

/** The probe file shape the loader validates first (checks only by their common fields). */
export const probesFileSchema = z.strictObject({
  defaults: probesDefaults,
  targets: z.array(targetSchema(checkCommonSchema)).describe('Targets to watch.'),
});

export type ProbesFile = z.output<typeof probesFileSchema>;

/** The full probe file shape for editors: each check is a union of every registered kind. */
export function probesJsonSchemaSource(): z.ZodType {
  const options = [...probeKinds.values()].map((kind) =>
    z
      .strictObject({
        ...commonCheckFields,
        type: z.literal(kind.type).describe(`Probe kind \`${kind.type}\`.`),
        ...kind.schema.shape,
      })
      .describe(`Check of type \`${kind.type}\`.`),
  );
  const check =
    options.length >= 2
      ? z.discriminatedUnion('type', options as [z.ZodObject, z.ZodObject, ...z.ZodObject[]])
      : (options[0] ?? checkCommonSchema);
  return z
    .strictObject({ defaults: probesDefaults, targets: z.array(targetSchema(check)).describe('Targets to watch.') })
    .describe('incidentd probe file (probes/*.yaml): targets and their checks.');
}

// ---------------------------------------------------------------------------------------------
// rules/*.yaml

export const DEFAULT_DEDUP_BY = ['target.id', 'check.name', 'rule.id'];

export const ruleSchema = z.strictObject({
  id: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, {
      error: (iss) => `rule id must contain only letters, digits, ".", "_", "-", got ${describeValue(iss.input)}`,
    })
    .describe('Unique id of the rule across all rule files.'),
  when: z
    .string()
    .min(1)
    .describe('CEL expression over the signal, e.g. `check.type == "http" && values.status >= 500`.'),
  classify: z
    .strictObject({
      category: z.string().min(1).describe('Category, e.g. `network.reachability`, `service.http`.'),
      ...classificationFields,
    })
    .describe('Classification of the incidents this rule opens.'),
  title: z.string().min(1).describe('Incident title (mustache template over the signal, e.g. `{{target.name}} is down`).'),
  description: z.string().default('').describe('Incident description (mustache template).'),
  runbook: z.string().default('').describe('What to do first; self-help text for L1 (mustache template).'),
  dedup_by: z
    .array(z.string())
    .min(1)
    .default(DEFAULT_DEDUP_BY)
    .describe('Signal fields whose values make up the fingerprint. Default: target.id, check.name, rule.id.'),
  open_after: z.number().int().min(1).default(1).describe('Consecutive failing signals before an incident opens.'),
  resolve_after: z.number().int().min(1).default(1).describe('Consecutive ok signals before the incident resolves.'),
  continue: z.boolean().default(false).describe('Keep evaluating later rules after this one matched.'),
});

export const rulesFileSchema = z
  .strictObject({ rules: z.array(ruleSchema).describe('Rules, evaluated in order; first match wins unless `continue`.') })
  .describe('incidentd rule file (rules/*.yaml): how failing signals become classified incidents.');

export type RulesFile = z.output<typeof rulesFileSchema>;

// ---------------------------------------------------------------------------------------------
// JSON Schemas

/** File name under config/schemas/ → JSON Schema. */
export function buildJsonSchemas(): Record<string, unknown> {
  const gen = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' });
  return {
    'incidentd.schema.json': gen(daemonFileSchema),
    'probes.schema.json': gen(probesJsonSchemaSource()),
    'rules.schema.json': gen(rulesFileSchema),
    'rule-tests.schema.json': gen(ruleTestFileSchema),
    'alerts.schema.json': gen(genericBatchSchema),
  };
}

/** The exact text written to each schema file. */
export function jsonSchemaText(schema: unknown): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}
