// What a commit did, read from the store's results: the numbers of new incidents (put into the
// planner's states), what to count, and the transitions for the log.
import type { Severity } from '../domain/classification.js';
import type { IncidentBrief } from '../domain/incident.js';
import type { FingerprintState, IncidentDraft, OpResult, StoreOp } from '../store/types.js';
import type { IncidentTransition } from './transition-log.js';

/** The store operations of one commit, in order. */
export interface BatchPlan {
  ops: StoreOp[];
}

/** What a commit did, for the manager's hooks (metrics, the outbox) and its log lines. */
export interface BatchOutcome {
  opened: { severity: Severity; outcome: 'opened' | 'reopened' }[];
  resolved: (Severity | 'unknown')[];
  /** Resolutions whose opening time the store told: how long each took (time-to-resolve metric). */
  resolvedAfter: { severity: Severity; ms: number }[];
  /** Outbox events written. */
  events: number;
  /** Openings, reopenings, raised severities and resolutions, in commit order. */
  transitions: IncidentTransition[];
}

/** The commit's results against its plan; openings get their numbers in `states`. */
export function settleOutcome(plan: BatchPlan, results: OpResult[], states: ReadonlyMap<string, FingerprintState>): BatchOutcome {
  const out: BatchOutcome = { opened: [], resolved: [], resolvedAfter: [], events: 0, transitions: [] };
  for (let i = 0; i < results.length; i++) {
    const r = results[i]!;
    const op = plan.ops[i]!;
    if (r.kind === 'fail' && op.kind === 'fail') {
      const st = states.get(r.fingerprint);
      if (st && st.active !== null) st.active = r.number;
      if (r.outcome !== 'repeated') {
        out.opened.push({ severity: op.draft.classification.severity, outcome: r.outcome });
        out.transitions.push({ event: r.outcome, number: r.number, incident: briefOf(op.draft) });
      } else if (r.raisedFrom !== undefined) {
        out.transitions.push({ event: 'raised', number: r.number, incident: briefOf(op.draft), from: r.raisedFrom });
      }
    } else if (r.kind === 'resolve' && r.number !== null && op.kind === 'resolve') {
      out.resolved.push(r.incident?.severity ?? states.get(r.fingerprint)?.severity ?? 'unknown');
      if (r.incident !== undefined && r.openedAt !== undefined) out.resolvedAfter.push({ severity: r.incident.severity, ms: op.at - r.openedAt });
      out.transitions.push({ event: 'resolved', number: r.number, incident: r.incident ?? null, by: op.actor, why: op.message });
    } else if (r.kind === 'notify') {
      out.events += r.events.length;
    }
  }
  return out;
}

function briefOf(d: IncidentDraft): IncidentBrief {
  return { title: d.title, severity: d.classification.severity, tier: d.classification.tier, target: { id: d.target.id, name: d.target.name } };
}
