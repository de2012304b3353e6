// jira: one Jira Service Management customer request per incidentd incident, through the service
// desk REST API (`/rest/servicedeskapi`, Jira Cloud and Data Center alike).
//
// What the channel relies on (Atlassian "Jira Service Management REST API" reference, groups
// Request and Customer Transition):
// - POST /rest/servicedeskapi/request `{ serviceDeskId, requestTypeId, requestFieldValues:
//   { summary, description } }` answers 201 with the request (`issueId`, `issueKey`, …).
// - GET /rest/servicedeskapi/request?serviceDeskId=…&searchTerm=…&requestOwnership=OWNED_REQUESTS
//   &requestStatus=ALL_REQUESTS lists requests whose summary matches searchTerm, as a page
//   `{ values: [ { issueId, issueKey, requestFieldValues: [ { fieldId, value } ] } ], … }`.
// - POST /rest/servicedeskapi/request/{issueIdOrKey}/comment `{ body, public }` adds a comment.
// - GET /rest/servicedeskapi/request/{issueIdOrKey}/transition lists `{ values: [ { id, name } ] }`;
//   POST to it `{ id }` performs one. It lists customer transitions only: agent-only ones such as
//   "Resolve this issue" on the default service desk workflows are not among them.
// - GET /rest/servicedeskapi/request/{issueIdOrKey} has `currentStatus: { status, statusCategory }`
//   with statusCategory NEW, INDETERMINATE or DONE.
// - Errors answer `{ errorMessage }` (service desk API) or `{ errorMessages, errors }` (platform).
// - Jira Cloud: basic authentication with the account's e-mail and an API token; Data Center: a
//   personal access token as `Authorization: Bearer`.
//
// The issue's own workflow transitions, for those the service desk does not offer, through the Jira
// platform REST API: GET /rest/api/2/issue/{issueIdOrKey}/transitions answers `{ transitions: [ {
// id, name, to: { name, statusCategory: { key } } } ] }` (only those the account may perform: none
// without the Transition issues permission); POST to it `{ transition: { id } }` performs one and
// answers 204. Version 2 on purpose: Jira Cloud documents these two in both /rest/api/2 and
// /rest/api/3 ("The Jira Cloud platform REST API", group Issues, "Get transitions" and "Transition
// issue"; version 3 differs only in rich text as Atlassian Document Format, which neither request
// carries here), while Jira Data Center has only version 2 ("Jira Server platform REST API
// reference", api/2/issue/{issueIdOrKey}/transitions, getTransitions and doTransition).
//
// Reference stored with the incident: `<issueId>:<issueKey>`, e.g. `10042:IT-17`. The API is
// called with the id, which survives moving the issue to another project; the key is for people.
//
// Idempotent create: the summary starts with `[INC-000123]` and the description ends with
// `incidentd key: INC-000123.<fingerprint prefix>`. Before creating, the channel lists its own
// requests (the API user is their creator) in the service desk with searchTerm `INC-000123` and
// takes one whose summary starts with the tag (and whose description, when listed, has the key).
// Jira's search index is updated shortly after a create, so a retry within seconds may miss it.
//
// Events on an existing request: a comment (internal unless `public_comments: true`);
// acknowledged, resolved and reopened first perform `acknowledge_transition`, `resolve_transition`,
// `reopen_transition` when set (by id or name). The transition is looked up among the service
// desk's transitions first, then among the issue's workflow transitions. One that neither offers
// because the request already is where it would lead (DONE for resolve, INDETERMINATE for
// acknowledge, not DONE for reopen) counts as done, so a retried event does not fail on its own
// earlier success; otherwise the delivery fails permanently, naming what both offer.
//
// TLS: `ca_file` / `tls_skip_verify` for a Data Center site with an internal CA.
import { z } from 'zod';
import { channelId, channelTimeout } from './email.js';
import { basicAuth, DeliveryFailure, tlsFields, type ApiSession, resolveCaFile } from './http.js';
import {
  linkBaseUrl,
  nonEmpty,
  ticketAction,
  TicketChannel,
  ticketTag,
  type TicketAction,
  type TicketRef,
  type TicketTexts,
} from './ticket.js';
import { permanent, type ChannelDeps, type ChannelKind, type IncidentEvent } from './types.js';

