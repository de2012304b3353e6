// Two more parts of the store contract, each store's test file calling them with its harness:
// - mailOutboxContract: OutboxQueue.enqueueDelivery, the report mailer's way into the outbox (an
//   event about no incident), queued once per event and channel, and still there after a restart.
// - reportBatchContract: reports over more incidents than one batch of the stamp stream (5,000
//   rows: STAMP_BATCH in SQLite, the cursor's batchSize in MongoDB), exact across the boundary.
import { describe, expect, it } from 'vitest';
import { REPORT_MAIL_EVENT, type OutboxEvent } from '../../src/domain/events.js';
import { foldHandlingTimes, percentileRank, type HandlingStamps } from '../../src/domain/reports.js';
import type { IncidentStore, StoreOp } from '../../src/store/types.js';
import { storeEachTest, type StoreHarness } from './contract.js';

const T0 = Date.UTC(2026, 4, 4, 6, 0, 0);
const MINUTE = 60_000;
const SECOND = 1000;

function reportMail(id: string, tenant: string): OutboxEvent {
  return {
    id,
    type: REPORT_MAIL_EVENT,
    at: T0,
    number: `report:${tenant}`,
    mail: {
      tenant,
      to: ['boss@example.org'],
      subject: `Incidents in April 2026 (${tenant})`,
      text: 'Opened: 12',
      html: '<p>Opened: 12</p>',
      attachment: { filename: 'incidents-2026-04.csv', content: 'number,title\r\n' },
    },
  };
}

export function mailOutboxContract(name: string, makeStore: () => Promise<StoreHarness>): void {
  describe(`IncidentStore mail outbox contract: ${name}`, () => {
    let h: StoreHarness;
    let store: IncidentStore;

    storeEachTest(makeStore, (opened) => {
      h = opened;
      store = opened.store;
    });

    it('queues a report mail once per event and channel, delivers it, and keeps it across a restart', async () => {
      const acme = reportMail('report:acme:month:2026-04', 'acme');
      const globex = reportMail('report:globex:month:2026-04', 'globex');
      expect(await store.enqueueDelivery(acme, 'mail', T0)).toBe(true);
      // The same report again (a restart, a second instance) is not queued twice.
      expect(await store.enqueueDelivery(acme, 'mail', T0 + MINUTE)).toBe(false);
      expect(await (await h.another()).enqueueDelivery(acme, 'mail', T0 + MINUTE)).toBe(false);
      // Another channel of the same event, and another tenant's report, are deliveries of their own.
      expect(await store.enqueueDelivery(acme, 'archive', T0)).toBe(true);
      expect(await store.enqueueDelivery(globex, 'mail', T0 + 1)).toBe(true);
      expect(await store.countDeliveries()).toEqual({ pending: 3, dead: 0 });

      // Not due before its time.
      expect(await store.claimDeliveries(T0 - 1, 10, MINUTE, 'early')).toEqual([]);

      await store.close();
      const restarted = await h.reopen();
      expect(await restarted.countDeliveries()).toEqual({ pending: 3, dead: 0 });
      const claimed = await restarted.claimDeliveries(T0 + 2 * MINUTE, 10, MINUTE, 'me');
      expect(claimed.map((d) => d.id).sort()).toEqual(
        ['report:acme:month:2026-04:archive', 'report:acme:month:2026-04:mail', 'report:globex:month:2026-04:mail'].sort(),
      );
      const mail = claimed.find((d) => d.id === 'report:acme:month:2026-04:mail')!;
      // The event comes back whole: the mailer sends what was composed, attachment and all.
      expect(mail.event).toEqual(acme);
      expect(mail).toMatchObject({ eventId: acme.id, channelId: 'mail', status: 'pending', attempts: 1, leaseOwner: 'me', createdAt: T0 });
      // Claimed: a second instance does not get it again within the lease.
      expect(await (await h.another()).claimDeliveries(T0 + 2 * MINUTE + 1, 10, MINUTE, 'other')).toEqual([]);

      expect(await restarted.completeDelivery(mail.id, { delivered: true, at: T0 + 3 * MINUTE, reference: '<m1@example.org>' })).toBe(true);
      expect(await restarted.completeDelivery(mail.id, { delivered: true, at: T0 + 4 * MINUTE })).toBe(false);
      expect(await restarted.countDeliveries()).toEqual({ pending: 2, dead: 0 });
      // Delivered, it is still the record that this report went out: queuing it again does nothing.
      expect(await restarted.enqueueDelivery(acme, 'mail', T0 + 5 * MINUTE)).toBe(false);
      expect(await restarted.claimDeliveries(T0 + 10 * MINUTE, 10, MINUTE, 'me')).toHaveLength(2);
    });
  });
}

/**
 * Incident i opens at T0 + floor(i / run) s (runs of `run` equal opening times: with 3, a batch of
 * 5,000 ends inside a run) and resolves (i + 1) s later: resolve times 1 s .. n s, each once.
 */
