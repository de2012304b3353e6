import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Incident } from '../../src/domain/incident.js';
import { createChannel, type ChannelConfig } from '../../src/notify/registry.js';
import { servicenowChannelSchema } from '../../src/notify/servicenow.js';
import type { Channel, DeliveryResult, IncidentEventType } from '../../src/notify/types.js';
import { FakeClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { closedPort } from '../probe-kinds/helpers.js';
import { event, incident, T0 } from './fixtures.js';
import { recordTicket, testCa, vendorServer, type Recorded, type Reply, type TestCa, type VendorServer } from './vendor-server.js';

const BASIC = `Basic ${Buffer.from('incidentd:s3cret-pass').toString('base64')}`;
const KEY = 'INC-000123.9f86d081884c';
const GROUP = '287ebd7da9fe198100f92cc8d1d2154e';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((f) => f()));
});

interface SnRecord {
  sys_id: string;
  number: string;
  fields: Record<string, string>;
}

/**
 * A ServiceNow Table API for the incident table, answering with the documented shapes: records
 * as `{ result }`, errors as `{ error: { message, detail }, status: "failure" }`.
 */
async function fakeServiceNow(opts: { authorization?: string; tls?: TestCa['tls']; before?: (req: Recorded) => Reply | undefined } = {}) {
  const records: SnRecord[] = [];
  const authorization = opts.authorization ?? BASIC;
  const failure = (status: number, message: string, detail: string | null): Reply => ({
    status,
    body: { error: { message, detail }, status: 'failure' },
  });
  const pick = (r: SnRecord, fields: string | undefined) =>
    Object.fromEntries((fields ?? 'sys_id,number').split(',').map((f) => [f, f === 'sys_id' ? r.sys_id : f === 'number' ? r.number : (r.fields[f] ?? '')]));
  const server: VendorServer = await vendorServer((req) => {
    const early = opts.before?.(req);
    if (early !== undefined) return early;
    if (req.headers.authorization !== authorization) return failure(401, 'User Not Authenticated', 'Required to provide Auth information');
    if (req.path === '/api/now/table/incident' && req.method === 'GET') {
      const m = /^correlation_id=([^^]*)\^ORDERBYsys_created_on$/.exec(req.query.sysparm_query ?? '');
      const hits = records.filter((r) => m !== null && r.fields.correlation_id === m[1]);
      return { status: 200, body: { result: hits.slice(0, Number(req.query.sysparm_limit ?? 10000)).map((r) => pick(r, req.query.sysparm_fields)) } };
    }
    if (req.path === '/api/now/table/incident' && req.method === 'POST') {
      const n = records.length + 1;
      const rec = { sys_id: `${'a'.repeat(24)}${String(n).padStart(8, '0')}`, number: `INC00100${String(n).padStart(2, '0')}`, fields: { state: '1', ...req.body } };
      records.push(rec);
      return { status: 201, body: { result: pick(rec, req.query.sysparm_fields) }, headers: { location: `/api/now/table/incident/${rec.sys_id}` } };
    }
    const one = /^\/api\/now\/table\/incident\/([0-9a-f]{32})$/.exec(req.path);
    if (one && req.method === 'PATCH') {
      const rec = records.find((r) => r.sys_id === one[1]);
      if (!rec) return failure(404, 'No Record found', "Record doesn't exist or ACL restricts the record retrieval");
      Object.assign(rec.fields, req.body);
      return { status: 200, body: { result: pick(rec, req.query.sysparm_fields) } };
    }
    return failure(400, 'Requested URI does not represent any resource', null);
  }, { tls: opts.tls });
  cleanup.push(() => server.close());
  return { server, records };
}

function channel(url: string, extra: Record<string, unknown> = {}, clock = new FakeClock(T0 + 90_000)): Channel {
  const config: ChannelConfig = servicenowChannelSchema.parse({
    id: 'snow',
    type: 'servicenow',
    instance_url: url,
    user: 'incidentd',
    password: 's3cret-pass',
    assignment_group: GROUP,
    timeout: '2s',
    ...extra,
  });
  return createChannel(config, { clock, logger: silentLogger() });
}

const signal = () => new AbortController().signal;

