// servicenow: one ServiceNow incident record per incidentd incident, through the Table API.
//
// What the channel relies on (ServiceNow docs, "Table API", api-reference/rest-apis/c_TableAPI):
// - POST /api/now/table/incident with field name-value pairs creates a record and answers 201
//   `{ result: { sys_id, number, … } }`; `sysparm_fields` limits the fields in the answer.
// - GET /api/now/table/incident?sysparm_query=<encoded query>&sysparm_fields=…&sysparm_limit=1
//   answers `{ result: [ … ] }`, an empty array when nothing matches (API version 1 answered 404
//   instead; both mean "none").
// - PATCH /api/now/table/incident/{sys_id} updates the named fields; 404 when the record is gone.
// - Errors answer `{ error: { message, detail }, status: "failure" }` (REST API HTTP response codes).
// - Incident states (Incident life cycle): 1 New, 2 In Progress, 3 On Hold, 6 Resolved, 7 Closed,
//   8 Canceled. Resolving requires a resolution code (close_code) and notes (close_notes); current
//   releases ship the codes "Solution provided", "Workaround provided", … (older ones "Solved
//   (Permanently)", …), hence close_code is configurable.
// - Priority is computed by the instance from impact × urgency (1 high … 3 low); it is not sent.
//
// Reference stored with the incident: `<sys_id>:<number>`, e.g.
// `46d44a5dc0a8010e0179ef8d5a6fb2d9:INC0010002`.
//
// Idempotent create: the record carries `correlation_id = INC-000123.<fingerprint prefix>` (and
// `correlation_display = incidentd`). Before creating, the channel looks that key up with
// `sysparm_query=correlation_id=<key>^ORDERBYsys_created_on`; a hit is the record an earlier try
// created before a crash lost its answer, and it is used instead of a second one.
//
// Events on an existing record: a note in `work_notes` (internal; or `comments`, visible to the
// caller, with `note_field: comments`); acknowledged also sets state 2 In Progress; resolved sets
// `resolve_state` with close_code and the note as close_notes; reopened sets `reopen_state`;
// escalated also sets urgency and impact as mapped from the incident now, since an escalation may
// follow a raised severity (what the create sent is not known, so they are always sent).
//
// TLS: `ca_file` / `tls_skip_verify` for an instance behind a proxy with an internal CA.
import { z } from 'zod';
import { channelId, channelTimeout } from './email.js';
import { basicAuth, tlsFields, type ApiSession, resolveCaFile } from './http.js';
import {
  correlationKey,
  linkBaseUrl,
  nonEmpty,
  ticketAction,
  TicketChannel,
  type TicketAction,
  type TicketRef,
  type TicketTexts,
} from './ticket.js';
import type { ChannelDeps, ChannelKind, IncidentEvent } from './types.js';

const level = (dflt: 1 | 2 | 3) => z.number().int().min(1).max(3).default(dflt);

// The defaults come closest to incidentd's own priority matrix under ServiceNow's default
// impact × urgency lookup (priority = impact + urgency − 1): they agree on 12 of its 16 cells.
const urgencySchema = z
  .strictObject({
    minor: level(3).describe('Urgency of minor incidents. Default 3 (low).'),
    medium: level(3).describe('Urgency of medium incidents. Default 3 (low).'),
    severe: level(2).describe('Urgency of severe incidents. Default 2 (medium).'),
    major: level(1).describe('Urgency of major incidents. Default 1 (high).'),
  })
  .prefault({})
  .describe('ServiceNow urgency (1 high, 2 medium, 3 low) per incidentd severity.');

const impactSchema = z
  .strictObject({
    'single-user': level(3).describe('Impact when one user is affected. Default 3 (low).'),
    'multiple-users': level(2).describe('Impact when several users are affected. Default 2 (medium).'),
    site: level(1).describe('Impact when a site is affected. Default 1 (high).'),
    organisation: level(1).describe('Impact when the organisation is affected. Default 1 (high).'),
  })
  .prefault({})
  .describe('ServiceNow impact (1 high, 2 medium, 3 low) per incidentd impact.');

