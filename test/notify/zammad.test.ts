import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Incident } from '../../src/domain/incident.js';
import { createChannel, type ChannelConfig } from '../../src/notify/registry.js';
import type { Channel, DeliveryResult, IncidentEventType } from '../../src/notify/types.js';
import { zammadChannelSchema } from '../../src/notify/zammad.js';
import { FakeClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { closedPort } from '../probe-kinds/helpers.js';
import { event, incident, T0 } from './fixtures.js';
import { recordTicket, testCa, vendorServer, type Recorded, type Reply, type TestCa, type VendorServer } from './vendor-server.js';

const TOKEN = 'zammad-agent-token';
const AUTH = `Token token=${TOKEN}`;
const KEY = 'INC-000123.9f86d081884c';
const TITLE = '[INC-000123] Printer 3F offline (Printer 3F)';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((f) => f()));
});

interface ZTicket {
  id: number;
  number: string;
  title: string;
  state: string;
  note: string | null;
  fields: Record<string, unknown>;
  articles: Record<string, unknown>[];
}

/** Zammad's REST API for tickets and articles, answering with the documented shapes. */
async function fakeZammad(opts: { tls?: TestCa['tls']; before?: (req: Recorded) => Reply | undefined } = {}) {
  const tickets: ZTicket[] = [];
  const shape = (t: ZTicket) => ({ id: t.id, group_id: 1, priority_id: 2, state_id: t.state === 'closed' ? 4 : 2, number: t.number, title: t.title, note: t.note, article_count: t.articles.length });
  const server: VendorServer = await vendorServer((req) => {
    const early = opts.before?.(req);
    if (early !== undefined) return early;
    if (req.headers.authorization !== AUTH) return { status: 401, body: { error: 'authentication failed', error_human: 'Authentication failed.' } };
    if (req.method === 'GET' && req.path === '/api/v1/tickets/search') {
      const q = (req.query.query ?? '').toLowerCase();
      const hits = tickets.filter((t) => t.title.toLowerCase().includes(q)).slice(0, Number(req.query.limit ?? 10));
      return {
        status: 200,
        body: { tickets: hits.map((t) => t.id), tickets_count: hits.length, assets: { Ticket: Object.fromEntries(hits.map((t) => [String(t.id), shape(t)])) } },
      };
    }
    if (req.method === 'POST' && req.path === '/api/v1/tickets') {
      const id = 19 + tickets.length;
      const { article, ...fields } = req.body;
      const t: ZTicket = { id, number: String(22000 + id), title: fields.title, state: fields.state ?? 'new', note: fields.note ?? null, fields, articles: [article] };
      tickets.push(t);
      return { status: 201, body: { ...shape(t), article_ids: [30 + id] } };
    }
    if (req.method === 'POST' && req.path === '/api/v1/ticket_articles') {
      const t = tickets.find((x) => x.id === req.body.ticket_id);
      if (!t) return { status: 422, body: { error: 'ticket_id is invalid', error_human: 'Ticket could not be found.' } };
      t.articles.push(req.body);
      return { status: 201, body: { id: 100 + t.articles.length, ticket_id: t.id, ...req.body } };
    }
    const one = /^\/api\/v1\/tickets\/(\d+)$/.exec(req.path);
    if (one && req.method === 'PUT') {
      const t = tickets.find((x) => x.id === Number(one[1]));
      if (!t) return { status: 404, body: { error: `Couldn't find Ticket with 'id'=${one[1]}`, error_human: `Couldn't find Ticket with 'id'=${one[1]}` } };
      if (req.body.state) t.state = req.body.state;
      if (req.body.priority) t.fields.priority = req.body.priority;
      if (req.body.article) t.articles.push(req.body.article);
      return { status: 200, body: shape(t) };
    }
    return { status: 404, body: { error: 'No route matches' } };
  }, { tls: opts.tls });
  cleanup.push(() => server.close());
  return { server, tickets };
}

