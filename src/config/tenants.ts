// The `tenants:` list of config/incidentd.yaml: the customers of a managed-service provider. Targets
// (per probe file or per target), alert sources and incidents belong to one; whatever names none is
// in DEFAULT_TENANT, so an installation without tenants runs exactly as before.
import { z } from 'zod';
import { DEFAULT_TENANT } from '../domain/principal.js';
import { didYouMean, describeValue } from '../config-core/yaml.js';
import { timeZoneField } from '../incidents/calendar.js';
import { escalationSchema } from '../config-core/schemas.js';
import { STATUS_PAGE_VISIBILITIES } from '../domain/status-page.js';

export const REPORT_SCHEDULES = ['monthly', 'weekly'] as const;
export type ReportSchedule = (typeof REPORT_SCHEDULES)[number];

const reportMailSchema = z
  .strictObject({
    schedule: z
      .enum(REPORT_SCHEDULES, { error: (iss) => `schedule must be monthly or weekly, got ${describeValue(iss.input)}` })
      .default('monthly')
      .describe('monthly (on the 1st) or weekly (on Mondays), at midnight in the tenant\'s time_zone (UTC without one), about the period that just ended. Default monthly.'),
    to: z
      .array(z.email({ error: (iss) => `expected a mail address like "it@example.com", got ${describeValue(iss.input)}` }))
      .min(1, { error: 'give at least one address to mail the report to' })
      .describe('Who gets the report, e.g. ["it-lead@acme.example"].'),
    channel: z.string().min(1).describe('Id of the email channel (in channels) that sends it, through the outbox like every notification.'),
  })
  .describe('A scheduled report mailed to the customer: the figures of the period (counts against the period before, handling times, SLA compliance and breaches, top problems, backlog) in HTML, with a CSV attached.');

export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;

/** A tenant id as written where a target, probe file or source names its tenant. */
export const tenantRefField = z
  .string()
  .regex(TENANT_ID_PATTERN, {
    error: (iss) => `tenant id must start with a lowercase letter or digit and contain only a-z, 0-9, ".", "_", "-", got ${describeValue(iss.input)}`,
  })
  .describe(`Tenant (customer) it belongs to: an id from tenants in incidentd.yaml. Default: ${DEFAULT_TENANT}.`);

const tenantSchema = z
  .strictObject({
    id: tenantRefField.describe('Unique id of the tenant, e.g. `acme`; targets, probe files and sources name it.'),
    name: z.string().min(1).describe('Display name of the customer, e.g. `ACME Corp`.'),
    title_prefix: z
      .string()
      .min(1)
      .max(32)
      .optional()
      .describe('Put in brackets before the titles of its incidents and the subjects of their mails, e.g. `ACME` → "[ACME] Printer 3F offline".'),
    time_zone: timeZoneField.optional().describe('IANA time zone of the customer, e.g. Europe/Berlin.'),
    status_page: z
      .enum(STATUS_PAGE_VISIBILITIES)
      .default('private')
      .describe(
        'Who sees the status page at /status/<id> (services, ongoing incidents, 90 days of history): `public` (anyone, without signing in) or `private` (signed-in people of this tenant). Default: private.',
      ),
    reports: reportMailSchema.optional(),
    // Not escalationSchema.optional(): its defaults would make a policy of a tenant that wrote none.
    escalation: z
      .union([z.undefined(), escalationSchema])
      .describe(
        'The escalation policy of this tenant\'s incidents (tiers, SLA per severity, business hours), instead of the global escalation: ' +
          'written out in full like it (what is left out takes the defaults, not the global values); its sweep_interval is not used. Default: the global one.',
      ),
  })
  .transform((t) => ({
    id: t.id,
    name: t.name,
    /** Without brackets; null: titles are left as the rules render them. */
    titlePrefix: t.title_prefix ?? null,
    timeZone: t.time_zone ?? null,
    statusPage: t.status_page,
    /** Its own escalation policy; null: the global one. */
    escalation: t.escalation ?? null,
    /** The scheduled report mail; null: none. */
    reports: t.reports ?? null,
  }));

export const tenantsSchema = z
  .array(tenantSchema)
  .default([])
  .superRefine((ts, ctx) => {
    const seen = new Set<string>();
    ts.forEach((t, i) => {
      if (seen.has(t.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate tenant id "${t.id}"` });
      seen.add(t.id);
    });
  })
  .describe(
    `Customers (tenants) of a managed-service provider. Targets, probe files and sources name theirs with \`tenant:\`; what names none is in "${DEFAULT_TENANT}". Leave out for a single organisation.`,
  );

export type TenantConfig = z.output<typeof tenantsSchema>[number];

/** Every tenant id a reference may name: the configured ones and DEFAULT_TENANT. */
export function knownTenantIds(tenants: readonly { id: string }[]): string[] {
  const ids = tenants.map((t) => t.id);
  return ids.includes(DEFAULT_TENANT) ? ids : [DEFAULT_TENANT, ...ids];
}

/** Why a reference to `ref` is wrong, or null when it names a known tenant. */
export function unknownTenantMessage(ref: string, known: readonly string[]): string | null {
  if (known.includes(ref)) return null;
  const configured = known.filter((k) => k !== DEFAULT_TENANT);
  const suggestion = didYouMean(ref, known);
  const list = configured.length > 0 ? `configured tenants: ${configured.join(', ')}` : 'no tenants are configured (add them under tenants in incidentd.yaml)';
  return `unknown tenant "${ref}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}; ${list}`;
}