export const servicenowChannelSchema = z
  .strictObject({
    id: channelId,
    type: z.literal('servicenow').describe('Channel kind: ServiceNow incidents.'),
    instance_url: z
      .url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' })
      .describe('Base URL of the instance, e.g. https://example.service-now.com.'),
    user: nonEmpty('user').optional().describe('Basic authentication user; needs to create and update incidents (e.g. the itil role).'),
    password: nonEmpty('password').optional().describe('Password of `user`; use ${ENV} to keep it out of the file.'),
    token: nonEmpty('token').optional().describe('OAuth bearer token, instead of user and password; use ${ENV}.'),
    assignment_group: z.string().min(1).optional().describe('sys_id of the group (sys_user_group) new incidents are assigned to.'),
    caller_id: z.string().min(1).optional().describe('sys_id of the user (sys_user) recorded as the caller.'),
    category: z.string().min(1).optional().describe('Category value of new incidents, e.g. `network`.'),
    urgency: urgencySchema,
    impact: impactSchema,
    note_field: z
      .enum(['work_notes', 'comments'])
      .default('work_notes')
      .describe('Where updates go: work_notes (internal, default) or comments (visible to the caller).'),
    resolve_state: z.number().int().min(1).default(6).describe('State set on resolution. Default 6 (Resolved).'),
    close_code: z
      .string()
      .min(1)
      .default('Solution provided')
      .describe('Resolution code set on resolution. Default "Solution provided"; older releases use e.g. "Solved (Permanently)".'),
    reopen_state: z.number().int().min(1).default(2).describe('State set when the incident reopens. Default 2 (In Progress).'),
    ...tlsFields,
    link_base_url: linkBaseUrl,
    timeout: channelTimeout('20s'),
  })
  .superRefine((c, ctx) => {
    const basic = c.user !== undefined || c.password !== undefined;
    if (basic && c.token !== undefined)
      ctx.addIssue({ code: 'custom', path: ['token'], message: 'give either user and password or token, not both' });
    else if (basic && (c.user === undefined || c.password === undefined))
      ctx.addIssue({ code: 'custom', path: [c.user === undefined ? 'user' : 'password'], message: 'user and password go together' });
    else if (!basic && c.token === undefined)
      ctx.addIssue({ code: 'custom', path: [], message: 'give user and password (basic authentication) or token (OAuth bearer)' });
  })
  .describe('ServiceNow incidents through the Table API: one record per incident, updated as it changes.');

export type ServicenowChannelConfig = z.output<typeof servicenowChannelSchema>;

const TABLE = '/api/now/table/incident';
const FIELDS = 'sys_id,number';
/** short_description is a string of 160 characters on the incident table. */
const MAX_SUMMARY = 160;
const IN_PROGRESS = '2';

const recordSchema = z.object({ sys_id: z.string().min(1), number: z.string().min(1) });
const oneAnswer = z.object({ result: recordSchema });
const listAnswer = z.object({ result: z.array(recordSchema) });

function serviceNowError(body: unknown): string | undefined {
  const e = (body as { error?: { message?: unknown; detail?: unknown } } | undefined)?.error;
  if (typeof e !== 'object' || e === null) return undefined;
  const message = typeof e.message === 'string' ? e.message : '';
  const detail = typeof e.detail === 'string' && e.detail !== '' && e.detail !== message ? e.detail : '';
  return [message, detail].filter((s) => s !== '').join(': ') || undefined;
}

export class ServicenowChannel extends TicketChannel {
  constructor(
    private readonly config: ServicenowChannelConfig,
    deps: ChannelDeps,
  ) {
    super(config, deps, {
      type: 'servicenow',
      vendor: 'ServiceNow',
      ticket: 'incident',
      url: config.instance_url,
      authorization: config.token !== undefined ? `Bearer ${config.token}` : basicAuth(config.user ?? '', config.password ?? ''),
      credentials: config.token !== undefined ? 'token' : 'user and password',
      errorText: serviceNowError,
      ticketPath: (ref) => `/nav_to.do?uri=${encodeURIComponent(`incident.do?sys_id=${ref.id}`)}`,
      maxSummary: MAX_SUMMARY,
      // Plain text, but [code]…[/code] in journal fields is HTML.
      markup: 'servicenow-journal',
    });
  }

