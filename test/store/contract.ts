// The one specification every IncidentStore must meet. Each store's test file calls
// `storeContract(name, makeStore)`; see StoreHarness for what the factory must return.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Priority, Severity } from '../../src/domain/classification.js';
import { SEVERITIES } from '../../src/domain/classification.js';
import type { EscalationState, Incident } from '../../src/domain/incident.js';
import { emptyEscalation, incidentNumber, parseIncidentNumber } from '../../src/domain/incident.js';
import { INCIDENT_SORTS, PRIORITIES, type IncidentSort } from '../../src/domain/paging.js';
import { IncidentNotFoundError, InvalidTransitionError, SubscriberLimitError } from '../../src/shared/errors.js';
import type {
  Delivery,
  EscalationChange,
  FingerprintState,
  IncidentDraft,
  IncidentFilter,
  IncidentStore,
  OpResult,
  StoreOp,
} from '../../src/store/types.js';

/**
 * What `makeStore` returns: a fresh, empty database and ways to reach it again.
 * - `store`: an opened instance on that database.
 * - `another()`: a second, independent, opened instance on the SAME database, as a second daemon
 *   would have (for SQLite: another SqliteStore on the same file; for MongoDB: another client).
 * - `reopen()`: a new opened instance on the same database, used after the test closed `store`
 *   to simulate a restart.
 * - `cleanup()`: closes every instance the harness opened (closing twice must be harmless) and
 *   deletes the database.
 */
export interface StoreHarness {
  store: IncidentStore;
  another(): Promise<IncidentStore>;
  reopen(): Promise<IncidentStore>;
  cleanup(): Promise<void>;
}

/**
 * Gives each test of the enclosing describe a fresh store: `makeStore` before it, handed to
 * `opened` (which keeps it and may add the describe's fixtures), and cleaned up after it.
 */
export function storeEachTest(makeStore: () => Promise<StoreHarness>, opened: (h: StoreHarness) => unknown): void {
  let h: StoreHarness | undefined;
  beforeEach(async () => {
    h = await makeStore();
    await opened(h);
  });
  afterEach(async () => {
    await h?.cleanup();
  });
}

const T0 = Date.UTC(2026, 0, 1, 8, 0, 0);
const MINUTE = 60_000;
const WINDOW = 30 * MINUTE;

interface DraftOptions {
  severity?: Severity | undefined;
  category?: string;
  site?: string;
  targetId?: string;
  message?: string;
  ruleId?: string;
  title?: string;
  description?: string;
  priority?: Priority | undefined;
}

function draft(fp: string, o: DraftOptions = {}): IncidentDraft {
  const targetId = o.targetId ?? `target-${fp}`;
  return {
    fingerprint: fp,
    classification: {
      category: o.category ?? 'network',
      severity: o.severity ?? 'major',
      impact: 'site',
      tier: 'L2',
      priority: o.priority ?? 'P1',
    },
    title: o.title ?? `${targetId} is down`,
    description: o.description ?? `Ping to ${targetId} fails`,
    runbook: 'Check the switch port.',
    ruleId: o.ruleId ?? 'host-down',
    source: 'probe',
    target: { id: targetId, kind: 'server', name: `Server ${targetId}`, site: o.site ?? 'hq', labels: { rack: 'r1' } },
    check: { name: 'ping', type: 'icmp' },
    labels: { team: 'ops' },
    message: o.message ?? 'request timed out',
  };
}

function fail(fp: string, at: number, count = 1, o: DraftOptions = {}, reopenWindowMs = WINDOW): StoreOp {
  const op: StoreOp = { kind: 'fail', at, count, reopenWindowMs, draft: draft(fp, o) };
  if (o.title !== undefined) op.retitle = true;
  return op;
}

function resolveOp(fp: string, at: number, actor = 'system', message = 'recovered'): StoreOp {
  return { kind: 'resolve', at, fingerprint: fp, actor, message };
}

function failResult(r: OpResult | undefined): Extract<OpResult, { kind: 'fail' }> {
  if (!r || r.kind !== 'fail') throw new Error(`expected a fail result, got ${JSON.stringify(r)}`);
  return r;
}

/** Commits one fail op and returns its result. */
async function failOnce(store: IncidentStore, fp: string, at: number, count = 1, o: DraftOptions = {}) {
  const [r] = await store.commit([fail(fp, at, count, o)]);
  return failResult(r);
}

async function mustGet(store: IncidentStore, number: string): Promise<Incident> {
  const inc = await store.get(number);
  if (!inc) throw new Error(`${number} not found`);
  return inc;
}

async function listAll(store: IncidentStore, filter: IncidentFilter, pageSize: number): Promise<Incident[]> {
  const out: Incident[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 10_000; page++) {
    const p = await store.list(filter, pageSize, cursor);
    expect(p.items.length).toBeLessThanOrEqual(pageSize);
    out.push(...p.items);
    if (p.next === null) return out;
    cursor = p.next;
  }
  throw new Error('list never ended');
}

function fpState(fp: string, over: Partial<FingerprintState> = {}): FingerprintState {
  return {
    fingerprint: fp,
    targetId: `target-${fp}`,
    openAfter: 2,
    resolveAfter: 3,
    severity: 'major',
    fails: 3,
    oks: 0,
    lastStatus: 'fail',
    transitions: [T0, T0 + MINUTE],
    flapping: false,
    active: null,
    heldBy: null,
    firing: [],
    releasedBy: null,
    ...over,
  };
}

