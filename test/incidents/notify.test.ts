// Which incident changes the manager announces through the outbox, read back from the store.
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/shared/clock.js';
import type { IncidentStore } from '../../src/store/types.js';
import { harness, rule, sig, target, type Harness } from './harness.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 27, 8, 0, 0);
const ping = rule({ id: 'server-unreachable', when: 'check.type == "icmp"' });

let h: Harness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

/** Every event written so far, per channel, oldest first, as `number type`. */
async function events(store: IncidentStore): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  // Events of one incident are handed out one at a time, so deliver and claim again until done.
  for (;;) {
    const got = await store.claimDeliveries(T0 + 1000 * MIN, 1000, MIN, 'test');
    if (got.length === 0) return out;
    got.sort((a, b) => a.event.at - b.event.at || a.id.localeCompare(b.id));
    for (const d of got) {
      (out[d.channelId] ??= []).push(`${d.event.number} ${d.event.type}`);
      await store.completeDelivery(d.id, { delivered: true, at: T0 + 1000 * MIN });
    }
  }
}

describe('notifications', () => {
  it('announces an opening, its repeats not at all, and its resolution, to every channel', async () => {
    const notified: number[] = [];
    h = await harness({
      rules: [{ ...ping, openAfter: 2, resolveAfter: 2 }],
      notifyChannels: ['mail', 'hook'],
      hooks: { notified: (n) => notified.push(n) },
    });
    const web = target('web-1');
    await h.manager.submit(sig(web, 'fail', T0));
    expect(await h.store.countDeliveries()).toEqual({ pending: 0, dead: 0 });
    for (let i = 1; i < 5; i++) await h.manager.submit(sig(web, 'fail', T0 + i * MIN));
    await h.manager.submit(sig(web, 'ok', T0 + 5 * MIN));
    await h.manager.submit(sig(web, 'ok', T0 + 6 * MIN));
    expect(notified).toEqual([1, 1]);
    const byChannel = await events(h.store);
    expect(byChannel).toEqual({
      hook: ['INC-000001 incident.opened', 'INC-000001 incident.resolved'],
      mail: ['INC-000001 incident.opened', 'INC-000001 incident.resolved'],
    });
  });

  it('announces what people do through the API: acknowledged and resolved, with who did it', async () => {
    const clock = new FakeClock(T0 + 5 * MIN);
    h = await harness({ rules: [ping], notifyChannels: ['hook'], clock });
    await h.manager.submit(sig(target('web-1'), 'fail', T0));
    await h.manager.acknowledge('INC-000001', 'alice', 'looking');
    await clock.advance(MIN);
    await h.manager.resolve('INC-000001', 'bob', 'replaced the PSU');
    expect(await events(h.store)).toEqual({
      hook: ['INC-000001 incident.opened', 'INC-000001 incident.acknowledged', 'INC-000001 incident.resolved'],
    });
  });

  it('announces a reopening, across a restart', async () => {
    h = await harness({ rules: [ping], notifyChannels: ['hook'] });
    const web = target('web-1');
    await h.manager.submit(sig(web, 'fail', T0));
    await h.manager.submit(sig(web, 'ok', T0 + MIN));
    await h.restart();
    await h.manager.submit(sig(web, 'fail', T0 + 2 * MIN));
    expect(await events(h.store)).toEqual({
      hook: ['INC-000001 incident.opened', 'INC-000001 incident.resolved', 'INC-000001 incident.reopened'],
    });
  });

  it('while flapping: no openings, flapping started and stopped once each, and the resolution', async () => {
    h = await harness({ rules: [ping], notifyChannels: ['hook'] });
    const web = target('web-1');
    let t = T0;
    for (let i = 0; i < 6; i++) await h.manager.submit(sig(web, i % 2 === 0 ? 'fail' : 'ok', (t += MIN)));
    for (let i = 0; i < 4; i++) await h.manager.submit(sig(web, i % 2 === 0 ? 'fail' : 'ok', (t += MIN)));
    for (let i = 0; i < 12; i++) await h.manager.submit(sig(web, 'ok', (t += MIN)));
    // Before it flapped, each change is announced; while it flaps (four more changes) nothing but
    // the start and the end of flapping; then the resolution.
    expect((await events(h.store)).hook).toEqual([
      'INC-000001 incident.opened',
      'INC-000001 incident.resolved',
      'INC-000001 incident.reopened',
      'INC-000001 incident.resolved',
      'INC-000001 incident.reopened',
      'INC-000001 incident.flapping-started',
      'INC-000001 incident.flapping-stopped',
      'INC-000001 incident.resolved',
    ]);
  });

  it('announces nothing for a failure held back by its parent’s incident', async () => {
    const sw = target('sw-1');
    const ap = target('ap-1', ['sw-1']);
    h = await harness({ rules: [ping], targets: [sw, ap], notifyChannels: ['hook'] });
    await h.manager.submit(sig(sw, 'fail', T0));
    await h.manager.submit(sig(ap, 'fail', T0 + MIN));
    await h.manager.submit(sig(ap, 'fail', T0 + 2 * MIN));
    expect(await events(h.store)).toEqual({ hook: ['INC-000001 incident.opened'] });
  });

  it('writes no outbox events without notify channels', async () => {
    h = await harness({ rules: [ping] });
    await h.manager.submit(sig(target('web-1'), 'fail', T0));
    expect((await h.store.list({}, 10)).items).toHaveLength(1);
    expect(await h.store.countDeliveries()).toEqual({ pending: 0, dead: 0 });
  });
});
