// A person escalates, changes severity or impact, resolves with a note and reopens, through the real
// HTTP API on loopback over a real SQLite file and the real incident manager; the events reach a
// webhook receiver on loopback through the real outbox. Who did it and why shows on the timeline, in
// the answer and in what the receiver gets; the roles and tenants that may not do it are refused.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { principalAuthenticator } from '../../src/api/auth.js';
import { createMetrics, type Metrics } from '../../src/api/metrics.js';
import { buildApi } from '../../src/api/server.js';
import type { ApiToken, EscalationPolicy } from '../../src/config-core/types.js';
import { defaultDaemonConfig } from '../../src/config/load.js';
import type { ApiIncident } from '../../src/domain/serialize.js';
import type { Principal, UserRole } from '../../src/domain/principal.js';
import { escalationContext } from '../../src/incidents/escalation.js';
import { Escalator } from '../../src/incidents/escalator.js';
import { Outbox } from '../../src/notify/outbox.js';
import { channelConfigSchema, createChannel } from '../../src/notify/registry.js';
import type { Channel } from '../../src/notify/types.js';
import { FakeClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { harness, rule, sig, target, type Harness } from '../incidents/harness.js';
import { vendorServer, type Recorded, type VendorServer } from '../notify/vendor-server.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 30, 9, 0, 0);
const TOKEN: ApiToken = { name: 'ops-bot', token: 'tok-ops-actions-3f9a1c', role: 'write' };
const TIERS = ['l1', 'l2', 'l3'];

/** Each tier hears on its own webhook channel; 24×7, so the SLA times are plain sums. */
function policy(): EscalationPolicy {
  const p = structuredClone(defaultDaemonConfig().escalation);
  p.tiers.L1 = { channels: ['l1'], escalateAfterMs: 30 * MIN, next: 'L2' };
  p.tiers.L2 = { channels: ['l2'], escalateAfterMs: 30 * MIN, next: 'L3' };
  p.tiers.L3 = { channels: ['l3'], escalateAfterMs: 30 * MIN, next: null };
  for (const s of ['minor', 'medium', 'severe', 'major'] as const) p.severities[s].businessHours = false;
  return p;
}

/** Signs a request in as the user the x-test-user header names: `role:Full Name[:tenant]`. */
function testUser(request: FastifyRequest): Promise<Principal | null> {
  const header = request.headers['x-test-user'];
  if (typeof header !== 'string') return Promise.resolve(null);
  const [role, name, tenant] = header.split(':') as [UserRole, string, string | undefined];
  return Promise.resolve({
    kind: 'user',
    id: `u-${name}`,
    name,
    roles: [role],
    tenants: tenant === undefined ? { all: true } : { all: false, tenants: [tenant] },
    sessionId: `s-${name}`,
  });
}

const ENGINEER = { 'x-test-user': 'engineer:Erin Engineer' };
const AGENT = { 'x-test-user': 'agent:Alex Agent' };

let h: Harness;
let app: FastifyInstance;
let base: string;
let receiver: VendorServer;
let outbox: Outbox;
let metrics: Metrics;
/** What the manager logged, one JSON line each. */
let logLines: string[];
let clock: FakeClock;
const channels = new Map<string, Channel>();
const printer = target('printer-3f', [], 'printer');

beforeEach(async () => {
  clock = new FakeClock(T0);
  receiver = await vendorServer(() => ({ status: 200, body: { ok: true } }));
  for (const id of TIERS) {
    const config = channelConfigSchema.parse({ id, type: 'webhook', url: `${receiver.url}/${id}`, secret: 'a-webhook-secret-0123456789' });
    channels.set(id, createChannel(config, { clock, logger: silentLogger() }));
  }
  metrics = createMetrics({ countActive: () => h.store.countActive() });
  logLines = [];
  h = await harness({
    logger: pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) }),
    rules: [rule({ id: 'printer-down', when: 'check.type == "icmp"', classify: { category: 'printing', severity: 'medium', impact: 'single-user', tier: 'L1' } })],
    notifyChannels: TIERS,
    escalation: policy(),
    clock,
    hooks: { escalated: (tier, severity) => metrics.escalations.inc({ tier, severity }) },
  });
  outbox = new Outbox({ store: h.store, channels: () => channels, clock, logger: silentLogger(), pollMs: 3_600_000 });
  outbox.start();
  app = buildApi({
    store: h.store,
    commands: h.manager,
    tokens: () => [TOKEN],
    authenticators: [principalAuthenticator('test-user', testUser)],
    ready: async () => ({ ready: true, checks: {} }),
    metrics,
    logger: silentLogger(),
    clock,
  });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
  // The printer fails: INC-000001 opens at L1 (medium) and L1 hears of it.
  await h.manager.submit(sig(printer, 'fail', T0));
  await delivered();
});

