// zammad: one Zammad ticket per incidentd incident, through the REST API.
//
// What the channel relies on (Zammad docs: api/intro, api/ticket/index, api/ticket/articles):
// - Authentication with an access token: `Authorization: Token token=<token>`.
// - POST /api/v1/tickets `{ title, group, customer, article: { subject, body, type: "note",
//   internal } }` answers 201 with the ticket (`id`, `number`, …). `customer` takes the customer's
//   e-mail address or login; `customer_id` the user id. Other ticket attributes (`priority`,
//   `state`, `note`) may be given too.
// - POST /api/v1/ticket_articles `{ ticket_id, subject, body, content_type, type, internal }` adds
//   an article; PUT /api/v1/tickets/{id} `{ state, article: { … } }` changes the state and adds the
//   article in the same request (the docs: "This article is a new article").
// - GET /api/v1/tickets/search?query=…&limit=… answers `{ tickets: [ids], tickets_count, assets:
//   { Ticket: { "<id>": { id, number, title, note, … } } } }` (with expand=true: an array of
//   tickets; both are read).
// - Errors answer `{ error, error_human }`.
// - Default states `new`, `open`, `closed`, `pending reminder`, `pending close`; default priorities
//   `1 low`, `2 normal`, `3 high`.
//
// Reference stored with the incident: `<ticket id>:<ticket number>`, e.g. `19:22019`.
//
// Idempotent create: the title starts with `[INC-000123]` and the ticket's `note` attribute holds
// `INC-000123.<fingerprint prefix>`. Before creating, the channel searches for the incident number
// and takes a hit whose title starts with the tag (and whose note, when set, is the key). Zammad
// searches titles in Elasticsearch when it is configured, in the database otherwise; Elasticsearch
// indexes a new ticket within seconds, so a retry that comes sooner may not find it.
//
// Events on an existing ticket: an article of type note (internal unless `internal: false`);
// acknowledged, resolved and reopened also set `acknowledge_state` (default open), `close_state`
// (default closed) and `reopen_state` (default open) in the same request; escalated also sets the
// priority mapped from the incident's severity now, since an escalation may follow a raised
// severity (what the create sent is not known, so it is always sent).
//
// TLS: `ca_file` / `tls_skip_verify` for an on-premises Zammad with an internal CA.
import { z } from 'zod';
import { channelId, channelTimeout } from './email.js';
import { tlsFields, type ApiSession, resolveCaFile } from './http.js';
import { eventLabel } from './render.js';
import {
  correlationKey,
  linkBaseUrl,
  nonEmpty,
  ticketAction,
  TicketChannel,
  ticketTag,
  type TicketAction,
  type TicketRef,
  type TicketTexts,
} from './ticket.js';
import type { ChannelDeps, ChannelKind, IncidentEvent } from './types.js';

const priorityName = (dflt: string) => z.string().min(1).default(dflt);

export const zammadChannelSchema = z
  .strictObject({
    id: channelId,
    type: z.literal('zammad').describe('Channel kind: Zammad tickets.'),
    url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }).describe('Base URL of Zammad, e.g. https://helpdesk.example.org.'),
    token: nonEmpty('token').describe('Access token of an agent with ticket.agent permission in `group`; use ${ENV}.'),
    group: z.string().min(1).describe('Group new tickets go to, e.g. `Users` or `2nd Level`.'),
    customer: z
      .union([z.string().min(1), z.number().int().positive()])
      .describe('Customer of new tickets: an e-mail address or login, or a user id (a number).'),
    priority: z
      .strictObject({
        minor: priorityName('1 low').describe('Priority of minor incidents. Default "1 low".'),
        medium: priorityName('2 normal').describe('Priority of medium incidents. Default "2 normal".'),
        severe: priorityName('3 high').describe('Priority of severe incidents. Default "3 high".'),
        major: priorityName('3 high').describe('Priority of major incidents. Default "3 high".'),
      })
      .prefault({})
      .describe('Zammad priority name per incidentd severity.'),
    internal: z.boolean().default(true).describe('Articles are internal notes that customers do not see. Default true.'),
    acknowledge_state: z.string().min(1).default('open').describe('State set on acknowledgement. Default "open".'),
    close_state: z.string().min(1).default('closed').describe('State set on resolution. Default "closed".'),
    reopen_state: z.string().min(1).default('open').describe('State set when the incident reopens. Default "open".'),
    ...tlsFields,
    link_base_url: linkBaseUrl,
    timeout: channelTimeout('20s'),
  })
  .describe('Zammad tickets through the REST API: one ticket per incident, updated as it changes.');

export type ZammadChannelConfig = z.output<typeof zammadChannelSchema>;

/** Ticket titles are strings of 250 characters. */
const MAX_SUMMARY = 250;
const SEARCH_LIMIT = 20;

const ticketSchema = z.object({ id: z.number().int(), number: z.union([z.string(), z.number()]).transform(String) });
const foundSchema = ticketSchema.extend({ title: z.string(), note: z.string().nullish() });
const searchAnswer = z.union([
  z.object({ tickets: z.array(z.union([z.number(), z.string()])), assets: z.object({ Ticket: z.record(z.string(), foundSchema).optional() }).optional() }),
  z.array(foundSchema),
]);

