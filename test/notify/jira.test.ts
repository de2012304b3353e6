import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Incident } from '../../src/domain/incident.js';
import { jiraChannelSchema } from '../../src/notify/jira.js';
import { createChannel, type ChannelConfig } from '../../src/notify/registry.js';
import type { Channel, DeliveryResult, IncidentEventType } from '../../src/notify/types.js';
import { FakeClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { closedPort } from '../probe-kinds/helpers.js';
import { event, incident, T0 } from './fixtures.js';
import { recordTicket, testCa, vendorServer, type Recorded, type Reply, type TestCa, type VendorServer } from './vendor-server.js';

const BASIC = `Basic ${Buffer.from('ops@example.org:atlassian-api-token').toString('base64')}`;
const KEY = 'INC-000123.9f86d081884c';
const TITLE = '[INC-000123] Printer 3F offline (Printer 3F)';
const API = '/rest/servicedeskapi/request';
const ISSUE_API = '/rest/api/2/issue';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((f) => f()));
});

type Category = 'NEW' | 'INDETERMINATE' | 'DONE';
interface JRequest {
  issueId: string;
  issueKey: string;
  serviceDeskId: string;
  summary: string;
  description: string;
  status: string;
  category: Category;
  comments: { body: string; public: boolean }[];
}

/** A workflow's transitions by status category; `agentOnly` ones the service desk API does not offer. */
type Workflow = Record<Category, { id: string; name: string; to: [string, Category]; agentOnly?: true }[]>;

// The request type's workflow with every transition offered to the service desk.
const WORKFLOW: Workflow = {
  NEW: [
    { id: '11', name: 'Start progress', to: ['In progress', 'INDETERMINATE'] },
    { id: '761', name: 'Resolve this issue', to: ['Resolved', 'DONE'] },
  ],
  INDETERMINATE: [{ id: '761', name: 'Resolve this issue', to: ['Resolved', 'DONE'] }],
  DONE: [{ id: '781', name: 'Reopen', to: ['Waiting for support', 'NEW'] }],
};

// As on the default service desk workflows: resolving is for agents, through the issue's workflow.
const AGENT_RESOLVES: Workflow = {
  NEW: [
    { id: '11', name: 'Start progress', to: ['In progress', 'INDETERMINATE'] },
    { id: '761', name: 'Resolve this issue', to: ['Resolved', 'DONE'], agentOnly: true },
  ],
  INDETERMINATE: [{ id: '761', name: 'Resolve this issue', to: ['Resolved', 'DONE'], agentOnly: true }],
  DONE: [{ id: '781', name: 'Reopen', to: ['Waiting for support', 'NEW'] }],
};

// A workflow without any transition to DONE.
const NO_RESOLVE: Workflow = {
  NEW: [
    { id: '11', name: 'Start progress', to: ['In progress', 'INDETERMINATE'] },
    { id: '851', name: 'Escalate', to: ['Escalated', 'INDETERMINATE'], agentOnly: true },
  ],
  INDETERMINATE: [],
  DONE: [],
};

/**
 * Jira Service Management's service desk API for requests, comments and transitions, and the
 * platform API's issue transitions (GET and POST /rest/api/2/issue/{id}/transitions).
 */
