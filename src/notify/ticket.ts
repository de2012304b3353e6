// What the helpdesk ticket channels (servicenow, zammad, jira) share: the texts of a ticket, what an
// event does to a ticket, the key a ticket is found by again, and the reference stored with the
// incident.
//
// The life of a ticket. The outbox loads the incident fresh for every delivery and hands one
// incident's events to one channel in order. `incident.tickets[channel.id]` holds the reference the
// channel answered at its first successful delivery. No reference yet: the channel creates the
// ticket, whatever the event (the first event a channel hears may be an escalation), after looking
// it up by its correlation key in case a crash lost the answer of an earlier create. With a
// reference: the event becomes a note, and acknowledge / resolve / reopen also move the ticket's
// state.
import { z } from 'zod';
import type { Incident } from '../domain/incident.js';
import type { Logger } from '../shared/logger.js';
import { DeliveryFailure } from './http.js';
import { compileTemplate, notificationView, type Template } from './render.js';
import type { DeliveryResult, IncidentEvent, IncidentEventType } from './types.js';

// Default texts (mustache, plain text). The view is render.ts's NotificationView, the same the
// email templates see.
const SUMMARY = '{{title}} ({{target.name}})';

const DESCRIPTION = `{{title}}
{{#description}}

{{description}}
{{/description}}
{{#event.message}}

{{event.label}}: {{event.message}}
{{/event.message}}

Incident:       {{number}} ({{status}}{{#flapping}}, flapping{{/flapping}})
Priority:       {{priority}} (severity {{severity}}, impact {{impact}})
Classification: {{category}}
Tier:           {{tier}}
Target:         {{target.name}} ({{target.kind}} {{target.id}}, site {{target.site}})
Check:          {{check.name}} ({{check.type}})
First seen:     {{first_seen}}
Last seen:      {{last_seen}} ({{occurrences}} occurrences)
Last message:   {{last_message}}
{{#labels.length}}
Labels:         {{#labels}}{{name}}={{value}} {{/labels}}
{{/labels.length}}
{{#link}}
Details:        {{link}}
{{/link}}
{{#runbook}}

Runbook
-------
{{runbook}}
{{/runbook}}

--
Created by incidentd ({{event.label}}, event {{event.id}}). Its later updates arrive as notes on this ticket.
`;

const NOTE = `{{event.label}}{{#event.message}}: {{event.message}}{{/event.message}}

Incident:     {{number}} ({{status}}{{#flapping}}, flapping{{/flapping}})
Priority:     {{priority}} (severity {{severity}}, impact {{impact}}), tier {{tier}}
Last seen:    {{last_seen}} ({{occurrences}} occurrences)
Last message: {{last_message}}
By:           {{event.actor}} at {{event.at}}
{{#link}}
Details:      {{link}}
{{/link}}
`;

const TEMPLATES: Readonly<Record<'summary' | 'description' | 'note', Template>> = {
  summary: compileTemplate('summary', 'default ticket summary template', SUMMARY, { html: false }),
  description: compileTemplate('description', 'default ticket description template', DESCRIPTION, { html: false }),
  note: compileTemplate('note', 'default ticket note template', NOTE, { html: false }),
};

export interface TicketTexts {
  /** One line, `[INC-000123] …`, at most the vendor's length. */
  summary: string;
  /** The full text of a new ticket. */
  description: string;
  /** The text of a note for this event on an existing ticket. */
  note: string;
}

/** `[INC-000123]`: starts every summary; the zammad and jira lookups match on it. */
export function ticketTag(number: string): string {
  return `[${number}]`;
}

export function ticketTexts(event: IncidentEvent, opts: { linkBaseUrl?: string; maxSummary: number }): TicketTexts {
  const view = notificationView(event, opts.linkBaseUrl);
  let summary = `${ticketTag(event.incident.number)} ${TEMPLATES.summary.render(view).replace(/\s+/g, ' ').trim()}`;
  if (summary.length > opts.maxSummary) summary = `${summary.slice(0, opts.maxSummary - 3)}...`;
  // The key goes into the text too, so a person (and the jira lookup) can tell whose ticket it is.
  const description = `${TEMPLATES.description.render(view)}incidentd key: ${correlationKey(event.incident)}\n`;
  return { summary, description, note: TEMPLATES.note.render(view) };
}

/**
 * Runs one delivery of a ticket channel: a DeliveryFailure thrown anywhere in `work` becomes the
 * delivery's result. Anything else is a bug and propagates (the outbox retries it).
 */
export async function runDelivery(log: Logger, event: IncidentEvent, work: () => Promise<DeliveryResult>): Promise<DeliveryResult> {
  try {
    return await work();
  } catch (err) {
    if (!(err instanceof DeliveryFailure)) throw err;
    log.debug({ incident: event.incident.number, event: event.id, error: err.message }, 'ticket delivery failed');
    return err.result;
  }
}

/** What an event does to an existing ticket besides adding its note. */
export type TicketAction = 'note' | 'acknowledge' | 'resolve' | 'reopen';

export function ticketAction(type: IncidentEventType): TicketAction {
  switch (type) {
    case 'incident.acknowledged':
      return 'acknowledge';
    case 'incident.resolved':
      return 'resolve';
    case 'incident.reopened':
      return 'reopen';
    case 'incident.opened':
    case 'incident.escalated':
    case 'incident.flapping-started':
    case 'incident.flapping-stopped':
      return 'note';
  }
}

/**
 * The key a ticket is found by again: `INC-000123.<first 12 characters of the fingerprint>`. It is
 * derived from the incident alone, so a retried create after a lost answer finds the ticket the
 * first try made. The fingerprint part tells apart two incidentd installations that share one
 * helpdesk and count incidents each from 1.
 */
export function correlationKey(incident: Pick<Incident, 'number' | 'fingerprint'>): string {
  const prefix = incident.fingerprint.replace(/[^A-Za-z0-9]/g, '').slice(0, 12).toLowerCase() || 'x';
  return `${incident.number}.${prefix}`;
}

/**
 * References are `<id>:<display>`: the vendor's stable id the API takes, then the number people
 * see (`<sys_id>:INC0010002`, `<ticket id>:<ticket number>`, `<issue id>:<issue key>`).
 */
export function formatReference(id: string, display: string): string {
  return `${id}:${display}`;
}

export function parseReference(reference: string): { id: string; display: string } {
  const i = reference.indexOf(':');
  if (i < 0) return { id: reference, display: reference };
  return { id: reference.slice(0, i), display: reference.slice(i + 1) || reference.slice(0, i) };
}

export const linkBaseUrl = z
  .url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' })
  .optional()
  .describe('Public base URL of this daemon; tickets link to <base>/api/v1/incidents/INC-000123.');

/** A secret or name that must not be empty; an unset ${ENV} gives an empty one. */
export const nonEmpty = (what: string) => z.string().min(1, { error: `${what} must not be empty (an unset \${ENV} gives an empty one)` });
