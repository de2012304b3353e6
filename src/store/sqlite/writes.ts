// The writes of the SQLite store inside one transaction: each reads what the incident policy
// (src/domain) needs, asks it, and writes its answer. No decision is taken here.
import type { IncidentChange, OutboxEvent } from '../../domain/events.js';
import { deliveryId, planNotify, recipients } from '../../domain/events.js';
import type { Severity, Tier } from '../../domain/classification.js';
import type { RelatedTarget, TimelineEntry } from '../../domain/incident.js';
import { incidentNumber, parseIncidentNumber } from '../../domain/incident.js';
import { DEFAULT_MAX_SUBSCRIBERS, planSubscription } from '../../domain/subscribers.js';
import type { FailInput } from '../../domain/transitions.js';
import { failEvent, openIncident, planFail, planFlapping, planRelate, reopenSince } from '../../domain/transitions.js';
import type { FingerprintState, OpResult, StoreOp } from '../types.js';
import { incidentParams, openedOf } from './rows.js';
import type { Statements } from './statements.js';

const num = incidentNumber;

export function addTimeline(st: Statements, seq: number, entries: readonly TimelineEntry[]): void {
  for (const e of entries) st.timelineAdd.run(seq, e.at, e.actor, e.action, e.message, e.tier ?? null);
}

/** Counts `channels` as told of the incident, without an event; returns everyone told now. */
function addNotified(st: Statements, seq: number, channels: readonly string[]): string[] {
  const before = JSON.parse((st.notifiedGet.get(seq) as { notified: string }).notified) as string[];
  const r = recipients(before, channels);
  if (r.grew) st.notifiedSet.run(JSON.stringify(r.notified), seq);
  return r.notified;
}

/**
 * One pending delivery per recipient of the event (see recipients()). A delivery that exists
 * already (a retried commit) is kept.
 */
export function insertDeliveries(st: Statements, seq: number, event: OutboxEvent, channels: readonly string[], at: number): void {
  const all = addNotified(st, seq, channels);
  if (all.length === 0) return;
  const json = JSON.stringify(event);
  for (const channel of all) st.deliveryInsert.run(deliveryId(event.id, channel), event.id, channel, json, at, at, event.number);
}

/** Adds people to keep informed as planSubscription says; returns how many were refused. */
export function addSubscribers(st: Statements, seq: number, addresses: string[], actor: string, at: number, max: number): number {
  const row = st.subscribersGet.get(seq) as { subscribers: string } | undefined;
  if (!row) return 0;
  const current = JSON.parse(row.subscribers) as string[];
  const plan = planSubscription(current, addresses, actor, at, max);
  if (plan.added.length > 0) st.subscribersSet.run(JSON.stringify([...current, ...plan.added]), seq);
  addTimeline(st, seq, plan.entries);
  return plan.refused;
}

interface Found {
  seq: number;
  severity: Severity;
  active: 0 | 1;
  title: string;
  description: string;
}

/** Per commit: the counter (read once, written back at the end) and the states to insert with rows. */
interface CommitState {
  counter: number | null;
  /** The state op's state per fingerprint; an opening writes it with its new row. */
  states: Map<string, FingerprintState>;
  insertedWithState: Set<string>;
  changes: Map<string, IncidentChange>;
}

function applyFail(st: Statements, op: FailInput & { reopenWindowMs: number }, c: CommitState): { seq: number; result: OpResult } {
  const fp = op.draft.fingerprint;
  // One indexed read finds what the op does to the fingerprint; the update then goes by seq.
  const found = st.findFingerprint.get(fp, fp, reopenSince(op.at, op.reopenWindowMs)) as Found | undefined;
  const plan = planFail(found === undefined ? null : { ...found, active: found.active === 1 }, op);
  let seq: number;
  switch (plan.outcome) {
    case 'repeated': {
      seq = plan.seq;
      const o = plan.occurrence;
      st.repeat.run(o.count, o.at, o.lastMessage, seq);
      const r = plan.reclassify;
      if (r) st.reclassify.run(r.category, r.severity, r.impact, r.priority, r.title, r.description, r.runbook, r.ruleId, r.nextTimerAt, seq);
      if (plan.retitle) st.retitle.run(plan.retitle.title, plan.retitle.description, seq);
      addTimeline(st, seq, plan.timeline);
      break;
    }
    case 'reopened': {
      seq = plan.seq;
      const r = plan.reopen;
      st.reopen.run({
        seq,
        status: r.status,
        reopens: r.reopens,
        resolved_at: r.resolvedAt,
        resolved_by: r.resolvedBy,
        acknowledged_at: r.acknowledgedAt,
        acknowledged_by: r.acknowledgedBy,
        count: plan.occurrence.count,
        at: plan.occurrence.at,
        last_message: plan.occurrence.lastMessage,
        tier: r.tier,
        escalation: JSON.stringify(r.escalation),
        next_timer_at: r.nextTimerAt,
        category: r.category,
        severity: r.severity,
        impact: r.impact,
        priority: r.priority,
        title: r.title,
        description: r.description,
        runbook: r.runbook,
        rule_id: r.ruleId,
      });
      addTimeline(st, seq, plan.timeline);
      break;
    }
    case 'opened': {
      // Read only when a commit inserts: a batch of repeats leaves the counter row alone.
      c.counter = (c.counter ?? (st.counterGet.get() as { value: number }).value) + 1;
      seq = c.counter;
      const inc = openIncident(seq, op);
      // The state op at the end of the commit carries the new incident's state: written with the
      // row rather than by a second update of it.
      const state = c.states.get(fp);
      st.insert.run(incidentParams(inc, state === undefined ? null : JSON.stringify(state)));
      if (state !== undefined) c.insertedWithState.add(fp);
      // The 'opened' entry is in the row itself (incidentParams); only what follows it gets rows.
      addTimeline(st, seq, openedOf(inc) === null ? inc.timeline : inc.timeline.slice(1));
      break;
    }
  }
  const type = failEvent(plan.outcome);
  if (type !== null) c.changes.set(fp, { number: num(seq), type, at: op.at });
  const result: OpResult = { kind: 'fail', outcome: plan.outcome, number: num(seq), fingerprint: fp };
  if (plan.outcome === 'repeated' && plan.reclassify && found) result.raisedFrom = found.severity;
  return { seq, result };
}