async function fakeJira(
  opts: { authorization?: string; workflow?: Workflow; tls?: TestCa['tls']; before?: (req: Recorded) => Reply | undefined } = {},
) {
  const requests: JRequest[] = [];
  const authorization = opts.authorization ?? BASIC;
  const workflow = opts.workflow ?? WORKFLOW;
  const deskOffers = (r: JRequest) => workflow[r.category].filter((t) => !t.agentOnly);
  const status = (r: JRequest) => ({ status: r.status, statusCategory: r.category, statusDate: { iso8601: '2026-03-02T08:01:00+0000' } });
  const listed = (r: JRequest) => ({
    issueId: r.issueId,
    issueKey: r.issueKey,
    requestTypeId: '25',
    serviceDeskId: r.serviceDeskId,
    currentStatus: status(r),
    requestFieldValues: [
      { fieldId: 'summary', label: 'Summary', value: r.summary },
      { fieldId: 'description', label: 'Description', value: r.description },
    ],
  });
  const page = (values: unknown[]) => ({ size: values.length, start: 0, limit: 50, isLastPage: true, values });
  const missing: Reply = { status: 404, body: { errorMessage: 'The request does not exist or you do not have permission to see it.', i18nErrorMessage: {} } };
  const server: VendorServer = await vendorServer((req) => {
    const early = opts.before?.(req);
    if (early !== undefined) return early;
    if (req.headers.authorization !== authorization)
      return { status: 401, body: { errorMessages: ['You are not authenticated. Authentication required to perform this operation.'], errors: {} } };
    if (req.path === API && req.method === 'GET') {
      const term = (req.query.searchTerm ?? '').toLowerCase();
      return { status: 200, body: page(requests.filter((r) => r.serviceDeskId === req.query.serviceDeskId && r.summary.toLowerCase().includes(term)).map(listed)) };
    }
    if (req.path === API && req.method === 'POST') {
      const f = req.body.requestFieldValues ?? {};
      if (!f.summary) return { status: 400, body: { errorMessage: 'Your request could not be created. Please check the fields have been correctly filled in. Summary is required', i18nErrorMessage: {} } };
      const n = requests.length + 17;
      const r: JRequest = {
        issueId: String(10025 + n),
        issueKey: `IT-${n}`,
        serviceDeskId: req.body.serviceDeskId,
        summary: f.summary,
        description: f.description ?? '',
        status: 'Waiting for support',
        category: 'NEW',
        comments: [],
      };
      requests.push(r);
      return { status: 201, body: { _expands: [], ...listed(r), createdDate: { iso8601: '2026-03-02T08:01:00+0000' } } };
    }
    const issue = /^\/rest\/api\/2\/issue\/([^/]+)\/transitions$/.exec(req.path);
    if (issue) {
      const r = requests.find((x) => x.issueId === issue[1] || x.issueKey === issue[1]);
      if (!r) return { status: 404, body: { errorMessages: ['Issue does not exist or you do not have permission to see it.'], errors: {} } };
      if (req.method === 'GET') {
        const transitions = workflow[r.category].map(({ id, name, to }) => ({
          id, name, hasScreen: false, isGlobal: false, isInitial: false, isConditional: false,
          to: { name: to[0], statusCategory: { key: to[1] === 'DONE' ? 'done' : to[1] === 'NEW' ? 'new' : 'indeterminate' } },
        }));
        return { status: 200, body: { expand: 'transitions', transitions } };
      }
      const t = workflow[r.category].find((x) => x.id === req.body?.transition?.id);
      if (!t) return { status: 400, body: { errorMessages: [`Transition id '${req.body?.transition?.id}' is not valid for this issue.`], errors: {} } };
      [r.status, r.category] = t.to;
      return { status: 204 };
    }
    const m = /^\/rest\/servicedeskapi\/request\/([^/]+)(?:\/(comment|transition))?$/.exec(req.path);
    const r = m ? requests.find((x) => x.issueId === m[1] || x.issueKey === m[1]) : undefined;
    if (!m) return { status: 404, body: { errorMessage: 'null for uri' } };
    if (!r) return missing;
    if (m[2] === 'comment' && req.method === 'POST') {
      r.comments.push({ body: req.body.body, public: req.body.public });
      return { status: 201, body: { id: String(1000 + r.comments.length), body: req.body.body, public: req.body.public } };
    }
    if (m[2] === 'transition' && req.method === 'GET') return { status: 200, body: page(deskOffers(r).map(({ id, name }) => ({ id, name }))) };
    if (m[2] === 'transition' && req.method === 'POST') {
      const t = deskOffers(r).find((x) => x.id === req.body.id);
      if (!t) return { status: 400, body: { errorMessage: `Transition id ${req.body.id} is not valid for this request.`, i18nErrorMessage: {} } };
      [r.status, r.category] = t.to;
      return { status: 204 };
    }
    if (m[2] === undefined && req.method === 'GET') return { status: 200, body: { issueId: r.issueId, issueKey: r.issueKey, currentStatus: status(r) } };
    return { status: 405, body: { errorMessage: 'Method not allowed' } };
  }, { tls: opts.tls });
  cleanup.push(() => server.close());
  return { server, requests };
}

