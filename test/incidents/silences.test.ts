// Silences driving real incidents: a real SQLite store, the manager, the escalation sweep and the
// silences in memory, on a fake clock. What a channel hears is read from the store's outbox.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultDaemonConfig } from '../../src/config/load.js';
import type { EscalationPolicy } from '../../src/config-core/types.js';
import { buildSilence, silenceInputSchema, type Silence } from '../../src/domain/silence.js';
import { toApi } from '../../src/domain/serialize.js';
import type { Signal } from '../../src/domain/signal.js';
import { escalationContext } from '../../src/incidents/escalation.js';
import { Escalator } from '../../src/incidents/escalator.js';
import { ActiveSilences } from '../../src/incidents/silences.js';
import { FakeClock } from '../../src/shared/clock.js';
import { parseDuration } from '../../src/shared/duration.js';
import { silentLogger } from '../../src/shared/logger.js';
import type { IncidentStore } from '../../src/store/types.js';
import { harness, rule, sig, target, type Harness } from './harness.js';
import { createMetrics } from '../../src/api/metrics.js';
import { buildApi } from '../../src/api/server.js';
import { silenceChanged } from '../../src/app/silences.js';
import { OPS_TOKEN, storeCommands } from '../api/harness.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2026, 10, 30, 9, 0, 0);
const CHANNELS = ['l1-mail', 'l2-mail', 'l3-pager'];

function policy(): EscalationPolicy {
  const p = structuredClone(defaultDaemonConfig().escalation);
  p.tiers.L1 = { channels: ['l1-mail'], escalateAfterMs: 30 * MIN, next: 'L2' };
  p.tiers.L2 = { channels: ['l2-mail'], escalateAfterMs: 30 * MIN, next: 'L3' };
  p.tiers.L3 = { channels: ['l3-pager'], escalateAfterMs: 30 * MIN, next: null };
  for (const s of ['minor', 'medium', 'severe', 'major'] as const) p.severities[s].businessHours = false;
  return p;
}

const RULES = [
  rule({ id: 'down', when: 'check.type == "icmp"', dedupBy: ['target.id'] }),
  rule({
    id: 'disk',
    when: 'source == "alertmanager"',
    classify: { category: 'server.disk', severity: 'severe', impact: 'single-user', tier: 'L2' },
    title: '{{labels.alertname}} on {{target.name}}',
    dedupBy: ['target.id', 'labels.alertname'],
  }),
];

function alert(targetId: string, alertname: string, at: number): Signal {
  return { ...sig(target(targetId), 'fail', at, alertname), source: 'alertmanager', check: { name: alertname, type: 'alertmanager' }, labels: { alertname } };
}

interface Setup {
  h: Harness;
  clock: FakeClock;
  esc: Escalator;
  silences: ActiveSilences;
  /** Creates a silence through the store, as the API does, and refreshes the ones in force. */
  silence(matchers: string[], duration: string, comment?: string): Promise<Silence>;
}

let current: Setup | null = null;
afterEach(async () => {
  await current?.silences.stop();
  await current?.esc.stop();
  await current?.h.close();
  current = null;
});

async function setup(): Promise<Setup> {
  const clock = new FakeClock(T0);
  const p = policy();
  let esc: Escalator | null = null;
  // Silences are built before the store exists; the harness reads them through the context.
  let silences: ActiveSilences | null = null;
  const context = { silenced: (subject: Parameters<ActiveSilences['match']>[0], at: number) => silences?.match(subject, at) ?? null };
  const h = await harness({ rules: RULES, notifyChannels: CHANNELS, escalation: p, clock, context });
  esc = new Escalator({ store: h.store, clock, logger: silentLogger(), context: () => escalationContext(p, CHANNELS, context) });
  const theEsc = esc;
  silences = new ActiveSilences({ store: h.store, clock, logger: silentLogger(), changed: () => void theEsc.sweep() });
  await silences.start();
  const s = silences;
  let n = 0;
  current = {
    h,
    clock,
    esc,
    silences: s,
    async silence(matchers, duration, comment = 'printer swap, ticket 4711') {
      const input = silenceInputSchema.parse({ matchers, duration, comment });
      const made = buildSilence(input, { id: `sil-${++n}`, now: clock.now(), createdBy: 'ops-team', tenant: 'default', parseDuration });
      await h.store.createSilence(made);
      await s.refresh();
      return made;
    },
  };
  return current;
}

/** Delivers everything pending; returns what each channel heard. */
async function heard(store: IncidentStore, clock: FakeClock): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (;;) {
    const got = await store.claimDeliveries(clock.now() + 1000 * HOUR, 1000, MIN, 'test');
    if (got.length === 0) return out;
    for (const d of got) {
      (out[d.channelId] ??= []).push(`${d.event.type.replace('incident.', '')}:${d.event.number}`);
      await store.completeDelivery(d.id, { delivered: true, at: clock.now() });
    }
  }
}

