// The core sections of config/incidentd.yaml, which several stages read: where the API listens,
// the store, API tokens, the incident policy, scheduling, intake limits, escalation. Each schema
// turns what admins write (snake_case, duration strings) into what the daemon uses (camelCase,
// milliseconds), and the runtime types below are its parsed output. The sections a plug-in stage
// owns (sources, SNMP traps, channels, business hours, maintenance) live beside that stage, and
// src/config/schemas.ts assembles the whole file.
import { z } from 'zod';
import { TIERS, type Tier } from '../domain/classification.js';
import { TOKEN_ROLES } from '../domain/principal.js';
import { DEFAULT_MAX_SUBSCRIBERS } from '../domain/subscribers.js';
import { parseDuration } from '../shared/duration.js';
import { channelRefs, classificationFields, duration, ms, msOrNull } from './fields.js';
import { oidcSchema } from './oidc.js';

const sqliteStore = z
  .strictObject({
    type: z.literal('sqlite'),
    path: z
      .string()
      .min(1)
      .default('data/incidentd.db')
      .describe('SQLite database file; a relative path is relative to the folder of this file. Default data/incidentd.db, in the working directory.'),
  })
  .describe('Embedded SQLite store (the default).');

const mongoStore = z
  .strictObject({
    type: z.literal('mongodb'),
    uri: z.string().min(1).describe('MongoDB connection string, e.g. `${MONGODB_URI}`.'),
    database: z.string().min(1).default('incidentd').describe('Database name.'),
  })
  .describe('MongoDB store, for production and several daemon instances.');

export const listenSchema = z
  .strictObject({
    host: z.string().min(1).default('127.0.0.1').describe('Address the HTTP API listens on.'),
    port: z.number().int().min(1).max(65535).default(9740).describe('TCP port of the HTTP API.'),
  })
  .prefault({})
  .describe('Where the HTTP API (health, metrics, incidents, alert endpoints) listens.');

export const storeSchema = z
  .discriminatedUnion('type', [sqliteStore, mongoStore])
  .prefault({ type: 'sqlite' })
  .describe('Where incidents are stored.');

export const apiSchema = z
  .strictObject({
    tokens: z
      .array(
        z.strictObject({
          name: z.string().min(1).describe('Who uses the token; shown in incident timelines.'),
          token: z.string().min(1).describe('Bearer token; use `${ENV}` to keep it out of the file.'),
          role: z
            .enum(TOKEN_ROLES)
            .optional()
            .describe(
              'What the token may do: read (every read), ingest (alert endpoints only), write (reads, incident actions, silences), admin (everything). Default write, what every token could do before roles.',
            ),
          tenants: z
            .union([z.literal('*'), z.array(z.string().min(1)).min(1, { error: 'give at least one tenant id, or "*" for all' })])
            .optional()
            .describe('Tenants whose data the token sees: a list of tenant ids, or "*" for all. Default "*".'),
        }),
      )
      .optional()
      .describe('API tokens. Default: one token `admin` read from INCIDENTD_API_TOKEN (else "change-me").'),
  })
  .prefault({})
  .describe('HTTP API access.');

/** How people sign in: local accounts, browser sessions (src/api/session.ts) and single sign-on. */
export const authSchema = z
  .strictObject({
    oidc: oidcSchema.optional(),
    session_secret: z
      .string()
      .min(32, { error: 'auth.session_secret must be at least 32 characters; leave it out to have one generated' })
      .optional()
      .describe(
        'Secret that signs the session cookie (32 characters or more; use `${ENV}`). Default: INCIDENTD_SESSION_SECRET, else one generated at first start and kept beside the store (`<sqlite file>-session-secret`, or data/session-secret for MongoDB). Several instances behind one address must share it.',
      ),
    cookie_secure: z
      .boolean()
      .optional()
      .describe('Send the session cookie over HTTPS only. Default: true unless the API listens on loopback (127.0.0.1, ::1, localhost).'),
    sessions: z
      .strictObject({
        idle: duration.default('8h').describe('A session ends after this long without a request.'),
        absolute: duration.default('7d').describe('A session ends this long after sign-in, active or not.'),
      })
      .prefault({})
      .describe('How long browser sessions last.'),
  })
  .prefault({})
  .describe('How people sign in: local accounts (`incidentd users`), browser sessions and single sign-on (OpenID Connect).');