function channel(url: string, extra: Record<string, unknown> = {}, clock = new FakeClock(T0 + 90_000)): Channel {
  const config: ChannelConfig = jiraChannelSchema.parse({
    id: 'jsm',
    type: 'jira',
    url,
    email: 'ops@example.org',
    api_token: 'atlassian-api-token',
    service_desk_id: 4,
    request_type_id: '25',
    acknowledge_transition: 'Start progress',
    resolve_transition: 'resolve this issue',
    reopen_transition: '781',
    timeout: '2s',
    ...extra,
  });
  return createChannel(config, { clock, logger: silentLogger() });
}

const signal = () => new AbortController().signal;

describe('jira channel against a Jira Service Management API on loopback', () => {
  it('creates one request and comments and transitions it through acknowledge, escalation, resolution and reopening', async () => {
    const jira = await fakeJira();
    const ch = channel(jira.server.url);
    let inc: Incident = incident();
    const step = async (type: IncidentEventType, changes: Partial<Incident>, extra = {}): Promise<DeliveryResult> => {
      inc = { ...inc, ...changes };
      const result = await ch.deliver(event(type, inc, extra), signal());
      if (result.outcome === 'ok') inc = recordTicket(inc, 'jsm', result.reference);
      return result;
    };

    expect(await step('incident.opened', {})).toEqual({ outcome: 'ok', reference: '10042:IT-17' });
    const [search, create] = jira.server.requests;
    expect(search).toMatchObject({
      method: 'GET',
      path: API,
      query: { serviceDeskId: '4', searchTerm: 'INC-000123', requestOwnership: 'OWNED_REQUESTS', requestStatus: 'ALL_REQUESTS', limit: '50' },
    });
    expect(create).toMatchObject({ method: 'POST', path: API });
    expect(create!.body).toEqual({
      serviceDeskId: '4',
      requestTypeId: '25',
      requestFieldValues: { summary: TITLE, description: expect.stringContaining(`incidentd key: ${KEY}`) },
    });

    expect(await step('incident.acknowledged', { status: 'acknowledged' }, { actor: 'alice', message: 'on it' })).toEqual({ outcome: 'ok' });
    expect(await step('incident.escalated', { tier: 'L2' }, { tier: 'L2' })).toEqual({ outcome: 'ok' });
    expect(await step('incident.resolved', { status: 'resolved' })).toEqual({ outcome: 'ok' });
    expect(await step('incident.reopened', { status: 'open', reopenCount: 1 })).toEqual({ outcome: 'ok' });
    expect(await step('incident.resolved', { status: 'resolved' })).toEqual({ outcome: 'ok' });

    const calls = jira.server.requests.slice(2).map((r) => `${r.method} ${r.path}${r.body?.id ? ` ${r.body.id}` : ''}`);
    const t = `${API}/10042/transition`;
    const c = `${API}/10042/comment`;
    expect(calls).toEqual([
      `GET ${t}`, `POST ${t} 11`, `POST ${c}`, // acknowledged: Start progress
      `POST ${c}`, // escalated
      `GET ${t}`, `POST ${t} 761`, `POST ${c}`, // resolved: Resolve this issue (named in another case)
      `GET ${t}`, `POST ${t} 781`, `POST ${c}`, // reopened: Reopen (by id)
      `GET ${t}`, `POST ${t} 761`, `POST ${c}`, // resolved again, from Waiting for support
    ]);
    expect(jira.server.requests.every((r) => r.headers.authorization === BASIC)).toBe(true);
    const comments = jira.requests[0]!.comments;
    expect(comments.map((x) => x.public)).toEqual([false, false, false, false, false]);
    expect(comments.map((x) => x.body.split('\n')[0])).toEqual(['Acknowledged: on it', 'Escalated to L2', 'Resolved', 'Reopened', 'Resolved']);
    expect(jira.requests[0]).toMatchObject({ status: 'Resolved', category: 'DONE' });
    expect(jira.requests).toHaveLength(1);
  });

  it('sends alert data as literal text: wiki markup in it is escaped, so no link, image or macro comes alive', async () => {
    const jira = await fakeJira();
    const ch = channel(jira.server.url, { link_base_url: 'https://incidentd.example.org' });
    const hostile = incident({
      title: 'Disk full [click here|https://evil.example/login]',
      lastMessage: '!https://evil.example/pixel.png! {color:red}*urgent*{color} [~admin] C:\\temp\\[x]',
      labels: { note: 'h1. {noformat}' },
    });
    const opened = await ch.deliver(event('incident.opened', hostile), signal());
    expect(opened.outcome).toBe('ok');
    const sent = jira.server.requests[1]!.body.requestFieldValues;
    // The summary is a plain text field in Jira: as it is.
    expect(sent.summary).toBe('[INC-000123] Disk full [click here|https://evil.example/login] (Printer 3F)');
    const d: string = sent.description;
    expect(d).toContain('Disk full \\[click here\\|https://evil.example/login\\]');
    expect(d).toContain('Last message:   \\!https://evil.example/pixel.png\\! \\{color:red\\}\\*urgent\\*\\{color\\} \\[\\~admin\\] C:&#92;temp&#92;\\[x\\]');
    expect(d).toContain('note=h1. \\{noformat\\}');
    // Nothing of the markup is left unescaped.
    expect(d).not.toMatch(/(^|[^\\])[[!{]/m);
    // What incidentd itself writes stays readable: the number, the times and the link.
    expect(d).toContain('Incident:       INC-000123 (open)');
    expect(d).toContain('First seen:     2026-03-02T08:00:00.000Z');
    expect(d).toContain('Details:        https://incidentd.example.org/incidents/INC-000123');

    const inc = recordTicket(hostile, 'jsm', opened.outcome === 'ok' ? opened.reference : undefined);
    expect((await ch.deliver(event('incident.acknowledged', inc, { actor: 'alice', message: 'see [here|https://evil.example/]' }), signal())).outcome).toBe('ok');
    const comment: string = jira.requests[0]!.comments[0]!.body;
    expect(comment.split('\n')[0]).toBe('Acknowledged: see \\[here\\|https://evil.example/\\]');
    expect(comment).toContain('Last message: \\!https://evil.example/pixel.png\\!');
  });

  it('creates the request when the first event is an escalation, and transitions one whose first event is its resolution', async () => {
    const jira = await fakeJira();
    const ch = channel(jira.server.url, { public_comments: true });
    const escalated = await ch.deliver(event('incident.escalated', incident({ tier: 'L3' }), { tier: 'L3' }), signal());
    expect(escalated).toEqual({ outcome: 'ok', reference: '10042:IT-17' });
    expect(jira.server.requests.map((r) => r.method)).toEqual(['GET', 'POST']);
    expect(jira.server.requests[1]!.body.requestFieldValues.description).toContain('Tier:           L3');

    const resolvedFirst = await ch.deliver(event('incident.resolved', incident({ number: 'INC-000124', status: 'resolved' })), signal());
    expect(resolvedFirst).toEqual({ outcome: 'ok', reference: '10043:IT-18' });
    expect(jira.requests[1]).toMatchObject({ category: 'DONE', comments: [] });
  });

  it('finds the request an earlier try created and ignores look-alikes, instead of creating a second', async () => {
    const jira = await fakeJira();
    const seed = (issueId: string, issueKey: string, summary: string, description: string): JRequest => ({
      issueId, issueKey, serviceDeskId: '4', summary, description, status: 'Waiting for support', category: 'NEW', comments: [],
    });
    jira.requests.push(
      seed('10001', 'IT-1', `Printer again, see ${TITLE}`, `incidentd key: ${KEY}\n`),
      seed('10002', 'IT-2', TITLE, 'incidentd key: INC-000123.0123456789ab\n'), // another installation
      seed('10003', 'IT-3', TITLE, `…\nincidentd key: ${KEY}\n`),
    );
    const ch = channel(jira.server.url);
    expect(await ch.deliver(event('incident.opened'), signal())).toEqual({ outcome: 'ok', reference: '10003:IT-3' });
    expect(jira.server.requests.map((r) => r.method)).toEqual(['GET']);

    const escalated = await ch.deliver(event('incident.escalated', incident(), { tier: 'L2' }), signal());
    expect(escalated).toEqual({ outcome: 'ok', reference: '10003:IT-3' });
    expect(jira.server.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`GET ${API}`, `GET ${API}`, `POST ${API}/10003/comment`]);
  });

  it('treats a transition no longer offered because an earlier try made it as done, and names the offered ones otherwise', async () => {
    const jira = await fakeJira();
    const ch = channel(jira.server.url);
    const ref = await ch.deliver(event('incident.opened'), signal());
    const inc = recordTicket(incident({ status: 'resolved' }), 'jsm', ref.outcome === 'ok' ? ref.reference : undefined);
    jira.requests[0]!.category = 'DONE';
    jira.requests[0]!.status = 'Resolved';
    jira.server.requests.length = 0;

    expect(await ch.deliver(event('incident.resolved', inc), signal())).toEqual({ outcome: 'ok' });
    expect(jira.server.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`GET ${API}/10042/transition`, `GET ${API}/10042`, `POST ${API}/10042/comment`]);

    const misnamed = channel(jira.server.url, { reopen_transition: 'Back to work' });
    const result = await misnamed.deliver(event('incident.reopened', { ...inc, status: 'open' }), signal());
    expect(result).toEqual({
      outcome: 'permanent',
      error: 'Jira request IT-17 (status "Resolved"): neither the service desk nor the issue\'s workflow offers the transition "Back to work"; ' +
        'the service desk offers: "Reopen" (id 781); the workflow offers: "Reopen" (id 781). ' +
        'Set reopen_transition to one of them (workflow transitions need the Transition issues permission)',
    });
  });

  it('performs an agent-only transition through the issue\'s workflow when the service desk does not offer it', async () => {
    const jira = await fakeJira({ workflow: AGENT_RESOLVES });
    const ch = channel(jira.server.url);
    let inc: Incident = incident();
    const step = async (type: IncidentEventType, changes: Partial<Incident>): Promise<DeliveryResult> => {
      inc = { ...inc, ...changes };
      const result = await ch.deliver(event(type, inc), signal());
      if (result.outcome === 'ok') inc = recordTicket(inc, 'jsm', result.reference);
      return result;
    };
    expect(await step('incident.opened', {})).toEqual({ outcome: 'ok', reference: '10042:IT-17' });
    jira.server.requests.length = 0;

    expect(await step('incident.resolved', { status: 'resolved' })).toEqual({ outcome: 'ok' });
    expect(jira.server.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET ${API}/10042/transition`, // the service desk offers only "Start progress"
      `GET ${API}/10042`, // not resolved already
      `GET ${ISSUE_API}/10042/transitions`,
      `POST ${ISSUE_API}/10042/transitions`,
      `POST ${API}/10042/comment`,
    ]);
    expect(jira.server.requests[3]!.body).toEqual({ transition: { id: '761' } });
    expect(jira.server.requests.every((r) => r.headers.authorization === BASIC)).toBe(true);
    expect(jira.requests[0]).toMatchObject({ status: 'Resolved', category: 'DONE' });
    expect(jira.requests[0]!.comments.map((c) => c.body.split('\n')[0])).toEqual(['Resolved']);

    // Reopen is the service desk's again; a retried resolution finds the request resolved.
    expect(await step('incident.reopened', { status: 'open' })).toEqual({ outcome: 'ok' });
    expect(jira.requests[0]).toMatchObject({ category: 'NEW' });
    jira.requests[0]!.category = 'DONE';
    jira.server.requests.length = 0;
    expect(await step('incident.resolved', { status: 'resolved' })).toEqual({ outcome: 'ok' });
    expect(jira.server.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`GET ${API}/10042/transition`, `GET ${API}/10042`, `POST ${API}/10042/comment`]);
  });

  it('fails permanently, listing what the service desk and the workflow offer, when neither offers the transition', async () => {
    const jira = await fakeJira({ workflow: NO_RESOLVE });
    const ch = channel(jira.server.url);
    const ref = await ch.deliver(event('incident.opened'), signal());
    const inc = recordTicket(incident({ status: 'resolved' }), 'jsm', ref.outcome === 'ok' ? ref.reference : undefined);
    jira.server.requests.length = 0;

    expect(await ch.deliver(event('incident.resolved', inc), signal())).toEqual({
      outcome: 'permanent',
      error: 'Jira request IT-17 (status "Waiting for support"): neither the service desk nor the issue\'s workflow offers the transition "resolve this issue"; ' +
        'the service desk offers: "Start progress" (id 11); the workflow offers: "Start progress" (id 11), "Escalate" (id 851). ' +
        'Set resolve_transition to one of them (workflow transitions need the Transition issues permission)',
    });
    expect(jira.server.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`GET ${API}/10042/transition`, `GET ${API}/10042`, `GET ${ISSUE_API}/10042/transitions`]);
    expect(jira.requests[0]).toMatchObject({ status: 'Waiting for support', category: 'NEW', comments: [] });

    // An account that only the service desk API lets see the request: the message says so.
    const customerOnly = await fakeJira({
      workflow: NO_RESOLVE,
      before: (req) => (req.path.startsWith(ISSUE_API) ? { status: 404, body: { errorMessages: ['Issue does not exist or you do not have permission to see it.'], errors: {} } } : undefined),
    });
    const ch2 = channel(customerOnly.server.url);
    const ref2 = await ch2.deliver(event('incident.opened'), signal());
    const inc2 = recordTicket(incident({ status: 'resolved' }), 'jsm', ref2.outcome === 'ok' ? ref2.reference : undefined);
    const result = await ch2.deliver(event('incident.resolved', inc2), signal());
    expect(result.outcome === 'permanent' && result.error).toContain(
      `the workflow offers: none (${ISSUE_API} answered 404: this account cannot see the issue there, an agent account can)`,
    );
  });

  it('sends a Data Center personal access token as a bearer token', async () => {
    const jira = await fakeJira({ authorization: 'Bearer dc-personal-access-token' });
    const ch = channel(jira.server.url, { email: undefined, api_token: undefined, token: 'dc-personal-access-token' });
    expect((await ch.deliver(event('incident.opened'), signal())).outcome).toBe('ok');
    expect(jira.server.requests.map((r) => r.headers.authorization)).toEqual(['Bearer dc-personal-access-token', 'Bearer dc-personal-access-token']);
  });
});

describe('jira channel on a Data Center site with an internal CA', () => {
  let ca: TestCa;
  beforeAll(() => {
    ca = testCa();
  });
  afterAll(() => ca.remove());

  it('refuses the certificate permanently without ca_file, saying what to set, and goes through with it', async () => {
    const jira = await fakeJira({ tls: ca.tls, authorization: 'Bearer dc-personal-access-token' });
    const dc = { email: undefined, api_token: undefined, token: 'dc-personal-access-token' };
    const refused = await channel(jira.server.url, dc).deliver(event('incident.opened'), signal());
    expect(refused).toEqual({
      outcome: 'permanent',
      error: expect.stringMatching(
        /^Jira GET https:\/\/127\.0\.0\.1:\d+\/rest\/servicedeskapi\/request: TLS certificate not accepted \([A-Z_]+: .+\); set the channel's ca_file to the PEM file of the CA that signed it \(or tls_skip_verify: true\)$/,
      ),
    });
    expect(jira.server.requests).toHaveLength(0);

    const trusting = channel(jira.server.url, { ...dc, ca_file: ca.caFile });
    cleanup.push(() => trusting.close!());
    expect(await trusting.deliver(event('incident.opened'), signal())).toEqual({ outcome: 'ok', reference: '10042:IT-17' });
    expect(jira.requests).toHaveLength(1);
  });
});

describe('jira channel failures', () => {
  it('answers permanent with Jira\'s errorMessage or errorMessages on 400, 401 and 403', async () => {
    const jira = await fakeJira({
      before: (req) => (req.method === 'POST' ? { status: 400, body: { errorMessage: 'The request type you are trying to use is not valid for this service desk.', i18nErrorMessage: {} } } : undefined),
    });
    expect(await channel(jira.server.url, { request_type_id: '99' }).deliver(event('incident.opened'), signal())).toEqual({
      outcome: 'permanent',
      error: expect.stringMatching(/Jira POST http:\/\/127\.0\.0\.1:\d+\/rest\/servicedeskapi\/request answered 400: The request type you are trying to use is not valid for this service desk;/),
    });
    expect(await channel(jira.server.url, { api_token: 'expired' }).deliver(event('incident.opened'), signal())).toEqual({
      outcome: 'permanent',
      error: expect.stringMatching(/answered 401: You are not authenticated\. Authentication required to perform this operation; check the channel's credentials \(email and api_token\)/),
    });
    const forbidden = await fakeJira({
      before: () => ({ status: 403, body: { errorMessages: [], errors: { serviceDeskId: 'You do not have permission to access this service desk.' } } }),
    });
    expect(await channel(forbidden.server.url).deliver(event('incident.opened'), signal())).toEqual({
      outcome: 'permanent',
      error: expect.stringMatching(/answered 403: serviceDeskId: You do not have permission to access this service desk; the account lacks a permission/),
    });
  });

  it('answers permanent naming the request when it was deleted', async () => {
    const jira = await fakeJira();
    const inc = incident({ tickets: { jsm: '10999:IT-999' } });
    expect(await channel(jira.server.url).deliver(event('incident.escalated', inc, { tier: 'L2' }), signal())).toEqual({
      outcome: 'permanent',
      error: expect.stringMatching(/answered 404: The request does not exist or you do not have permission to see it; Jira request IT-999 \(issue id 10999\) was deleted/),
    });
  });

  it('answers retryable on 5xx and 429 with Retry-After, when down, and when too slow', async () => {
    const limited = await fakeJira({ before: () => ({ status: 429, headers: { 'retry-after': '7' }, body: 'Rate limit exceeded.' }) });
    expect(await channel(limited.server.url).deliver(event('incident.opened'), signal())).toEqual({
      outcome: 'retryable',
      error: expect.stringMatching(/answered 429: Rate limit exceeded\./),
      retryAfterMs: 7_000,
    });
    const broken = await fakeJira({ before: (req) => (req.method === 'POST' ? { status: 500, body: { errorMessages: ['Internal server error'], errors: {} } } : undefined) });
    expect(await channel(broken.server.url).deliver(event('incident.opened'), signal())).toEqual({
      outcome: 'retryable',
      error: expect.stringMatching(/POST .* answered 500: Internal server error/),
    });
    expect(await channel(`http://127.0.0.1:${await closedPort()}`).deliver(event('incident.opened'), signal())).toEqual({
      outcome: 'retryable',
      error: expect.stringMatching(/connection refused/),
    });
    const slow = await vendorServer(() => 'hang');
    cleanup.push(() => slow.close());
    expect(await channel(slow.url, { timeout: '250ms' }).deliver(event('incident.opened'), signal())).toEqual({
      outcome: 'retryable',
      error: expect.stringMatching(/no answer within 250 ms/),
    });
  });
});

describe('jiraChannelSchema', () => {
  const base = { id: 'jsm', type: 'jira', url: 'https://example.atlassian.invalid', service_desk_id: 4, request_type_id: 25 };
  it('takes ids as numbers or digit strings and fills defaults', () => {
    expect(jiraChannelSchema.parse({ ...base, token: 't' })).toMatchObject({ service_desk_id: '4', request_type_id: '25', public_comments: false, timeout: '20s' });
    expect(jiraChannelSchema.safeParse({ ...base, token: 't', service_desk_id: 'IT' }).success).toBe(false);
  });
  it('says what is missing when the authentication is', () => {
    expect(jiraChannelSchema.safeParse(base).error!.issues[0]!.message).toBe(
      'give email and api_token (Jira Cloud) or token (Data Center personal access token)',
    );
    expect(jiraChannelSchema.safeParse({ ...base, email: 'ops@example.org' }).error!.issues[0]).toMatchObject({ path: ['api_token'] });
    expect(jiraChannelSchema.safeParse({ ...base, email: 'e', api_token: 'a', token: 't' }).error!.issues[0]).toMatchObject({ path: ['token'] });
  });
});