function zammadError(body: unknown): string | undefined {
  const b = body as { error?: unknown; error_human?: unknown } | undefined;
  if (typeof b?.error_human === 'string' && b.error_human !== '') return b.error_human;
  if (typeof b?.error === 'string' && b.error !== '') return b.error;
  return undefined;
}

export class ZammadChannel extends TicketChannel {
  constructor(
    private readonly config: ZammadChannelConfig,
    deps: ChannelDeps,
  ) {
    super(config, deps, {
      type: 'zammad',
      vendor: 'Zammad',
      ticket: 'ticket',
      url: config.url,
      authorization: `Token token=${config.token}`,
      credentials: 'token',
      errorText: zammadError,
      ticketPath: (ref) => `/#ticket/zoom/${encodeURIComponent(ref.id)}`,
      maxSummary: MAX_SUMMARY,
      // Articles are sent as text/plain, which Zammad shows as text.
      markup: 'plain',
    });
  }

  protected async createTicket(api: ApiSession, event: IncidentEvent, texts: TicketTexts): Promise<TicketRef> {
    const inc = event.incident;
    const action = ticketAction(event.type);
    const customer = this.config.customer;
    const body: Record<string, unknown> = {
      title: texts.summary,
      group: this.config.group,
      ...(typeof customer === 'number' ? { customer_id: customer } : { customer }),
      priority: this.config.priority[inc.severity],
      note: correlationKey(inc),
      article: { subject: texts.summary, body: texts.description, content_type: 'text/plain', type: 'note', internal: this.config.internal },
    };
    // The first event a channel hears may already be an acknowledgement or the resolution.
    if (action === 'acknowledge') body.state = this.config.acknowledge_state;
    if (action === 'resolve') body.state = this.config.close_state;
    const req = { method: 'POST', path: '/api/v1/tickets', body } as const;
    const answer = await api.call(req);
    const parsed = ticketSchema.safeParse(answer.body);
    if (!parsed.success) throw api.unexpected(req, answer, 'the ticket id and number');
    this.log.info({ incident: inc.number, ticket: parsed.data.number }, 'created Zammad ticket');
    return { id: String(parsed.data.id), display: parsed.data.number };
  }

  protected async lookup(api: ApiSession, key: string, number: string): Promise<TicketRef | undefined> {
    const req = { method: 'GET', path: '/api/v1/tickets/search', query: { query: number, limit: String(SEARCH_LIMIT) } } as const;
    const answer = await api.call(req);
    const parsed = searchAnswer.safeParse(answer.body);
    if (!parsed.success) throw api.unexpected(req, answer, 'a ticket search result');
    const data = parsed.data;
    const tickets = Array.isArray(data) ? data : data.tickets.flatMap((id) => data.assets?.Ticket?.[String(id)] ?? []);
    const tag = ticketTag(number);
    // Search is fuzzy: only a ticket this installation made for this incident counts.
    const mine = tickets.filter((t) => t.title.startsWith(tag) && (t.note === null || t.note === undefined || t.note === '' || t.note === key));
    const found = mine.sort((a, b) => a.id - b.id)[0];
    return found === undefined ? undefined : { id: String(found.id), display: found.number };
  }

  protected async update(api: ApiSession, ref: TicketRef, event: IncidentEvent, texts: TicketTexts): Promise<void> {
    const action: TicketAction = ticketAction(event.type);
    const article = {
      subject: `${eventLabel(event)}: ${texts.summary}`,
      body: texts.note,
      content_type: 'text/plain',
      type: 'note',
      internal: this.config.internal,
    };
    const gone = `Zammad ticket #${ref.display} (id ${ref.id}) was deleted or this token can no longer see it`;
    const state =
      action === 'acknowledge'
        ? this.config.acknowledge_state
        : action === 'resolve'
          ? this.config.close_state
          : action === 'reopen'
            ? this.config.reopen_state
            : undefined;
    // An escalation may follow a raised severity; the ticket gets the priority that goes with it.
    const priority = event.type === 'incident.escalated' ? this.config.priority[event.incident.severity] : undefined;
    if (state === undefined && priority === undefined) {
      await api.call({ method: 'POST', path: '/api/v1/ticket_articles', body: { ticket_id: Number(ref.id), ...article }, gone });
      return;
    }
    // One request: the change and its note land together or not at all.
    const body = { ...(state !== undefined ? { state } : {}), ...(priority !== undefined ? { priority } : {}), article };
    await api.call({ method: 'PUT', path: `/api/v1/tickets/${encodeURIComponent(ref.id)}`, body, gone });
  }
}

export const zammadChannel: ChannelKind<typeof zammadChannelSchema> = {
  type: 'zammad',
  schema: zammadChannelSchema,
  create: (config, deps) => new ZammadChannel(config, deps),
  resolveFiles: resolveCaFile,
};