function channel(url: string, extra: Record<string, unknown> = {}, clock = new FakeClock(T0 + 90_000)): Channel {
  const config: ChannelConfig = zammadChannelSchema.parse({
    id: 'desk',
    type: 'zammad',
    url,
    token: TOKEN,
    group: 'Users',
    customer: 'monitoring@example.org',
    timeout: '2s',
    ...extra,
  });
  return createChannel(config, { clock, logger: silentLogger() });
}

const signal = () => new AbortController().signal;

describe('zammad channel against a Zammad API on loopback', () => {
  it('creates one ticket and follows it through acknowledge, escalation, resolution and reopening', async () => {
    const z = await fakeZammad();
    const ch = channel(z.server.url);
    let inc: Incident = incident();
    const step = async (type: IncidentEventType, changes: Partial<Incident>, extra = {}): Promise<DeliveryResult> => {
      inc = { ...inc, ...changes };
      const result = await ch.deliver(event(type, inc, extra), signal());
      if (result.outcome === 'ok') inc = recordTicket(inc, 'desk', result.reference);
      return result;
    };

    expect(await step('incident.opened', {})).toEqual({ outcome: 'ok', reference: '19:22019' });
    const [search, create] = z.server.requests;
    expect(search).toMatchObject({ method: 'GET', path: '/api/v1/tickets/search', query: { query: 'INC-000123', limit: '20' } });
    expect(create).toMatchObject({ method: 'POST', path: '/api/v1/tickets' });
    expect(create!.body).toEqual({
      title: TITLE,
      group: 'Users',
      customer: 'monitoring@example.org',
      priority: '3 high',
      note: KEY,
      article: { subject: TITLE, body: expect.stringContaining('Target:         Printer 3F (printer printer-3f, site hq)'), content_type: 'text/plain', type: 'note', internal: true },
    });

    expect(await step('incident.acknowledged', { status: 'acknowledged' }, { actor: 'alice', message: 'on it' })).toEqual({ outcome: 'ok' });
    expect(await step('incident.escalated', { tier: 'L2' }, { tier: 'L2' })).toEqual({ outcome: 'ok' });
    expect(await step('incident.resolved', { status: 'resolved' })).toEqual({ outcome: 'ok' });
    expect(await step('incident.reopened', { status: 'open', reopenCount: 1 })).toEqual({ outcome: 'ok' });
    expect(await step('incident.flapping-started', { flapping: true })).toEqual({ outcome: 'ok' });
    expect(await step('incident.resolved', { status: 'resolved', flapping: false })).toEqual({ outcome: 'ok' });

    const later = z.server.requests.slice(2);
    expect(later.map((r) => [r.method, r.path])).toEqual([
      ['PUT', '/api/v1/tickets/19'],
      ['PUT', '/api/v1/tickets/19'],
      ['PUT', '/api/v1/tickets/19'],
      ['PUT', '/api/v1/tickets/19'],
      ['POST', '/api/v1/ticket_articles'],
      ['PUT', '/api/v1/tickets/19'],
    ]);
    expect(z.server.requests.every((r) => r.headers.authorization === AUTH)).toBe(true);
    const note = (subject: string, body: RegExp) => ({ subject, body: expect.stringMatching(body), content_type: 'text/plain', type: 'note', internal: true });
    expect(later[0]!.body).toEqual({ state: 'open', article: note(`Acknowledged: ${TITLE}`, /^Acknowledged: on it\n/) });
    // Escalations carry the priority of the severity now (unchanged here: severe).
    expect(later[1]!.body).toEqual({ priority: '3 high', article: note(`Escalated to L2: ${TITLE}`, /^Escalated to L2\n[\s\S]*tier L2/) });
    expect(later[2]!.body).toEqual({ state: 'closed', article: note(`Resolved: ${TITLE}`, /^Resolved\n/) });
    expect(later[3]!.body).toEqual({ state: 'open', article: note(`Reopened: ${TITLE}`, /^Reopened\n/) });
    expect(later[4]!.body).toEqual({ ticket_id: 19, ...note(`Flapping: ${TITLE}`, /^Flapping\n[\s\S]*\(open, flapping\)/) });
    expect(later[5]!.body.state).toBe('closed');
    expect(z.tickets).toHaveLength(1);
    expect(z.tickets[0]!).toMatchObject({ state: 'closed' });
    expect(z.tickets[0]!.articles).toHaveLength(7);
  });

  it('sends alert data as text/plain articles, as it is: Zammad shows them as text, never as HTML', async () => {
    const z = await fakeZammad();
    const ch = channel(z.server.url);
    const hostile = incident({ lastMessage: '<img src=https://evil.example/pixel.png> [click](https://evil.example/)' });
    expect((await ch.deliver(event('incident.opened', hostile), signal())).outcome).toBe('ok');
    const article = z.server.requests[1]!.body.article;
    expect(article.content_type).toBe('text/plain');
    expect(article.body).toContain('Last message:   <img src=https://evil.example/pixel.png> [click](https://evil.example/)');
  });

  it('creates the ticket when the first event is an escalation, with a customer id and public articles', async () => {
    const z = await fakeZammad();
    const ch = channel(z.server.url, { customer: 42, internal: false, priority: { severe: '2 normal' }, link_base_url: 'https://incidentd.example.invalid/' });
    const result = await ch.deliver(event('incident.escalated', incident({ tier: 'L2' }), { tier: 'L2' }), signal());
    expect(result).toEqual({ outcome: 'ok', reference: '19:22019' });
    const post = z.server.requests[1]!;
    expect(post.body).toMatchObject({ customer_id: 42, priority: '2 normal', article: { internal: false } });
    expect(post.body).not.toHaveProperty('customer');
    expect(post.body).not.toHaveProperty('state');
    expect(post.body.article.body).toContain('Created by incidentd (Escalated to L2');
    expect(post.body.article.body).toContain('Details:        https://incidentd.example.invalid/incidents/INC-000123\n');

    const acked = await ch.deliver(event('incident.acknowledged', incident({ number: 'INC-000124', status: 'acknowledged' })), signal());
    expect(acked).toEqual({ outcome: 'ok', reference: '20:22020' });
    expect(z.tickets[1]!.state).toBe('open');
  });

  it('finds the ticket an earlier try created and ignores look-alikes, instead of creating a second', async () => {
    const z = await fakeZammad();
    const decoy = (id: number, title: string, note: string | null): ZTicket => ({ id, number: String(22000 + id), title, state: 'open', note, fields: {}, articles: [] });
    z.tickets.push(
      decoy(3, `Re: ${TITLE}`, null),
      decoy(4, TITLE, 'INC-000123.0123456789ab'), // another incidentd installation's INC-000123
      decoy(7, TITLE, KEY),
    );
    const ch = channel(z.server.url);
    expect(await ch.deliver(event('incident.opened'), signal())).toEqual({ outcome: 'ok', reference: '7:22007' });
    expect(z.server.requests.map((r) => r.method)).toEqual(['GET']);

    const resolved = await ch.deliver(event('incident.resolved', incident({ status: 'resolved' })), signal());
    expect(resolved).toEqual({ outcome: 'ok', reference: '7:22007' });
    expect(z.server.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /api/v1/tickets/search', 'GET /api/v1/tickets/search', 'PUT /api/v1/tickets/7']);
    expect(z.tickets.find((t) => t.id === 7)!.state).toBe('closed');
  });
});

describe('zammad channel and what people do', () => {
  it('a person’s escalation, severity change and reopening reach the ticket as notes naming who and why', async () => {
    const z = await fakeZammad();
    const ch = channel(z.server.url);
    let inc: Incident = incident({ severity: 'medium', priority: 'P5' });
    const opened = await ch.deliver(event('incident.opened', inc), signal());
    inc = recordTicket(inc, 'desk', opened.outcome === 'ok' ? opened.reference : undefined);
    // The events as the commands write them (src/incidents/actions.ts): the person is the actor, the reason the message.
    inc = { ...inc, tier: 'L3' };
    await ch.deliver(event('incident.escalated', inc, { actor: 'Erin Engineer', message: 'escalated by hand from L1 to L3: floor 3 cannot print', tier: 'L3' }), signal());
    inc = { ...inc, severity: 'major', impact: 'site', priority: 'P1' };
    const raise = 'severity raised from medium to major, impact changed from single-user to site, priority P5 → P1: the print server is down';
    await ch.deliver(event('incident.escalated', inc, { actor: 'Erin Engineer', message: raise, tier: 'L3' }), signal());
    inc = { ...inc, status: 'resolved' };
    await ch.deliver(event('incident.resolved', inc, { actor: 'Alex Agent', message: 'replaced the fuser unit' }), signal());
    inc = { ...inc, status: 'open', reopenCount: 1 };
    await ch.deliver(event('incident.reopened', inc, { actor: 'Erin Engineer', message: 'still jams', tier: 'L3' }), signal());

    const notes = z.tickets[0]!.articles.slice(1).map((a) => String(a.body));
    expect(notes).toHaveLength(4);
    expect(notes[0]).toMatch(/^Escalated to L3: escalated by hand from L1 to L3: floor 3 cannot print\n/);
    expect(notes[1]).toContain(`Escalated to L3: ${raise}`);
    expect(notes[1]).toContain('Priority:     P1 (severity major, impact site), tier L3');
    expect(notes[2]).toMatch(/^Resolved: replaced the fuser unit\n/);
    expect(notes[3]).toMatch(/^Reopened: still jams\n/);
    for (const [i, who] of ['Erin Engineer', 'Erin Engineer', 'Alex Agent', 'Erin Engineer'].entries()) {
      expect(notes[i]).toMatch(new RegExp(`\nBy: +${who} at `));
    }
    // The raise moved the ticket's priority; the reopening its state.
    expect(z.tickets[0]!.fields.priority).toBe('3 high');
    expect(z.tickets[0]!.state).not.toBe('closed');
  });
});

describe('zammad channel when incidentd raises the severity', () => {
  it('sets the priority of the new severity with the escalation note, in one request', async () => {
    const z = await fakeZammad();
    const ch = channel(z.server.url, { priority: { major: '4 urgent' } });
    const minor = incident({ severity: 'minor', priority: 'P4' });
    const opened = await ch.deliver(event('incident.opened', minor), signal());
    expect(z.tickets[0]!.fields.priority).toBe('1 low');

    const raised: Incident = { ...minor, severity: 'major', priority: 'P1', tier: 'L2' };
    const major = recordTicket(raised, 'desk', opened.outcome === 'ok' ? opened.reference : undefined);
    expect(await ch.deliver(event('incident.escalated', major, { tier: 'L2', message: 'severity raised to major' }), signal())).toEqual({ outcome: 'ok' });
    const put = z.server.requests.at(-1)!;
    expect(put).toMatchObject({ method: 'PUT', path: '/api/v1/tickets/19' });
    expect(put.body).toEqual({
      priority: '4 urgent',
      article: {
        subject: `Escalated to L2: ${TITLE}`,
        body: expect.stringMatching(/^Escalated to L2: severity raised to major\n[\s\S]*P1 \(severity major, impact site\)/),
        content_type: 'text/plain',
        type: 'note',
        internal: true,
      },
    });
    expect(z.tickets[0]!.fields.priority).toBe('4 urgent');
    expect(z.tickets[0]!.articles).toHaveLength(2);

    // Other notes leave the priority alone (an agent may have changed it).
    await ch.deliver(event('incident.flapping-started', { ...major, flapping: true }), signal());
    await ch.deliver(event('incident.acknowledged', { ...major, status: 'acknowledged' }), signal());
    expect(z.server.requests.slice(-2).map((r) => r.body.priority)).toEqual([undefined, undefined]);
  });
});

describe('zammad channel with an internal CA', () => {
  let ca: TestCa;
  beforeAll(() => {
    ca = testCa();
  });
  afterAll(() => ca.remove());

  it('refuses the certificate permanently without ca_file, saying what to set, and goes through with it', async () => {
    const z = await fakeZammad({ tls: ca.tls });
    const refused = await channel(z.server.url).deliver(event('incident.opened'), signal());
    expect(refused).toEqual({
      outcome: 'permanent',
      error: expect.stringMatching(
        /^Zammad GET https:\/\/127\.0\.0\.1:\d+\/api\/v1\/tickets\/search: TLS certificate not accepted \([A-Z_]+: .+\); set the channel's ca_file to the PEM file of the CA that signed it \(or tls_skip_verify: true\)$/,
      ),
    });
    expect(z.server.requests).toHaveLength(0);

    const trusting = channel(z.server.url, { ca_file: ca.caFile });
    cleanup.push(() => trusting.close!());
    expect(await trusting.deliver(event('incident.opened'), signal())).toEqual({ outcome: 'ok', reference: '19:22019' });
    expect(z.tickets).toHaveLength(1);
  });
});

describe('zammad channel failures', () => {
  it('answers permanent with Zammad\'s error_human on 422 and 401', async () => {
    const z = await fakeZammad({
      before: (req) =>
        req.method === 'POST' ? { status: 422, body: { error: "No lookup value found for 'group': \"Userz\"", error_human: "No lookup value found for 'group': \"Userz\"" } } : undefined,
    });
    expect(await channel(z.server.url, { group: 'Userz' }).deliver(event('incident.opened'), signal())).toEqual({
      outcome: 'permanent',
      error: expect.stringMatching(/Zammad POST http:\/\/127\.0\.0\.1:\d+\/api\/v1\/tickets answered 422: No lookup value found for 'group': "Userz"/),
    });
    expect(await channel(z.server.url, { token: 'revoked-token' }).deliver(event('incident.opened'), signal())).toEqual({
      outcome: 'permanent',
      error: expect.stringMatching(/answered 401: Authentication failed; check the channel's credentials \(token\)/),
    });
  });

  it('answers permanent naming the ticket when it was deleted', async () => {
    const z = await fakeZammad();
    const inc = incident({ status: 'resolved', tickets: { desk: '99:22099' } });
    expect(await channel(z.server.url).deliver(event('incident.resolved', inc), signal())).toEqual({
      outcome: 'permanent',
      error: expect.stringMatching(/answered 404: Couldn't find Ticket with 'id'=99; Zammad ticket #22099 \(id 99\) was deleted/),
    });
  });

  it('answers retryable on 5xx and 429 with Retry-After, when down, and when too slow', async () => {
    const busy = await fakeZammad({ before: () => ({ status: 502, body: '<html><h1>502 Bad Gateway</h1></html>' }) });
    expect(await channel(busy.server.url).deliver(event('incident.opened'), signal())).toEqual({
      outcome: 'retryable',
      error: expect.stringMatching(/answered 502: <html><h1>502 Bad Gateway/),
    });
    const limited = await fakeZammad({
      before: (req) => (req.method === 'POST' ? { status: 429, headers: { 'retry-after': '12' }, body: { error: 'Too many requests' } } : undefined),
    });
    expect(await channel(limited.server.url).deliver(event('incident.opened'), signal())).toEqual({
      outcome: 'retryable',
      error: expect.stringMatching(/answered 429: Too many requests/),
      retryAfterMs: 12_000,
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

describe('zammadChannelSchema', () => {
  const base = { id: 'desk', type: 'zammad', url: 'https://helpdesk.example.invalid', token: 't', group: 'Users', customer: 'm@example.org' };
  it('fills defaults', () => {
    expect(zammadChannelSchema.parse(base)).toMatchObject({
      priority: { minor: '1 low', medium: '2 normal', severe: '3 high', major: '3 high' },
      internal: true,
      acknowledge_state: 'open',
      close_state: 'closed',
      reopen_state: 'open',
      timeout: '20s',
    });
  });
  it('rejects a missing or empty token, a missing group, and misspelt keys', () => {
    const { token: _token, ...noToken } = base;
    const missing = zammadChannelSchema.safeParse(noToken);
    expect(missing.error!.issues[0]!.path).toEqual(['token']);
    expect(zammadChannelSchema.safeParse({ ...base, token: '' }).error!.issues[0]!.message).toMatch(/token must not be empty/);
    const { group: _group, ...noGroup } = base;
    expect(zammadChannelSchema.safeParse(noGroup).success).toBe(false);
    expect(zammadChannelSchema.safeParse({ ...base, priorty: {} }).success).toBe(false);
  });
});