const numericId = (what: string) =>
  z
    .union([z.string().regex(/^\d+$/, { error: `${what} is a number, e.g. "1"` }), z.number().int().positive()])
    .transform((v) => String(v));

const transition = (what: string) =>
  z
    .string()
    .min(1)
    .optional()
    .describe(
      `Transition (its id or its name) performed ${what}, from the service desk's transitions or else the issue's workflow; unset: only a comment is added.`,
    );

export const jiraChannelSchema = z
  .strictObject({
    id: channelId,
    type: z.literal('jira').describe('Channel kind: Jira Service Management requests.'),
    url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }).describe('Base URL of the site, e.g. https://example.atlassian.net.'),
    email: nonEmpty('email').optional().describe('Jira Cloud: the account e-mail for basic authentication with api_token.'),
    api_token: nonEmpty('api_token').optional().describe('Jira Cloud: API token of `email`; use ${ENV}.'),
    token: nonEmpty('token').optional().describe('Data Center: personal access token (Bearer), instead of email and api_token; use ${ENV}.'),
    service_desk_id: numericId('service_desk_id').describe('Id of the service desk (GET /rest/servicedeskapi/servicedesk lists them).'),
    request_type_id: numericId('request_type_id').describe(
      'Id of the request type; it must have the summary and description fields (GET /rest/servicedeskapi/servicedesk/{id}/requesttype).',
    ),
    acknowledge_transition: transition('on acknowledgement'),
    resolve_transition: transition('on resolution'),
    reopen_transition: transition('when the incident reopens'),
    public_comments: z.boolean().default(false).describe('Comments are visible to customers. Default false (internal).'),
    ...tlsFields,
    link_base_url: linkBaseUrl,
    timeout: channelTimeout('20s'),
  })
  .superRefine((c, ctx) => {
    const basic = c.email !== undefined || c.api_token !== undefined;
    if (basic && c.token !== undefined)
      ctx.addIssue({ code: 'custom', path: ['token'], message: 'give either email and api_token or token, not both' });
    else if (basic && (c.email === undefined || c.api_token === undefined))
      ctx.addIssue({ code: 'custom', path: [c.email === undefined ? 'email' : 'api_token'], message: 'email and api_token go together' });
    else if (!basic && c.token === undefined)
      ctx.addIssue({ code: 'custom', path: [], message: 'give email and api_token (Jira Cloud) or token (Data Center personal access token)' });
  })
  .describe('Jira Service Management customer requests: one request per incident, commented and transitioned as it changes.');

export type JiraChannelConfig = z.output<typeof jiraChannelSchema>;

const API = '/rest/servicedeskapi/request';
const ISSUE_API = '/rest/api/2/issue';
/** The summary field holds 255 characters. */
const MAX_SUMMARY = 255;

const createdSchema = z.object({ issueId: z.union([z.string(), z.number()]).transform(String), issueKey: z.string().min(1) });
const listedSchema = createdSchema.extend({
  requestFieldValues: z.array(z.object({ fieldId: z.string(), value: z.unknown() })).default([]),
});
const pageSchema = z.object({ values: z.array(listedSchema) });
const transitionSchema = z.object({ id: z.union([z.string(), z.number()]).transform(String), name: z.string() });
const transitionsSchema = z.object({ values: z.array(transitionSchema) });
const issueTransitionsSchema = z.object({ transitions: z.array(transitionSchema) });
const requestStatusSchema = z.object({ currentStatus: z.object({ status: z.string().optional(), statusCategory: z.string().optional() }).optional() });

