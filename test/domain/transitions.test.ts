// The incident policy both stores apply (src/domain/transitions.ts, events.ts, paging.ts).
import { describe, expect, it } from 'vitest';
import { changeEvent, compareDeliveries, escalationEvent, planNotify, recipients, settleDelivery } from '../../src/domain/events.js';
import { emptyEscalation } from '../../src/domain/incident.js';
import { decodeDeadCursor, decodeSeqCursor, encodeDeadCursor, encodeSeqCursor, MAX_PAGE_SIZE, pageFrom, pageSize } from '../../src/domain/paging.js';
import { planSubscription } from '../../src/domain/subscribers.js';
import type { FailInput, FoundIncident, IncidentDraft } from '../../src/domain/transitions.js';
import {
  assertCanAcknowledge,
  assertCanResolve,
  failEvent,
  openIncident,
  planFail,
  planFlapping,
  planRelate,
} from '../../src/domain/transitions.js';
import { InvalidCursorError, InvalidTransitionError } from '../../src/shared/errors.js';

const T0 = Date.UTC(2026, 0, 1);

function draft(o: Partial<IncidentDraft> = {}): IncidentDraft {
  return {
    fingerprint: 'fp',
    classification: { category: 'network', severity: 'medium', impact: 'site', tier: 'L2', priority: 'P2' },
    title: 'ap-1 is down',
    description: 'ping fails',
    runbook: 'check the switch',
    ruleId: 'ap-down',
    source: 'probe',
    target: { id: 'ap-1', kind: 'wifi-ap', name: 'AP 1', site: 'hq', labels: {} },
    check: { name: 'ping', type: 'icmp' },
    labels: {},
    message: 'timeout',
    ...o,
  };
}

const op = (o: Partial<IncidentDraft> = {}, retitle = false): FailInput => ({ at: T0, count: 3, retitle, draft: draft(o) });
const active: FoundIncident = { seq: 7, active: true, severity: 'medium', title: 'ap-1 is down', description: 'ping fails' };

describe('planFail', () => {
  it('opens when nothing active or recently resolved was found', () => {
    expect(planFail(null, op())).toEqual({ outcome: 'opened' });
  });

  it('repeats the active incident quietly when nothing about it changed', () => {
    expect(planFail(active, op())).toEqual({
      outcome: 'repeated',
      seq: 7,
      occurrence: { count: 3, at: T0, lastMessage: 'timeout' },
      reclassify: null,
      retitle: null,
      timeline: [],
    });
  });

  it('reclassifies on a higher severity (never a lower one) and makes the timer due at once', () => {
    const higher = planFail(active, op({ classification: { ...draft().classification, severity: 'major' }, title: 'site down' }, true));
    expect(higher).toMatchObject({
      outcome: 'repeated',
      reclassify: { severity: 'major', title: 'site down', nextTimerAt: T0 },
      retitle: null,
      timeline: [{ action: 'reclassified', actor: 'ap-down', message: 'severity raised from medium to major: site down' }],
    });
    const lower = planFail(active, op({ classification: { ...draft().classification, severity: 'minor' } }));
    expect(lower).toMatchObject({ outcome: 'repeated', reclassify: null, timeline: [] });
  });

  it('retitles only when asked; a new title goes on the timeline, a new description alone does not', () => {
    expect(planFail(active, op({ title: 'door open' }, false))).toMatchObject({ retitle: null });
    expect(planFail(active, op({ title: 'door open' }, true))).toMatchObject({
      retitle: { title: 'door open', description: 'ping fails' },
      timeline: [{ action: 'updated', message: 'title changed from "ap-1 is down" to "door open"' }],
    });
    expect(planFail(active, op({ description: 'other' }, true))).toMatchObject({ retitle: { description: 'other' }, timeline: [] });
  });

  it('reopens a resolved one: open again, acknowledgement and resolution reset, classified by the rule firing now', () => {
    const plan = planFail({ ...active, active: false }, op({ classification: { ...draft().classification, severity: 'minor', tier: 'L1' } }));
    expect(plan).toEqual({
      outcome: 'reopened',
      seq: 7,
      occurrence: { count: 3, at: T0, lastMessage: 'timeout' },
      reopen: {
        status: 'open',
        reopens: 1,
        resolvedAt: null,
        resolvedBy: null,
        acknowledgedAt: null,
        acknowledgedBy: null,
        category: 'network',
        severity: 'minor',
        impact: 'site',
        priority: 'P2',
        tier: 'L1',
        title: 'ap-1 is down',
        description: 'ping fails',
        runbook: 'check the switch',
        ruleId: 'ap-down',
        escalation: emptyEscalation(),
        // No escalation planned: due at once, so the sweep plans and announces it.
        nextTimerAt: T0,
      },
      timeline: [{ at: T0, actor: 'ap-down', action: 'reopened', message: 'timeout' }],
    });
  });

  it('keeps a planned escalation timer, also none at all', () => {
    const planned = { ...emptyEscalation(), nextTimerAt: T0 + 5000 };
    expect(planFail({ ...active, active: false }, op({ escalation: planned }))).toMatchObject({ reopen: { nextTimerAt: T0 + 5000, escalation: planned } });
    const none = { ...emptyEscalation(), nextTimerAt: null };
    expect(openIncident(1, op({ escalation: none })).escalation.nextTimerAt).toBeNull();
  });

  it('names the event of each outcome; a repeat announces nothing', () => {
    expect([failEvent('opened'), failEvent('reopened'), failEvent('repeated')]).toEqual(['incident.opened', 'incident.reopened', null]);
  });
});

