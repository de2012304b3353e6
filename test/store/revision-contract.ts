// The part of the store contract for a person's changes (IncidentStore.revise): written only while
// the incident is as the decision expects, with its timeline entries and its event, in one go; a
// reopening that would make two incidents of one fingerprint active is refused. Each store's test
// file calls `revisionContract(name, makeStore)` next to `storeContract`, with the same harness.
import { describe, expect, it } from 'vitest';
import { personEvent } from '../../src/domain/events.js';
import { emptyEscalation, type Incident } from '../../src/domain/incident.js';
import { IncidentChangedError, IncidentNotFoundError, InvalidTransitionError } from '../../src/shared/errors.js';
import type { IncidentDraft, IncidentRevision, IncidentStore, OpResult } from '../../src/store/types.js';
import { storeEachTest, type StoreHarness } from './contract.js';

const T0 = Date.UTC(2026, 0, 1, 8, 0, 0);
const MINUTE = 60_000;

function draft(fp: string): IncidentDraft {
  return {
    fingerprint: fp,
    classification: { category: 'printer', severity: 'medium', impact: 'single-user', tier: 'L1', priority: 'P5' },
    title: 'Printer 3F offline',
    description: '',
    runbook: '',
    ruleId: 'printer-down',
    source: 'probe',
    target: { id: 'printer-3f', kind: 'printer', name: 'Printer 3F', site: 'hq', labels: {} },
    check: { name: 'ping', type: 'icmp' },
    labels: {},
    message: 'timeout',
  };
}

function numberOf(r: OpResult | undefined): string {
  if (r?.kind !== 'fail') throw new Error(`expected a fail result, got ${JSON.stringify(r)}`);
  return r.number;
}

function expectOf(inc: Incident): IncidentRevision['expect'] {
  return { status: inc.status, severity: inc.severity, tier: inc.tier, nextTimerAt: inc.escalation.nextTimerAt };
}

