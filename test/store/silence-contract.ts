// The silence part of the store contract (SilenceStore in src/store/types.ts). Each store's test
// file calls `silenceContract(name, makeStore)` next to `storeContract`, with the same harness.
import { describe, expect, it } from 'vitest';
import { emptyEscalation } from '../../src/domain/incident.js';
import { SilenceExpiredError, SilenceNotFoundError, type Silence } from '../../src/domain/silence.js';
import type { IncidentDraft, IncidentStore, OpResult } from '../../src/store/types.js';
import { storeEachTest, type StoreHarness } from './contract.js';

const T0 = Date.UTC(2026, 0, 1, 8, 0, 0);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

function silence(id: string, startsAt: number, endsAt: number, more: Partial<Silence> = {}): Silence {
  return {
    id,
    tenant: 'default',
    matchers: [
      { name: 'target', op: '=', value: 'ap-1' },
      { name: 'labels.alertname', op: '=~', value: 'Disk.*|Inode\\w+' },
      { name: 'site', op: '!=', value: 'lab "b"' },
    ],
    startsAt,
    endsAt,
    createdBy: 'ops-team',
    comment: 'printer swap, ticket 4711',
    createdAt: T0 - MINUTE,
    updatedAt: T0 - MINUTE,
    ...more,
  };
}

/** An incident opened at T0, held back until `until` by the silences `ids`. */
function heldDraft(fp: string, ids: string[], until: number): IncidentDraft {
  return {
    fingerprint: fp,
    classification: { category: 'network', severity: 'major', impact: 'site', tier: 'L2', priority: 'P1' },
    title: `${fp} down`,
    description: '',
    runbook: '',
    ruleId: 'host-down',
    source: 'probe',
    target: { id: `t-${fp}`, kind: 'server', name: fp, site: 'hq', labels: {} },
    check: { name: 'ping', type: 'icmp' },
    labels: {},
    message: 'timeout',
    escalation: { ...emptyEscalation(), mutedUntil: until, mutedBy: ids.join(', '), silencedBy: ids, nextTimerAt: until },
  };
}

function numberOf(r: OpResult | undefined): string {
  if (r?.kind !== 'fail') throw new Error(`expected a fail result, got ${JSON.stringify(r)}`);
  return r.number;
}