function bulkOps(from: number, to: number, run: number): { fails: StoreOp[]; resolves: StoreOp[] } {
  const fails: StoreOp[] = [];
  const resolves: StoreOp[] = [];
  for (let i = from; i < to; i++) {
    const fp = `bulk-${i}`;
    const at = T0 + Math.floor(i / run) * SECOND;
    fails.push({
      kind: 'fail',
      at,
      count: 1,
      reopenWindowMs: 0,
      draft: {
        fingerprint: fp,
        tenant: i % 2 === 0 ? 'acme' : 'globex',
        classification: { category: 'network', severity: 'major', impact: 'site', tier: 'L1', priority: 'P2' },
        title: 'down',
        description: '',
        runbook: '',
        ruleId: 'down',
        source: 'probe',
        target: { id: `t-${i}`, kind: 'device', name: fp, site: 'hq', labels: {} },
        check: { name: 'ping', type: 'icmp' },
        labels: {},
        message: 'timeout',
      },
    });
    resolves.push({ kind: 'resolve', at: at + (i + 1) * SECOND, fingerprint: fp, actor: 'system', message: 'ok' });
  }
  return { fails, resolves };
}

/** Commits so many incidents, in batches of `chunk` ops (one transaction each). */
async function seed(store: IncidentStore, n: number, run = 3, chunk = 500): Promise<void> {
  for (let from = 0; from < n; from += chunk) {
    const { fails, resolves } = bulkOps(from, Math.min(n, from + chunk), run);
    await store.commit(fails);
    await store.commit(resolves);
  }
}

/** The stamps again, as the stream foldHandlingTimes takes. */
async function* replay(stamps: HandlingStamps[]): AsyncGenerator<HandlingStamps> {
  yield* stamps;
}

async function collect(stamps: AsyncIterable<HandlingStamps>): Promise<HandlingStamps[]> {
  const out: HandlingStamps[] = [];
  for await (const s of stamps) out.push(s);
  return out;
}

export function reportBatchContract(name: string, makeStore: () => Promise<StoreHarness>): void {
  describe(`IncidentStore reports across the 5,000-row batch: ${name}`, () => {
    let store: IncidentStore;

    storeEachTest(makeStore, (opened) => {
      store = opened.store;
    });

    it.each([5001, 10_000])('counts and times %i incidents exactly, each once', async (n) => {
      await seed(store, n);
      const range = { from: T0, to: T0 + 24 * 60 * MINUTE };
      // The expected figures: resolve times 1 s .. n s, each once.
      const median = percentileRank(0.5, n) * SECOND;
      const p90 = percentileRank(0.9, n) * SECOND;
      const mean = ((n + 1) / 2) * SECOND;
      const expected = [{ key: 'major', measure: 'resolve', count: n, medianMs: median, p90Ms: p90, meanMs: mean }];

      const stamps = await collect(store.handlingTimeStamps({ groupBy: 'severity', ...range }));
      expect(stamps).toHaveLength(n);
      // Each incident once: its (opening, resolve) pair names it.
      expect(new Set(stamps.map((s) => s.resolvedAt! - s.firstSeen)).size).toBe(n);
      const calendar = { businessTimeBetween: (a: number, b: number) => b - a };
      expect(await foldHandlingTimes(replay(stamps), () => calendar)).toEqual(expected);
      expect(await store.handlingTimes({ groupBy: 'severity', ...range })).toEqual(expected);

      // Scoped by tenant, each scope streamed on its own: acme has the even ones.
      const acme = await collect(store.handlingTimeStamps({ groupBy: 'severity', tenants: ['acme'], ...range }));
      expect(acme).toHaveLength(Math.ceil(n / 2));
      expect(acme.every((s) => s.tenant === 'acme')).toBe(true);
      const both = await collect(store.handlingTimeStamps({ groupBy: 'severity', tenants: ['acme', 'globex'], ...range }));
      expect(both).toHaveLength(n);

      // A range ending inside the run of equal times at the boundary: exactly the incidents before it.
      const cut = T0 + Math.floor(5000 / 3) * SECOND;
      expect(await collect(store.handlingTimeStamps({ groupBy: 'severity', from: T0, to: cut }))).toHaveLength(Math.floor(5000 / 3) * 3);

      const counted = await store.countByPeriod({ dimension: 'tenant', boundaries: [range.from, cut, range.to] });
      const byPeriod = counted.map((c) => [c.period, c.key, c.count]).sort();
      const before = Math.floor(5000 / 3) * 3;
      expect(byPeriod).toEqual(
        [
          [0, 'acme', Math.ceil(before / 2)],
          [0, 'globex', Math.floor(before / 2)],
          [1, 'acme', Math.ceil(n / 2) - Math.ceil(before / 2)],
          [1, 'globex', Math.floor(n / 2) - Math.floor(before / 2)],
        ].sort(),
      );
    }, 600_000);

    it('streams a run of equal opening times longer than a batch whole, each incident once', async () => {
      const n = 5001;
      await seed(store, n, n);
      const range = { from: T0, to: T0 + 24 * 60 * MINUTE };
      const stamps = await collect(store.handlingTimeStamps({ groupBy: 'severity', ...range }));
      expect(stamps).toHaveLength(n);
      expect(stamps.every((s) => s.firstSeen === T0)).toBe(true);
      expect(new Set(stamps.map((s) => s.resolvedAt)).size).toBe(n);
      const mean = ((n + 1) / 2) * SECOND;
      expect(await store.handlingTimes({ groupBy: 'severity', ...range })).toEqual([
        { key: 'major', measure: 'resolve', count: n, medianMs: percentileRank(0.5, n) * SECOND, p90Ms: percentileRank(0.9, n) * SECOND, meanMs: mean },
      ]);
    }, 600_000);
  });
}