export function storeContract(name: string, makeStore: () => Promise<StoreHarness>): void {
  describe(`IncidentStore contract: ${name}`, () => {
    let h: StoreHarness;
    let store: IncidentStore;

    storeEachTest(makeStore, (opened) => {
      h = opened;
      store = opened.store;
    });

    describe('basics', () => {
      it('answers ping and describes itself', async () => {
        expect(await store.ping()).toBe(true);
        expect(store.describe()).toMatch(/\S/);
      });

      it('commits an empty batch as a no-op', async () => {
        expect(await store.commit([])).toEqual([]);
      });

      it('returns null for numbers that name no incident', async () => {
        expect(await store.get('INC-000001')).toBeNull();
        expect(await store.get('not-a-number')).toBeNull();
      });
    });

    describe('fail ops', () => {
      it('says which severity a repeat raised the incident from, and only then', async () => {
        const r = await failOnce(store, 'fp-a', T0, 1, { severity: 'medium' });
        const same = await failOnce(store, 'fp-a', T0 + 1, 1, { severity: 'medium' });
        expect(same).toEqual({ kind: 'fail', outcome: 'repeated', number: r.number, fingerprint: 'fp-a' });
        const raised = await failOnce(store, 'fp-a', T0 + 2, 1, { severity: 'major' });
        expect(raised).toEqual({ kind: 'fail', outcome: 'repeated', number: r.number, fingerprint: 'fp-a', raisedFrom: 'medium' });
        const lower = await failOnce(store, 'fp-a', T0 + 3, 1, { severity: 'minor' });
        expect(lower.raisedFrom).toBeUndefined();
      });

      it('opens a new incident carrying the draft, with an opened timeline entry by the rule', async () => {
        const r = await failOnce(store, 'fp-a', T0, 3, { message: 'timeout 1' });
        expect(r).toEqual({ kind: 'fail', outcome: 'opened', number: 'INC-000001', fingerprint: 'fp-a' });
        const inc = await mustGet(store, r.number);
        const d = draft('fp-a', { message: 'timeout 1' });
        expect(inc).toMatchObject({
          number: 'INC-000001',
          seq: 1,
          fingerprint: 'fp-a',
          status: 'open',
          ...d.classification,
          title: d.title,
          description: d.description,
          runbook: d.runbook,
          ruleId: 'host-down',
          source: 'probe',
          target: d.target,
          check: d.check,
          labels: d.labels,
          firstSeen: T0,
          lastSeen: T0,
          occurrences: 3,
          lastMessage: 'timeout 1',
          acknowledgedAt: null,
          acknowledgedBy: null,
          resolvedAt: null,
          resolvedBy: null,
          closedAt: null,
          reopenCount: 0,
          flapping: false,
          related: [],
        });
        expect(inc.timeline).toEqual([{ at: T0, actor: 'host-down', action: 'opened', message: 'timeout 1' }]);
      });

      it('a repeat whose rule renders another title or description updates them; a new title goes on the timeline', async () => {
        const first = await failOnce(store, 'fp-t', T0, 1, { title: 'Printer: jammed', description: 'jammed (20 pages)' });
        // Only the description changed (a page count): updated, no timeline entry.
        await failOnce(store, 'fp-t', T0 + MINUTE, 1, { title: 'Printer: jammed', description: 'jammed (21 pages)' });
        let inc = await mustGet(store, first.number);
        expect(inc).toMatchObject({ title: 'Printer: jammed', description: 'jammed (21 pages)' });
        expect(inc.timeline.map((e) => e.action)).toEqual(['opened']);
        const again = await failOnce(store, 'fp-t', T0 + 2 * MINUTE, 1, { title: 'Printer: doorOpen', description: 'door open (21 pages)' });
        expect(again.outcome).toBe('repeated');
        inc = await mustGet(store, first.number);
        expect(inc).toMatchObject({ title: 'Printer: doorOpen', description: 'door open (21 pages)', occurrences: 3 });
        expect(inc.timeline.at(-1)).toEqual({
          at: T0 + 2 * MINUTE,
          actor: 'host-down',
          action: 'updated',
          message: 'title changed from "Printer: jammed" to "Printer: doorOpen"',
        });
        // The same title again: nothing more on the timeline.
        await failOnce(store, 'fp-t', T0 + 3 * MINUTE, 1, { title: 'Printer: doorOpen', description: 'door open (21 pages)' });
        expect((await mustGet(store, first.number)).timeline).toHaveLength(2);
        // Without retitle (several series fire it) the title stays.
        await store.commit([{ kind: 'fail', at: T0 + 4 * MINUTE, count: 1, reopenWindowMs: WINDOW, draft: draft('fp-t', { title: 'other' }) }]);
        expect(await mustGet(store, first.number)).toMatchObject({ title: 'Printer: doorOpen', occurrences: 5 });
      });

      it('counts a fail for an active fingerprint as a repeat, without timeline noise', async () => {
        const first = await failOnce(store, 'fp-a', T0, 2);
        const again = await failOnce(store, 'fp-a', T0 + MINUTE, 5, { message: 'still down' });
        expect(again).toEqual({ kind: 'fail', outcome: 'repeated', number: first.number, fingerprint: 'fp-a' });
        const inc = await mustGet(store, first.number);
        expect(inc.occurrences).toBe(7);
        expect(inc.firstSeen).toBe(T0);
        expect(inc.lastSeen).toBe(T0 + MINUTE);
        expect(inc.lastMessage).toBe('still down');
        expect(inc.timeline.map((t) => t.action)).toEqual(['opened']);
      });

      it('applies ops of one batch in order: the second fail of a fingerprint is a repeat', async () => {
        const results = await store.commit([fail('fp-a', T0, 4), fail('fp-b', T0, 1), fail('fp-a', T0 + 1, 6)]);
        const [a1, b, a2] = results.map(failResult);
        expect(a1!.outcome).toBe('opened');
        expect(b!.outcome).toBe('opened');
        expect(a2!.outcome).toBe('repeated');
        expect(a2!.number).toBe(a1!.number);
        expect(b!.number).not.toBe(a1!.number);
        expect((await mustGet(store, a1!.number)).occurrences).toBe(10);
      });

      it('treats an acknowledged incident as active: a fail repeats it and keeps it acknowledged', async () => {
        const r = await failOnce(store, 'fp-a', T0);
        await store.acknowledge(r.number, 'alice', 'looking', T0 + 1);
        const again = await failOnce(store, 'fp-a', T0 + 2);
        expect(again.outcome).toBe('repeated');
        expect(again.number).toBe(r.number);
        expect((await mustGet(store, r.number)).status).toBe('acknowledged');
      });

      it('reopens a resolved incident that fails again within the reopen window', async () => {
        const r = await failOnce(store, 'fp-a', T0, 2);
        await store.acknowledge(r.number, 'alice', 'on it', T0 + 1);
        await store.commit([resolveOp('fp-a', T0 + MINUTE)]);
        const back = await failOnce(store, 'fp-a', T0 + MINUTE + WINDOW - 1, 3, { message: 'down again' });
        expect(back).toEqual({ kind: 'fail', outcome: 'reopened', number: r.number, fingerprint: 'fp-a' });
        const inc = await mustGet(store, r.number);
        expect(inc.status).toBe('open');
        expect(inc.reopenCount).toBe(1);
        expect(inc.resolvedAt).toBeNull();
        expect(inc.resolvedBy).toBeNull();
        // It starts over as open, so it must be acknowledged again; the timeline keeps the history.
        expect(inc.acknowledgedAt).toBeNull();
        expect(inc.acknowledgedBy).toBeNull();
        expect(inc.occurrences).toBe(5);
        expect(inc.lastSeen).toBe(T0 + MINUTE + WINDOW - 1);
        expect(inc.lastMessage).toBe('down again');
        expect(inc.timeline.map((t) => t.action)).toEqual(['opened', 'acknowledged', 'resolved', 'reopened']);
        expect(inc.timeline[3]).toEqual({
          at: T0 + MINUTE + WINDOW - 1,
          actor: 'host-down',
          action: 'reopened',
          message: 'down again',
        });
        expect(await store.countActive()).toMatchObject({ major: 1 });
      });

      it('reopens at the exact end of the window and opens a new incident just after it', async () => {
        const a = await failOnce(store, 'fp-a', T0);
        const b = await failOnce(store, 'fp-b', T0);
        await store.commit([resolveOp('fp-a', T0 + MINUTE), resolveOp('fp-b', T0 + MINUTE)]);
        const a2 = await failOnce(store, 'fp-a', T0 + MINUTE + WINDOW);
        const b2 = await failOnce(store, 'fp-b', T0 + MINUTE + WINDOW + 1);
        expect(a2.outcome).toBe('reopened');
        expect(a2.number).toBe(a.number);
        expect(b2.outcome).toBe('opened');
        expect(b2.number).not.toBe(b.number);
        expect((await mustGet(store, b.number)).status).toBe('resolved');
        const fresh = await mustGet(store, b2.number);
        expect(fresh).toMatchObject({ status: 'open', occurrences: 1, reopenCount: 0, firstSeen: T0 + MINUTE + WINDOW + 1 });
      });

      it('reopens a manually resolved incident; a zero window never reopens one resolved earlier', async () => {
        const a = await failOnce(store, 'fp-a', T0);
        await store.resolve(a.number, 'bob', 'fixed cable', T0 + 10);
        const [r] = await store.commit([fail('fp-a', T0 + 20, 1, {}, 0)]);
        expect(failResult(r).outcome).toBe('opened');
        const c = await failOnce(store, 'fp-c', T0);
        await store.resolve(c.number, 'bob', 'fixed', T0 + 10);
        expect((await failOnce(store, 'fp-c', T0 + 20)).outcome).toBe('reopened');
      });
    });

    describe('resolve ops', () => {
      it('resolves the active incident, recording who and why', async () => {
        const r = await failOnce(store, 'fp-a', T0);
        const [res] = await store.commit([resolveOp('fp-a', T0 + MINUTE, 'auto-resolve', '3 checks ok')]);
        // What the resolution's log line names besides the number, and when it opened (time to resolve).
        expect(res).toEqual({
          kind: 'resolve',
          number: r.number,
          fingerprint: 'fp-a',
          incident: { title: 'target-fp-a is down', severity: 'major', tier: 'L2', target: { id: 'target-fp-a', name: 'Server target-fp-a' } },
          openedAt: T0,
        });
        const inc = await mustGet(store, r.number);
        expect(inc.status).toBe('resolved');
        expect(inc.resolvedAt).toBe(T0 + MINUTE);
        expect(inc.resolvedBy).toBe('auto-resolve');
        expect(inc.timeline[1]).toEqual({ at: T0 + MINUTE, actor: 'auto-resolve', action: 'resolved', message: '3 checks ok' });
      });

      it('returns number null when nothing of the fingerprint is active', async () => {
        expect(await store.commit([resolveOp('never-seen', T0)])).toEqual([
          { kind: 'resolve', number: null, fingerprint: 'never-seen' },
        ]);
        await failOnce(store, 'fp-a', T0);
        await store.commit([resolveOp('fp-a', T0 + 1)]);
        const [again] = await store.commit([resolveOp('fp-a', T0 + 2)]);
        expect(again).toEqual({ kind: 'resolve', number: null, fingerprint: 'fp-a' });
      });

      it('resolves an acknowledged incident', async () => {
        const r = await failOnce(store, 'fp-a', T0);
        await store.acknowledge(r.number, 'alice', 'mine', T0 + 1);
        const [res] = await store.commit([resolveOp('fp-a', T0 + 2)]);
        expect(res).toMatchObject({ kind: 'resolve', number: r.number, fingerprint: 'fp-a' });
        expect((await mustGet(store, r.number)).status).toBe('resolved');
      });
    });

    describe('flapping and relate ops', () => {
      it('sets and clears the flapping flag with one timeline entry per change', async () => {
        const r = await failOnce(store, 'fp-a', T0);
        const on: StoreOp = { kind: 'flapping', at: T0 + 1, fingerprint: 'fp-a', flapping: true, message: '6 changes in 10m' };
        expect(await store.commit([on])).toEqual([{ kind: 'flapping', number: r.number, fingerprint: 'fp-a' }]);
        expect((await mustGet(store, r.number)).flapping).toBe(true);
        // Saying it again changes nothing.
        await store.commit([{ ...on, at: T0 + 2 }]);
        await store.commit([{ kind: 'flapping', at: T0 + 3, fingerprint: 'fp-a', flapping: false, message: 'stable' }]);
        const inc = await mustGet(store, r.number);
        expect(inc.flapping).toBe(false);
        expect(inc.timeline.map((t) => [t.action, t.at, t.message])).toEqual([
          ['opened', T0, 'request timed out'],
          ['flapping-started', T0 + 1, '6 changes in 10m'],
          ['flapping-stopped', T0 + 3, 'stable'],
        ]);
      });

      it('returns number null for flapping on a fingerprint without an active incident', async () => {
        const [r] = await store.commit([{ kind: 'flapping', at: T0, fingerprint: 'nope', flapping: true, message: 'x' }]);
        expect(r).toEqual({ kind: 'flapping', number: null, fingerprint: 'nope' });
      });

      it('adds each related target once, with a dependent-failing timeline entry', async () => {
        const parent = await failOnce(store, 'fp-switch', T0);
        const relate = (targetId: string, at: number, fingerprint = 'fp-switch'): StoreOp => ({
          kind: 'relate',
          at,
          fingerprint,
          related: { targetId, fingerprint: `fp-${targetId}`, since: at },
          message: `${targetId} fails behind this switch`,
        });
        const results = await store.commit([relate('ap-1', T0 + 1), relate('ap-2', T0 + 2), relate('ap-1', T0 + 3)]);
        expect(results).toEqual([
          { kind: 'relate', number: parent.number, fingerprint: 'fp-switch' },
          { kind: 'relate', number: parent.number, fingerprint: 'fp-switch' },
          { kind: 'relate', number: parent.number, fingerprint: 'fp-switch' },
        ]);
        const inc = await mustGet(store, parent.number);
        expect(inc.related).toEqual([
          { targetId: 'ap-1', fingerprint: 'fp-ap-1', since: T0 + 1 },
          { targetId: 'ap-2', fingerprint: 'fp-ap-2', since: T0 + 2 },
        ]);
        expect(inc.timeline.filter((t) => t.action === 'dependent-failing')).toEqual([
          { at: T0 + 1, actor: 'system', action: 'dependent-failing', message: 'ap-1 fails behind this switch' },
          { at: T0 + 2, actor: 'system', action: 'dependent-failing', message: 'ap-2 fails behind this switch' },
        ]);
        const [none] = await store.commit([relate('ap-3', T0 + 4, 'fp-other')]);
        expect(none).toEqual({ kind: 'relate', number: null, fingerprint: 'fp-other' });
      });
    });

    describe('state and restarts', () => {
      it('keeps fingerprint state across a restart, with and without an active incident', async () => {
        expect(await store.loadState()).toEqual([]);
        const opened = await failOnce(store, 'fp-a', T0);
        const a = fpState('fp-a', {
          active: opened.number,
          flapping: true,
          transitions: [T0, T0 + 5, T0 + 9],
          firing: ['probe\u0000t1\u0000ping', 'probe\u0000t2\u0000ping'],
        });
        // Fields a store does not know travel too: the state is one opaque document per fingerprint.
        const b = {
          ...fpState('fp-b', { lastStatus: 'ok', fails: 0, oks: 2, heldBy: 'fp-switch', releasedBy: 'probe\u0000t1\u0000ping' }),
          extra: { n: 1 },
        };
        delete (b as Partial<FingerprintState>).severity;
        // Says active, but no incident of fp-c is: the state must still be kept.
        const c = fpState('fp-c', { active: 'INC-999999' });
        const results = await store.commit([{ kind: 'state', fingerprints: [a, b, c], forget: [] }]);
        expect(results).toEqual([{ kind: 'state' }]);
        await store.close();
        const restarted = await h.reopen();
        const byFp = (x: FingerprintState, y: FingerprintState) => x.fingerprint.localeCompare(y.fingerprint);
        expect([...(await restarted.loadState())].sort(byFp)).toEqual([a, b, c]);

        // Upserts replace, forget deletes; a state whose incident resolved is kept on its own.
        await restarted.commit([{ kind: 'resolve', at: T0 + 10, fingerprint: 'fp-a', actor: 'system', message: 'ok' }]);
        const a2 = { ...a, active: null, fails: 0, oks: 1, flapping: false, transitions: [T0 + 10] };
        await restarted.commit([{ kind: 'state', fingerprints: [a2], forget: ['fp-b', 'fp-c'] }]);
        expect(await restarted.loadState()).toEqual([a2]);

        // Reopened: the state follows the incident again, and only one copy is loaded.
        await failOnce(restarted, 'fp-a', T0 + 20);
        const a3 = { ...a2, active: opened.number, fails: 1, oks: 0 };
        await restarted.commit([{ kind: 'state', fingerprints: [a3], forget: [] }]);
        expect(await restarted.loadState()).toEqual([a3]);
      });

      it('keeps dedup across a restart: a fail for a fingerprint open before is a repeat', async () => {
        const r = await failOnce(store, 'fp-a', T0, 2);
        await store.close();
        const restarted = await h.reopen();
        const again = await failOnce(restarted, 'fp-a', T0 + MINUTE, 1);
        expect(again).toEqual({ kind: 'fail', outcome: 'repeated', number: r.number, fingerprint: 'fp-a' });
        expect((await mustGet(restarted, r.number)).occurrences).toBe(3);
        // Numbering carries on where it stopped.
        const next = await failOnce(restarted, 'fp-b', T0 + MINUTE);
        expect(parseIncidentNumber(next.number)).toBe(parseIncidentNumber(r.number)! + 1);
      });

      it('reopens across a restart', async () => {
        const r = await failOnce(store, 'fp-a', T0);
        await store.commit([resolveOp('fp-a', T0 + 1)]);
        await store.close();
        const restarted = await h.reopen();
        expect(await failOnce(restarted, 'fp-a', T0 + 2)).toMatchObject({ outcome: 'reopened', number: r.number });
      });

      it('records the intake journal mark with the commit, per journal, only ever raised, across a restart', async () => {
        expect(await store.intakeMark('journal-a')).toBe(0);
        const r = await store.commit([fail('fp-a', T0), { kind: 'intake', journal: 'journal-a', lsn: 7 }], { durable: false });
        expect(r.map((x) => x.kind)).toEqual(['fail', 'intake']);
        await store.commit([{ kind: 'intake', journal: 'journal-a', lsn: 3 }]);
        await store.commit([{ kind: 'intake', journal: 'journal-b', lsn: 2 }]);
        expect(await store.intakeMark('journal-a')).toBe(7);
        expect(await store.intakeMark('journal-b')).toBe(2);
        await store.close();
        const restarted = await h.reopen();
        expect(await restarted.intakeMark('journal-a')).toBe(7);
        expect((await restarted.list({}, 10)).items).toHaveLength(1);
      });
    });

    describe('numbers', () => {
      it('hands out unique, increasing numbers in INC-000000 form', async () => {
        const numbers: string[] = [];
        for (let batch = 0; batch < 3; batch++) {
          const ops = Array.from({ length: 10 }, (_, i) => fail(`fp-${batch}-${i}`, T0 + batch));
          for (const r of await store.commit(ops)) numbers.push(failResult(r).number);
        }
        expect(new Set(numbers).size).toBe(30);
        for (const n of numbers) expect(n).toMatch(/^INC-\d{6,}$/);
        const seqs = numbers.map((n) => parseIncidentNumber(n)!);
        expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
        expect(seqs[0]).toBe(1);
        for (const n of numbers) {
          const inc = await mustGet(store, n);
          expect(inc.number).toBe(incidentNumber(inc.seq));
        }
      });
    });

    describe('list', () => {
      const sevs: Severity[] = ['minor', 'medium', 'severe', 'major'];
      let numbers: string[];

      /** 25 incidents: severity cycles, category alternates, site in thirds; some acknowledged or resolved. */
      async function seed(): Promise<void> {
        const ops: StoreOp[] = [];
        for (let i = 0; i < 25; i++) {
          ops.push(
            fail(`fp-${i}`, T0 + i, 1, {
              severity: sevs[i % 4],
              category: i % 2 === 0 ? 'network' : 'printing',
              site: i < 9 ? 'hq' : i < 18 ? 'branch' : 'lab',
              targetId: `t-${i % 5}`,
            }),
          );
        }
        numbers = (await store.commit(ops)).map((r) => failResult(r).number);
        for (const i of [1, 2, 3]) await store.acknowledge(numbers[i]!, 'alice', 'seen', T0 + 100);
        await store.commit([0, 3, 4, 5, 6].map((i) => resolveOp(`fp-${i}`, T0 + 200)));
      }

      it('pages newest first without duplicates or gaps, next null at the end', async () => {
        await seed();
        const p1 = await store.list({}, 10);
        expect(p1.items).toHaveLength(10);
        expect(p1.next).not.toBeNull();
        const p2 = await store.list({}, 10, p1.next);
        expect(p2.items).toHaveLength(10);
        expect(p2.next).not.toBeNull();
        const p3 = await store.list({}, 10, p2.next);
        expect(p3.items).toHaveLength(5);
        expect(p3.next).toBeNull();
        const seen = [...p1.items, ...p2.items, ...p3.items].map((i) => i.number);
        expect(seen).toEqual([...numbers].reverse());
        for (const item of [...p1.items, ...p2.items, ...p3.items]) expect(item.timeline).toEqual([]);
      });

      it('returns next null when the last page is exactly full, and an empty page on an empty store', async () => {
        expect(await store.list({}, 10)).toEqual({ items: [], next: null });
        await seed();
        const all = await listAll(store, {}, 25);
        expect(all).toHaveLength(25);
        const p = await store.list({}, 25);
        expect(p.next).toBeNull();
      });

      it('filters by status, severity, category, site, target and fingerprint', async () => {
        await seed();
        const nums = async (f: IncidentFilter) => (await listAll(store, f, 4)).map((i) => i.number);
        const pick = (pred: (i: number) => boolean) =>
          numbers.filter((_, i) => pred(i)).reverse();
        const resolved = new Set([0, 3, 4, 5, 6]);
        const acked = new Set([1, 2]);

        expect(await nums({ status: ['resolved'] })).toEqual(pick((i) => resolved.has(i)));
        expect(await nums({ status: ['acknowledged'] })).toEqual(pick((i) => acked.has(i)));
        expect(await nums({ status: ['open', 'acknowledged'] })).toEqual(pick((i) => !resolved.has(i)));
        expect(await nums({ severity: ['major'] })).toEqual(pick((i) => i % 4 === 3));
        expect(await nums({ severity: ['minor', 'medium'] })).toEqual(pick((i) => i % 4 < 2));
        expect(await nums({ category: 'printing' })).toEqual(pick((i) => i % 2 === 1));
        expect(await nums({ site: 'branch' })).toEqual(pick((i) => i >= 9 && i < 18));
        expect(await nums({ target: 't-2' })).toEqual(pick((i) => i % 5 === 2));
        expect(await nums({ fingerprint: 'fp-7' })).toEqual([numbers[7]]);
        expect(await nums({ category: 'nothing-here' })).toEqual([]);
        // Filters combine with AND.
        expect(await nums({ status: ['open'], severity: ['minor', 'severe'], site: 'lab' })).toEqual(
          pick((i) => !resolved.has(i) && !acked.has(i) && i % 2 === 0 && i >= 18),
        );
        // An empty array does not restrict.
        expect(await nums({ status: [], severity: [] })).toEqual(pick(() => true));
      });

      it('lists every incident of a fingerprint, old and new', async () => {
        const first = await failOnce(store, 'fp-a', T0);
        await store.commit([resolveOp('fp-a', T0 + 1)]);
        const second = await failOnce(store, 'fp-a', T0 + 1 + WINDOW + 1);
        await failOnce(store, 'fp-b', T0);
        const found = await store.list({ fingerprint: 'fp-a' }, 10);
        expect(found.items.map((i) => [i.number, i.status])).toEqual([
          [second.number, 'open'],
          [first.number, 'resolved'],
        ]);
      });

      it('rejects a cursor it did not hand out', async () => {
        await seed();
        await expect(store.list({}, 10, 'this-is-not-a-cursor')).rejects.toThrow(/cursor/i);
      });
    });

    describe('list: priority, opened-between and text filters, and every sort', () => {
      const sevs: Severity[] = ['minor', 'medium', 'severe', 'major'];
      const HOUR = 60 * MINUTE;
      /** When incident i was opened: ten distinct times, not in number order, three incidents per time. */
      const openedAt = (i: number) => T0 + ((i * 7) % 10) * MINUTE;
      const texts: Record<number, { title?: string; description?: string }> = {
        0: { title: 'Toner 50% left on printer_1' },
        1: { title: 'Toner 500 pages left' },
        2: { description: 'The TONER of printer-2 is empty' },
        3: { title: 'printer_3 jammed', description: 'paper jam in tray 2' },
        4: { title: 'printerx3 offline' },
        5: { description: 'Ünïcode and a (regex) [char] class.*' },
      };

      /** 30 incidents over ten opening times, every severity and priority, some seen again later. */
      async function seed(): Promise<Incident[]> {
        const ops: StoreOp[] = [];
        for (let i = 0; i < 30; i++) {
          ops.push(fail(`fp-${i}`, openedAt(i), 1, { severity: sevs[i % 4], priority: PRIORITIES[(i * 3) % 5], ...texts[i] }));
        }
        await store.commit(ops);
        // Half of them fail again later, so lastSeen differs from firstSeen (with ties again).
        await store.commit(
          Array.from({ length: 15 }, (_, k) => fail(`fp-${k * 2}`, T0 + HOUR + ((k * 11) % 6) * MINUTE, 1, { severity: sevs[(k * 2) % 4], priority: PRIORITIES[(k * 6) % 5] })),
        );
        await store.commit([resolveOp('fp-1', T0 + 2 * HOUR), resolveOp('fp-4', T0 + 2 * HOUR)]);
        const all = await listAll(store, {}, 100);
        expect(all).toHaveLength(30);
        return all;
      }

      /** The documented order, computed here independently of the stores: the key, then the number, same direction. */
      function expected(items: Incident[], sort: IncidentSort): string[] {
        const desc = sort.startsWith('-');
        const key = desc ? sort.slice(1) : sort;
        const value = (i: Incident): number =>
          key === 'opened' ? i.firstSeen
          : key === 'lastSeen' ? i.lastSeen
          : key === 'number' ? i.seq
          : key === 'severity' ? SEVERITIES.indexOf(i.severity)
          : PRIORITIES.indexOf(i.priority);
        const sorted = [...items].sort((a, b) => value(a) - value(b) || a.seq - b.seq);
        if (desc) sorted.reverse();
        return sorted.map((i) => i.number);
      }

      it('pages every sort in its documented order, without duplicates or gaps, at any page size', async () => {
        const all = await seed();
        for (const sort of INCIDENT_SORTS) {
          for (const size of [1, 4, 7, 30]) {
            const got: string[] = [];
            let cursor: string | null = null;
            for (let n = 0; n < 100; n++) {
              const p = await store.list({}, size, cursor, sort);
              expect(p.items.length).toBeLessThanOrEqual(size);
              got.push(...p.items.map((i) => i.number));
              if (p.next === null) break;
              cursor = p.next;
            }
            expect({ sort, size, got }).toEqual({ sort, size, got: expected(all, sort) });
          }
        }
      });

      it('lists newest opened first by default', async () => {
        const all = await seed();
        expect((await listAll(store, {}, 4)).map((i) => i.number)).toEqual(expected(all, '-opened'));
      });

      it('refuses a cursor handed out for another sort, naming both', async () => {
        await seed();
        const p = await store.list({}, 5, null, 'severity');
        expect(p.next).not.toBeNull();
        await expect(store.list({}, 5, p.next, '-opened')).rejects.toThrow(/sort=severity.*sort=-opened/);
        await expect(store.list({}, 5, p.next, 'severity')).resolves.toMatchObject({ items: expect.any(Array) });
      });

      it('filters by priority, and sorts by priority or severity within other filters', async () => {
        const all = await seed();
        const ofPriority = all.filter((i) => i.priority === 'P1' || i.priority === 'P4');
        expect(ofPriority.length).toBeGreaterThan(0);
        expect((await listAll(store, { priority: ['P1', 'P4'] }, 4)).map((i) => i.number)).toEqual(expected(ofPriority, '-opened'));
        // A class-valued order restricted to some classes by the filter on the same field.
        const someSev = all.filter((i) => i.severity === 'minor' || i.severity === 'severe');
        const bySev: string[] = [];
        let cursor: string | null = null;
        do {
          const p: Awaited<ReturnType<IncidentStore['list']>> = await store.list({ severity: ['severe', 'minor'] }, 3, cursor, '-severity');
          bySev.push(...p.items.map((i) => i.number));
          cursor = p.next;
        } while (cursor !== null);
        expect(bySev).toEqual(expected(someSev, '-severity'));
        const active = all.filter((i) => i.status === 'open');
        const byPrio: string[] = [];
        cursor = null;
        do {
          const p: Awaited<ReturnType<IncidentStore['list']>> = await store.list({ status: ['open'] }, 4, cursor, 'priority');
          byPrio.push(...p.items.map((i) => i.number));
          cursor = p.next;
        } while (cursor !== null);
        expect(byPrio).toEqual(expected(active, 'priority'));
      });

      it('filters by opening time: openedAfter inclusive, openedBefore exclusive', async () => {
        const all = await seed();
        const from = T0 + 3 * MINUTE;
        const to = T0 + 6 * MINUTE;
        const inRange = all.filter((i) => i.firstSeen >= from && i.firstSeen < to);
        // Three opening times, three incidents each; the one opened exactly at `to` is left out.
        expect(inRange).toHaveLength(9);
        expect((await listAll(store, { openedAfter: from, openedBefore: to }, 4)).map((i) => i.number)).toEqual(expected(inRange, '-opened'));
        expect(await listAll(store, { openedAfter: to, openedBefore: to }, 4)).toEqual([]);
        expect((await listAll(store, { openedAfter: T0 + 9 * MINUTE }, 4)).map((i) => i.firstSeen)).toEqual([T0 + 9 * MINUTE, T0 + 9 * MINUTE, T0 + 9 * MINUTE]);
        expect((await listAll(store, { openedBefore: T0 + MINUTE }, 4)).map((i) => i.firstSeen)).toEqual([T0, T0, T0]);
      });

      it('finds text in the title or description, case-insensitively, wildcards and regex characters taken literally', async () => {
        const all = await seed();
        const numbersOf = (...idx: number[]) => expected(all.filter((i) => idx.some((k) => i.fingerprint === `fp-${k}`)), '-opened');
        const q = async (text: string, filter: IncidentFilter = {}) => (await listAll(store, { ...filter, text }, 2)).map((i) => i.number);
        expect(await q('toner')).toEqual(numbersOf(0, 1, 2));
        expect(await q('50%')).toEqual(numbersOf(0));
        expect(await q('printer_')).toEqual(numbersOf(0, 3));
        expect(await q('PAPER JAM')).toEqual(numbersOf(3));
        expect(await q('(regex) [char] class.*')).toEqual(numbersOf(5));
        expect(await q('%')).toEqual(numbersOf(0));
        expect(await q('\\')).toEqual([]);
        expect(await q('toner', { status: ['open'] })).toEqual(numbersOf(0, 2));
        expect(await q('toner', { priority: [all.find((i) => i.fingerprint === 'fp-2')!.priority] })).toEqual(numbersOf(2));
      });
    });

    describe('acknowledge, resolve, comment', () => {
      it('acknowledges an open incident, once', async () => {
        const r = await failOnce(store, 'fp-a', T0);
        const inc = await store.acknowledge(r.number, 'alice', 'I am on it', T0 + 5);
        expect(inc).toMatchObject({ number: r.number, status: 'acknowledged', acknowledgedAt: T0 + 5, acknowledgedBy: 'alice' });
        expect(inc.timeline).toEqual([
          { at: T0, actor: 'host-down', action: 'opened', message: 'request timed out' },
          { at: T0 + 5, actor: 'alice', action: 'acknowledged', message: 'I am on it' },
        ]);
        await expect(store.acknowledge(r.number, 'bob', 'me too', T0 + 6)).rejects.toBeInstanceOf(InvalidTransitionError);
        // The failed attempt left no trace.
        const after = await mustGet(store, r.number);
        expect(after.acknowledgedBy).toBe('alice');
        expect(after.timeline).toHaveLength(2);
      });

      it('refuses to acknowledge a resolved incident', async () => {
        const r = await failOnce(store, 'fp-a', T0);
        await store.commit([resolveOp('fp-a', T0 + 1)]);
        await expect(store.acknowledge(r.number, 'alice', 'late', T0 + 2)).rejects.toBeInstanceOf(InvalidTransitionError);
      });

      it('resolves open and acknowledged incidents by hand, but not resolved ones', async () => {
        const a = await failOnce(store, 'fp-a', T0, 1, { severity: 'minor' });
        const b = await failOnce(store, 'fp-b', T0, 1, { severity: 'minor' });
        await store.acknowledge(b.number, 'alice', 'mine', T0 + 1);
        const ra = await store.resolve(a.number, 'bob', 'rebooted', T0 + 2);
        expect(ra).toMatchObject({ status: 'resolved', resolvedAt: T0 + 2, resolvedBy: 'bob' });
        expect(ra.timeline.at(-1)).toEqual({ at: T0 + 2, actor: 'bob', action: 'resolved', message: 'rebooted' });
        const rb = await store.resolve(b.number, 'alice', 'replaced cable', T0 + 3);
        expect(rb).toMatchObject({ status: 'resolved', resolvedBy: 'alice', acknowledgedBy: 'alice' });
        await expect(store.resolve(a.number, 'bob', 'again', T0 + 4)).rejects.toBeInstanceOf(InvalidTransitionError);
        expect(await store.countActive()).toEqual({ minor: 0, medium: 0, severe: 0, major: 0 });
        // The fingerprint is free again: after the window a new incident opens.
        expect((await failOnce(store, 'fp-a', T0 + 2 + WINDOW + 1)).outcome).toBe('opened');
      });

      it('takes comments in any status', async () => {
        const r = await failOnce(store, 'fp-a', T0);
        const c1 = await store.comment(r.number, 'alice', 'vendor called', T0 + 1);
        expect(c1.status).toBe('open');
        expect(c1.timeline.at(-1)).toEqual({ at: T0 + 1, actor: 'alice', action: 'commented', message: 'vendor called' });
        await store.resolve(r.number, 'bob', 'done', T0 + 2);
        const c2 = await store.comment(r.number, 'carol', 'root cause: PSU', T0 + 3);
        expect(c2.status).toBe('resolved');
        expect(c2.timeline.map((t) => t.action)).toEqual(['opened', 'commented', 'resolved', 'commented']);
      });

      it('throws IncidentNotFoundError for unknown or malformed numbers', async () => {
        await failOnce(store, 'fp-a', T0);
        for (const n of ['INC-999999', 'bogus']) {
          await expect(store.acknowledge(n, 'a', 'm', T0)).rejects.toBeInstanceOf(IncidentNotFoundError);
          await expect(store.resolve(n, 'a', 'm', T0)).rejects.toBeInstanceOf(IncidentNotFoundError);
          await expect(store.comment(n, 'a', 'm', T0)).rejects.toBeInstanceOf(IncidentNotFoundError);
        }
      });

      it('keeps the timeline oldest first through a whole life cycle', async () => {
        const r = await failOnce(store, 'fp-a', T0);
        await store.commit([{ kind: 'flapping', at: T0 + 1, fingerprint: 'fp-a', flapping: true, message: 'flaps' }]);
        await store.acknowledge(r.number, 'alice', 'ack', T0 + 2);
        await store.comment(r.number, 'bob', 'note', T0 + 3);
        await store.commit([resolveOp('fp-a', T0 + 4, 'auto', 'ok again')]);
        await failOnce(store, 'fp-a', T0 + 5);
        const inc = await store.comment(r.number, 'carol', 'again?', T0 + 6);
        expect(inc.timeline.map((t) => [t.at, t.actor, t.action])).toEqual([
          [T0, 'host-down', 'opened'],
          [T0 + 1, 'system', 'flapping-started'],
          [T0 + 2, 'alice', 'acknowledged'],
          [T0 + 3, 'bob', 'commented'],
          [T0 + 4, 'auto', 'resolved'],
          [T0 + 5, 'host-down', 'reopened'],
          [T0 + 6, 'carol', 'commented'],
        ]);
        expect(await mustGet(store, r.number)).toEqual(inc);
      });
    });

    describe('countActive', () => {
      it('counts open and acknowledged incidents per severity, with every severity present', async () => {
        expect(await store.countActive()).toEqual({ minor: 0, medium: 0, severe: 0, major: 0 });
        await store.commit([
          fail('a', T0, 1, { severity: 'major' }),
          fail('b', T0, 1, { severity: 'major' }),
          fail('c', T0, 1, { severity: 'minor' }),
          fail('d', T0, 1, { severity: 'severe' }),
          fail('a', T0 + 1, 9, { severity: 'major' }),
        ]);
        const c = await store.countActive();
        expect(Object.keys(c).sort()).toEqual([...SEVERITIES].sort());
        expect(c).toEqual({ minor: 1, medium: 0, severe: 1, major: 2 });
        const [b] = (await store.list({ fingerprint: 'b' }, 1)).items;
        await store.acknowledge(b!.number, 'alice', 'ack', T0 + 2);
        await store.commit([resolveOp('c', T0 + 3)]);
        expect(await store.countActive()).toEqual({ minor: 0, medium: 0, severe: 1, major: 2 });
      });
    });

    describe('two instances on one database', () => {
      it('sees the other instance’s incidents and dedups against them', async () => {
        const other = await h.another();
        const r = await failOnce(store, 'fp-a', T0);
        expect((await mustGet(other, r.number)).fingerprint).toBe('fp-a');
        expect(await failOnce(other, 'fp-a', T0 + 1)).toMatchObject({ outcome: 'repeated', number: r.number });
        const n2 = await failOnce(other, 'fp-b', T0 + 2);
        const n3 = await failOnce(store, 'fp-c', T0 + 3);
        expect(new Set([r.number, n2.number, n3.number]).size).toBe(3);
        expect(parseIncidentNumber(n3.number)).toBeGreaterThan(parseIncidentNumber(n2.number)!);
      });

      it('racing fail ops for the same 1,000 fingerprints yield exactly one active incident each', async () => {
        const other = await h.another();
        const fps = Array.from({ length: 1000 }, (_, i) => `race-${i}`);
        const batches = (order: string[], at: number): StoreOp[][] => {
          const out: StoreOp[][] = [];
          for (let i = 0; i < order.length; i += 100) {
            out.push(order.slice(i, i + 100).map((fp) => fail(fp, at, 1)));
          }
          return out;
        };
        // Opposite orders, two passes each, so both instances create and repeat the same fingerprints.
        const forward = [...batches(fps, T0), ...batches(fps, T0 + 1)];
        const backward = [...batches([...fps].reverse(), T0), ...batches([...fps].reverse(), T0 + 1)];
        const run = async (s: IncidentStore, plan: StoreOp[][]): Promise<OpResult[]> => {
          const out: OpResult[] = [];
          for (const ops of plan) {
            out.push(...(await s.commit(ops)));
            // Yield so the two instances' batches interleave.
            await new Promise((r) => setImmediate(r));
          }
          return out;
        };
        const [ra, rb] = await Promise.all([run(store, forward), run(other, backward)]);
        const all = [...ra, ...rb].map(failResult);
        expect(all).toHaveLength(4000);

        const opened = all.filter((r) => r.outcome === 'opened');
        expect(opened).toHaveLength(1000);
        expect(new Set(opened.map((r) => r.fingerprint)).size).toBe(1000);
        expect(new Set(opened.map((r) => r.number)).size).toBe(1000);
        // Every result for a fingerprint names the same incident.
        const numberOf = new Map(opened.map((r) => [r.fingerprint, r.number]));
        for (const r of all) expect(r.number).toBe(numberOf.get(r.fingerprint));

        const active = await listAll(store, { status: ['open', 'acknowledged'] }, 500);
        expect(active).toHaveLength(1000);
        expect(new Set(active.map((i) => i.fingerprint)).size).toBe(1000);
        for (const inc of active) expect(inc.occurrences).toBe(4);
        expect(await other.countActive()).toEqual({ minor: 0, medium: 0, severe: 0, major: 1000 });
      });
    });

    describe('notification outbox', () => {
      const LEASE = MINUTE;
      const notify = (fp: string, channels = ['mail', 'hook'], extra: { actor?: string; message?: string } = {}): StoreOp => ({
        kind: 'notify',
        fingerprint: fp,
        channels,
        ...extra,
      });
      const ids = (ds: Delivery[]): string[] => ds.map((d) => d.id).sort();

      it('writes one pending delivery per channel for an opening, with the number the store assigned', async () => {
        const results = await store.commit([fail('fp-a', T0), notify('fp-a', ['mail', 'hook', 'mail'], { actor: 'host-down' })]);
        const number = failResult(results[0]).number;
        const eventId = `${number}:incident.opened:${T0}`;
        expect(results[1]).toEqual({ kind: 'notify', events: [eventId], fingerprint: 'fp-a' });
        expect(await store.countDeliveries()).toEqual({ pending: 2, dead: 0 });

        const claimed = await store.claimDeliveries(T0, 10, LEASE, 'worker-1');
        expect(ids(claimed)).toEqual([`${eventId}:hook`, `${eventId}:mail`]);
        const mail = claimed.find((d) => d.channelId === 'mail')!;
        expect(mail).toMatchObject({
          eventId,
          channelId: 'mail',
          event: { id: eventId, type: 'incident.opened', at: T0, number, actor: 'host-down' },
          status: 'pending',
          attempts: 1,
          nextAttemptAt: T0 + LEASE,
          leaseOwner: 'worker-1',
          lastError: null,
          createdAt: T0,
        });
      });

      it('names the event from what the commit did: reopened, resolved, flapping; nothing for a repeat', async () => {
        const r = await failOnce(store, 'fp-a', T0);
        const [, repeat] = await store.commit([fail('fp-a', T0 + 1), notify('fp-a')]);
        expect(repeat).toEqual({ kind: 'notify', events: [], fingerprint: 'fp-a' });

        const flapOn: StoreOp = { kind: 'flapping', at: T0 + 2, fingerprint: 'fp-a', flapping: true, message: 'flapping' };
        const [, flap] = await store.commit([flapOn, notify('fp-a', ['hook'])]);
        expect(flap).toMatchObject({ events: [`${r.number}:incident.flapping-started:${T0 + 2}`] });
        // The flag did not change: nothing to announce.
        const [, flapAgain] = await store.commit([{ ...flapOn, at: T0 + 3 }, notify('fp-a', ['hook'])]);
        expect(flapAgain).toMatchObject({ events: [] });

        const [, resolved] = await store.commit([resolveOp('fp-a', T0 + 4), notify('fp-a', ['hook'])]);
        expect(resolved).toMatchObject({ events: [`${r.number}:incident.resolved:${T0 + 4}`] });
        const [, nothing] = await store.commit([resolveOp('fp-a', T0 + 5), notify('fp-a', ['hook'])]);
        expect(nothing).toMatchObject({ events: [] });

        const [, reopened] = await store.commit([fail('fp-a', T0 + 6), notify('fp-a', ['hook'])]);
        expect(reopened).toMatchObject({ events: [`${r.number}:incident.reopened:${T0 + 6}`] });
        // A notify without a change before it in the same commit writes nothing.
        expect(await store.commit([notify('fp-a')])).toEqual([{ kind: 'notify', events: [], fingerprint: 'fp-a' }]);

        // One incident, one channel: handed out strictly one after another, oldest first.
        const types: string[] = [];
        for (let i = 0; i < 4; i++) {
          const got = await store.claimDeliveries(T0 + 10, 100, LEASE, 'w');
          expect(got.length).toBeLessThanOrEqual(1);
          for (const d of got) {
            types.push(d.event.type);
            await store.completeDelivery(d.id, { delivered: true, at: T0 + 10 });
          }
        }
        expect(types).toEqual(['incident.flapping-started', 'incident.resolved', 'incident.reopened']);
      });

      it('holds back a later event of an incident while an earlier one for the same channel is pending', async () => {
        await store.commit([fail('fp-a', T0), notify('fp-a', ['hook', 'mail'])]);
        await store.commit([resolveOp('fp-a', T0 + 5), notify('fp-a', ['hook', 'mail'])]);
        await store.commit([fail('fp-b', T0 + 6), notify('fp-b', ['hook'])]);
        const first = await store.claimDeliveries(T0 + 10, 100, LEASE, 'w');
        expect(first.map((d) => [d.channelId, d.event.type, d.event.at])).toEqual([
          ['hook', 'incident.opened', T0],
          ['mail', 'incident.opened', T0],
          ['hook', 'incident.opened', T0 + 6],
        ]);
        // The opening for "hook" fails and waits for its retry; "mail" got through.
        const hookOpen = first[0]!;
        await store.completeDelivery(hookOpen.id, { retryAt: T0 + 1000, error: 'HTTP 503' });
        await store.completeDelivery(first[1]!.id, { delivered: true, at: T0 + 11 });
        const second = await store.claimDeliveries(T0 + 20, 100, LEASE, 'w');
        // mail hears of the resolution; hook does not, before its opening went out.
        expect(second.map((d) => [d.channelId, d.event.type])).toEqual([['mail', 'incident.resolved']]);
      });

      it('a failed commit leaves nothing where commits are atomic; elsewhere its retry under the batch id completes it, each delivery once', async () => {
        // An op the store cannot apply, after the notify, fails the whole commit.
        const bad = { kind: 'fail', at: T0, count: 1, reopenWindowMs: WINDOW, draft: null } as unknown as StoreOp;
        await expect(store.commit([fail('fp-a', T0), notify('fp-a', ['hook']), bad], { id: 'batch-1' })).rejects.toThrow();
        if (store.guarantees().atomicCommits) {
          // SQLite, MongoDB replica set: the deliveries are written only with the commit.
          expect(store.guarantees().warning).toBeNull();
          expect(await store.countDeliveries()).toEqual({ pending: 0, dead: 0 });
          expect((await store.list({}, 10)).items).toEqual([]);
        } else {
          // A standalone MongoDB server: the ops before the failure stay applied, and the store says so.
          expect(store.guarantees().warning).toMatch(/without transactions/);
        }
        // The retry (the manager's, after the cause went away) under the same batch id.
        await store.commit([fail('fp-a', T0), notify('fp-a', ['hook'])], { id: 'batch-1' });
        const incidents = (await store.list({}, 10)).items;
        expect(incidents.map((i) => [i.fingerprint, i.status])).toEqual([['fp-a', 'open']]);
        const claimed = await store.claimDeliveries(T0, 10, MINUTE, 'me');
        expect(claimed.map((d) => [d.channelId, d.event.type, d.event.number])).toEqual([['hook', 'incident.opened', incidents[0]!.number]]);
      });

      it('claims only what is due, oldest first, up to the limit', async () => {
        await store.commit([fail('fp-a', T0), notify('fp-a', ['hook'])]);
        await store.commit([fail('fp-b', T0 + 10), notify('fp-b', ['hook'])]);
        await store.commit([fail('fp-c', T0 + 20), notify('fp-c', ['hook'])]);
        expect(await store.claimDeliveries(T0 - 1, 10, LEASE, 'w')).toEqual([]);
        const first = await store.claimDeliveries(T0 + 10, 1, LEASE, 'w');
        expect(first.map((d) => d.event.at)).toEqual([T0]);
        const rest = await store.claimDeliveries(T0 + 100, 10, LEASE, 'w');
        expect(rest.map((d) => d.event.at).sort()).toEqual([T0 + 10, T0 + 20]);
        // All three are claimed now: nothing is due until the leases run out.
        expect(await store.claimDeliveries(T0 + 200, 10, LEASE, 'w')).toEqual([]);
      });

      it('claims a delivery again once its claim ran out (the claimer crashed)', async () => {
        await store.commit([fail('fp-a', T0), notify('fp-a', ['hook'])]);
        const [first] = await store.claimDeliveries(T0, 10, LEASE, 'crashed');
        expect(await store.claimDeliveries(T0 + LEASE - 1, 10, LEASE, 'other')).toEqual([]);
        const other = await h.another();
        const [again] = await other.claimDeliveries(T0 + LEASE, 10, LEASE, 'other');
        expect(again).toMatchObject({ id: first!.id, attempts: 2, leaseOwner: 'other', nextAttemptAt: T0 + 2 * LEASE });
      });

      it('releases the claims of one owner at once (its restart); other owners’ claims run out as before', async () => {
        await store.commit([fail('fp-a', T0), notify('fp-a', ['hook', 'mail'])]);
        await store.commit([fail('fp-b', T0 + 1), notify('fp-b', ['hook'])]);
        await store.commit([fail('fp-c', T0 + 2), notify('fp-c', ['hook'])]);
        const mine = await store.claimDeliveries(T0 + 10, 2, LEASE, 'instance-a');
        const theirs = await store.claimDeliveries(T0 + 10, 1, LEASE, 'instance-b');
        const done = await store.claimDeliveries(T0 + 10, 1, LEASE, 'instance-a');
        expect(await store.completeDelivery(done[0]!.id, { delivered: true, at: T0 + 11 })).toBe(true);
        await store.close();

        const restarted = await h.reopen();
        expect(await restarted.releaseLeases('instance-a', T0 + 20)).toBe(2);
        const again = await restarted.claimDeliveries(T0 + 20, 10, LEASE, 'instance-a');
        expect(ids(again)).toEqual(ids(mine));
        for (const d of again) expect(d).toMatchObject({ attempts: 2, leaseOwner: 'instance-a', nextAttemptAt: T0 + 20 + LEASE });
        // instance-b is alive for all this store knows: its claim waits out its lease.
        expect(await restarted.releaseLeases('nobody', T0 + 20)).toBe(0);
        expect(await restarted.claimDeliveries(T0 + 10 + LEASE - 1, 10, LEASE, 'instance-a')).toEqual([]);
        const [expired] = await restarted.claimDeliveries(T0 + 10 + LEASE, 10, LEASE, 'instance-a');
        expect(expired).toMatchObject({ id: theirs[0]!.id, attempts: 2 });
        expect(await restarted.countDeliveries()).toEqual({ pending: 3, dead: 0 });
      });

      it('records delivered, retry and dead outcomes; a finished delivery is never claimed or completed again', async () => {
        await store.commit([fail('fp-a', T0), notify('fp-a', ['ok', 'flaky', 'broken'])]);
        const claimed = await store.claimDeliveries(T0, 10, LEASE, 'w');
        const byChannel = new Map(claimed.map((d) => [d.channelId, d]));
        expect(await store.completeDelivery(byChannel.get('ok')!.id, { delivered: true, at: T0 + 1, reference: 'msg-1' })).toBe(true);
        expect(await store.completeDelivery(byChannel.get('flaky')!.id, { retryAt: T0 + 5000, error: 'connection refused' })).toBe(true);
        expect(await store.completeDelivery(byChannel.get('broken')!.id, { dead: true, at: T0 + 2, error: 'HTTP 400' })).toBe(true);
        expect(await store.countDeliveries()).toEqual({ pending: 1, dead: 1 });

        // Finished ones stay finished, whoever reports late.
        expect(await store.completeDelivery(byChannel.get('ok')!.id, { retryAt: T0 + 9, error: 'late' })).toBe(false);
        expect(await store.completeDelivery(byChannel.get('broken')!.id, { delivered: true, at: T0 + 9 })).toBe(false);
        expect(await store.completeDelivery('no-such-delivery', { delivered: true, at: T0 + 9 })).toBe(false);

        expect(await store.claimDeliveries(T0 + 4999, 10, LEASE, 'w')).toEqual([]);
        const [retry] = await store.claimDeliveries(T0 + 5000, 10, LEASE, 'w');
        expect(retry).toMatchObject({ channelId: 'flaky', attempts: 2, lastError: 'connection refused' });
        expect(await store.completeDelivery(retry!.id, { delivered: true, at: T0 + 5001 })).toBe(true);
        expect(await store.countDeliveries()).toEqual({ pending: 0, dead: 1 });
        expect(await store.claimDeliveries(T0 + 10 * LEASE, 10, LEASE, 'w')).toEqual([]);
      });

      it('dead-letters after N attempts and lists dead letters newest first, paged', async () => {
        const channels = Array.from({ length: 5 }, (_, i) => `ch-${i}`);
        await store.commit([fail('fp-a', T0), notify('fp-a', channels)]);
        // Three rounds of claim and retry, then dead.
        let now = T0;
        for (let round = 1; round <= 3; round++) {
          const claimed = await store.claimDeliveries(now, 10, LEASE, 'w');
          expect(claimed.map((d) => d.attempts)).toEqual([round, round, round, round, round]);
          for (const d of claimed) {
            if (round < 3) await store.completeDelivery(d.id, { retryAt: now + 1000, error: `try ${round} failed` });
            else await store.completeDelivery(d.id, { dead: true, at: now + channels.indexOf(d.channelId), error: 'gave up' });
          }
          now += 1000;
        }
        expect(await store.countDeliveries()).toEqual({ pending: 0, dead: 5 });

        const seen: Delivery[] = [];
        let cursor: string | null = null;
        for (let i = 0; i < 10; i++) {
          const page: { items: Delivery[]; next: string | null } = await store.listDeadLetters(2, cursor);
          seen.push(...page.items);
          if (page.next === null) break;
          cursor = page.next;
        }
        expect(seen.map((d) => d.channelId)).toEqual(['ch-4', 'ch-3', 'ch-2', 'ch-1', 'ch-0']);
        expect(seen[0]).toMatchObject({ status: 'dead', attempts: 3, lastError: 'gave up', finishedAt: T0 + 2000 + 4 });
        expect((await store.listDeadLetters(5)).next).toBeNull();
      });

      it('two instances claiming at once never get the same delivery', async () => {
        const other = await h.another();
        const channels = Array.from({ length: 50 }, (_, i) => `ch-${i}`);
        await store.commit([fail('fp-a', T0), notify('fp-a', channels)]);
        await store.commit([fail('fp-b', T0), notify('fp-b', channels)]);
        // Rounds of two claims sent at the same time, one per instance, until both come back empty.
        const a: Delivery[] = [];
        const b: Delivery[] = [];
        for (let round = 0; round < 100; round++) {
          const [ga, gb] = await Promise.all([store.claimDeliveries(T0, 7, LEASE, 'a'), other.claimDeliveries(T0, 7, LEASE, 'b')]);
          a.push(...ga);
          b.push(...gb);
          if (ga.length === 0 && gb.length === 0) break;
        }
        expect(a.length).toBeGreaterThan(0);
        expect(b.length).toBeGreaterThan(0);
        const all = [...a, ...b].map((d) => d.id);
        expect(all).toHaveLength(100);
        expect(new Set(all).size).toBe(100);
        for (const d of [...a, ...b]) expect(d.attempts).toBe(1);
      });

      it('tells every channel told before, plus the ones named: the resolution reaches whoever heard of the opening', async () => {
        const r = await failOnce(store, 'fp-a', T0);
        await store.commit([{ kind: 'flapping', at: T0 + 1, fingerprint: 'fp-a', flapping: true, message: 'x' }, notify('fp-a', ['mail'])]);
        expect((await mustGet(store, r.number)).notified).toEqual(['mail']);
        // Named nobody, still heard by mail; hook is added by the acknowledgement.
        await store.acknowledge(r.number, 'alice', 'on it', T0 + 2, ['hook']);
        expect([...(await mustGet(store, r.number)).notified].sort()).toEqual(['hook', 'mail']);
        await store.commit([resolveOp('fp-a', T0 + 3), notify('fp-a', [])]);
        const byEvent = new Map<string, string[]>();
        for (let i = 0; i < 5; i++) {
          for (const d of await store.claimDeliveries(T0 + 10, 100, LEASE, 'w')) {
            byEvent.set(d.event.type, [...(byEvent.get(d.event.type) ?? []), d.channelId].sort());
            await store.completeDelivery(d.id, { delivered: true, at: T0 + 10 });
          }
        }
        expect(Object.fromEntries(byEvent)).toEqual({
          'incident.flapping-started': ['mail'],
          'incident.acknowledged': ['hook', 'mail'],
          'incident.resolved': ['hook', 'mail'],
        });
      });

      it('keeps the first reference a channel answers as the incident’s ticket there', async () => {
        const [opened] = await store.commit([fail('fp-a', T0), notify('fp-a', ['desk', 'hook'])]);
        const number = failResult(opened).number;
        await store.commit([resolveOp('fp-a', T0 + 1), notify('fp-a', [])]);
        const first = await store.claimDeliveries(T0 + 5, 10, LEASE, 'w');
        for (const d of first) {
          const reference = d.channelId === 'desk' ? 'ticket-42' : undefined;
          await store.completeDelivery(d.id, reference ? { delivered: true, at: T0 + 5, reference } : { delivered: true, at: T0 + 5 });
        }
        const second = await store.claimDeliveries(T0 + 6, 10, LEASE, 'w');
        expect(second.map((d) => d.event.type)).toEqual(['incident.resolved', 'incident.resolved']);
        for (const d of second) await store.completeDelivery(d.id, { delivered: true, at: T0 + 6, reference: `other-${d.channelId}` });
        // desk keeps its first answer; hook answered nothing at first, so its first reference counts.
        expect((await mustGet(store, number)).tickets).toEqual({ desk: 'ticket-42', hook: 'other-hook' });
      });

      it('keeps pending deliveries across a restart', async () => {
        await store.commit([fail('fp-a', T0), notify('fp-a', ['hook'])]);
        await store.close();
        const restarted = await h.reopen();
        expect(await restarted.countDeliveries()).toEqual({ pending: 1, dead: 0 });
        expect(await restarted.claimDeliveries(T0, 10, LEASE, 'w')).toHaveLength(1);
      });
    });

    describe('escalation timers', () => {
      const LEASE = MINUTE;
      const notify = (fp: string, channels: string[]): StoreOp => ({ kind: 'notify', fingerprint: fp, channels });
      const plan = (nextTimerAt: number | null, over: Partial<EscalationState> = {}): EscalationState => ({
        ...emptyEscalation(),
        startedAt: T0,
        severity: 'major',
        ackDueAt: T0 + 15 * MINUTE,
        resolveDueAt: T0 + 240 * MINUTE,
        nextEscalationAt: nextTimerAt,
        nextTimerAt,
        ...over,
      });
      const planned = (fp: string, at: number, nextTimerAt: number | null): StoreOp => {
        const op = fail(fp, at);
        if (op.kind === 'fail') op.draft.escalation = plan(nextTimerAt);
        return op;
      };
      const change = (inc: Incident, at: number, over: Partial<EscalationChange> = {}): EscalationChange => ({
        at,
        expect: { nextTimerAt: inc.escalation.nextTimerAt, status: inc.status, severity: inc.severity },
        tier: 'L3',
        escalation: { ...inc.escalation, level: inc.escalation.level + 1, nextEscalationAt: null, nextTimerAt: T0 + 240 * MINUTE },
        timeline: [{ actor: 'escalation', action: 'escalated', message: 'not acknowledged within 30m at L2; escalated to L3' }],
        announce: { type: 'incident.escalated', channels: ['l3-pager'], tier: 'L3', message: 'escalated to L3' },
        ...over,
      });

      it('stores the planned timers and hands out due incidents, earliest first, active only', async () => {
        const a = failResult((await store.commit([planned('fp-a', T0, T0 + 30 * MINUTE)]))[0]);
        const b = failResult((await store.commit([planned('fp-b', T0, T0 + 10 * MINUTE)]))[0]);
        await store.commit([planned('fp-c', T0, null)]);
        const d = failResult((await store.commit([planned('fp-d', T0, T0 + 5 * MINUTE)]))[0]);
        await store.commit([resolveOp('fp-d', T0 + MINUTE)]);
        expect(await store.dueEscalations(T0 + 9 * MINUTE, 10)).toEqual([]);
        const due = await store.dueEscalations(T0 + 30 * MINUTE, 10);
        expect(due.map((i) => i.number)).toEqual([b.number, a.number]);
        expect(due[1]!.escalation).toEqual(plan(T0 + 30 * MINUTE));
        expect((await store.dueEscalations(T0 + 30 * MINUTE, 1)).map((i) => i.number)).toEqual([b.number]);
        expect(d.number).not.toBe(a.number);
      });

      it('makes an unplanned opening due at once, so the sweep plans and announces it', async () => {
        const r = await failOnce(store, 'fp-a', T0);
        const [due] = await store.dueEscalations(T0, 10);
        expect(due).toMatchObject({ number: r.number, escalation: { severity: null, nextTimerAt: T0 } });
      });

      it('applies a decision once: compare-and-set against the timer, status and severity it saw', async () => {
        const r = failResult((await store.commit([planned('fp-a', T0, T0 + 30 * MINUTE), notify('fp-a', ['l2-mail'])]))[0]);
        const [inc] = await store.dueEscalations(T0 + 30 * MINUTE, 10);
        const other = await h.another();
        const results = await Promise.all([
          store.applyEscalation(r.number, change(inc!, T0 + 30 * MINUTE)),
          other.applyEscalation(r.number, change(inc!, T0 + 30 * MINUTE)),
        ]);
        expect(results.filter((x) => x.applied)).toHaveLength(1);
        const winner = results.find((x) => x.applied)!;
        expect(winner.events).toEqual([`${r.number}:incident.escalated:${T0 + 30 * MINUTE}:1`]);

        const after = await mustGet(store, r.number);
        expect(after).toMatchObject({ tier: 'L3', escalation: { level: 1, nextTimerAt: T0 + 240 * MINUTE } });
        expect([...after.notified].sort()).toEqual(['l2-mail', 'l3-pager']);
        expect(after.timeline.at(-1)).toMatchObject({ action: 'escalated', actor: 'escalation', at: T0 + 30 * MINUTE });
        expect(await store.dueEscalations(T0 + 30 * MINUTE, 10)).toEqual([]);

        // The escalation goes to the channel told before and to the new tier's.
        const claimed: Delivery[] = [];
        for (let i = 0; i < 3; i++) {
          for (const d of await store.claimDeliveries(T0 + 31 * MINUTE, 10, LEASE, 'w')) {
            claimed.push(d);
            await store.completeDelivery(d.id, { delivered: true, at: T0 + 31 * MINUTE });
          }
        }
        const escalated = claimed.filter((d) => d.event.type === 'incident.escalated');
        expect(escalated.map((d) => d.channelId).sort()).toEqual(['l2-mail', 'l3-pager']);
        expect(escalated[0]!.event).toMatchObject({ tier: 'L3', actor: 'escalation', message: 'escalated to L3' });
      });

      it('refuses a decision made before an acknowledgement or a raised severity', async () => {
        const r = failResult((await store.commit([planned('fp-a', T0, T0 + 30 * MINUTE)]))[0]);
        const [seen] = await store.dueEscalations(T0 + 30 * MINUTE, 10);
        await store.acknowledge(r.number, 'alice', 'mine', T0 + 30 * MINUTE);
        expect((await store.applyEscalation(r.number, change(seen!, T0 + 30 * MINUTE))).applied).toBe(false);
        expect(await mustGet(store, r.number)).toMatchObject({ tier: 'L2', escalation: { level: 0 } });

        const lower = failResult((await store.commit([{ ...planned('fp-b', T0, T0 + 30 * MINUTE), draft: { ...draft('fp-b', { severity: 'medium' }), escalation: plan(T0 + 30 * MINUTE) } } as StoreOp]))[0]);
        const seenB = (await store.dueEscalations(T0 + 30 * MINUTE, 10)).find((i) => i.number === lower.number);
        expect(seenB).toBeDefined();
        // A rule raises the severity with a repeat: reclassified, due at once for the sweep.
        await store.commit([fail('fp-b', T0 + 31 * MINUTE, 1, { severity: 'major', ruleId: 'site-down' })]);
        expect((await store.applyEscalation(lower.number, change(seenB!, T0 + 31 * MINUTE))).applied).toBe(false);
        const raised = await mustGet(store, lower.number);
        expect(raised).toMatchObject({ severity: 'major', ruleId: 'site-down', escalation: { nextTimerAt: T0 + 31 * MINUTE } });
        expect(raised.timeline.at(-1)).toMatchObject({ action: 'reclassified', message: expect.stringContaining('severity raised from medium to major') });
        // A repeat with a lower severity changes nothing.
        await store.commit([fail('fp-b', T0 + 32 * MINUTE, 1, { severity: 'minor' })]);
        expect((await mustGet(store, lower.number)).severity).toBe('major');
      });

      it('keeps timers across a restart', async () => {
        const r = failResult((await store.commit([planned('fp-a', T0, T0 + 30 * MINUTE)]))[0]);
        await store.close();
        const restarted = await h.reopen();
        const [due] = await restarted.dueEscalations(T0 + 30 * MINUTE, 10);
        expect(due).toMatchObject({ number: r.number, escalation: plan(T0 + 30 * MINUTE) });
      });

      it('adds the subscribers a fail op names, whatever it turns out to be', async () => {
        const withPeople = (at: number, people: string[]): StoreOp => {
          const op = fail('fp-a', at);
          if (op.kind === 'fail') op.draft.subscribers = people;
          return op;
        };
        const [opened] = await store.commit([withPeople(T0, ['alice@example.org'])]);
        await store.commit([withPeople(T0 + 1, ['alice@example.org', 'bob@example.org'])]);
        const inc = await mustGet(store, failResult(opened).number);
        expect(inc.subscribers).toEqual(['alice@example.org', 'bob@example.org']);
        expect(inc.timeline.filter((t) => t.action === 'subscribed').map((t) => t.message)).toEqual([
          'alice@example.org is kept informed',
          'bob@example.org is kept informed',
        ]);
      });

      it('closes incidents resolved long enough ago; a closed one never reopens', async () => {
        const a = await failOnce(store, 'fp-a', T0);
        const b = await failOnce(store, 'fp-b', T0);
        await failOnce(store, 'fp-c', T0);
        await store.commit([resolveOp('fp-a', T0 + MINUTE), resolveOp('fp-b', T0 + 10 * MINUTE)]);
        expect(await store.closeResolved(T0 + 5 * MINUTE, T0 + 20 * MINUTE, 100)).toEqual([a.number]);
        expect(await store.closeResolved(T0 + 5 * MINUTE, T0 + 21 * MINUTE, 100)).toEqual([]);
        const closed = await mustGet(store, a.number);
        expect(closed).toMatchObject({ status: 'closed', closedAt: T0 + 20 * MINUTE });
        expect(closed.timeline.at(-1)).toMatchObject({ action: 'closed', actor: 'system' });
        expect((await mustGet(store, b.number)).status).toBe('resolved');
        // Within the reopen window, but closed: a new incident opens instead.
        const again = await failOnce(store, 'fp-a', T0 + 22 * MINUTE);
        expect(again.outcome).toBe('opened');
        expect(again.number).not.toBe(a.number);
      });

      it('adds subscribers once, with a timeline entry', async () => {
        const r = await failOnce(store, 'fp-a', T0);
        await store.subscribe(r.number, 'alice@example.org', 'portal', T0 + 1);
        const inc = await store.subscribe(r.number, 'alice@example.org', 'portal', T0 + 2);
        expect(inc.subscribers).toEqual(['alice@example.org']);
        expect(inc.timeline.filter((t) => t.action === 'subscribed')).toHaveLength(1);
        await expect(store.subscribe('INC-999999', 'a@example.org', 'x', T0)).rejects.toBeInstanceOf(IncidentNotFoundError);
      });

      it('caps subscribers per incident: subscribe refuses a new address once the incident has the most allowed', async () => {
        const r = await failOnce(store, 'fp-a', T0);
        await store.subscribe(r.number, 'a1@example.org', 'portal', T0 + 1, 2);
        const full = await store.subscribe(r.number, 'a2@example.org', 'portal', T0 + 2, 2);
        expect(full.subscribers).toEqual(['a1@example.org', 'a2@example.org']);
        expect(full.timeline.filter((t) => t.action === 'subscribers-limit')).toHaveLength(1);
        const refused = await store.subscribe(r.number, 'a3@example.org', 'portal', T0 + 3, 2).then(
          () => null,
          (err: unknown) => err,
        );
        expect(refused).toBeInstanceOf(SubscriberLimitError);
        expect((refused as Error).message).toMatch(/already keeps 2 subscribers.*incidents\.max_subscribers/);
        // Someone already on the list is no change, full or not.
        expect((await store.subscribe(r.number, 'a1@example.org', 'portal', T0 + 4, 2)).subscribers).toHaveLength(2);
        const inc = await mustGet(store, r.number);
        expect(inc.subscribers).toEqual(['a1@example.org', 'a2@example.org']);
        expect(inc.timeline.filter((t) => t.action === 'subscribers-limit')).toHaveLength(1);
      });

      it('caps subscribers that alerts bring across commits: the rest are dropped, with one timeline note', async () => {
        const withSubs = (at: number, subs: string[]): StoreOp => ({
          kind: 'fail',
          at,
          count: 1,
          reopenWindowMs: WINDOW,
          maxSubscribers: 3,
          draft: { ...draft('fp-s'), subscribers: subs },
        });
        const [r] = await store.commit([withSubs(T0, ['s1@example.org', 's2@example.org'])]);
        const number = failResult(r).number;
        await store.commit([withSubs(T0 + 1, ['s2@example.org', 's3@example.org', 's4@example.org', 's5@example.org'])]);
        await store.commit([withSubs(T0 + 2, ['s6@example.org']), withSubs(T0 + 3, ['s7@example.org', 's1@example.org'])]);
        const inc = await mustGet(store, number);
        expect(inc.subscribers).toEqual(['s1@example.org', 's2@example.org', 's3@example.org']);
        expect(inc.timeline.filter((t) => t.action === 'subscribed').map((t) => t.message)).toEqual([
          's1@example.org is kept informed',
          's2@example.org is kept informed',
          's3@example.org is kept informed',
        ]);
        const notes = inc.timeline.filter((t) => t.action === 'subscribers-limit');
        expect(notes).toHaveLength(1);
        expect(notes[0]!.message).toMatch(/at most 3 subscribers \(incidents\.max_subscribers\); 2 more addresses were not added/);
      });
    });
  });
}