export function silenceContract(name: string, makeStore: () => Promise<StoreHarness>): void {
  describe(`SilenceStore contract: ${name}`, () => {
    let h: StoreHarness;
    let store: IncidentStore;
    storeEachTest(makeStore, (opened) => {
      h = opened;
      store = opened.store;
    });

    it('lists silences by their state at the given time, the ones not ended first, soonest end first', async () => {
      await store.createSilence(silence('pending', T0 + HOUR, T0 + 3 * HOUR));
      await store.createSilence(silence('active-long', T0 - HOUR, T0 + 5 * HOUR));
      await store.createSilence(silence('active-short', T0 - HOUR, T0 + HOUR));
      await store.createSilence(silence('expired-old', T0 - 5 * HOUR, T0 - 4 * HOUR));
      await store.createSilence(silence('expired-new', T0 - 3 * HOUR, T0));
      const ids = async (states: Parameters<IncidentStore['listSilences']>[0], at = T0) =>
        (await store.listSilences(states, at, 100)).map((s) => s.id);
      expect(await ids(['active'])).toEqual(['active-short', 'active-long']);
      expect(await ids(['pending'])).toEqual(['pending']);
      // endsAt is exclusive: ended at T0 is expired at T0.
      expect(await ids(['expired'])).toEqual(['expired-new', 'expired-old']);
      expect(await ids(['pending', 'active'])).toEqual(['active-short', 'pending', 'active-long']);
      expect(await ids([])).toEqual(['active-short', 'pending', 'active-long', 'expired-new', 'expired-old']);
      // Later, the pending one is active and the short one has ended.
      expect(await ids(['active'], T0 + 2 * HOUR)).toEqual(['pending', 'active-long']);
      expect(await ids([], T0)).toHaveLength(5);
      expect(await store.listSilences([], T0, 2)).toHaveLength(2);
    });

    it('lists what comes after a given silence in that order, ties by id, so pages neither skip nor repeat', async () => {
      // Two live and two ended silences share an end each: the id breaks the tie.
      await store.createSilence(silence('live-b', T0 - HOUR, T0 + HOUR));
      await store.createSilence(silence('live-a', T0 - HOUR, T0 + HOUR));
      await store.createSilence(silence('live-c', T0 - HOUR, T0 + 2 * HOUR));
      await store.createSilence(silence('ended-b', T0 - 3 * HOUR, T0 - HOUR));
      await store.createSilence(silence('ended-a', T0 - 3 * HOUR, T0 - HOUR));
      await store.createSilence(silence('ended-c', T0 - 5 * HOUR, T0 - 4 * HOUR));
      const all = ['live-a', 'live-b', 'live-c', 'ended-a', 'ended-b', 'ended-c'];
      expect((await store.listSilences([], T0, 100)).map((s) => s.id)).toEqual(all);
      // Page by two, each page after the last silence of the one before.
      const seen: string[] = [];
      let after: { endsAt: number; id: string } | null = null;
      for (let n = 0; n < 4; n++) {
        const page = await store.listSilences([], T0, 2, after);
        seen.push(...page.map((s) => s.id));
        const last = page.at(-1);
        if (last === undefined) break;
        after = { endsAt: last.endsAt, id: last.id };
      }
      expect(seen).toEqual(all);
      // After a live one, a state filter still applies; after an ended one, no live one comes.
      expect((await store.listSilences(['expired'], T0, 100, { endsAt: T0 + HOUR, id: 'live-a' })).map((s) => s.id)).toEqual(['ended-a', 'ended-b', 'ended-c']);
      expect((await store.listSilences(['active'], T0, 100, { endsAt: T0 + HOUR, id: 'live-a' })).map((s) => s.id)).toEqual(['live-b', 'live-c']);
      expect((await store.listSilences([], T0, 100, { endsAt: T0 - HOUR, id: 'ended-a' })).map((s) => s.id)).toEqual(['ended-b', 'ended-c']);
    });

    it('counts silences by their state at the given time', async () => {
      expect(await store.countSilences(T0)).toEqual({ pending: 0, active: 0, expired: 0 });
      await store.createSilence(silence('pending', T0 + HOUR, T0 + 3 * HOUR));
      await store.createSilence(silence('active', T0 - HOUR, T0 + HOUR));
      await store.createSilence(silence('ended-now', T0 - HOUR, T0));
      await store.createSilence(silence('ended', T0 - 3 * HOUR, T0 - 2 * HOUR));
      expect(await store.countSilences(T0)).toEqual({ pending: 1, active: 1, expired: 2 });
      expect(await store.countSilences(T0 + 2 * HOUR)).toEqual({ pending: 0, active: 1, expired: 3 });
    });

    it('keeps every field exactly, and another instance and a restart see it', async () => {
      const s = silence('s-1', T0, T0 + HOUR);
      await store.createSilence(s);
      const other = await h.another();
      expect(await other.listSilences(['active'], T0, 10)).toEqual([s]);
      await store.close();
      const again = await h.reopen();
      expect(await again.listSilences([], T0, 10)).toEqual([s]);
    });

    it('expires an active silence at the given time, and a pending one so that it never starts', async () => {
      await store.createSilence(silence('active', T0 - HOUR, T0 + HOUR));
      await store.createSilence(silence('pending', T0 + HOUR, T0 + 2 * HOUR));
      const a = await store.expireSilence('active', T0 + MINUTE);
      expect(a).toMatchObject({ id: 'active', startsAt: T0 - HOUR, endsAt: T0 + MINUTE, updatedAt: T0 + MINUTE });
      const p = await store.expireSilence('pending', T0 + MINUTE);
      expect(p).toMatchObject({ startsAt: T0 + MINUTE, endsAt: T0 + MINUTE });
      expect((await store.listSilences(['expired'], T0 + MINUTE, 10)).map((s) => s.id).sort()).toEqual(['active', 'pending']);
      expect(await store.listSilences(['active', 'pending'], T0 + MINUTE, 10)).toEqual([]);
    });

    it('refuses to expire an unknown or already ended silence, naming it', async () => {
      await expect(store.expireSilence('nope', T0)).rejects.toThrow(SilenceNotFoundError);
      await store.createSilence(silence('done', T0 - 2 * HOUR, T0 - HOUR));
      await expect(store.expireSilence('done', T0)).rejects.toThrow(SilenceExpiredError);
      await expect(store.expireSilence('done', T0)).rejects.toThrow(/silence done has already expired/);
    });

    it('makes the timers of the active incidents it held back due at the expiry, and no others', async () => {
      await store.createSilence(silence('sil-a', T0 - HOUR, T0 + 8 * HOUR));
      await store.createSilence(silence('sil-b', T0 - HOUR, T0 + 8 * HOUR));
      const results = await store.commit([
        { kind: 'fail', at: T0, count: 1, reopenWindowMs: 0, draft: heldDraft('fp-a', ['sil-a'], T0 + 8 * HOUR) },
        { kind: 'fail', at: T0, count: 1, reopenWindowMs: 0, draft: heldDraft('fp-ab', ['sil-b', 'sil-a'], T0 + 8 * HOUR) },
        { kind: 'fail', at: T0, count: 1, reopenWindowMs: 0, draft: heldDraft('fp-b', ['sil-b'], T0 + 8 * HOUR) },
      ]);
      const [a, ab] = [numberOf(results[0]), numberOf(results[1])];
      const at = T0 + 10 * MINUTE;
      expect(await store.dueEscalations(at, 10)).toEqual([]);
      await store.expireSilence('sil-a', at);
      const due = await store.dueEscalations(at, 10);
      expect(due.map((i) => i.number).sort()).toEqual([a, ab].sort());
      expect(due.every((i) => i.escalation.nextTimerAt === at)).toBe(true);
      // What the sweep reads back still names the silences (it decides what ends).
      expect(due.find((i) => i.number === ab)!.escalation.silencedBy).toEqual(['sil-b', 'sil-a']);
    });

    it('keeps each silence\'s tenant, lists only the tenants asked for, and expires another tenant\'s as not found', async () => {
      await store.createSilence(silence('acme-1', T0 - HOUR, T0 + HOUR, { tenant: 'acme' }));
      await store.createSilence(silence('globex-1', T0 - HOUR, T0 + 2 * HOUR, { tenant: 'globex' }));
      await store.createSilence(silence('acme-old', T0 - 3 * HOUR, T0 - HOUR, { tenant: 'acme' }));
      const all = await store.listSilences([], T0, 10);
      expect(all.map((s) => [s.id, s.tenant])).toEqual([
        ['acme-1', 'acme'],
        ['globex-1', 'globex'],
        ['acme-old', 'acme'],
      ]);
      expect((await store.listSilences([], T0, 10, null, ['acme'])).map((s) => s.id)).toEqual(['acme-1', 'acme-old']);
      expect((await store.listSilences(['active'], T0, 10, null, ['globex'])).map((s) => s.id)).toEqual(['globex-1']);
      // A position taken from acme's list pages on within globex's scope: nothing of acme.
      expect((await store.listSilences([], T0, 10, { endsAt: T0 + HOUR, id: 'acme-1' }, ['globex'])).map((s) => s.id)).toEqual(['globex-1']);
      expect(await store.listSilences([], T0, 10, null, [])).toEqual([]);
      await expect(store.expireSilence('globex-1', T0, ['acme'])).rejects.toBeInstanceOf(SilenceNotFoundError);
      // Not changed by the refused expiry.
      expect((await store.listSilences(['active'], T0, 10, null, ['globex'])).map((s) => s.id)).toEqual(['globex-1']);
      expect((await store.expireSilence('globex-1', T0, ['globex'])).endsAt).toBe(T0);
    });
  });
}
