// A joining reporter's receipt in the store, for both stores: fileProblemReport writes the
// report.received event to the outbox with the report, addressed to that one person, and a claim
// hands it out with its address (a restart between the report and the mail loses nothing).
import { describe, expect, it } from 'vitest';
import { emptyEscalation } from '../../src/domain/incident.js';
import type { ProblemReport } from '../../src/domain/problem-report.js';
import { receiptEvent } from '../../src/incidents/problem-reports.js';
import type { IncidentDraft, IncidentStore } from '../../src/store/types.js';
import { storeEachTest, type StoreHarness } from './contract.js';

const T0 = Date.UTC(2026, 4, 4, 9, 0, 0);

function draft(): IncidentDraft {
  return {
    escalation: { ...emptyEscalation(), startedAt: T0, severity: 'minor' },
    fingerprint: 'printer-2f-jam',
    tenant: 'acme',
    classification: { category: 'printing', severity: 'minor', impact: 'single-user', tier: 'L1', priority: 'P4' },
    title: 'Printer 2nd floor has a paper jam',
    description: '',
    runbook: '',
    ruleId: 'printer-jam',
    source: 'alert',
    target: { id: 'printer-2f', kind: 'printer', name: 'Printer 2nd floor', site: 'hq', labels: {} },
    check: { name: 'PrinterJam', type: 'alert' },
    labels: {},
    message: 'firing',
  };
}

function report(incident: string): ProblemReport {
  return {
    id: 'r-erik-1',
    tenant: 'acme',
    reporterId: 'erik',
    reporterName: 'erik',
    createdAt: T0 + 60_000,
    category: 'printer',
    description: 'Nothing prints',
    site: 'hq',
    room: null,
    target: 'printer-2f',
    affected: 'me',
    since: null,
    contact: null,
    incident,
  };
}

export function receiptContract(name: string, makeStore: () => Promise<StoreHarness>): void {
  describe(`${name}: a joining reporter's receipt`, () => {
    let h: StoreHarness;
    let store: IncidentStore;
    storeEachTest(makeStore, (opened) => {
      h = opened;
      store = opened.store;
    });

    it('queues the receipt for the people channel with the one address, with the report and the subscription', async () => {
      const [opened] = await store.commit([{ kind: 'fail', at: T0, count: 1, reopenWindowMs: 60_000, draft: draft() }]);
      if (opened?.kind !== 'fail') throw new Error('no incident opened');
      const r = report(opened.number);
      const event = receiptEvent(opened.number, r.id, r.createdAt, 'erik@acme.invalid');
      await store.fileProblemReport({ report: r, entry: null, subscriber: 'erik@acme.invalid', maxSubscribers: 50, receipt: { event, channels: ['people-mail'] } });

      // After a restart, the receipt is still there to send.
      await store.close();
      const later = await h.reopen();
      const claimed = await later.claimDeliveries(T0 + 120_000, 10, 30_000, 'test');
      const receipts = claimed.filter((d) => d.event.type === 'report.received');
      expect(receipts.map((d) => ({ channel: d.channelId, to: d.event.to, number: d.event.number }))).toEqual([
        { channel: 'people-mail', to: ['erik@acme.invalid'], number: opened.number },
      ]);
      expect((await later.get(opened.number))?.subscribers).toEqual(['erik@acme.invalid']);
    });
  });
}