  protected async createTicket(api: ApiSession, event: IncidentEvent, texts: TicketTexts): Promise<TicketRef> {
    const inc = event.incident;
    const action = ticketAction(event.type);
    const body: Record<string, string> = {
      short_description: texts.summary,
      description: texts.description,
      ...this.priorityFields(inc),
      correlation_id: correlationKey(inc),
      correlation_display: 'incidentd',
    };
    if (this.config.assignment_group !== undefined) body.assignment_group = this.config.assignment_group;
    if (this.config.caller_id !== undefined) body.caller_id = this.config.caller_id;
    if (this.config.category !== undefined) body.category = this.config.category;
    // The first event a channel hears may already be an acknowledgement or the resolution.
    if (action === 'acknowledge') body.state = IN_PROGRESS;
    if (action === 'resolve') Object.assign(body, this.resolution(texts.note));
    const req = { method: 'POST', path: TABLE, query: { sysparm_fields: FIELDS }, body } as const;
    const answer = await api.call(req);
    const parsed = oneAnswer.safeParse(answer.body);
    if (!parsed.success) throw api.unexpected(req, answer, 'result.sys_id and result.number');
    this.log.info({ incident: inc.number, ticket: parsed.data.result.number }, 'created ServiceNow incident');
    return { id: parsed.data.result.sys_id, display: parsed.data.result.number };
  }

  protected async lookup(api: ApiSession, key: string): Promise<TicketRef | undefined> {
    const req = {
      method: 'GET',
      path: TABLE,
      query: { sysparm_query: `correlation_id=${key}^ORDERBYsys_created_on`, sysparm_fields: FIELDS, sysparm_limit: '1' },
      accept: [404],
    } as const;
    const answer = await api.call(req);
    if (answer.status === 404) return undefined;
    const parsed = listAnswer.safeParse(answer.body);
    if (!parsed.success) throw api.unexpected(req, answer, 'a result list');
    const found = parsed.data.result[0];
    return found === undefined ? undefined : { id: found.sys_id, display: found.number };
  }

  protected async update(api: ApiSession, ref: TicketRef, event: IncidentEvent, texts: TicketTexts): Promise<void> {
    const action: TicketAction = ticketAction(event.type);
    const note = { [this.config.note_field]: texts.note };
    const fields: Record<string, string> =
      action === 'acknowledge'
        ? { state: IN_PROGRESS, ...note }
        : action === 'resolve'
          ? this.resolution(texts.note)
          : action === 'reopen'
            ? { state: String(this.config.reopen_state), ...note }
            : note;
    // An escalation may follow a raised severity; the record gets the urgency that goes with it.
    if (event.type === 'incident.escalated') Object.assign(fields, this.priorityFields(event.incident));
    await api.call({
      method: 'PATCH',
      path: `${TABLE}/${encodeURIComponent(ref.id)}`,
      query: { sysparm_fields: FIELDS },
      body: fields,
      gone: `ServiceNow incident ${ref.display} (sys_id ${ref.id}) was deleted or this account can no longer see it`,
    });
  }

  /** Urgency and impact as mapped from the incident's severity and impact now. */
  private priorityFields(inc: Pick<IncidentEvent['incident'], 'severity' | 'impact'>): { urgency: string; impact: string } {
    return { urgency: String(this.config.urgency[inc.severity]), impact: String(this.config.impact[inc.impact]) };
  }

  private resolution(note: string): Record<string, string> {
    return { state: String(this.config.resolve_state), close_code: this.config.close_code, close_notes: note };
  }
}

export const servicenowChannel: ChannelKind<typeof servicenowChannelSchema> = {
  type: 'servicenow',
  schema: servicenowChannelSchema,
  create: (config, deps) => new ServicenowChannel(config, deps),
  resolveFiles: resolveCaFile,
};
