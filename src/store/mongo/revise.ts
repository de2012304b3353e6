// A person's change to one incident (IncidentRevision) in the MongoDB store: decided above the
// store (src/incidents/actions.ts); here it is only written, compare-and-set on what it was decided
// from, with its timeline entries and its event.
import type { UpdateFilter } from 'mongodb';
import { incidentNumber } from '../../domain/incident.js';
import { sameProblemActive } from '../../domain/transitions.js';
import { IncidentChangedError, IncidentNotFoundError, InvalidTransitionError } from '../../shared/errors.js';
import type { IncidentRevision } from '../types.js';
import { date, escalationDoc, timelineDoc, type IncidentDoc } from './documents.js';
import { revisionTimeline } from '../revision-timeline.js';
import { ACTIVE } from './schema.js';
import { inSession, insertDeliveries, isFingerprintRace, type WriteContext } from './writes.js';

/** Returns the document as changed; throws IncidentNotFoundError, IncidentChangedError or InvalidTransitionError. */
export async function reviseIncident(seq: number, revision: IncidentRevision, ctx: WriteContext): Promise<IncidentDoc> {
  const number = incidentNumber(seq);
  const x = revision.expect;
  const s = revision.set;
  const $set: Partial<IncidentDoc> = {};
  if (s.severity !== undefined) $set.severity = s.severity;
  if (s.impact !== undefined) $set.impact = s.impact;
  if (s.priority !== undefined) $set.priority = s.priority;
  if (s.tier !== undefined) $set.tier = s.tier;
  if (s.escalation !== undefined) {
    $set.escalation = escalationDoc(s.escalation);
    $set.nextTimerAt = date(s.escalation.nextTimerAt);
  }
  const update: UpdateFilter<IncidentDoc> = {
    $push: { timeline: { $each: revisionTimeline(revision).map((t) => timelineDoc(t.at, t.actor, t.action, t.message, t.tier)) } },
  };
  if (s.reopen === true) {
    Object.assign($set, { status: 'open', resolvedAt: null, resolvedBy: null, acknowledgedAt: null, acknowledgedBy: null });
    update.$inc = { reopenCount: 1 };
  }
  update.$set = $set;
  if (s.reopen === true) {
    // Asked before the write: a write that breaks the unique index aborts a MongoDB transaction,
    // after which nothing more can be read in it (the other incident could not be named).
    const mine = await ctx.incidents.findOne({ _id: seq }, { projection: { fingerprint: 1 }, ...inSession(ctx.session) });
    const active = mine
      ? await ctx.incidents.findOne({ fingerprint: mine.fingerprint, status: { $in: ACTIVE }, _id: { $ne: seq } }, { projection: { _id: 1 }, ...inSession(ctx.session) })
      : null;
    if (active) throw new InvalidTransitionError(sameProblemActive(number, incidentNumber(active._id)));
  }
  let d: IncidentDoc | null;
  try {
    d = await ctx.incidents.findOneAndUpdate(
      { _id: seq, status: x.status, severity: x.severity, tier: x.tier, nextTimerAt: date(x.nextTimerAt) },
      update,
      { returnDocument: 'after', projection: { state: 0 }, ...inSession(ctx.session) },
    );
  } catch (err) {
    if (!isFingerprintRace(err)) throw err;
    // Another incident of the problem opened between the check above and the write.
    throw new InvalidTransitionError(sameProblemActive(number, null), { cause: err });
  }
  if (!d) {
    const exists = await ctx.incidents.findOne({ _id: seq }, { projection: { _id: 1 }, ...inSession(ctx.session) });
    if (!exists) throw new IncidentNotFoundError(number);
    throw new IncidentChangedError(number);
  }
  const a = revision.announce;
  if (a) {
    await insertDeliveries(a.event, a.channels, revision.at, ctx);
    // insertDeliveries added to `notified`: read the document again to answer with it.
    const again = await ctx.incidents.findOne({ _id: seq }, { projection: { state: 0 }, ...inSession(ctx.session) });
    if (again) d = again;
  }
  return d;
}
