// The `tenants:` list of config/incidentd.yaml: the customers of a managed-service provider. Targets
// (per probe file or per target), alert sources and incidents belong to one; whatever names none is
// in DEFAULT_TENANT, so an installation without tenants runs exactly as before.
import { z } from 'zod';
import { DEFAULT_TENANT } from '../domain/principal.js';
import { describeValue } from '../config-core/yaml.js';
import { timeZoneField } from '../incidents/calendar.js';
import { escalationSchema } from '../config-core/schemas.js';
import { STATUS_PAGE_VISIBILITIES } from '../domain/status-page.js';
import { tenantRefField } from './tenant-refs.js';

export { knownTenantIds, TENANT_ID_PATTERN, tenantRefField, unknownTenantMessage } from './tenant-refs.js';

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
