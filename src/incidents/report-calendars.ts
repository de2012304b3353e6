// The calendar an incident's handling time is measured on in business time: the one its SLA clock
// runs on (src/incidents/escalation.ts), that is the business hours (and holidays) of its site when
// its tenant's escalation policy counts business hours for its severity, else around the clock.
import type { EscalationPolicy } from '../config-core/schemas.js';
import type { Severity } from '../domain/classification.js';
import { ALWAYS_OPEN, Calendars, type BusinessHoursConfig, type Calendar } from './calendar.js';

export type ReportCalendar = (tenant: string, severity: Severity, site: string) => Calendar;

export function reportCalendars(businessHours: readonly BusinessHoursConfig[], policy: EscalationPolicy, tenantPolicies: ReadonlyMap<string, EscalationPolicy>): ReportCalendar {
  const calendars = new Calendars(businessHours);
  return (tenant, severity, site) => {
    const own = tenantPolicies.get(tenant) ?? policy;
    return own.severities[severity]?.businessHours === true ? calendars.forSite(site) : ALWAYS_OPEN;
  };
}
