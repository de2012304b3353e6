// Incidents of each severity driven through the tiers by the escalation sweep, with a fake clock
// and a real SQLite store: who hears what and when, SLA breaches, acknowledgements, a raised
// severity, and a restart in the middle.
import { afterEach, describe, expect, it } from 'vitest';
import { defaultDaemonConfig } from '../../src/config/load.js';
import type { EscalationPolicy } from '../../src/config-core/types.js';
import { escalationContext, type EscalationContext } from '../../src/incidents/escalation.js';
import { businessHoursSchema, Calendars } from '../../src/incidents/calendar.js';
import { maintenanceWindowSchema, MaintenanceWindows } from '../../src/incidents/maintenance.js';
import { Escalator } from '../../src/incidents/escalator.js';
import { FakeClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { SqliteStore } from '../../src/store/sqlite/store.js';
import type { IncidentStore } from '../../src/store/types.js';
import { harness, rule, sig, target, type Harness } from './harness.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2026, 10, 30, 9, 0, 0); // a Monday
const CHANNELS = ['l1-mail', 'l2-mail', 'l3-pager', 'major-bridge'];

function policy(): EscalationPolicy {
  const p = structuredClone(defaultDaemonConfig().escalation);
  p.tiers.L1 = { channels: ['l1-mail'], escalateAfterMs: 30 * MIN, next: 'L2' };
  p.tiers.L2 = { channels: ['l2-mail'], escalateAfterMs: 30 * MIN, next: 'L3' };
  p.tiers.L3 = { channels: ['l3-pager'], escalateAfterMs: 30 * MIN, next: null };
  p.severities.major.notify = ['major-bridge'];
  // 24×7 here: business hours have their own tests.
  for (const s of ['minor', 'medium', 'severe', 'major'] as const) p.severities[s].businessHours = false;
  return p;
}

const byRule = (severity: 'minor' | 'medium' | 'severe' | 'major', tier: 'L1' | 'L2' | 'L3' = 'L1') =>
  rule({
    id: `down-${severity}`,
    when: `labels.sev == "${severity}"`,
    classify: { category: 'network.reachability', severity, impact: 'multiple-users', tier },
    dedupBy: ['target.id'],
  });
const RULES = [byRule('minor'), byRule('medium'), byRule('severe'), byRule('major')];

function failing(id: string, severity: string, at: number) {
  const s = sig(target(id), 'fail', at);
  s.labels = { sev: severity };
  return s;
}

let h: Harness | null = null;
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
  await h?.close();
  h = null;
});

interface Setup {
  h: Harness;
  clock: FakeClock;
  escalator: (store?: IncidentStore) => Escalator;
  counts: { escalated: string[]; breached: string[] };
}

async function setup(p: EscalationPolicy = policy(), more: Partial<Pick<EscalationContext, 'calendarFor' | 'maintenance'>> = {}): Promise<Setup> {
  const clock = new FakeClock(T0);
  h = await harness({ rules: RULES, notifyChannels: CHANNELS, escalation: p, clock, context: more });
  const counts = { escalated: [] as string[], breached: [] as string[] };
  const hh = h;
  const escalator = (store: IncidentStore = hh.store) =>
    new Escalator({
      store,
      clock,
      logger: silentLogger(),
      context: () => escalationContext(p, CHANNELS, more),
      hooks: {
        escalated: (tier, severity) => counts.escalated.push(`${severity}@${tier}`),
        breached: (sla, severity) => counts.breached.push(`${severity}:${sla}`),
      },
    });
  return { h: hh, clock, escalator, counts };
}

/** Delivers everything pending; returns what each channel heard, as `type` or `type@tier`. */
async function heard(store: IncidentStore, clock: FakeClock): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (;;) {
    const got = await store.claimDeliveries(clock.now() + 1000 * HOUR, 1000, MIN, 'test');
    if (got.length === 0) return out;
    got.sort((a, b) => a.event.at - b.event.at || a.id.localeCompare(b.id));
    for (const d of got) {
      const e = d.event;
      (out[d.channelId] ??= []).push(`${e.type.replace('incident.', '')}${e.tier ? `@${e.tier}` : ''}`);
      await store.completeDelivery(d.id, { delivered: true, at: clock.now() });
    }
  }
}