afterEach(async () => {
  await app.close();
  await outbox.stop();
  for (const ch of channels.values()) await ch.close?.();
  channels.clear();
  await h.close();
  await receiver.close();
});

/** The escalation sweep over the same store, policy and channels. */
function sweeper(): Escalator {
  return new Escalator({ store: h.store, clock, logger: silentLogger(), context: () => escalationContext(policy(), TIERS) });
}

/** Moves the clock to T0 + ms. */
async function at(ms: number): Promise<void> {
  await clock.advance(T0 + ms - clock.now());
}

/** Sends everything the outbox holds to the receiver. */
async function delivered(): Promise<void> {
  await outbox.kick();
  expect(await h.store.countDeliveries()).toEqual({ pending: 0, dead: 0 });
}

/** What the receiver got on a tier's channel: the event type, who and why. */
function heard(channel: string): { type: string; actor: string | null; message: string | null; tier: string | null }[] {
  return receiver.requests
    .filter((r: Recorded) => r.path === `/${channel}`)
    .map((r) => ({ type: r.body.type, actor: r.body.actor, message: r.body.message, tier: r.body.tier }));
}

function post(path: string, headers: Record<string, string>, body: unknown): Promise<Response> {
  return fetch(`${base}/api/v1/incidents/INC-000001/${path}`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function ok(res: Response): Promise<ApiIncident> {
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return JSON.parse(text) as ApiIncident;
}

async function refused(res: Response, status: number): Promise<string> {
  const body = (await res.json()) as { message: string };
  expect(res.status, body.message).toBe(status);
  return body.message;
}

describe('escalate by hand', () => {
  it('an engineer escalates an L1 incident to L3: the timeline, the answer and L3’s receiver name them and the reason', async () => {
    await at(5 * MIN);
    const inc = await ok(await post('escalate', ENGINEER, { tier: 'L3', reason: 'the whole 3rd floor cannot print' }));
    expect(inc).toMatchObject({ tier: 'L3', status: 'open', escalation: { level: 1 } });
    // An unacknowledged incident climbs on from L3 after L3's time, as after an automatic climb: L3 is the top, so never.
    expect(inc.escalation.nextEscalationAt).toBeNull();
    expect(inc.timeline!.at(-1)).toEqual({
      at: new Date(T0 + 5 * MIN).toISOString(),
      actor: 'Erin Engineer',
      action: 'escalated',
      message: 'escalated by hand from L1 to L3: the whole 3rd floor cannot print',
    });
    await delivered();
    expect(heard('l3')).toEqual([
      { type: 'incident.escalated', actor: 'Erin Engineer', message: 'escalated by hand from L1 to L3: the whole 3rd floor cannot print', tier: 'L3' },
    ]);
    // Whoever heard of the opening hears of the escalation too.
    expect(heard('l1').map((e) => `${e.type} ${e.actor}`)).toEqual(['incident.opened null', 'incident.escalated Erin Engineer']);
    expect(heard('l2')).toEqual([]);
    expect(await metrics.registry.getSingleMetricAsString('incidentd_escalations_total')).toContain('incidentd_escalations_total{tier="L3",severity="medium"} 1');
  });

  it('an escalation to L2 starts L2’s clock: unacknowledged, the sweep climbs on to L3 30 minutes later', async () => {
    await at(10 * MIN);
    const inc = await ok(await post('escalate', ENGINEER, { tier: 'L2', reason: 'looks like the print server' }));
    expect(inc.escalation.nextEscalationAt).toBe(new Date(T0 + 40 * MIN).toISOString());
    const escalator = sweeper();
    // At L1's old time (T0 + 30 min) nothing climbs: L2 took over at T0 + 10 min.
    await at(30 * MIN);
    await escalator.sweep();
    expect((await h.store.get('INC-000001'))!.tier).toBe('L2');
    await at(40 * MIN);
    await escalator.sweep();
    expect((await h.store.get('INC-000001'))!.tier).toBe('L3');
    await delivered();
    expect(heard('l2').map((e) => `${e.type} ${e.actor}`)).toEqual(['incident.escalated Erin Engineer', 'incident.escalated escalation']);
    expect(heard('l3').map((e) => `${e.type} ${e.actor} ${e.tier}`)).toEqual(['incident.escalated escalation L3']);
    // By hand and by the sweep, each entry records the tier it handed over to.
    const entries = (await h.store.get('INC-000001'))!.timeline.filter((e) => e.action === 'escalated');
    expect(entries.map((e) => e.tier)).toEqual(['L2', 'L3']);
  });

  it('refuses the current or a lower tier with 409, L1 or a missing reason with 400, and an agent with 403, changing nothing', async () => {
    expect(await refused(await post('escalate', AGENT, { tier: 'L2', reason: 'x' }), 403)).toContain('incidents.escalate');
    expect(await refused(await post('escalate', ENGINEER, { tier: 'L1', reason: 'x' }), 400)).toBe('tier: must be L2 or L3, a tier above the incident’s');
    expect(await refused(await post('escalate', ENGINEER, { tier: 'L2' }), 400)).toMatch(/^reason: is required; say why/);
    expect(await refused(await post('escalate', ENGINEER, { tier: 'L2', reason: '   ' }), 400)).toBe('reason: must not be empty; write the reason');
    await ok(await post('escalate', ENGINEER, { tier: 'L3', reason: 'urgent' }));
    expect(await refused(await post('escalate', ENGINEER, { tier: 'L2', reason: 'x' }), 409)).toBe(
      'incident INC-000001 is at tier L3 already, the highest; there is no tier to escalate to',
    );
    const inc = await h.store.get('INC-000001');
    expect(inc!.timeline.filter((e) => e.action === 'escalated')).toHaveLength(1);
  });

  it('refuses an incident of another tenant as missing (404), and a resolved one with 409', async () => {
    const other = { 'x-test-user': 'engineer:Olga Other:acme' };
    expect(await refused(await post('escalate', other, { tier: 'L2', reason: 'x' }), 404)).toContain('INC-000001');
    await h.manager.resolve('INC-000001', 'Erin Engineer', 'fixed');
    expect(await refused(await post('escalate', ENGINEER, { tier: 'L2', reason: 'x' }), 409)).toBe(
      'incident INC-000001 is resolved; only open or acknowledged incidents can be escalated',
    );
  });
});

describe('change severity or impact', () => {
  it('raising medium to major: priority follows, L3 takes over, the SLA tightens, and L3 hears who and why', async () => {
    await at(3 * MIN);
    const inc = await ok(await post('severity', ENGINEER, { severity: 'major', impact: 'site', reason: 'the print server is down, not one printer' }));
    expect(inc).toMatchObject({ severity: 'major', impact: 'site', priority: 'P1', tier: 'L3' });
    // The SLA of major incidents (acknowledge in 15 min) from the same start.
    expect(inc.sla.ackDueAt).toBe(new Date(T0 + 15 * MIN).toISOString());
    const message = 'severity raised from medium to major, impact changed from single-user to site, priority P5 → P1: the print server is down, not one printer';
    expect(inc.timeline!.slice(-2)).toEqual([
      { at: new Date(T0 + 3 * MIN).toISOString(), actor: 'Erin Engineer', action: 'reclassified', message },
      { at: new Date(T0 + 3 * MIN).toISOString(), actor: 'Erin Engineer', action: 'escalated', message: 'severity raised to major; L3 takes over' },
    ]);
    await delivered();
    expect(heard('l3')).toEqual([{ type: 'incident.escalated', actor: 'Erin Engineer', message, tier: 'L3' }]);
    // The sweep does not announce the raise a second time; it records the breach of the tighter SLA.
    await at(16 * MIN);
    await sweeper().sweep();
    await delivered();
    expect(heard('l3').map((e) => e.message)).toEqual([message, 'acknowledgement SLA breached at L3']);
    const swept = (await h.store.get('INC-000001'))!;
    expect(swept.escalation.ackBreachedAt).toBe(T0 + 15 * MIN);
    expect(swept.timeline.filter((e) => e.action === 'escalated')).toHaveLength(1);
  });

  it('an impact alone recomputes the priority, is not announced, and nothing to change is a 409', async () => {
    const inc = await ok(await post('severity', ENGINEER, { impact: 'organisation', reason: 'every site prints through it' }));
    expect(inc).toMatchObject({ severity: 'medium', impact: 'organisation', priority: 'P2', tier: 'L1' });
    expect(inc.timeline!.at(-1)).toMatchObject({ actor: 'Erin Engineer', action: 'reclassified', message: 'impact changed from single-user to organisation, priority P5 → P2: every site prints through it' });
    await delivered();
    expect(heard('l1').map((e) => e.type)).toEqual(['incident.opened']);
    expect(await refused(await post('severity', ENGINEER, { severity: 'medium', reason: 'x' }), 409)).toBe(
      'incident INC-000001 is medium with impact organisation already; nothing to change',
    );
  });

  it('needs a reason and severity or impact (400), and the engineer role (agent 403)', async () => {
    expect(await refused(await post('severity', ENGINEER, { severity: 'major' }), 400)).toMatch(/^reason: is required/);
    expect(await refused(await post('severity', ENGINEER, { reason: 'x' }), 400)).toBe('severity: give severity, impact or both');
    expect(await refused(await post('severity', ENGINEER, { severity: 'critical', reason: 'x' }), 400)).toBe('severity: must be one of minor, medium, severe, major');
    expect(await refused(await post('severity', AGENT, { severity: 'major', reason: 'x' }), 403)).toContain('incidents.change-severity');
    expect((await h.store.get('INC-000001'))!.severity).toBe('medium');
  });
});

describe('the log', () => {
  it('has one line per decision, naming who and why', async () => {
    await ok(await post('severity', ENGINEER, { severity: 'severe', reason: 'two floors affected' }));
    await ok(await post('escalate', ENGINEER, { tier: 'L3', reason: 'needs the vendor' }));
    await h.manager.resolve('INC-000001', 'Alex Agent', 'vendor swapped the board');
    await ok(await post('reopen', ENGINEER, { reason: 'fails again' }));
    const events = logLines.map((l) => JSON.parse(l) as { event?: string; by?: string; why?: string; msg: string }).filter((l) => l.by !== undefined);
    expect(events.map((l) => [l.event, l.by, l.why])).toEqual([
      ['incident.reclassified', 'Erin Engineer', 'two floors affected'],
      ['incident.escalated', 'Erin Engineer', 'needs the vendor'],
      ['incident.resolved', 'Alex Agent', 'vendor swapped the board'],
      ['incident.reopened', 'Erin Engineer', 'fails again'],
    ]);
    expect(events[1]!.msg).toBe('INC-000001 escalated from L2 to L3 by Erin Engineer: "PRINTER-3F fails icmp" on PRINTER-3F (printer-3f), severe: needs the vendor');
  });
});

describe('comment', () => {
  it('a comment goes on the timeline and to the channels told of the incident as a note naming its author', async () => {
    const res = await post('comments', AGENT, { text: 'toner replaced, watching it' });
    expect(res.status).toBe(201);
    const inc = (await res.json()) as ApiIncident;
    expect(inc.timeline!.at(-1)).toMatchObject({ actor: 'Alex Agent', action: 'commented', message: 'toner replaced, watching it' });
    // Two comments in the same millisecond are two notes.
    await post('comments', ENGINEER, { text: 'and the drum' });
    await delivered();
    expect(heard('l1').slice(1)).toEqual([
      { type: 'incident.commented', actor: 'Alex Agent', message: 'toner replaced, watching it', tier: null },
      { type: 'incident.commented', actor: 'Erin Engineer', message: 'and the drum', tier: null },
    ]);
    // Only channels told before: a comment does not page another tier.
    expect(heard('l2')).toEqual([]);
  });
});

describe('resolve with a note, reopen', () => {
  it('keeps the resolution note; a reopening names who and why, the receiver hears both, and a later recovery resolves it again', async () => {
    const acked = await ok(await post('ack', AGENT, { message: 'on my way' }));
    expect(acked.acknowledgedBy).toBe('Alex Agent');
    await at(20 * MIN);
    const resolved = await ok(await post('resolve', AGENT, { message: 'replaced the fuser unit' }));
    expect(resolved.resolution).toEqual({ at: new Date(T0 + 20 * MIN).toISOString(), by: 'Alex Agent', note: 'replaced the fuser unit' });
    expect(resolved.resolvedBy).toBe('Alex Agent');
    await delivered();
    // The receiver's copy of the resolution carries the note.
    const resolvedBody = receiver.requests.find((r) => r.path === '/l1' && r.body.type === 'incident.resolved')!.body;
    expect(resolvedBody.incident.resolution).toMatchObject({ by: 'Alex Agent', note: 'replaced the fuser unit' });

    expect(await refused(await post('reopen', AGENT, { reason: 'x' }), 403)).toContain('incidents.reopen');
    await at(30 * MIN);
    const reopened = await ok(await post('reopen', ENGINEER, { reason: 'still jams on every third page' }));
    expect(reopened).toMatchObject({ status: 'open', reopenCount: 1, acknowledgedBy: null, resolvedBy: null, resolution: null });
    expect(reopened.timeline!.at(-1)).toEqual({ at: new Date(T0 + 30 * MIN).toISOString(), actor: 'Erin Engineer', action: 'reopened', message: 'still jams on every third page' });
    // The SLA starts again.
    expect(reopened.sla.ackDueAt).toBe(new Date(T0 + 30 * MIN + 4 * 60 * MIN).toISOString());
    await delivered();
    expect(heard('l1')).toEqual([
      { type: 'incident.opened', actor: null, message: null, tier: null },
      { type: 'incident.acknowledged', actor: 'Alex Agent', message: 'on my way', tier: null },
      { type: 'incident.resolved', actor: 'Alex Agent', message: 'replaced the fuser unit', tier: null },
      { type: 'incident.reopened', actor: 'Erin Engineer', message: 'still jams on every third page', tier: 'L1' },
    ]);

    expect(await refused(await post('reopen', ENGINEER, { reason: 'x' }), 409)).toBe(
      'incident INC-000001 is open, not resolved; only resolved incidents can be reopened',
    );
    // The planner knows it is active again: the printer's recovery resolves it.
    await at(40 * MIN);
    await h.manager.submit(sig(printer, 'ok', T0 + 40 * MIN));
    const after = await h.store.get('INC-000001');
    expect(after).toMatchObject({ status: 'resolved', resolvedBy: 'system', reopenCount: 1 });
  });

  it('after a reopening, a failure repeats the reopened incident instead of opening another, across a restart', async () => {
    await h.manager.resolve('INC-000001', 'Alex Agent', 'rebooted');
    await ok(await post('reopen', ENGINEER, { reason: 'it was not the reboot' }));
    await h.restart();
    await h.manager.submit(sig(printer, 'fail', T0 + MIN));
    const list = await h.store.list({}, 10);
    expect(list.items.map((i) => `${i.number} ${i.status} ${i.occurrences}`)).toEqual(['INC-000001 open 2']);
  });

  it('reopens an incident whose problem the planner had forgotten: its next failure and recovery follow it again', async () => {
    await at(MIN);
    await h.manager.submit(sig(printer, 'ok', T0 + MIN)); // recovers: resolved by the system
    await at(20 * MIN);
    await h.manager.submit(sig(printer, 'ok', T0 + 20 * MIN)); // quiet long enough: nothing left to remember
    expect(await h.store.loadState()).toEqual([]);
    await at(21 * MIN);
    await ok(await post('reopen', ENGINEER, { reason: 'users still cannot print' }));
    await h.manager.submit(sig(printer, 'fail', T0 + 22 * MIN));
    expect((await h.store.get('INC-000001'))!).toMatchObject({ status: 'open', occurrences: 2 });
    await h.manager.submit(sig(printer, 'ok', T0 + 23 * MIN));
    const after = (await h.store.get('INC-000001'))!;
    expect(after).toMatchObject({ status: 'resolved', resolvedBy: 'system', reopenCount: 1 });
    expect((await h.store.list({}, 10)).items).toHaveLength(1);
  });

  it('refuses a closed incident and a reason left out', async () => {
    await h.manager.resolve('INC-000001', 'Alex Agent', 'done');
    expect(await refused(await post('reopen', ENGINEER, {}), 400)).toMatch(/^reason: is required/);
    await h.store.closeResolved(T0 + MIN, T0 + MIN, 10);
    expect(await refused(await post('reopen', ENGINEER, { reason: 'x' }), 409)).toMatch(/^incident INC-000001 is closed and stays closed/);
  });
});