describe('openIncident', () => {
  it('opens the draft as a new incident, due at once without an escalation plan', () => {
    const inc = openIncident(12, op());
    expect(inc).toMatchObject({
      number: 'INC-000012',
      status: 'open',
      firstSeen: T0,
      lastSeen: T0,
      occurrences: 3,
      reopenCount: 0,
      notified: [],
      timeline: [{ at: T0, actor: 'ap-down', action: 'opened', message: 'timeout' }],
    });
    expect(inc.escalation.nextTimerAt).toBe(T0);
  });
});

describe('status changes by a person', () => {
  it('acknowledges only open incidents and resolves only active ones, saying why not', () => {
    expect(() => assertCanAcknowledge('INC-000001', 'open')).not.toThrow();
    expect(() => assertCanAcknowledge('INC-000001', 'acknowledged')).toThrow(
      new InvalidTransitionError('incident INC-000001 is acknowledged; only open incidents can be acknowledged'),
    );
    expect(() => assertCanResolve('INC-000001', 'acknowledged')).not.toThrow();
    expect(() => assertCanResolve('INC-000001', 'closed')).toThrow(
      new InvalidTransitionError('incident INC-000001 is already closed; only open or acknowledged incidents can be resolved'),
    );
  });
});

describe('flapping and relate', () => {
  it('writes only a change of the flag', () => {
    expect(planFlapping(true, { at: T0, flapping: true, message: 'x' })).toBeNull();
    expect(planFlapping(false, { at: T0, flapping: true, message: 'x' })).toEqual({
      entry: { at: T0, actor: 'system', action: 'flapping-started', message: 'x' },
      event: 'incident.flapping-started',
    });
    expect(planFlapping(true, { at: T0, flapping: false, message: 'y' })?.event).toBe('incident.flapping-stopped');
  });

  it('adds each related target once', () => {
    const r = { targetId: 'ap-2', fingerprint: 'f2', since: T0 };
    expect(planRelate([], { at: T0, related: r, message: 'm' })?.related).toEqual([r]);
    expect(planRelate([r], { at: T0 + 1, related: { ...r, since: T0 + 1 }, message: 'm' })).toBeNull();
  });
});