async function at(s: Setup, ms: number, esc: Escalator): Promise<void> {
  await s.clock.advance(T0 + ms - s.clock.now());
  await esc.sweep();
}

describe('escalation by severity through the tiers', () => {
  it('a severe incident starts at L2, climbs to L3 unacknowledged, and records both SLA breaches', async () => {
    const s = await setup();
    const esc = s.escalator();
    await s.h.manager.submit(failing('core-sw', 'severe', T0));
    let inc = (await s.h.store.get('INC-000001'))!;
    expect(inc).toMatchObject({ tier: 'L2', escalation: { ackDueAt: T0 + 30 * MIN, resolveDueAt: T0 + 8 * HOUR, level: 0 } });
    expect(await heard(s.h.store, s.clock)).toEqual({ 'l2-mail': ['opened'] });

    await at(s, 29 * MIN, esc);
    expect(await heard(s.h.store, s.clock)).toEqual({});
    await at(s, 30 * MIN, esc);
    inc = (await s.h.store.get('INC-000001'))!;
    expect(inc).toMatchObject({ tier: 'L3', escalation: { level: 1, ackBreachedAt: T0 + 30 * MIN, nextEscalationAt: null } });
    // The new tier hears of it, and so does the one told before.
    expect(await heard(s.h.store, s.clock)).toEqual({ 'l2-mail': ['escalated@L3'], 'l3-pager': ['escalated@L3'] });
    expect(inc.timeline.map((t) => t.action)).toEqual(['opened', 'sla-breached', 'escalated']);
    expect(inc.timeline[2]!.message).toBe('not acknowledged within 30m at L2; escalated to L3');

    // L3 is the top: nothing more until the resolution SLA runs out.
    await at(s, 4 * HOUR, esc);
    expect(await heard(s.h.store, s.clock)).toEqual({});
    await at(s, 8 * HOUR, esc);
    inc = (await s.h.store.get('INC-000001'))!;
    expect(inc.escalation).toMatchObject({ resolveBreachedAt: T0 + 8 * HOUR, nextTimerAt: null });
    expect(await heard(s.h.store, s.clock)).toEqual({ 'l2-mail': ['escalated@L3'], 'l3-pager': ['escalated@L3'] });
    expect(s.counts).toEqual({ escalated: ['severe@L3'], breached: ['severe:ack', 'severe:resolve'] });
  });

  it('a minor incident climbs L1 → L2 → L3 while nobody acknowledges it; acknowledging stops the climb', async () => {
    const s = await setup();
    const esc = s.escalator();
    await s.h.manager.submit(failing('printer-3f', 'minor', T0));
    await at(s, 30 * MIN, esc);
    expect(await heard(s.h.store, s.clock)).toEqual({ 'l1-mail': ['opened', 'escalated@L2'], 'l2-mail': ['escalated@L2'] });
    await s.h.manager.acknowledge('INC-000001', 'bob', 'on my way');
    await at(s, 2 * HOUR, esc);
    const inc = (await s.h.store.get('INC-000001'))!;
    expect(inc).toMatchObject({ status: 'acknowledged', tier: 'L2', escalation: { level: 1, nextEscalationAt: null } });
    // Acknowledged within the minor SLA (1 day): no breach; only the acknowledgement was announced.
    expect(inc.escalation.ackBreachedAt).toBeNull();
    expect(await heard(s.h.store, s.clock)).toEqual({ 'l1-mail': ['acknowledged'], 'l2-mail': ['acknowledged'] });
    expect(s.counts.escalated).toEqual(['minor@L2']);
  });

  it('a late sweep (daemon down for hours) still tells every tier in turn, once each', async () => {
    const s = await setup();
    await s.h.manager.submit(failing('printer-3f', 'medium', T0));
    await at(s, 3 * HOUR, s.escalator());
    const heardBy = await heard(s.h.store, s.clock);
    expect(heardBy).toEqual({
      'l1-mail': ['opened', 'escalated@L2', 'escalated@L3'],
      'l2-mail': ['escalated@L2', 'escalated@L3'],
      'l3-pager': ['escalated@L3'],
    });
    const inc = (await s.h.store.get('INC-000001'))!;
    // Each step counted from when the previous one was due, not from the late sweep.
    expect(inc.timeline.filter((t) => t.action === 'escalated').map((t) => t.message)).toEqual([
      'not acknowledged within 30m at L1; escalated to L2',
      'not acknowledged within 30m at L2; escalated to L3',
    ]);
    // Each records the tier it handed over to (the escalations report counts by it).
    expect(inc.timeline.filter((t) => t.action === 'escalated').map((t) => t.tier)).toEqual(['L2', 'L3']);
  });

  it('a major incident starts at the top tier and tells the major-incident channel at once', async () => {
    const s = await setup();
    await s.h.manager.submit(failing('site-hq', 'major', T0));
    expect((await s.h.store.get('INC-000001'))!.tier).toBe('L3');
    expect(await heard(s.h.store, s.clock)).toEqual({ 'l3-pager': ['opened'], 'major-bridge': ['opened'] });
  });

  it('a rule that names a higher tier than the severity wins', async () => {
    const s = await setup();
    const strict = { ...byRule('minor', 'L3'), id: 'vip', when: 'labels.sev == "vip"' };
    await s.h.close();
    h = await harness({ rules: [strict], notifyChannels: CHANNELS, escalation: policy(), clock: s.clock });
    await h.manager.submit(failing('ceo-laptop', 'vip', T0));
    expect((await h.store.get('INC-000001'))!.tier).toBe('L3');
  });

  it('a severity raised by a rule re-evaluates the tier and the SLA at once', async () => {
    const s = await setup();
    const esc = s.escalator();
    await s.h.manager.submit(failing('uplink', 'medium', T0));
    expect(await heard(s.h.store, s.clock)).toEqual({ 'l1-mail': ['opened'] });
    // Same target, same fingerprint (dedup_by target.id), now matched by the major rule.
    await s.h.manager.submit(failing('uplink', 'major', T0 + 10 * MIN));
    await at(s, 10 * MIN, esc);
    const inc = (await s.h.store.get('INC-000001'))!;
    expect(inc).toMatchObject({
      severity: 'major',
      tier: 'L3',
      escalation: { severity: 'major', ackDueAt: T0 + 15 * MIN, resolveDueAt: T0 + 4 * HOUR },
    });
    expect(await heard(s.h.store, s.clock)).toEqual({
      'l1-mail': ['escalated@L3'],
      'l3-pager': ['escalated@L3'],
      'major-bridge': ['escalated@L3'],
    });
    expect(inc.timeline.map((t) => t.action)).toEqual(['opened', 'reclassified', 'escalated']);
    // The stricter acknowledgement SLA counts from the opening.
    await at(s, 15 * MIN, esc);
    expect((await s.h.store.get('INC-000001'))!.escalation.ackBreachedAt).toBe(T0 + 15 * MIN);
  });

  it('loses no timer and fires none twice across a restart, nor with two instances sweeping at once', async () => {
    const s = await setup();
    await s.h.manager.submit(failing('core-sw', 'severe', T0));
    await heard(s.h.store, s.clock);
    // The daemon stops before anything is due and starts again later.
    await s.h.restart();
    const other = new SqliteStore({ path: s.h.path });
    await other.open();
    closers.push(() => other.close());
    await s.clock.advance(45 * MIN);
    const [a, b] = await Promise.all([s.escalator().sweep(), s.escalator(other).sweep()]);
    expect(a + b).toBe(1);
    expect(await heard(s.h.store, s.clock)).toEqual({ 'l2-mail': ['escalated@L3'], 'l3-pager': ['escalated@L3'] });
    expect(s.counts.escalated).toEqual(['severe@L3']);
  });

  it('sweeps by itself every sweep_interval once started, and stops cleanly', async () => {
    const p = policy();
    p.sweepIntervalMs = 10_000;
    const s = await setup(p);
    const esc = s.escalator();
    esc.start();
    await s.h.manager.submit(failing('core-sw', 'severe', T0));
    await s.clock.advance(30 * MIN + 10_000);
    await esc.stop();
    expect((await s.h.store.get('INC-000001'))!.tier).toBe('L3');
    expect(s.clock.pendingTimers()).toBe(0);
  });

  it('tells the communication channels of every opening; subscribers named by alerts are kept on the incident', async () => {
    const clock = new FakeClock(T0);
    h = await harness({
      rules: RULES,
      notifyChannels: [...CHANNELS, 'customer-mail'],
      escalation: policy(),
      clock,
      context: { communication: ['customer-mail'] },
    });
    const s = failing('printer-3f', 'minor', T0);
    s.subscribers = ['alice@example.org'];
    await h.manager.submit(s);
    await h.manager.submit({ ...failing('printer-3f', 'minor', T0 + MIN), subscribers: ['bob@example.org'] });
    await clock.advance(2 * MIN);
    await h.manager.acknowledge('INC-000001', 'carol', 'replacing the toner');
    expect((await h.store.get('INC-000001'))!.subscribers).toEqual(['alice@example.org', 'bob@example.org']);
    expect(await heard(h.store, clock)).toEqual({
      'customer-mail': ['opened', 'acknowledged'],
      'l1-mail': ['opened', 'acknowledged'],
    });
  });

  it('closes resolved incidents once close_after has passed since their resolution', async () => {
    const s = await setup();
    const closed: string[] = [];
    const esc = new Escalator({
      store: s.h.store,
      clock: s.clock,
      logger: silentLogger(),
      context: () => escalationContext(policy(), CHANNELS),
      closeAfterMs: () => 24 * HOUR,
      onClosed: (numbers) => closed.push(...numbers),
    });
    await s.h.manager.submit(failing('printer-3f', 'minor', T0));
    await s.h.manager.resolve('INC-000001', 'bob', 'new toner');
    await at(s, 23 * HOUR, esc);
    expect((await s.h.store.get('INC-000001'))!.status).toBe('resolved');
    await at(s, 24 * HOUR, esc);
    expect((await s.h.store.get('INC-000001'))!.status).toBe('closed');
    expect(closed).toEqual(['INC-000001']);
  });

  it('a severity raised after the resolution SLA ran out still climbs for the breach, one announcement per round', async () => {
    const s = await setup();
    const esc = s.escalator();
    await s.h.manager.submit(failing('uplink', 'medium', T0));
    await s.h.manager.acknowledge('INC-000001', 'bob', 'mine');
    // Severe's resolution SLA (8 h) from the opening has run out when the severity is raised.
    await s.h.manager.submit(failing('uplink', 'severe', T0 + 9 * HOUR));
    await at(s, 9 * HOUR, esc);
    const inc = (await s.h.store.get('INC-000001'))!;
    expect(inc).toMatchObject({ severity: 'severe', tier: 'L3', escalation: { resolveBreachedAt: T0 + 8 * HOUR } });
    expect(inc.timeline.filter((t) => t.action === 'escalated').map((t) => t.message)).toEqual([
      'severity raised to severe; L2 takes over',
      'not resolved within 8h (SLA of severe incidents); escalated to L3',
    ]);
  });

  it('a reopening takes the classification of the rule that fires now, and plans with it', async () => {
    const s = await setup();
    await s.h.manager.submit(failing('uplink', 'medium', T0));
    await s.h.manager.submit({ ...failing('uplink', 'medium', T0 + MIN), status: 'ok' });
    await s.h.manager.submit(failing('uplink', 'major', T0 + 2 * MIN));
    const inc = (await s.h.store.get('INC-000001'))!;
    expect(inc).toMatchObject({ status: 'open', reopenCount: 1, severity: 'major', tier: 'L3', escalation: { severity: 'major', ackDueAt: T0 + 17 * MIN } });
  });

  it('an incident opened while flapping counts its channels as told: they hear when flapping stops and the resolution', async () => {
    const clock = new FakeClock(T0);
    h = await harness({
      rules: [{ ...RULES[1]!, openAfter: 2 }],
      notifyChannels: CHANNELS,
      escalation: policy(),
      clock,
      policy: { reopenWindowMs: HOUR, closeAfterMs: null, flapping: { windowMs: HOUR, threshold: 4 }, uncategorized: { category: 'u', severity: 'medium', impact: 'single-user', tier: 'L1' }, maxSubscribers: 50 },
    });
    const pattern = ['fail', 'ok', 'fail', 'ok', 'fail', 'fail', 'fail'] as const;
    let t = T0;
    for (const st of pattern) await h.manager.submit({ ...failing('uplink', 'medium', (t += MIN)), status: st });
    for (let i = 0; i < 100; i++) await h.manager.submit({ ...failing('uplink', 'medium', (t += MIN)), status: 'ok' });
    const inc = (await h.store.get('INC-000001'))!;
    expect(inc.status).toBe('resolved');
    expect(await heard(h.store, clock)).toEqual({ 'l1-mail': ['flapping-stopped', 'resolved'] });
  });

  it('a reopening inside a maintenance window is announced once, when the window ends', async () => {
    const windows = new MaintenanceWindows([
      maintenanceWindowSchema.parse({ id: 'swap', reason: 'swap', start: new Date(T0 + HOUR).toISOString(), end: new Date(T0 + 2 * HOUR).toISOString(), match: { targets: ['uplink'] } }),
    ]);
    const s = await setup(policy(), { maintenance: (t, when) => windows.active(t, when) });
    const esc = s.escalator();
    await s.h.manager.submit(failing('uplink', 'medium', T0));
    await s.h.manager.submit({ ...failing('uplink', 'medium', T0 + MIN), status: 'ok' });
    expect(await heard(s.h.store, s.clock)).toEqual({ 'l1-mail': ['opened', 'resolved'] });
    await s.h.manager.submit(failing('uplink', 'medium', T0 + 70 * MIN));
    await at(s, 90 * MIN, esc);
    expect(await heard(s.h.store, s.clock)).toEqual({});
    await at(s, 2 * HOUR, esc);
    expect(await heard(s.h.store, s.clock)).toEqual({ 'l1-mail': ['opened@L1'] });
  });

  it('starts the timers of an incident nobody planned, without announcing it again to channels that heard of it', async () => {
    const s = await setup();
    // As after an upgrade from a version without escalation: opened, told to l1-mail, no timers.
    const draft = {
      fingerprint: 'fp-legacy',
      classification: { category: 'network', severity: 'severe' as const, impact: 'site' as const, tier: 'L2' as const, priority: 'P2' as const },
      title: 'core switch down', description: '', runbook: '', ruleId: 'r', source: 'probe',
      target: { id: 'core-sw', kind: 'switch', name: 'Core', site: 'hq', labels: {} },
      check: { name: 'icmp', type: 'icmp' }, labels: {}, message: 'timeout',
    };
    await s.h.store.commit([{ kind: 'fail', at: T0, count: 1, reopenWindowMs: 0, draft }, { kind: 'notify', fingerprint: 'fp-legacy', channels: ['l1-mail'] }]);
    expect(await heard(s.h.store, s.clock)).toEqual({ 'l1-mail': ['opened'] });
    await at(s, MIN, s.escalator());
    const inc = (await s.h.store.get('INC-000001'))!;
    expect(inc.escalation).toMatchObject({ severity: 'severe', startedAt: T0 + MIN, ackDueAt: T0 + 31 * MIN });
    expect(await heard(s.h.store, s.clock)).toEqual({});
  });

  describe('business hours', () => {
    // Berlin office, Mon–Fri 08:00–18:00 local; 30 Nov 2026 is a Monday, CET = UTC+1.
    const office = businessHoursSchema.parse({
      id: 'office',
      timezone: 'Europe/Berlin',
      days: ['mon', 'tue', 'wed', 'thu', 'fri'],
      from: '08:00',
      to: '18:00',
      holidays: ['2026-12-01'],
      sites: ['hq'],
    });
    const calendars = new Calendars([office]);

    it('pauses SLA clocks and escalation waits outside business hours when the severity says so', async () => {
      const p = policy();
      p.severities.minor.businessHours = true;
      p.severities.minor.ackMs = 10 * HOUR;
      p.tiers.L2.escalateAfterMs = HOUR;
      const s = await setup(p, { calendarFor: (site) => calendars.forSite(site) });
      const esc = s.escalator();
      // Monday 16:50 local (15:50 UTC): 70 office minutes left today; Tuesday is a holiday.
      const opened = Date.UTC(2026, 10, 30, 15, 50);
      await s.clock.advance(opened - s.clock.now());
      await s.h.manager.submit(failing('printer-3f', 'minor', opened));
      const inc = (await s.h.store.get('INC-000001'))!;
      // 30 minutes of office time: Monday 17:20 local.
      expect(inc.escalation.nextEscalationAt).toBe(Date.UTC(2026, 10, 30, 16, 20));
      // Acknowledge within one office day (10 h): 70 min on Monday, none on the holiday, 8 h 50 min on Wednesday.
      expect(inc.escalation.ackDueAt).toBe(Date.UTC(2026, 11, 2, 15, 50));
      await s.clock.advance(Date.UTC(2026, 10, 30, 16, 20) - s.clock.now());
      await esc.sweep();
      expect((await s.h.store.get('INC-000001'))!.tier).toBe('L2');
      // L2 waits an office hour: 40 minutes end Monday, the other 20 come on Wednesday, 08:20 local.
      expect((await s.h.store.get('INC-000001'))!.escalation.nextEscalationAt).toBe(Date.UTC(2026, 11, 2, 7, 20));
      await s.clock.advance(Date.UTC(2026, 11, 1, 12, 0) - s.clock.now());
      await esc.sweep();
      expect((await s.h.store.get('INC-000001'))!.tier).toBe('L2');
    });

    it('counts wall time for severities without business hours, at any site', async () => {
      const s = await setup(policy(), { calendarFor: (site) => calendars.forSite(site) });
      const night = Date.UTC(2026, 10, 30, 23, 0);
      await s.clock.advance(night - s.clock.now());
      await s.h.manager.submit(failing('core-sw', 'severe', night));
      expect((await s.h.store.get('INC-000001'))!.escalation.ackDueAt).toBe(night + 30 * MIN);
    });
  });

  describe('maintenance windows', () => {
    const windows = new MaintenanceWindows([
      maintenanceWindowSchema.parse({
        id: 'printer-swap',
        reason: 'Replacing the 3rd floor printer',
        start: '2026-11-30T09:00:00Z',
        end: '2026-11-30T11:00:00Z',
        match: { targets: ['printer-*'] },
      }),
    ]);
    const maintenance = (t: { id: string; kind: string; site: string; labels: Record<string, string> }, when: number) =>
      windows.active(t, when);

    it('records an incident opened during maintenance without telling anyone, and announces it when the window ends', async () => {
      const s = await setup(policy(), { maintenance });
      const esc = s.escalator();
      await s.h.manager.submit(failing('printer-3f', 'severe', T0 + 10 * MIN));
      let inc = (await s.h.store.get('INC-000001'))!;
      expect(inc).toMatchObject({ status: 'open', escalation: { mutedUntil: T0 + 2 * HOUR, nextTimerAt: T0 + 2 * HOUR, ackDueAt: null } });
      expect(await heard(s.h.store, s.clock)).toEqual({});
      // Not escalated while the window lasts.
      await at(s, HOUR, esc);
      expect(await heard(s.h.store, s.clock)).toEqual({});
      await at(s, 2 * HOUR, esc);
      inc = (await s.h.store.get('INC-000001'))!;
      expect(inc).toMatchObject({ tier: 'L2', escalation: { mutedUntil: null, startedAt: T0 + 2 * HOUR, ackDueAt: T0 + 2 * HOUR + 30 * MIN } });
      expect(inc.timeline.at(-1)).toMatchObject({ action: 'announced', message: expect.stringContaining('maintenance printer-swap (Replacing the 3rd floor printer) is over') });
      expect(await heard(s.h.store, s.clock)).toEqual({ 'l2-mail': ['opened@L2'] });
    });

    it('resolves quietly what was never announced, and keeps timers of an announced incident until the window ends', async () => {
      const s = await setup(policy(), { maintenance });
      const esc = s.escalator();
      // Opened and announced before the window; due for escalation inside it.
      await s.h.manager.submit(failing('printer-2f', 'severe', T0 - 20 * MIN));
      // Opened inside the window and repaired inside it: nobody hears a thing.
      await s.h.manager.submit(failing('printer-3f', 'severe', T0 + 5 * MIN));
      await s.h.manager.submit({ ...failing('printer-3f', 'severe', T0 + 6 * MIN), status: 'ok' });
      expect(await heard(s.h.store, s.clock)).toEqual({ 'l2-mail': ['opened'] });
      await at(s, 30 * MIN, esc);
      expect(await heard(s.h.store, s.clock)).toEqual({});
      await at(s, 2 * HOUR, esc);
      const first = (await s.h.store.get('INC-000001'))!;
      expect(first.tier).toBe('L3');
      expect(await heard(s.h.store, s.clock)).toEqual({ 'l2-mail': ['escalated@L3'], 'l3-pager': ['escalated@L3'] });
      expect((await s.h.store.get('INC-000002'))!.status).toBe('resolved');
    });
  });
});
