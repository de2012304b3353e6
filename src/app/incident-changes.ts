// The one place incident changes are published (to the API's event streams): every change of an
// incident, whoever makes it (a batch of signals, a person's command, the escalation sweep, the
// closing sweep), is a write through the store, so the store the daemon uses is wrapped here and
// each write that changed an incident is told to the sink once it is committed. Only the write
// methods below are looked at; everything else reaches the store untouched. With nobody watching
// (no stream open) nothing is read or published.
import type { IncidentChange, IncidentChangeKind, IncidentChangeSink } from '../domain/incident-change.js';
import type { Incident, IncidentStatus } from '../domain/incident.js';
import { DEFAULT_TENANT } from '../domain/principal.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { EscalationChange, IncidentRevision, IncidentStore, OpResult, StoreOp } from '../store/types.js';

type Found = { number: string; change: IncidentChangeKind; known?: { tenant: string; status: IncidentStatus } };

/** What a commit changed: openings carry their tenant; the rest are read back. Plain repeats are no change. */
function changesOfCommit(ops: StoreOp[], results: OpResult[]): Found[] {
  const out: Found[] = [];
  results.forEach((r, i) => {
    const op = ops[i];
    if (r.kind === 'fail') {
      if (r.outcome === 'opened' && op?.kind === 'fail') out.push({ number: r.number, change: 'opened', known: { tenant: op.draft.tenant ?? DEFAULT_TENANT, status: 'open' } });
      else if (r.outcome === 'reopened') out.push({ number: r.number, change: 'reopened' });
      else if (r.raisedFrom !== undefined) out.push({ number: r.number, change: 'reclassified' });
    } else if ((r.kind === 'resolve' || r.kind === 'flapping' || r.kind === 'relate') && r.number !== null) {
      out.push({ number: r.number, change: r.kind === 'resolve' ? 'resolved' : r.kind === 'flapping' ? 'flapping' : 'related' });
    }
  });
  return out;
}

function changeOfRevision(revision: IncidentRevision): IncidentChangeKind {
  if (revision.set.reopen) return 'reopened';
  if (revision.set.severity !== undefined || revision.set.impact !== undefined) return 'reclassified';
  return 'escalated';
}

function changeOfEscalation(change: EscalationChange): IncidentChangeKind {
  if (change.announce?.type === 'incident.escalated') return 'escalated';
  // A silence started or stopped holding it back (src/incidents/escalation.ts writes `silenced`).
  if (change.timeline.some((t) => t.action === 'silenced')) return 'silenced';
  return 'sla';
}

/** The store, publishing every committed incident change to `sink`. */
export function publishingStore(store: IncidentStore, sink: IncidentChangeSink, clock: Clock, logger: Logger): IncidentStore {
  const told = (inc: Incident, change: IncidentChangeKind): Incident => {
    if (sink.watching) sink.publish({ number: inc.number, tenant: inc.tenant, status: inc.status, change, at: clock.now() });
    return inc;
  };
  // Reads the incidents a commit or sweep named, after it: never holds up the writer.
  const announce = async (found: Found[]): Promise<void> => {
    for (const f of found) {
      if (!sink.watching) return;
      let known = f.known;
      if (known === undefined) {
        const inc = await store.get(f.number);
        if (inc === null) continue;
        known = { tenant: inc.tenant, status: inc.status };
      }
      const change: IncidentChange = { number: f.number, tenant: known.tenant, status: known.status, change: f.change, at: clock.now() };
      sink.publish(change);
    }
  };
  const later = (found: Found[]): void => {
    if (found.length === 0 || !sink.watching) return;
    announce(found).catch((err: unknown) => logger.warn({ err }, 'could not publish incident changes to the live event streams'));
  };

  const writes: Partial<IncidentStore> = {
    async commit(ops, options) {
      const results = await store.commit(ops, options);
      if (sink.watching) later(changesOfCommit(ops, results));
      return results;
    },
    async acknowledge(...args) {
      return told(await store.acknowledge(...args), 'acknowledged');
    },
    async resolve(...args) {
      return told(await store.resolve(...args), 'resolved');
    },
    async comment(...args) {
      return told(await store.comment(...args), 'commented');
    },
    async subscribe(...args) {
      return told(await store.subscribe(...args), 'subscribed');
    },
    async revise(number, revision) {
      return told(await store.revise(number, revision), changeOfRevision(revision));
    },
    async applyEscalation(number, change) {
      const result = await store.applyEscalation(number, change);
      if (result.applied) later([{ number, change: changeOfEscalation(change) }]);
      return result;
    },
    async closeResolved(resolvedBefore, at, limit) {
      const closed = await store.closeResolved(resolvedBefore, at, limit);
      later(closed.map((number) => ({ number, change: 'closed' as const })));
      return closed;
    },
  };

  const bound = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, prop) {
      if (typeof prop === 'string' && Object.hasOwn(writes, prop)) return writes[prop as keyof IncidentStore];
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      // The store's own methods run on the store itself (its private fields), not on the proxy.
      let fn = bound.get(prop);
      if (fn === undefined) bound.set(prop, (fn = (value as (...a: unknown[]) => unknown).bind(target)));
      return fn;
    },
  });
}
