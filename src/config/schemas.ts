// The zod schemas of the three YAML file kinds, assembled from the schemas each stage owns, and the
// JSON Schemas generated from them for editors. Core sections: src/config-core/schemas.ts; sources
// and SNMP traps: src/sources; channels: src/notify (their registry); business hours and
// maintenance: src/incidents; probe kinds: src/probe-kinds (their registry); rules: src/rules.
import { z } from 'zod';
import { SEVERITIES, TIERS } from '../domain/classification.js';
import { ms } from '../config-core/fields.js';
import {
  apiSchema,
  authSchema,
  communicationSchema,
  configLimitsSchema,
  escalationSchema,
  incidentsSchema,
  ingestSchema,
  listenSchema,
  schedulerSchema,
  storeSchema,
} from '../config-core/schemas.js';
import { isLoopbackHost, oidcListenIssues, oidcSettings } from '../config-core/oidc.js';
import { ruleTestFileSchema } from '../rules/rule-tests.js';
import { rulesFileSchema } from '../rules/config.js';
import { genericBatchSchema } from '../sources/generic.js';
import { sourcesSchema } from '../sources/config.js';
import { snmpTrapsSchema } from '../sources/snmp-trap/config.js';
import { channelConfigSchema } from '../notify/registry.js';
import { businessHoursListSchema } from '../incidents/calendar.js';
import { maintenanceListSchema } from '../incidents/maintenance.js';
import { knownTenantIds, tenantsSchema, unknownTenantMessage } from './tenants.js';
import { probesJsonSchemaSource } from './probe-schemas.js';

export { duration } from '../config-core/fields.js';
export { DEFAULT_MAX_FILE_BYTES } from '../config-core/schemas.js';
export {
  checkCommonSchema,
  commonCheckFields,
  probesFileSchema,
  probesJsonSchemaSource,
  TARGET_ID_PATTERN,
  targetSchemaForLoading,
  type ProbesFile,
} from './probe-schemas.js';
export { ruleSchema, rulesFileSchema, type RulesFile } from '../rules/config.js';

// ---------------------------------------------------------------------------------------------
// config/incidentd.yaml

/**
 * Channel names in escalation and communication must exist: a typo would silently tell nobody.
 * `sections` holds the parsed sections to look in; one left out (it has problems of its own) is
 * not looked at. The loader calls it too, when some other section of the file is broken.
 */
export function channelReferenceIssues(
  channelIds: readonly string[],
  sections: { escalation?: z.output<typeof escalationSchema>; communication?: z.output<typeof communicationSchema> },
): { path: (string | number)[]; message: string }[] {
  const out: { path: (string | number)[]; message: string }[] = [];
  const known = new Set(channelIds);
  const check = (refs: string[], path: (string | number)[]) =>
    refs.forEach((ref, i) => {
      if (ref !== '*' && !known.has(ref)) {
        const list = known.size > 0 ? `configured channels: ${[...known].join(', ')}` : 'no channels are configured';
        out.push({ path: [...path, i], message: `unknown channel "${ref}" (${list})` });
      }
    });
  const { escalation, communication } = sections;
  if (escalation) {
    for (const t of TIERS) check(escalation.tiers[t].channels, ['escalation', 'tiers', t, 'channels']);
    for (const sev of SEVERITIES) check(escalation.severities[sev].notify, ['escalation', 'severities', sev, 'notify']);
  }
  if (communication) check(communication.channels, ['communication', 'channels']);
  return out;
}