describe('notification events', () => {
  it('tells whoever heard of the incident before plus the channels named, each once', () => {
    expect(recipients(['mail'], ['hook', 'mail', 'hook'])).toEqual({ notified: ['mail', 'hook'], grew: true });
    expect(recipients(['mail'], ['mail'])).toEqual({ notified: ['mail'], grew: false });
  });

  it('writes an event only for a change; a quiet notify counts channels as told without one', () => {
    const change = { number: 'INC-000003', type: 'incident.opened' as const, at: T0 };
    expect(planNotify(undefined, { channels: ['hook'] })).toEqual({ kind: 'none' });
    expect(planNotify(change, { channels: ['hook'], quiet: true })).toEqual({ kind: 'quiet', channels: ['hook'] });
    expect(planNotify(change, { channels: ['hook'], actor: 'rule' })).toEqual({
      kind: 'event',
      channels: ['hook'],
      event: { id: `INC-000003:incident.opened:${T0}`, type: 'incident.opened', at: T0, number: 'INC-000003', actor: 'rule' },
    });
  });

  it('leaves empty messages out of person and escalation events; escalation ids carry the level', () => {
    expect(changeEvent('INC-000001', 'incident.acknowledged', T0, 'alice', '')).toEqual({
      id: `INC-000001:incident.acknowledged:${T0}`,
      type: 'incident.acknowledged',
      at: T0,
      number: 'INC-000001',
      actor: 'alice',
    });
    expect(escalationEvent('INC-000001', T0, 2, { type: 'incident.escalated', tier: 'L3', message: '' })).toEqual({
      id: `INC-000001:incident.escalated:${T0}:2`,
      type: 'incident.escalated',
      at: T0,
      number: 'INC-000001',
      actor: 'escalation',
      tier: 'L3',
    });
  });

  it('hands claimed deliveries out oldest change first, then by id', () => {
    const ds = [{ createdAt: 2, id: 'a' }, { createdAt: 1, id: 'b' }, { createdAt: 1, id: 'a' }];
    expect(ds.sort(compareDeliveries)).toEqual([{ createdAt: 1, id: 'a' }, { createdAt: 1, id: 'b' }, { createdAt: 2, id: 'a' }]);
  });

  it('ends the claim with every outcome', () => {
    expect(settleDelivery({ delivered: true, at: T0 })).toEqual({ status: 'delivered', reference: null, finishedAt: T0, lastError: null, leaseOwner: null });
    expect(settleDelivery({ dead: true, at: T0, error: 'gone' })).toEqual({ status: 'dead', lastError: 'gone', finishedAt: T0, leaseOwner: null });
    expect(settleDelivery({ retryAt: T0 + 5, error: '503' })).toEqual({ status: 'pending', nextAt: T0 + 5, lastError: '503', leaseOwner: null });
  });
});

describe('subscriptions', () => {
  it('writes one entry per new subscriber and a note when the list fills', () => {
    const plan = planSubscription(['a@example.org'], ['b@example.org', 'c@example.org', 'a@example.org'], 'alice', T0, 2);
    expect(plan.added).toEqual(['b@example.org']);
    expect(plan.refused).toBe(1);
    expect(plan.entries.map((e) => [e.actor, e.action])).toEqual([['alice', 'subscribed'], ['system', 'subscribers-limit']]);
  });
});

describe('paging', () => {
  it('clamps page sizes to 1..MAX_PAGE_SIZE', () => {
    expect([pageSize(0), pageSize(-5), pageSize(2.7), pageSize(Number.NaN), pageSize(1e9)]).toEqual([1, 1, 2, 1, MAX_PAGE_SIZE]);
  });

  it('says there is a next page only when a row beyond the page was read', () => {
    expect(pageFrom([3, 2, 1], 2, (n) => `after ${n}`)).toEqual({ items: [3, 2], next: 'after 2' });
    expect(pageFrom([3, 2], 2, (n) => `after ${n}`)).toEqual({ items: [3, 2], next: null });
  });

  it('round-trips its cursors and refuses any other text', () => {
    expect(decodeSeqCursor(encodeSeqCursor(42))).toBe(42);
    expect(decodeDeadCursor(encodeDeadCursor(T0, 'x:y'))).toEqual({ at: T0, id: 'x:y' });
    expect(() => decodeSeqCursor('bm9wZQ')).toThrow(InvalidCursorError);
    expect(() => decodeDeadCursor(encodeSeqCursor(1))).toThrow(InvalidCursorError);
  });
});