describe('servicenow channel against a Table API on loopback', () => {
  it('creates one incident record and follows it through acknowledge, escalation, resolution and reopening', async () => {
    const sn = await fakeServiceNow();
    const ch = channel(sn.server.url);
    let inc: Incident = incident();
    const step = async (type: IncidentEventType, changes: Partial<Incident>, extra = {}): Promise<DeliveryResult> => {
      inc = { ...inc, ...changes };
      const result = await ch.deliver(event(type, inc, extra), signal());
      if (result.outcome === 'ok') inc = recordTicket(inc, 'snow', result.reference);
      return result;
    };

    const opened = await step('incident.opened', {});
    expect(sn.records).toHaveLength(1);
    const rec = sn.records[0]!;
    expect(opened).toEqual({ outcome: 'ok', reference: `${rec.sys_id}:INC0010001` });
    const [lookup, create] = sn.server.requests;
    expect(lookup).toMatchObject({
      method: 'GET',
      path: '/api/now/table/incident',
      query: { sysparm_query: `correlation_id=${KEY}^ORDERBYsys_created_on`, sysparm_fields: 'sys_id,number', sysparm_limit: '1' },
    });
    expect(lookup!.headers.authorization).toBe(BASIC);
    expect(create).toMatchObject({ method: 'POST', path: '/api/now/table/incident', query: { sysparm_fields: 'sys_id,number' } });
    expect(create!.headers.authorization).toBe(BASIC);
    expect(create!.headers['content-type']).toMatch(/^application\/json/);
    expect(create!.body).toEqual({
      short_description: '[INC-000123] Printer 3F offline (Printer 3F)',
      description: expect.stringContaining('Priority:       P2 (severity severe, impact site)'),
      urgency: '2',
      impact: '1',
      correlation_id: KEY,
      correlation_display: 'incidentd',
      assignment_group: GROUP,
    });
    expect(create!.body.description).toContain('Check the power and the network cable');
    expect(create!.body.description).toContain(`incidentd key: ${KEY}`);

    const patches = () => sn.server.requests.slice(2);
    expect(await step('incident.acknowledged', { status: 'acknowledged', acknowledgedBy: 'alice' }, { actor: 'alice', message: 'on it' })).toEqual({ outcome: 'ok' });
    expect(await step('incident.escalated', { tier: 'L2' }, { tier: 'L2' })).toEqual({ outcome: 'ok' });
    expect(await step('incident.resolved', { status: 'resolved' }, { message: 'recovered after 3 ok checks' })).toEqual({ outcome: 'ok' });
    expect(await step('incident.reopened', { status: 'open', reopenCount: 1 })).toEqual({ outcome: 'ok' });
    expect(await step('incident.resolved', { status: 'resolved' })).toEqual({ outcome: 'ok' });

    expect(patches().map((r) => [r.method, r.path, r.headers.authorization])).toEqual(
      Array(5).fill(['PATCH', `/api/now/table/incident/${rec.sys_id}`, BASIC]),
    );
    const bodies = patches().map((r) => r.body);
    expect(bodies[0]).toEqual({ state: '2', work_notes: expect.stringMatching(/^Acknowledged: on it\n/) });
    expect(bodies[0].work_notes).toContain('By:           alice');
    // Escalations carry the urgency and impact of the severity now (unchanged here: severe, site).
    expect(bodies[1]).toEqual({ work_notes: expect.stringMatching(/^Escalated to L2\n[\s\S]*tier L2/), urgency: '2', impact: '1' });
    expect(bodies[2]).toEqual({ state: '6', close_code: 'Solution provided', close_notes: expect.stringMatching(/^Resolved: recovered after 3 ok checks/) });
    expect(bodies[3]).toEqual({ state: '2', work_notes: expect.stringMatching(/^Reopened\n/) });
    expect(bodies[4]).toEqual({ state: '6', close_code: 'Solution provided', close_notes: expect.stringMatching(/^Resolved\n/) });
    expect(sn.records).toHaveLength(1);
    expect(rec.fields.state).toBe('6');
  });

  it('sends alert data as literal text: [code] tags in it cannot put HTML into the journal', async () => {
    const sn = await fakeServiceNow();
    const ch = channel(sn.server.url);
    const hostile = incident({ lastMessage: 'disk [code]<img src=x onerror=alert(1)>[/code] and [CODE ]<b>x</b>[/ code]' });
    const opened = await ch.deliver(event('incident.opened', hostile), signal());
    expect(opened.outcome).toBe('ok');
    const description: string = sn.server.requests[1]!.body.description;
    const inc = recordTicket(hostile, 'snow', opened.outcome === 'ok' ? opened.reference : undefined);
    expect((await ch.deliver(event('incident.escalated', inc, { tier: 'L2', message: '[code]<script>x()</script>[/code]' }), signal())).outcome).toBe('ok');
    const note: string = sn.server.requests[2]!.body.work_notes;
    for (const text of [description, note]) {
      expect(text).not.toMatch(/\[\s*\/?\s*code\s*\]/i);
      // Still readable: the tag is broken by an invisible space, the rest is as sent.
      expect(text.replace(/\u200b/g, '')).toContain('disk [code]<img src=x onerror=alert(1)>[/code] and [CODE ]<b>x</b>[/ code]');
    }
    expect(note.replace(/\u200b/g, '')).toMatch(/^Escalated to L2: \[code\]<script>x\(\)<\/script>\[\/code\]\n/);
  });

  it('creates the record when the first event it hears is an escalation, and one already resolved when that comes first', async () => {
    const sn = await fakeServiceNow();
    const ch = channel(sn.server.url, { note_field: 'comments', close_code: 'Solved (Permanently)', resolve_state: 7 });
    const escalated = await ch.deliver(event('incident.escalated', incident({ tier: 'L3' }), { tier: 'L3' }), signal());
    expect(escalated).toEqual({ outcome: 'ok', reference: `${sn.records[0]!.sys_id}:INC0010001` });
    const post = sn.server.requests.find((r) => r.method === 'POST')!;
    expect(post.body.description).toContain('Tier:           L3');
    expect(post.body.description).toContain('Created by incidentd (Escalated to L3');
    expect(post.body).not.toHaveProperty('state');

    const other = incident({ number: 'INC-000124', fingerprint: 'ffeeddccbbaa99887766', status: 'resolved' });
    const resolved = await ch.deliver(event('incident.resolved', other), signal());
    expect(resolved.outcome).toBe('ok');
    expect(sn.records[1]!.fields).toMatchObject({
      correlation_id: 'INC-000124.ffeeddccbbaa',
      state: '7',
      close_code: 'Solved (Permanently)',
      close_notes: expect.stringMatching(/^Resolved\n/),
    });
  });

  it('finds the record an earlier try created (its answer lost in a crash) instead of creating a second', async () => {
    const sn = await fakeServiceNow();
    sn.records.push({ sys_id: 'b'.repeat(32), number: 'INC0010077', fields: { correlation_id: KEY, state: '1' } });
    const ch = channel(sn.server.url);

    const again = await ch.deliver(event('incident.opened'), signal());
    expect(again).toEqual({ outcome: 'ok', reference: `${'b'.repeat(32)}:INC0010077` });
    expect(sn.server.requests.map((r) => r.method)).toEqual(['GET']);

    // A later event whose delivery went the same way is added to the found record.
    const escalated = await ch.deliver(event('incident.escalated', incident(), { tier: 'L2' }), signal());
    expect(escalated).toEqual({ outcome: 'ok', reference: `${'b'.repeat(32)}:INC0010077` });
    expect(sn.server.requests.map((r) => r.method)).toEqual(['GET', 'GET', 'PATCH']);
    expect(sn.records).toHaveLength(1);
    expect(sn.records[0]!.fields.work_notes).toMatch(/^Escalated to L2/);
  });

  it('sets the urgency of a raised severity with the escalation note, and leaves it alone on other updates', async () => {
    const sn = await fakeServiceNow();
    const ch = channel(sn.server.url);
    const medium = incident({ severity: 'medium', impact: 'multiple-users', priority: 'P3' });
    const opened = await ch.deliver(event('incident.opened', medium), signal());
    expect(sn.records[0]!.fields).toMatchObject({ urgency: '3', impact: '2' });

    // incidentd raised the severity to major, then escalated: the record follows.
    const raised: Incident = { ...medium, severity: 'major', priority: 'P1', tier: 'L2' };
    const major = recordTicket(raised, 'snow', opened.outcome === 'ok' ? opened.reference : undefined);
    expect(await ch.deliver(event('incident.escalated', major, { tier: 'L2', message: 'severity raised to major' }), signal())).toEqual({ outcome: 'ok' });
    const patch = sn.server.requests.at(-1)!;
    expect(patch).toMatchObject({ method: 'PATCH', path: `/api/now/table/incident/${sn.records[0]!.sys_id}` });
    expect(patch.body).toEqual({
      work_notes: expect.stringMatching(/^Escalated to L2: severity raised to major\n[\s\S]*P1 \(severity major, impact multiple-users\)/),
      urgency: '1',
      impact: '2',
    });
    expect(sn.records[0]!.fields).toMatchObject({ urgency: '1', impact: '2' });

    // Acknowledgement and flapping notes do not touch urgency or impact (a person may have changed them).
    await ch.deliver(event('incident.acknowledged', { ...major, status: 'acknowledged' }, { actor: 'alice' }), signal());
    await ch.deliver(event('incident.flapping-started', { ...major, flapping: true }), signal());
    for (const r of sn.server.requests.slice(-2)) expect(Object.keys(r.body)).toEqual(expect.not.arrayContaining(['urgency', 'impact']));
  });

  it('sends an OAuth token as a bearer token', async () => {
    const sn = await fakeServiceNow({ authorization: 'Bearer oauth-access-token' });
    const ch = channel(sn.server.url, { user: undefined, password: undefined, token: 'oauth-access-token' });
    expect((await ch.deliver(event('incident.opened'), signal())).outcome).toBe('ok');
    expect(sn.server.requests.map((r) => r.headers.authorization)).toEqual(['Bearer oauth-access-token', 'Bearer oauth-access-token']);
  });
});