describe('silences hold back what they match', () => {
  it('records a matching failing check without announcing it, and announces the one it does not match', async () => {
    const s = await setup();
    const sil = await s.silence(['target=printer-3f'], '2h');
    await s.h.manager.submit(sig(target('printer-3f'), 'fail', T0 + MIN));
    await s.h.manager.submit(sig(target('core-sw'), 'fail', T0 + MIN));

    expect(await heard(s.h.store, s.clock)).toEqual({ 'l2-mail': ['opened:INC-000002'] });
    const held = (await s.h.store.get('INC-000001'))!;
    expect(held).toMatchObject({ status: 'open', target: { id: 'printer-3f' }, escalation: { silencedBy: [sil.id], mutedUntil: T0 + 2 * HOUR, ackDueAt: null } });
    expect(held.timeline.map((t) => t.message)).toContain(`held back by silence ${sil.id} (printer swap, ticket 4711)`);
    expect(toApi(held).silencedBy).toEqual([sil.id]);
    expect(toApi((await s.h.store.get('INC-000002'))!).silencedBy).toEqual([]);

    // Not escalated while silenced, though L2 would have climbed after 30 minutes.
    await s.clock.advance(HOUR);
    await s.esc.sweep();
    expect(await heard(s.h.store, s.clock)).toEqual({ 'l2-mail': ['escalated:INC-000002'], 'l3-pager': ['escalated:INC-000002'] });
  });

  it('matches alert labels by an anchored regex, as Alertmanager does', async () => {
    const s = await setup();
    await s.silence(['labels.alertname=~Disk.*'], '1h');
    await s.h.manager.submit(alert('db-1', 'DiskFull', T0 + MIN));
    await s.h.manager.submit(alert('db-1', 'MyDiskFull', T0 + MIN));
    await s.h.manager.submit(alert('db-2', 'disklatency', T0 + MIN));
    const heardNow = await heard(s.h.store, s.clock);
    expect(heardNow).toEqual({ 'l2-mail': ['opened:INC-000002', 'opened:INC-000003'] });
    expect((await s.h.store.get('INC-000001'))!.title).toBe('DiskFull on DB-1');
  });

  it('announces what it held back when it ends by time, with the silence named', async () => {
    const s = await setup();
    const sil = await s.silence(['target=printer-3f'], '2h');
    await s.h.manager.submit(sig(target('printer-3f'), 'fail', T0 + MIN));
    expect(await heard(s.h.store, s.clock)).toEqual({});
    await s.clock.advance(2 * HOUR - MIN);
    expect(await heard(s.h.store, s.clock)).toEqual({});
    // The silences' own timer reads the store at the end and sweeps: nobody calls sweep() here.
    await s.clock.advance(MIN);
    await vi.waitFor(async () => expect((await s.h.store.get('INC-000001'))!.escalation.silencedBy).toEqual([]));
    expect(await heard(s.h.store, s.clock)).toEqual({ 'l2-mail': ['opened:INC-000001'] });
    const inc = (await s.h.store.get('INC-000001'))!;
    expect(inc.timeline.at(-1)).toMatchObject({ action: 'announced', message: expect.stringContaining(`silence ${sil.id} is over`) });
    expect(inc.escalation).toMatchObject({ mutedUntil: null, startedAt: T0 + 2 * HOUR });
  });

  it('announces what it held back at once when expired by hand', async () => {
    const s = await setup();
    const sil = await s.silence(['target=printer-3f'], '8h');
    await s.h.manager.submit(sig(target('printer-3f'), 'fail', T0 + MIN));
    await s.clock.advance(10 * MIN);
    expect(await heard(s.h.store, s.clock)).toEqual({});
    const expired = await s.h.store.expireSilence(sil.id, s.clock.now());
    expect(expired.endsAt).toBe(T0 + 10 * MIN);
    await s.silences.refresh();
    await vi.waitFor(async () => expect((await s.h.store.get('INC-000001'))!.escalation.silencedBy).toEqual([]));
    expect(await heard(s.h.store, s.clock)).toEqual({ 'l2-mail': ['opened:INC-000001'] });
    // A new failure of the same target after the expiry is announced as usual.
    await s.h.manager.submit(sig(target('printer-2f'), 'fail', T0 + 11 * MIN));
    expect(await heard(s.h.store, s.clock)).toEqual({ 'l2-mail': ['opened:INC-000002'] });
  });

  it('holds back an announced incident escalation while a later silence matches it', async () => {
    const s = await setup();
    await s.h.manager.submit(sig(target('core-sw'), 'fail', T0));
    expect(await heard(s.h.store, s.clock)).toEqual({ 'l2-mail': ['opened:INC-000001'] });
    const sil = await s.silence(['target=core-sw'], '2h', 'known outage, carrier ticket 99');
    await s.clock.advance(30 * MIN);
    await s.esc.sweep();
    expect(await heard(s.h.store, s.clock)).toEqual({});
    const inc = (await s.h.store.get('INC-000001'))!;
    expect(inc.escalation.silencedBy).toEqual([sil.id]);
    expect(inc.timeline.at(-1)).toMatchObject({ action: 'silenced', message: `held back by silence ${sil.id} (known outage, carrier ticket 99)` });
    // Expired by hand: the escalation that was due catches up.
    await s.h.store.expireSilence(sil.id, s.clock.now());
    await s.silences.refresh();
    await vi.waitFor(async () => expect(await heard(s.h.store, s.clock)).toEqual({ 'l2-mail': ['escalated:INC-000001'], 'l3-pager': ['escalated:INC-000001'] }));
    const after = (await s.h.store.get('INC-000001'))!;
    expect(after.escalation.silencedBy).toEqual([]);
    expect(after.timeline.map((t) => t.message)).toContain(`silence ${sil.id} is over; escalation resumes`);
  });
});