function jiraError(body: unknown): string | undefined {
  const b = body as { errorMessage?: unknown; errorMessages?: unknown; errors?: unknown } | undefined;
  if (typeof b !== 'object' || b === null) return undefined;
  const parts: string[] = [];
  if (typeof b.errorMessage === 'string' && b.errorMessage !== '') parts.push(b.errorMessage);
  if (Array.isArray(b.errorMessages)) parts.push(...b.errorMessages.filter((m): m is string => typeof m === 'string' && m !== ''));
  if (typeof b.errors === 'object' && b.errors !== null)
    for (const [field, m] of Object.entries(b.errors as Record<string, unknown>)) parts.push(`${field}: ${String(m)}`);
  return parts.length > 0 ? parts.join('; ') : undefined;
}

function fieldValue(values: { fieldId: string; value: unknown }[], id: string): string | undefined {
  const v = values.find((f) => f.fieldId === id)?.value;
  return typeof v === 'string' ? v : undefined;
}

export class JiraChannel extends TicketChannel {
  constructor(
    private readonly config: JiraChannelConfig,
    deps: ChannelDeps,
  ) {
    super(config, deps, {
      type: 'jira',
      vendor: 'Jira',
      ticket: 'request',
      url: config.url,
      authorization: config.token !== undefined ? `Bearer ${config.token}` : basicAuth(config.email ?? '', config.api_token ?? ''),
      credentials: config.token !== undefined ? 'token' : 'email and api_token',
      errorText: jiraError,
      // The agent's view of the request; the customer portal shows it to its reporter.
      ticketPath: (ref) => `/browse/${encodeURIComponent(ref.display)}`,
      maxSummary: MAX_SUMMARY,
      // The request API's description and comments are wiki markup.
      markup: 'jira-wiki',
    });
  }

  protected async createTicket(api: ApiSession, event: IncidentEvent, texts: TicketTexts): Promise<TicketRef> {
    const action = ticketAction(event.type);
    const req = {
      method: 'POST',
      path: API,
      body: {
        serviceDeskId: this.config.service_desk_id,
        requestTypeId: this.config.request_type_id,
        requestFieldValues: { summary: texts.summary, description: texts.description },
      },
    } as const;
    const answer = await api.call(req);
    const parsed = createdSchema.safeParse(answer.body);
    if (!parsed.success) throw api.unexpected(req, answer, 'issueId and issueKey');
    const ref = { id: parsed.data.issueId, display: parsed.data.issueKey };
    this.log.info({ incident: event.incident.number, ticket: ref.display }, 'created Jira request');
    // The first event a channel hears may already be an acknowledgement or the resolution. A
    // failure here is retried; the retry finds the request by its key and transitions it then.
    if (action === 'acknowledge' || action === 'resolve') await this.transition(api, ref, action);
    return ref;
  }

  protected async lookup(api: ApiSession, key: string, number: string): Promise<TicketRef | undefined> {
    const req = {
      method: 'GET',
      path: API,
      query: {
        serviceDeskId: this.config.service_desk_id,
        searchTerm: number,
        requestOwnership: 'OWNED_REQUESTS',
        requestStatus: 'ALL_REQUESTS',
        limit: '50',
      },
    } as const;
    const answer = await api.call(req);
    const parsed = pageSchema.safeParse(answer.body);
    if (!parsed.success) throw api.unexpected(req, answer, 'a page of requests (values)');
    const tag = ticketTag(number);
    // The summary search is fuzzy: only a request this installation made for this incident counts.
    const found = parsed.data.values.find((r) => {
      const summary = fieldValue(r.requestFieldValues, 'summary');
      const description = fieldValue(r.requestFieldValues, 'description');
      return summary !== undefined && summary.startsWith(tag) && (description === undefined || description.includes(key));
    });
    return found === undefined ? undefined : { id: found.issueId, display: found.issueKey };
  }

  protected async update(api: ApiSession, ref: TicketRef, event: IncidentEvent, texts: TicketTexts): Promise<void> {
    const action = ticketAction(event.type);
    // Transition first: a retry after a failed comment then finds the transition done and only
    // adds the comment.
    if (action !== 'note') await this.transition(api, ref, action);
    await api.call({
      method: 'POST',
      path: `${API}/${encodeURIComponent(ref.id)}/comment`,
      body: { body: texts.note, public: this.config.public_comments },
      gone: this.gone(ref),
    });
  }