export const incidentsSchema = z
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
  .transform((i) => ({
    /** A resolved incident that recurs within this window is reopened instead of a new one opening. */
    reopenWindowMs: ms(i.reopen_window),
    /** A resolved incident is closed this long after its resolution; null: never. */
    closeAfterMs: msOrNull(i.close_after),
    /** A fingerprint with `threshold` or more state changes within `windowMs` is flapping. */
    flapping: { windowMs: ms(i.flapping.window), threshold: i.flapping.threshold },
    /** Classification of failing signals that no rule matches. */
    uncategorized: i.uncategorized,
    /** Most subscribers one incident keeps; addresses beyond are refused (API) or dropped (alerts). */
    maxSubscribers: i.max_subscribers,
  }))
  .prefault({})
  .describe('Incident policy.');

export const schedulerSchema = z
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
  .describe('Probe scheduling.');

export const ingestSchema = z
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
          'what was not committed before a crash is committed at the next start. A relative path is relative to the folder of this file. ' +
          'Default: next to the SQLite file (<path>-intake), or data/intake with MongoDB. One directory per daemon instance.',
      ),
  })
  .transform((i) => ({
    /** Most signals waiting for the store; above it the alert endpoints answer 429. */
    maxQueue: i.max_queue,
    /** Largest request body the alert endpoints accept (413 above). */
    maxBodyBytes: i.max_body_bytes,
    /** The intake journal's directory; null: the default next to the store (see app.ts). */
    journalDir: i.journal_dir ?? null,
  }))
  .prefault({})
  .describe('Limits of the alert endpoints.');

/** Default of config.max_file_bytes. */
export const DEFAULT_MAX_FILE_BYTES = 8_000_000;

export const configLimitsSchema = z
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
  .transform((c) => ({ maxFileBytes: c.max_file_bytes }))
  .prefault({})
  .describe('Limits of the configuration files.');

// Escalation: per severity a starting tier and SLA, per tier its channels and how long it waits for
// an acknowledgement before the next tier is told.
const DEFAULT_SEVERITY_POLICY = {
  minor: { tier: 'L1', ack: '1d', resolve: '5d', business_hours: true },
  medium: { tier: 'L1', ack: '4h', resolve: '2d', business_hours: true },
  severe: { tier: 'L2', ack: '30m', resolve: '8h', business_hours: false },
  major: { tier: 'L3', ack: '15m', resolve: '4h', business_hours: false },
} as const;

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
    .transform((p) => ({
      /** Tier that takes it first (a rule naming a higher tier wins). */
      tier: p.tier,
      /** SLA: time to acknowledge, or null for none. */
      ackMs: msOrNull(p.ack),
      /** SLA: time to resolve, or null for none. */
      resolveMs: msOrNull(p.resolve),
      /** SLA clocks and escalation waits count only the business hours of the incident's site. */
      businessHours: p.business_hours,
      /** Channels told at once besides the tier's (e.g. a major-incident channel); `*` = all. */
      notify: p.notify,
    }))
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
    .transform((p) => ({
      /** Channel ids this tier hears on; `*` = every configured channel. */
      channels: p.channels,
      /** How long an unacknowledged incident waits here before `next` is told; null: never. */
      escalateAfterMs: msOrNull(p.escalate_after),
      next: p.next,
    }))
    .prefault({})
    .describe(`Tier ${tier}.`);

export const escalationSchema = z
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
  // Reads only `next` and `tier`, spelt the same before and after the policies' transforms: a
  // policy with a problem of its own reaches this check untransformed.
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
  .transform((e) => ({ sweepIntervalMs: ms(e.sweep_interval), severities: e.severities, tiers: e.tiers }))
  .describe('Escalation by severity through the support tiers, with SLA timers.');

export const communicationSchema = z
  .strictObject({
    channels: channelRefs
      .default([])
      .describe(
        'Channels that keep each incident\'s subscribers (reporter, affected users) informed: receipt, status changes, resolution. Usually an email channel with audience: subscribers.',
      ),
  })
  .prefault({})
  .describe('ITIL communication with the people an incident affects.');

// ---------------------------------------------------------------------------------------------
// The runtime types: what the schemas above give after parsing.

export type StoreConfig = z.output<typeof storeSchema>;
export type AuthConfig = z.output<typeof authSchema>;
export type ApiToken = NonNullable<z.output<typeof apiSchema>['tokens']>[number];
export type IncidentPolicy = z.output<typeof incidentsSchema>;
export type IngestConfig = z.output<typeof ingestSchema>;
export type EscalationPolicy = z.output<typeof escalationSchema>;
/** What one severity class asks of escalation. */
export type SeverityPolicy = EscalationPolicy['severities'][keyof EscalationPolicy['severities']];
export type TierPolicy = EscalationPolicy['tiers'][Tier];