describe('servicenow channel failures', () => {
  it('answers permanent with ServiceNow\'s own message on 400, 401 and 403', async () => {
    const sn = await fakeServiceNow({
      before: (req) =>
        req.method === 'POST'
          ? { status: 400, body: { error: { message: 'Invalid value for field urgency', detail: 'urgency must be 1, 2 or 3' }, status: 'failure' } }
          : undefined,
    });
    const bad = await channel(sn.server.url).deliver(event('incident.opened'), signal());
    expect(bad).toEqual({
      outcome: 'permanent',
      error: expect.stringMatching(/POST http:\/\/127\.0\.0\.1:\d+\/api\/now\/table\/incident answered 400: Invalid value for field urgency: urgency must be 1, 2 or 3/),
    });

    const wrongPassword = await channel(sn.server.url, { password: 'not-it' }).deliver(event('incident.opened'), signal());
    expect(wrongPassword).toEqual({
      outcome: 'permanent',
      error: expect.stringMatching(/answered 401: User Not Authenticated: Required to provide Auth information; check the channel's credentials \(user and password\)/),
    });

    const acl = await fakeServiceNow({
      before: () => ({ status: 403, body: { error: { message: 'Operation Failed', detail: 'ACL Exception Insert Failed due to security constraints' }, status: 'failure' } }),
    });
    const denied = await channel(acl.server.url).deliver(event('incident.opened'), signal());
    expect(denied).toEqual({ outcome: 'permanent', error: expect.stringMatching(/403: Operation Failed: ACL Exception Insert Failed.*lacks a permission/) });
  });

  it('answers permanent naming the record when an update finds it deleted', async () => {
    const sn = await fakeServiceNow();
    const inc = incident({ tickets: { snow: `${'c'.repeat(32)}:INC0010042` } });
    const result = await channel(sn.server.url).deliver(event('incident.acknowledged', inc), signal());
    expect(result).toEqual({
      outcome: 'permanent',
      error: expect.stringMatching(/answered 404: No Record found.*; ServiceNow incident INC0010042 \(sys_id c{32}\) was deleted/),
    });
    expect(sn.server.requests.map((r) => r.method)).toEqual(['PATCH']);
  });

  it('answers retryable on 5xx and 429, with Retry-After in seconds or as a date', async () => {
    const down = await fakeServiceNow({
      before: () => ({ status: 503, body: '<html><body>Instance hibernating</body></html>' }),
    });
    expect(await channel(down.server.url).deliver(event('incident.opened'), signal())).toEqual({
      outcome: 'retryable',
      error: expect.stringMatching(/GET .*\/api\/now\/table\/incident answered 503: <html><body>Instance hibernating/),
    });

    const limited = await fakeServiceNow({
      before: (req) => (req.method === 'POST' ? { status: 429, headers: { 'retry-after': '30' }, body: { error: { message: 'Rate limit exceeded', detail: null }, status: 'failure' } } : undefined),
    });
    expect(await channel(limited.server.url).deliver(event('incident.opened'), signal())).toEqual({
      outcome: 'retryable',
      error: expect.stringMatching(/answered 429: Rate limit exceeded/),
      retryAfterMs: 30_000,
    });

    const clock = new FakeClock(T0);
    const busy = await fakeServiceNow({
      before: () => ({ status: 500, headers: { 'retry-after': new Date(T0 + 45_000).toUTCString() }, body: { error: { message: 'Transaction cancelled', detail: 'maximum execution time exceeded' }, status: 'failure' } }),
    });
    expect(await channel(busy.server.url, {}, clock).deliver(event('incident.opened'), signal())).toEqual({
      outcome: 'retryable',
      error: expect.stringMatching(/answered 500: Transaction cancelled: maximum execution time exceeded/),
      retryAfterMs: 45_000,
    });
  });

  it('answers retryable when the instance is down or does not answer in time', async () => {
    const refused = await channel(`http://127.0.0.1:${await closedPort()}`).deliver(event('incident.opened'), signal());
    expect(refused).toEqual({ outcome: 'retryable', error: expect.stringMatching(/connection refused/) });

    const slow = await vendorServer(() => 'hang');
    cleanup.push(() => slow.close());
    const timedOut = await channel(slow.url, { timeout: '300ms' }).deliver(event('incident.opened'), signal());
    expect(timedOut).toEqual({ outcome: 'retryable', error: expect.stringMatching(/no answer within 300 ms/) });
    expect(slow.requests).toHaveLength(1);
  });

  it('answers permanent when a 2xx answer is not a ServiceNow record (a login page, a wrong url)', async () => {
    const sso = await vendorServer(() => ({ status: 200, body: '<html>Sign in with your company account</html>' }));
    cleanup.push(() => sso.close());
    expect(await channel(sso.url).deliver(event('incident.opened'), signal())).toEqual({
      outcome: 'permanent',
      error: expect.stringMatching(/answered 200 without a result list: <html>Sign in.*check that the url points at ServiceNow/),
    });
  });
});

describe('servicenow channel behind a proxy with an internal CA', () => {
  let ca: TestCa;
  beforeAll(() => {
    ca = testCa();
  });
  afterAll(() => ca.remove());

  it('refuses the certificate permanently without ca_file, saying what to set, and goes through with it', async () => {
    const sn = await fakeServiceNow({ tls: ca.tls });
    expect(sn.server.url).toMatch(/^https:\/\//);
    const refused = await channel(sn.server.url).deliver(event('incident.opened'), signal());
    expect(refused).toEqual({
      outcome: 'permanent',
      error: expect.stringMatching(
        /^ServiceNow GET https:\/\/127\.0\.0\.1:\d+\/api\/now\/table\/incident: TLS certificate not accepted \([A-Z_]+: .+\); set the channel's ca_file to the PEM file of the CA that signed it \(or tls_skip_verify: true\)$/,
      ),
    });
    expect(sn.server.requests).toHaveLength(0);

    const trusting = channel(sn.server.url, { ca_file: ca.caFile });
    cleanup.push(() => trusting.close!());
    const ok = await trusting.deliver(event('incident.opened'), signal());
    expect(ok).toEqual({ outcome: 'ok', reference: `${sn.records[0]!.sys_id}:INC0010001` });
    expect(sn.server.requests.map((r) => r.method)).toEqual(['GET', 'POST']);
  });
});

describe('servicenowChannelSchema', () => {
  const base = { id: 'snow', type: 'servicenow', instance_url: 'https://example.service-now.invalid' };
  it('fills defaults close to incidentd\'s priority matrix', () => {
    expect(servicenowChannelSchema.parse({ ...base, token: 't' })).toMatchObject({
      urgency: { minor: 3, medium: 3, severe: 2, major: 1 },
      impact: { 'single-user': 3, 'multiple-users': 2, site: 1, organisation: 1 },
      note_field: 'work_notes',
      resolve_state: 6,
      close_code: 'Solution provided',
      reopen_state: 2,
      timeout: '20s',
    });
  });
  it('says what is missing when the authentication is', () => {
    const none = servicenowChannelSchema.safeParse(base);
    expect(none.success).toBe(false);
    expect(none.error!.issues[0]!.message).toBe('give user and password (basic authentication) or token (OAuth bearer)');
    const half = servicenowChannelSchema.safeParse({ ...base, user: 'incidentd' });
    expect(half.error!.issues[0]).toMatchObject({ path: ['password'], message: 'user and password go together' });
    const both = servicenowChannelSchema.safeParse({ ...base, user: 'u', password: 'p', token: 't' });
    expect(both.error!.issues[0]).toMatchObject({ path: ['token'] });
    expect(servicenowChannelSchema.safeParse({ ...base, token: '' }).success).toBe(false);
  });
  it('rejects urgencies outside 1..3, misspelt keys and a non-http url', () => {
    expect(servicenowChannelSchema.safeParse({ ...base, token: 't', urgency: { major: 0 } }).success).toBe(false);
    expect(servicenowChannelSchema.safeParse({ ...base, token: 't', urgency: { majr: 1 } }).success).toBe(false);
    expect(servicenowChannelSchema.safeParse({ ...base, token: 't', assignment_grup: GROUP }).success).toBe(false);
    expect(servicenowChannelSchema.safeParse({ ...base, token: 't', instance_url: 'ftp://example.service-now.invalid' }).success).toBe(false);
  });
});