  private gone(ref: TicketRef): string {
    return `Jira request ${ref.display} (issue id ${ref.id}) was deleted or this account can no longer see it`;
  }

  private async transition(api: ApiSession, ref: TicketRef, action: Exclude<TicketAction, 'note'>): Promise<void> {
    const wanted =
      action === 'acknowledge'
        ? this.config.acknowledge_transition
        : action === 'resolve'
          ? this.config.resolve_transition
          : this.config.reopen_transition;
    if (wanted === undefined) return;
    const pick = (offered: { id: string; name: string }[]) =>
      offered.find((t) => t.id === wanted) ?? offered.find((t) => t.name.toLowerCase() === wanted.toLowerCase());

    const path = `${API}/${encodeURIComponent(ref.id)}/transition`;
    const listReq = { method: 'GET', path, query: { limit: '100' }, gone: this.gone(ref) } as const;
    const listed = await api.call(listReq);
    const parsed = transitionsSchema.safeParse(listed.body);
    if (!parsed.success) throw api.unexpected(listReq, listed, 'a list of transitions (values)');
    const deskOffers = parsed.data.values;
    const deskMatch = pick(deskOffers);
    if (deskMatch !== undefined) {
      await api.call({ method: 'POST', path, body: { id: deskMatch.id }, gone: this.gone(ref) });
      return;
    }

    // Not offered: maybe because an earlier try of this event already made it.
    const statusReq = { method: 'GET', path: `${API}/${encodeURIComponent(ref.id)}`, gone: this.gone(ref) } as const;
    const status = requestStatusSchema.safeParse((await api.call(statusReq)).body);
    const current = status.success ? status.data.currentStatus : undefined;
    const done = current?.statusCategory === 'DONE';
    if ((action === 'resolve' && done) || (action === 'reopen' && current !== undefined && !done)) return;
    if (action === 'acknowledge' && current?.statusCategory === 'INDETERMINATE') return;

    // Agent-only transitions (e.g. "Resolve this issue") are offered by the issue's workflow.
    const issuePath = `${ISSUE_API}/${encodeURIComponent(ref.id)}/transitions`;
    const issueReq = { method: 'GET', path: issuePath, accept: [403, 404] } as const;
    const issueListed = await api.call(issueReq);
    let issueOffers: { id: string; name: string }[] = [];
    let issueNote = '';
    if (issueListed.status === 403 || issueListed.status === 404) {
      // The service desk API shows the request to its customer; the platform API only to agents.
      issueNote = ` (${ISSUE_API} answered ${issueListed.status}: this account cannot see the issue there, an agent account can)`;
    } else {
      const issueParsed = issueTransitionsSchema.safeParse(issueListed.body);
      if (!issueParsed.success) throw api.unexpected(issueReq, issueListed, 'a list of transitions (transitions)');
      issueOffers = issueParsed.data.transitions;
      const issueMatch = pick(issueOffers);
      if (issueMatch !== undefined) {
        await api.call({ method: 'POST', path: issuePath, body: { transition: { id: issueMatch.id } }, gone: this.gone(ref) });
        return;
      }
    }

    const names = (offered: { id: string; name: string }[]) => offered.map((t) => `"${t.name}" (id ${t.id})`).join(', ') || 'none';
    const setting = `${action}_transition`;
    throw new DeliveryFailure(
      permanent(
        `Jira request ${ref.display} (status "${current?.status ?? 'unknown'}"): neither the service desk nor the issue's workflow offers the transition "${wanted}"; ` +
          `the service desk offers: ${names(deskOffers)}; the workflow offers: ${names(issueOffers)}${issueNote}. ` +
          `Set ${setting} to one of them (workflow transitions need the Transition issues permission)`,
      ),
    );
  }
}

export const jiraChannel: ChannelKind<typeof jiraChannelSchema> = {
  type: 'jira',
  schema: jiraChannelSchema,
  create: (config, deps) => new JiraChannel(config, deps),
  resolveFiles: resolveCaFile,
};