export function revisionContract(name: string, makeStore: () => Promise<StoreHarness>): void {
  describe(`IncidentStore revision contract: ${name}`, () => {
    let store: IncidentStore;
    let number: string;

    storeEachTest(makeStore, async (opened) => {
      store = opened.store;
      // Opened and told to the L1 channel.
      const [r] = await store.commit([
        { kind: 'fail', at: T0, count: 1, reopenWindowMs: MINUTE, draft: { ...draft('fp-printer'), escalation: { ...emptyEscalation(), nextTimerAt: T0 + 30 * MINUTE } } },
        { kind: 'notify', fingerprint: 'fp-printer', channels: ['l1'] },
      ]);
      number = numberOf(r);
      // The opening is delivered: what follows is the person's change alone.
      for (const d of await store.claimDeliveries(T0, 10, MINUTE, 'test')) await store.completeDelivery(d.id, { delivered: true, at: T0 });
    });

    it('writes the fields, the timeline and one event to the channels told before and the new ones', async () => {
      const inc = (await store.get(number))!;
      const at = T0 + 5 * MINUTE;
      const escalation = { ...inc.escalation, level: 1, nextTimerAt: T0 + 35 * MINUTE };
      const event = personEvent(number, at, 1, { type: 'incident.escalated', actor: 'Erin Engineer', message: 'by hand: floor down', tier: 'L3' });
      const out = await store.revise(number, {
        at,
        expect: expectOf(inc),
        set: { tier: 'L3', severity: 'major', impact: 'site', priority: 'P1', escalation },
        timeline: [{ actor: 'Erin Engineer', action: 'escalated', message: 'by hand: floor down' }],
        announce: { event, channels: ['l3'] },
      });
      expect(out).toMatchObject({ tier: 'L3', severity: 'major', impact: 'site', priority: 'P1', status: 'open', escalation: { level: 1, nextTimerAt: T0 + 35 * MINUTE } });
      expect(out.notified.sort()).toEqual(['l1', 'l3']);
      // The escalated entry of a revision that moves the tier records the tier it handed over to.
      expect(out.timeline.at(-1)).toEqual({ at, actor: 'Erin Engineer', action: 'escalated', message: 'by hand: floor down', tier: 'L3' });
      const again = (await store.get(number))!;
      expect(again.escalation.nextTimerAt).toBe(T0 + 35 * MINUTE);
      const claimed = await store.claimDeliveries(at, 10, MINUTE, 'test');
      expect(claimed.map((d) => `${d.channelId} ${d.event.type} ${d.event.actor} ${d.event.tier}`).sort()).toEqual([
        'l1 incident.escalated Erin Engineer L3',
        'l3 incident.escalated Erin Engineer L3',
      ]);
      // The sweep, having read the incident at L1, no longer applies its decision.
      const sweep = await store.applyEscalation(number, {
        at: at + 1,
        expect: { status: 'open', severity: 'major', nextTimerAt: T0 + 35 * MINUTE, tier: 'L1' },
        tier: 'L2',
        escalation,
        timeline: [],
        announce: null,
      });
      expect(sweep.applied).toBe(false);
      expect((await store.get(number))!.tier).toBe('L3');
    });

    it('changes nothing when the incident is no longer as expected (IncidentChangedError), and knows no unknown number', async () => {
      const inc = (await store.get(number))!;
      const change: IncidentRevision = {
        at: T0 + MINUTE,
        expect: { ...expectOf(inc), tier: 'L2' },
        set: { tier: 'L3' },
        timeline: [{ actor: 'Erin Engineer', action: 'escalated', message: 'x' }],
        announce: null,
      };
      await expect(store.revise(number, change)).rejects.toBeInstanceOf(IncidentChangedError);
      await expect(store.revise(number, { ...change, expect: { ...expectOf(inc), nextTimerAt: T0 } })).rejects.toBeInstanceOf(IncidentChangedError);
      await expect(store.revise('INC-999999', { ...change, expect: expectOf(inc) })).rejects.toBeInstanceOf(IncidentNotFoundError);
      const after = (await store.get(number))!;
      expect(after.tier).toBe('L1');
      expect(after.timeline).toHaveLength(inc.timeline.length);
    });

    it('reopens a resolved incident: open again, unacknowledged, counted; the timeline keeps who resolved it', async () => {
      await store.acknowledge(number, 'Alex Agent', 'on it', T0 + MINUTE);
      const resolved = await store.resolve(number, 'Alex Agent', 'replaced the fuser', T0 + 2 * MINUTE);
      const at = T0 + 10 * MINUTE;
      const out = await store.revise(number, {
        at,
        expect: expectOf(resolved),
        set: { reopen: true, escalation: { ...emptyEscalation(), nextTimerAt: at } },
        timeline: [{ actor: 'Erin Engineer', action: 'reopened', message: 'still jams' }],
        announce: { event: personEvent(number, at, 0, { type: 'incident.reopened', actor: 'Erin Engineer', message: 'still jams', tier: 'L1' }), channels: [] },
      });
      expect(out).toMatchObject({ status: 'open', reopenCount: 1, acknowledgedAt: null, acknowledgedBy: null, resolvedAt: null, resolvedBy: null });
      expect(out.timeline.map((e) => `${e.actor} ${e.action}`)).toEqual(['printer-down opened', 'Alex Agent acknowledged', 'Alex Agent resolved', 'Erin Engineer reopened']);
      // Its timer is due: the sweep finds it.
      expect((await store.dueEscalations(at, 10)).map((i) => i.number)).toEqual([number]);
      // The channel told before hears of the reopening, after the acknowledgement and the resolution.
      const heard: string[] = [];
      for (let round = 0; round < 5; round++) {
        for (const d of await store.claimDeliveries(at, 10, MINUTE, 'test')) {
          heard.push(`${d.channelId} ${d.event.type} ${d.event.actor}`);
          await store.completeDelivery(d.id, { delivered: true, at });
        }
      }
      expect(heard).toEqual(['l1 incident.acknowledged Alex Agent', 'l1 incident.resolved Alex Agent', 'l1 incident.reopened Erin Engineer']);
    });

    it('a comment is a note for the channels told of the incident, one event per comment even in one millisecond', async () => {
      await store.comment(number, 'Alex Agent', 'toner replaced', T0 + MINUTE);
      await store.comment(number, 'Erin Engineer', 'drum too', T0 + MINUTE);
      // One instant, two events, in the order they were written (a store may hold the second back
      // until the first is delivered: one channel hears an incident's changes in order).
      const claimed = [];
      for (let round = 0; round < 3; round++) {
        const batch = await store.claimDeliveries(T0 + MINUTE, 10, MINUTE, 'test');
        for (const d of batch) await store.completeDelivery(d.id, { delivered: true, at: T0 + MINUTE });
        claimed.push(...batch);
      }
      expect(claimed.map((d) => `${d.channelId} ${d.event.type} ${d.event.actor}: ${d.event.message}`)).toEqual([
        'l1 incident.commented Alex Agent: toner replaced',
        'l1 incident.commented Erin Engineer: drum too',
      ]);
    });

    it('refuses to reopen while another incident of the same fingerprint is active, naming it', async () => {
      const resolved = await store.resolve(number, 'Alex Agent', 'done', T0 + MINUTE);
      // Past the reopen window: the same problem opens a second incident.
      const [r] = await store.commit([{ kind: 'fail', at: T0 + 10 * MINUTE, count: 1, reopenWindowMs: MINUTE, draft: draft('fp-printer') }]);
      const second = numberOf(r);
      expect(second).not.toBe(number);
      const err = await store
        .revise(number, { at: T0 + 11 * MINUTE, expect: expectOf(resolved), set: { reopen: true }, timeline: [{ actor: 'Erin Engineer', action: 'reopened', message: 'x' }], announce: null })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidTransitionError);
      expect((err as Error).message).toBe(`incident ${number} cannot be reopened: ${second} about the same problem is active; work on that one`);
      expect((await store.get(number))!.status).toBe('resolved');
    });
  });
}
