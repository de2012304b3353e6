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
import { parseDuration } from '../shared/duration.js';
import type { Logger } from '../shared/logger.js';
import { channelTls, DeliveryFailure, JsonApi, type ApiSession } from './http.js';
import { markupEscape, type TicketMarkup } from './markup.js';
import { compileTemplate, notificationView, type Template } from './render.js';
import { INCIDENT_FACTS } from './templates/email.js';
import { delivered, type Channel, type ChannelDeps, type DeliveryResult, type IncidentEvent, type IncidentEventType, type TicketLink } from './types.js';

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

${INCIDENT_FACTS}{{#runbook}}

Runbook
-------
{{runbook}}
{{/runbook}}

--
Created by incidentd ({{event.label}}, event {{{event.id}}}). Its later updates arrive as notes on this ticket.
`;

const NOTE = `{{event.label}}{{#event.message}}: {{event.message}}{{/event.message}}

Incident:     {{{number}}} ({{status}}{{#flapping}}, flapping{{/flapping}})
Priority:     {{priority}} (severity {{severity}}, impact {{{impact}}}), tier {{tier}}
Last seen:    {{{last_seen}}} ({{occurrences}} occurrences)
Last message: {{last_message}}
By:           {{event.actor}} at {{{event.at}}}
{{#link}}
Details:      {{{link}}}
{{/link}}
`;

type TicketTemplates = Readonly<Record<'summary' | 'description' | 'note', Template>>;

/** The summary is a plain text field everywhere; description and notes follow the vendor's markup. */
function ticketTemplates(markup: TicketMarkup): TicketTemplates {
  const escape = markupEscape(markup);
  return {
    summary: compileTemplate('summary', 'default ticket summary template', SUMMARY, { html: false }),
    description: compileTemplate('description', 'default ticket description template', DESCRIPTION, { html: false, escape }),
    note: compileTemplate('note', 'default ticket note template', NOTE, { html: false, escape }),
  };
}

const TEMPLATES: Readonly<Record<TicketMarkup, TicketTemplates>> = {
  plain: ticketTemplates('plain'),
  'jira-wiki': ticketTemplates('jira-wiki'),
  'servicenow-journal': ticketTemplates('servicenow-journal'),
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

export function ticketTexts(
  event: IncidentEvent,
  opts: { linkBaseUrl?: string | undefined; maxSummary: number; markup?: TicketMarkup },
): TicketTexts {
  const view = notificationView(event, opts.linkBaseUrl);
  const templates = TEMPLATES[opts.markup ?? 'plain'];
  let summary = `${ticketTag(event.incident.number)} ${templates.summary.render(view).replace(/\s+/g, ' ').trim()}`;
  if (summary.length > opts.maxSummary) summary = `${summary.slice(0, opts.maxSummary - 3)}...`;
  // The key goes into the text too, so a person (and the jira lookup) can tell whose ticket it is.
  const description = `${templates.description.render(view)}incidentd key: ${correlationKey(event.incident)}\n`;
  return { summary, description, note: templates.note.render(view) };
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
    case 'incident.commented':
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
  .describe('Public base URL of this daemon; tickets link to the incident’s page in the portal, <base>/incidents/INC-000123.');

/** A secret or name that must not be empty; an unset ${ENV} gives an empty one. */
export const nonEmpty = (what: string) => z.string().min(1, { error: `${what} must not be empty (an unset \${ENV} gives an empty one)` });

/** A ticket as the vendor's API names it: its stable id and the number people see. */
export interface TicketRef {
  id: string;
  display: string;
}

/** The settings every ticket channel's config has. */
export interface TicketChannelConfig {
  id: string;
  timeout: string;
  link_base_url?: string | undefined;
  ca_file?: string | undefined;
  tls_skip_verify: boolean;
}

/** What a ticket channel tells the shared frame about its vendor. */
export interface TicketVendor {
  /** The channel kind, e.g. `servicenow`. */
  type: string;
  /** Vendor name for messages, e.g. `ServiceNow`. */
  vendor: string;
  /** What the vendor calls a ticket, for log lines: `incident`, `ticket`, `request`. */
  ticket: string;
  /** Base URL as configured; a trailing slash is dropped. */
  url: string;
  authorization: string;
  /** What to check when the vendor answers 401. */
  credentials: string;
  errorText: (body: unknown) => string | undefined;
  /** Where a ticket opens in the vendor's web interface, relative to `url`. */
  ticketPath: (ref: TicketRef) => string;
  /** Longest summary the vendor takes. */
  maxSummary: number;
  /** How the vendor renders description and notes; alert data is escaped for it. */
  markup: TicketMarkup;
}

/**
 * The frame of a helpdesk ticket channel, as described at the top of this file: the subclass says
 * how to look a ticket up by its key, how to create one and how an event updates one.
 */
export abstract class TicketChannel implements Channel {
  readonly type: string;
  readonly id: string;
  protected readonly log: Logger;
  private readonly api: JsonApi;
  private readonly linkBaseUrl: string | undefined;
  private readonly maxSummary: number;
  private readonly markup: TicketMarkup;
  private readonly what: string;
  private readonly baseUrl: string;
  private readonly ticketPath: (ref: TicketRef) => string;

  constructor(config: TicketChannelConfig, deps: ChannelDeps, vendor: TicketVendor) {
    this.type = vendor.type;
    this.baseUrl = vendor.url.replace(/\/+$/, '');
    this.ticketPath = vendor.ticketPath;
    this.id = config.id;
    this.log = deps.logger.child({ channel: config.id, channelType: vendor.type });
    this.linkBaseUrl = config.link_base_url;
    this.maxSummary = vendor.maxSummary;
    this.markup = vendor.markup;
    this.what = `${vendor.vendor} ${vendor.ticket}`;
    this.api = new JsonApi({
      vendor: vendor.vendor,
      baseUrl: vendor.url.replace(/\/+$/, ''),
      headers: { Authorization: vendor.authorization },
      timeoutMs: parseDuration(config.timeout) ?? 20_000,
      clock: deps.clock,
      errorText: vendor.errorText,
      credentials: vendor.credentials,
      tls: channelTls(config.id, config),
    });
  }

  close(): Promise<void> {
    this.api.close();
    return Promise.resolve();
  }

  deliver(event: IncidentEvent, signal: AbortSignal): Promise<DeliveryResult> {
    return runDelivery(this.log, event, async () => {
      const api = this.api.session(signal);
      const texts = ticketTexts(event, { linkBaseUrl: this.linkBaseUrl, maxSummary: this.maxSummary, markup: this.markup });
      const stored = event.incident.tickets[this.id];
      if (stored !== undefined) {
        await this.update(api, parseReference(stored), event, texts);
        return delivered();
      }
      return delivered(await this.findOrCreate(api, event, texts));
    });
  }

  ticketLink(reference: string): TicketLink {
    const ref = parseReference(reference);
    return { display: ref.display, url: `${this.baseUrl}${this.ticketPath(ref)}` };
  }

  /** Finds or creates the ticket; returns the reference. */
  private async findOrCreate(api: ApiSession, event: IncidentEvent, texts: TicketTexts): Promise<string> {
    const inc = event.incident;
    const found = await this.lookup(api, correlationKey(inc), inc.number);
    if (found !== undefined) {
      this.log.info({ incident: inc.number, ticket: found.display }, `found the ${this.what} an earlier try created`);
      // Not knowing whether that try was this event, an update is added: a note twice beats none.
      if (event.type !== 'incident.opened') await this.update(api, found, event, texts);
      return formatReference(found.id, found.display);
    }
    const created = await this.createTicket(api, event, texts);
    return formatReference(created.id, created.display);
  }

  /** The ticket an earlier try made for the incident with this correlation key, if any. */
  protected abstract lookup(api: ApiSession, key: string, number: string): Promise<TicketRef | undefined>;

  /** Creates the ticket for the first event this channel hears of the incident. */
  protected abstract createTicket(api: ApiSession, event: IncidentEvent, texts: TicketTexts): Promise<TicketRef>;

  /** Adds the event's note to an existing ticket and makes the change its action asks for. */
  protected abstract update(api: ApiSession, ref: TicketRef, event: IncidentEvent, texts: TicketTexts): Promise<void>;
}
