// The escalation timers of the MongoDB store. What a sweep changes is decided by the escalator
// (src/incidents/escalator.ts) and its event by escalationEvent; only reads and writes live here.
import { escalationEvent } from '../../domain/events.js';
import { incidentNumber, parseIncidentNumber } from '../../domain/incident.js';
import { closedEntry } from '../../domain/transitions.js';
import type { EscalationChange } from '../types.js';
import { date, escalationDoc, timelineDoc } from './documents.js';
import { inSession, insertDeliveries, type WriteContext } from './writes.js';

/**
 * Applies a sweep's change with its announcement (in one transaction where the deployment has
 * them: a retry after a cut between the two would find the timer moved and never write the event).
 */
export async function applyEscalation(number: string, change: EscalationChange, ctx: WriteContext): Promise<{ applied: boolean; events: string[] }> {
  const seq = parseIncidentNumber(number);
  if (seq === null) return { applied: false, events: [] };
  const x = change.expect;
  const next = change.escalation.nextTimerAt;
  // Compare-and-set: applies only to the incident as the sweep saw it.
  const r = await ctx.incidents.updateOne(
    {
      _id: seq,
      status: x.status,
      severity: x.severity,
      nextTimerAt: x.nextTimerAt === null ? null : new Date(x.nextTimerAt),
      ...(x.tier === undefined ? {} : { tier: x.tier }),
    },
    {
      $set: { tier: change.tier, escalation: escalationDoc(change.escalation), nextTimerAt: date(next) },
      $push: { timeline: { $each: change.timeline.map((t) => timelineDoc(change.at, t.actor, t.action, t.message, t.tier)) } },
    },
    inSession(ctx.session),
  );
  if (r.modifiedCount === 0) return { applied: false, events: [] };
  const events: string[] = [];
  if (change.announce) {
    const event = escalationEvent(number, change.at, change.escalation.level, change.announce);
    await insertDeliveries(event, change.announce.channels, change.at, ctx);
    events.push(event.id);
  }
  return { applied: true, events };
}

/** Closes resolved incidents one by one, the status in the filter: another instance may be closing the same ones. */
export async function closeResolved(ctx: WriteContext, resolvedBefore: number, at: number, size: number): Promise<string[]> {
  const due = await ctx.incidents
    .find({ status: 'resolved', resolvedAt: { $lte: new Date(resolvedBefore) } }, { projection: { _id: 1 } })
    .sort({ _id: 1 })
    .limit(size)
    .toArray();
  const closed: string[] = [];
  for (const d of due) {
    // One by one with the status in the filter: another instance may be closing the same ones.
    const r = await ctx.incidents.updateOne(
      { _id: d._id, status: 'resolved' },
      {
        $set: { status: 'closed', closedAt: new Date(at) },
        $push: { timeline: timelineDoc(at, closedEntry(at).actor, 'closed', closedEntry(at).message) },
      },
    );
    if (r.modifiedCount > 0) closed.push(incidentNumber(d._id));
  }
  return closed;
}