export const daemonFileSchema = z
  .strictObject({
    listen: listenSchema,
    store: storeSchema,
    api: apiSchema,
    auth: authSchema,
    incidents: incidentsSchema,
    scheduler: schedulerSchema,
    sources: sourcesSchema,
    ingest: ingestSchema,
    config: configLimitsSchema,
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
    communication: communicationSchema,
    business_hours: businessHoursListSchema.describe(
      'Business hours per site: SLA clocks and escalation waits of severities with business_hours: true count only these hours.',
    ),
    maintenance: maintenanceListSchema.describe(
      'Maintenance windows: incidents of matching targets are recorded but neither announced nor escalated until the window ends.',
    ),
    tenants: tenantsSchema,
  })
  .superRefine((f, ctx) => {
    // A tenant's own escalation names channels like the global one.
    f.tenants.forEach((t, i) => {
      if (t.escalation === null) return;
      for (const issue of channelReferenceIssues(
        f.channels.map((c) => c.id),
        { escalation: t.escalation },
      ))
        ctx.addIssue({ code: 'custom', ...issue, path: ['tenants', i, ...issue.path] });
    });
    // The report mail goes through an email channel that exists.
    f.tenants.forEach((t, i) => {
      if (t.reports === null) return;
      const channel = f.channels.find((c) => c.id === t.reports!.channel);
      const emails = f.channels.filter((c) => c.type === 'email').map((c) => c.id);
      const list = emails.length > 0 ? `email channels: ${emails.join(', ')}` : 'no email channel is configured';
      if (channel === undefined) ctx.addIssue({ code: 'custom', path: ['tenants', i, 'reports', 'channel'], message: `unknown channel "${t.reports.channel}" (${list})` });
      else if (channel.type !== 'email') ctx.addIssue({ code: 'custom', path: ['tenants', i, 'reports', 'channel'], message: `channel "${channel.id}" is a ${channel.type} channel; the report is a mail (${list})` });
    });
    const tenantIds = knownTenantIds(f.tenants);
    f.sources.forEach((s, i) => {
      const message = unknownTenantMessage(s.tenant, tenantIds);
      if (message !== null) ctx.addIssue({ code: 'custom', path: ['sources', i, 'tenant'], message });
    });
    // A token or an IdP group scoped to a tenant that does not exist would see nothing: a typo.
    (f.api.tokens ?? []).forEach((t, i) => {
      if (t.tenants === undefined || t.tenants === '*') return;
      t.tenants.forEach((ref, j) => {
        const message = ref === '*' ? null : unknownTenantMessage(ref, tenantIds);
        if (message !== null) ctx.addIssue({ code: 'custom', path: ['api', 'tokens', i, 'tenants', j], message });
      });
    });
    for (const [group, mapping] of Object.entries(f.auth.oidc?.groups ?? {})) {
      if (mapping.tenants === '*') continue;
      mapping.tenants.forEach((ref, j) => {
        const message = unknownTenantMessage(ref, tenantIds);
        if (message !== null) ctx.addIssue({ code: 'custom', path: ['auth', 'oidc', 'groups', group, 'tenants', j], message });
      });
    }
    for (const issue of channelReferenceIssues(
      f.channels.map((c) => c.id),
      f,
    ))
      ctx.addIssue({ code: 'custom', ...issue });
    for (const issue of oidcListenIssues(f.listen, f.auth)) ctx.addIssue({ code: 'custom', ...issue });
  })
  .describe('incidentd daemon configuration (config/incidentd.yaml).')
  .transform((f) => ({
    listen: f.listen,
    store: f.store,
    api: f.api,
    /** Sign-in: single sign-on (null: not configured) and browser sessions. */
    auth: {
      oidc: oidcSettings(f.auth.oidc, f.listen),
      /** null: INCIDENTD_SESSION_SECRET, else the generated one kept next to the store. */
      sessionSecret: f.auth.session_secret ?? null,
      cookieSecure: f.auth.cookie_secure ?? !isLoopbackHost(f.listen.host),
      sessions: { idleMs: ms(f.auth.sessions.idle), absoluteMs: ms(f.auth.sessions.absolute) },
    },
    incidents: f.incidents,
    scheduler: f.scheduler,
    sources: f.sources,
    ingest: f.ingest,
    /** Limits of the configuration files themselves. */
    config: f.config,
    snmpTraps: f.snmp_traps,
    /** As written (snake_case): the channel kinds read their own schema's keys. */
    channels: f.channels,
    escalation: f.escalation,
    /** Channels that keep subscribers informed; they hear every incident from its opening. */
    communication: f.communication,
    /** As written (snake_case), compiled by src/incidents/calendar.ts. */
    businessHours: f.business_hours,
    /** As written (snake_case), compiled by src/incidents/maintenance.ts. */
    maintenance: f.maintenance,
    /** Customers of an MSP; empty: everything is in DEFAULT_TENANT. */
    tenants: f.tenants,
  }));

/**
 * The parsed daemon file. Two things are left to the loader, since no schema can know them: the
 * default API token comes from the environment, and files a channel names are resolved against
 * the config file's folder.
 */
export type DaemonFile = z.output<typeof daemonFileSchema>;

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