interface ResolvedRow {
  seq: number;
  title: string;
  severity: Severity;
  tier: Tier;
  target_id: string;
  target_name: string;
  first_seen: number;
}

interface ActiveRow {
  seq: number;
  flapping: number;
  related: string;
}

/** Applies a commit's ops in order; runs inside its transaction. */
export function applyOps(st: Statements, ops: StoreOp[]): OpResult[] {
  const results: OpResult[] = [];
  const stateOp = ops.findLast((op) => op.kind === 'state');
  const c: CommitState = { counter: null, states: new Map(), insertedWithState: new Set(), changes: new Map() };
  if (stateOp?.kind === 'state') for (const f of stateOp.fingerprints) c.states.set(f.fingerprint, f);
  for (const op of ops) {
    switch (op.kind) {
      case 'fail': {
        const r = applyFail(st, op, c);
        results.push(r.result);
        if (op.draft.subscribers !== undefined && op.draft.subscribers.length > 0) {
          addSubscribers(st, r.seq, op.draft.subscribers, op.draft.ruleId, op.at, op.maxSubscribers ?? DEFAULT_MAX_SUBSCRIBERS);
        }
        break;
      }
      case 'resolve': {
        const row = st.resolveActive.get(op.at, op.actor, op.fingerprint) as ResolvedRow | undefined;
        if (row) {
          st.timelineAdd.run(row.seq, op.at, op.actor, 'resolved', op.message, null);
          c.changes.set(op.fingerprint, { number: num(row.seq), type: 'incident.resolved', at: op.at });
          const incident = { title: row.title, severity: row.severity, tier: row.tier, target: { id: row.target_id, name: row.target_name } };
          results.push({ kind: 'resolve', number: num(row.seq), fingerprint: op.fingerprint, incident, openedAt: row.first_seen });
        } else {
          results.push({ kind: 'resolve', number: null, fingerprint: op.fingerprint });
        }
        break;
      }
      case 'flapping': {
        const row = st.activeByFingerprint.get(op.fingerprint) as ActiveRow | undefined;
        const plan = row ? planFlapping(row.flapping !== 0, op) : null;
        if (row && plan) {
          st.setFlapping.run(op.flapping ? 1 : 0, row.seq);
          addTimeline(st, row.seq, [plan.entry]);
          c.changes.set(op.fingerprint, { number: num(row.seq), type: plan.event, at: op.at });
        }
        results.push({ kind: 'flapping', number: row ? num(row.seq) : null, fingerprint: op.fingerprint });
        break;
      }
      case 'relate': {
        const row = st.activeByFingerprint.get(op.fingerprint) as ActiveRow | undefined;
        const plan = row ? planRelate(JSON.parse(row.related) as RelatedTarget[], op) : null;
        if (row && plan) {
          st.setRelated.run(JSON.stringify(plan.related), row.seq);
          addTimeline(st, row.seq, [plan.entry]);
        }
        results.push({ kind: 'relate', number: row ? num(row.seq) : null, fingerprint: op.fingerprint });
        break;
      }
      case 'state':
        applyState(st, op, c);
        results.push({ kind: 'state' });
        break;
      case 'intake':
        st.intakeMark.run(`intake:${op.journal}`, String(op.lsn));
        results.push({ kind: 'intake' });
        break;
      case 'notify': {
        const change = c.changes.get(op.fingerprint);
        c.changes.delete(op.fingerprint);
        const plan = planNotify(change, op);
        const seq = change === undefined ? null : parseIncidentNumber(change.number);
        if (plan.kind === 'quiet' && seq !== null) addNotified(st, seq, plan.channels);
        if (plan.kind === 'event' && seq !== null) insertDeliveries(st, seq, plan.event, plan.channels, plan.event.at);
        results.push({ kind: 'notify', events: plan.kind === 'event' ? [plan.event.id] : [], fingerprint: op.fingerprint });
        break;
      }
    }
  }
  if (c.counter !== null) st.counterSet.run(c.counter);
  return results;
}

/**
 * States are opaque here: only their fingerprint is read. A fingerprint with an active incident
 * keeps its state in that incident's row (a new incident is appended in seq order, where a table
 * keyed by the random fingerprint would rewrite pages all over the file at every commit); any other
 * in fingerprint_state.
 */
function applyState(st: Statements, op: Extract<StoreOp, { kind: 'state' }>, c: CommitState): void {
  for (const f of op.fingerprints) {
    if (c.insertedWithState.has(f.fingerprint) && c.states.get(f.fingerprint) === f) {
      // Written with its new row; an older fingerprint_state row (counting towards open_after) is gone now.
      st.fpStateDelete.run(f.fingerprint);
      continue;
    }
    const data = JSON.stringify(f);
    if (st.activeStateSet.run(data, f.fingerprint).changes > 0) st.fpStateDelete.run(f.fingerprint);
    else st.fpStateUpsert.run(f.fingerprint, data);
  }
  for (const fp of op.forget) st.fpStateDelete.run(fp);
}