describe('through the API, a silence takes effect at once', () => {
  it('shows a matching active incident as silenced on creation and releases it on expiry, without a sweep', async () => {
    const s = await setup();
    // Announced and escalating: its next timer is 30 minutes away, so no sweep would look at it now.
    await s.h.manager.submit(sig(target('core-sw'), 'fail', T0));
    await s.h.manager.submit(sig(target('printer-3f'), 'fail', T0));
    expect(await heard(s.h.store, s.clock)).toEqual({ 'l2-mail': ['opened:INC-000001', 'opened:INC-000002'] });
    const changed: string[] = [];
    const app = buildApi({
      store: s.h.store,
      commands: storeCommands(s.h.store, s.clock),
      tokens: () => [OPS_TOKEN],
      ready: async () => ({ ready: true, checks: {} }),
      metrics: createMetrics({ countActive: () => s.h.store.countActive() }),
      logger: silentLogger(),
      clock: s.clock,
      silences: { store: s.h.store, clock: s.clock, changed: (silence) => silenceChanged(s.silences, s.esc, silence, silentLogger()) },
    });
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const call = async (method: string, path: string, body?: unknown) => {
        const res = await fetch(`${base}${path}`, {
          method,
          headers: { authorization: `Bearer ${OPS_TOKEN.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        return { status: res.status, body: (await res.json()) as Record<string, any> };
      };
      await s.clock.advance(5 * MIN);
      const made = await call('POST', '/api/v1/silences', { matchers: ['target=core-sw'], duration: '2h', comment: 'carrier outage' });
      expect(made.status).toBe(201);
      // The clock has not reached any timer: what shows comes from the silence's creation alone.
      const held = await call('GET', '/api/v1/incidents/INC-000001');
      expect(held.body.silencedBy).toEqual([made.body.id]);
      expect((await call('GET', '/api/v1/incidents/INC-000002')).body.silencedBy).toEqual([]);
      changed.push(...(await s.h.store.get('INC-000001'))!.timeline.filter((t) => t.action === 'silenced').map((t) => t.message));
      expect(changed).toEqual([`held back by silence ${made.body.id} (carrier outage)`]);

      // Its escalation stops: past L2's 30 minutes, only the unsilenced incident climbs.
      await s.clock.advance(30 * MIN);
      await s.esc.sweep();
      expect(await heard(s.h.store, s.clock)).toEqual({ 'l2-mail': ['escalated:INC-000002'], 'l3-pager': ['escalated:INC-000002'] });

      // Expired by hand: released before the answer, and what fell due catches up.
      const gone = await call('DELETE', `/api/v1/silences/${made.body.id}`);
      expect(gone.status).toBe(200);
      expect((await call('GET', '/api/v1/incidents/INC-000001')).body.silencedBy).toEqual([]);
      expect(await heard(s.h.store, s.clock)).toEqual({ 'l2-mail': ['escalated:INC-000001'], 'l3-pager': ['escalated:INC-000001'] });
    } finally {
      await app.close();
    }
  });

  it('leaves another tenant’s incidents alone, whatever the matchers say', async () => {
    const s = await setup();
    await s.h.manager.submit(sig({ ...target('core-acme'), tenant: 'acme' }, 'fail', T0));
    await s.h.manager.submit(sig(target('core-sw'), 'fail', T0));
    const made = buildSilence(silenceInputSchema.parse({ matchers: ['target=~core-.*'], duration: '1h', comment: 'x' }), {
      id: 'sil-x',
      now: s.clock.now(),
      createdBy: 'ops-team',
      tenant: 'default',
      parseDuration,
    });
    await s.h.store.createSilence(made);
    await silenceChanged(s.silences, s.esc, made, silentLogger());
    const all = await s.h.store.list({ status: ['open'] }, 10);
    const byTenant = Object.fromEntries(all.items.map((i) => [i.tenant, i.escalation.silencedBy]));
    expect(byTenant).toEqual({ acme: [], default: ['sil-x'] });
  });
});
