// The writes of the MongoDB store: each reads what the incident policy (src/domain) needs, asks it,
// and writes its answer, conditional on what it read (compare-and-set), so a concurrent writer on a
// standalone server (no transactions) makes it read again instead of writing a stale decision.
import type { AnyBulkWriteOperation, ClientSession, Collection } from 'mongodb';
import { MongoServerError } from 'mongodb';
import type { IncidentChange, OutboxEvent } from '../../domain/events.js';
import { deliveryId, planNotify, recipients } from '../../domain/events.js';
import type { Severity } from '../../domain/classification.js';
import type { TimelineEntry } from '../../domain/incident.js';
import { incidentNumber, parseIncidentNumber } from '../../domain/incident.js';
import { DEFAULT_MAX_SUBSCRIBERS, planSubscription } from '../../domain/subscribers.js';
import type { FailInput, FoundIncident } from '../../domain/transitions.js';
import { failEvent, openIncident, planFail, planFlapping, planRelate, reopenSince } from '../../domain/transitions.js';
import { StoreUnavailableError } from '../../shared/errors.js';
import type { OpResult, StoreOp } from '../types.js';
import type { CounterDoc, DeliveryDoc, FingerprintStateDoc, IncidentDoc } from './documents.js';
import { date, escalationDoc, newDeliveryDoc, newIncidentDoc, relatedDoc, timelineDoc } from './documents.js';
import { promoteHead } from './outbox.js';
import { ACTIVE } from './schema.js';

/**
 * How many times one write is tried again after another writer changed what it read (on a
 * standalone server), or won the race to open the same fingerprint. One retry normally suffices.
 */
export const MAX_RACE_RETRIES = 5;

/**
 * Driver options naming the commit's session; no `session` key at all when it runs without a
 * transaction (a standalone server), as the driver's optional `session?: ClientSession` wants.
 */
export function inSession(session: ClientSession | undefined): { session?: ClientSession } {
  return session === undefined ? {} : { session };
}

/** The collections and session a commit writes through. */
export interface WriteContext {
  incidents: Collection<IncidentDoc>;
  states: Collection<FingerprintStateDoc>;
  counters: Collection<CounterDoc>;
  deliveries: Collection<DeliveryDoc>;
  session: ClientSession | undefined;
  /** For messages. */
  where: string;
  /** A number taken from the counter whose insert lost a race, reused by the next insert. */
  spareSeq: number | null;
}

const timeline = (entries: readonly TimelineEntry[]) => entries.map((t) => timelineDoc(t.at, t.actor, t.action, t.message, t.tier));

/** A duplicate key on the active-fingerprint index: another writer has an active incident for it. */
export function isFingerprintRace(err: unknown): boolean {
  if (!(err instanceof MongoServerError) || err.code !== 11000) return false;
  const keyPattern = err.keyPattern as Record<string, unknown> | undefined;
  if (keyPattern) return 'fingerprint' in keyPattern;
  return err.message.includes('active_fingerprint');
}

/** Applies a commit's ops in order (inside its transaction where the deployment has them). */
export async function applyOps(ops: StoreOp[], ctx: WriteContext): Promise<OpResult[]> {
  ctx.spareSeq = null;
  const results: OpResult[] = [];
  // The last announceable change per fingerprint, for the notify op that follows it.
  const changes = new Map<string, IncidentChange>();
  const { session } = ctx;
  for (const op of ops) {
    switch (op.kind) {
      case 'fail': {
        const r = await applyFail(op, ctx);
        if (op.draft.subscribers !== undefined && op.draft.subscribers.length > 0) {
          await addSubscribers(r.seq, op.draft.subscribers, op.draft.ruleId, op.at, op.maxSubscribers ?? DEFAULT_MAX_SUBSCRIBERS, ctx);
        }
        const type = failEvent(r.outcome);
        const number = incidentNumber(r.seq);
        if (type !== null) changes.set(op.draft.fingerprint, { number, type, at: op.at });
        const result: OpResult = { kind: 'fail', outcome: r.outcome, number, fingerprint: op.draft.fingerprint };
        if (r.raisedFrom !== undefined) result.raisedFrom = r.raisedFrom;
        results.push(result);
        break;
      }
      case 'resolve': {
        const d = await ctx.incidents.findOneAndUpdate(
          { fingerprint: op.fingerprint, status: { $in: ACTIVE } },
          {
            $set: { status: 'resolved', resolvedAt: new Date(op.at), resolvedBy: op.actor },
            // The state moves to fingerprint_state with the manager's next state op.
            $unset: { state: '' },
            $push: { timeline: timelineDoc(op.at, op.actor, 'resolved', op.message) },
          },
          { projection: { _id: 1, title: 1, severity: 1, tier: 1, 'target.id': 1, 'target.name': 1, firstSeen: 1 }, ...inSession(session) },
        );
        if (d) {
          changes.set(op.fingerprint, { number: incidentNumber(d._id), type: 'incident.resolved', at: op.at });
          const incident = { title: d.title, severity: d.severity, tier: d.tier, target: { id: d.target.id, name: d.target.name } };
          results.push({ kind: 'resolve', number: incidentNumber(d._id), fingerprint: op.fingerprint, incident, openedAt: d.firstSeen.getTime() });
        } else {
          results.push({ kind: 'resolve', number: null, fingerprint: op.fingerprint });
        }
        break;
      }
      case 'flapping': {
        const seq = await casActive(ctx, op.fingerprint, { flapping: 1 }, async (d) => {
          const plan = planFlapping(d.flapping, op);
          if (!plan) return true;
          const r = await ctx.incidents.updateOne(
            { _id: d._id, status: { $in: ACTIVE }, flapping: d.flapping },
            { $set: { flapping: op.flapping }, $push: { timeline: timelineDoc(op.at, 'system', plan.entry.action, plan.entry.message) } },
            inSession(session),
          );
          if (r.matchedCount > 0) changes.set(op.fingerprint, { number: incidentNumber(d._id), type: plan.event, at: op.at });
          return r.matchedCount > 0;
        });
        results.push({ kind: 'flapping', number: seq === null ? null : incidentNumber(seq), fingerprint: op.fingerprint });
        break;
      }
      case 'relate': {
        const seq = await casActive(ctx, op.fingerprint, { related: 1 }, async (d) => {
          const current = (d.related ?? []).map((r) => ({ ...r, since: r.since.getTime() }));
          const plan = planRelate(current, op);
          if (!plan) return true;
          const r = await ctx.incidents.updateOne(
            { _id: d._id, status: { $in: ACTIVE }, related: d.related ?? [] },
            { $set: { related: plan.related.map(relatedDoc) }, $push: { timeline: timelineDoc(op.at, 'system', plan.entry.action, plan.entry.message) } },
            inSession(session),
          );
          return r.matchedCount > 0;
        });
        results.push({ kind: 'relate', number: seq === null ? null : incidentNumber(seq), fingerprint: op.fingerprint });
        break;
      }
      case 'state':
        await applyState(op, ctx);
        results.push({ kind: 'state' });
        break;
      case 'intake':
        // Beside the incident counter: a small document per journal, only ever raised.
        await ctx.counters.updateOne({ _id: `intake:${op.journal}` }, { $max: { value: op.lsn } }, { upsert: true, ...inSession(session) });
        results.push({ kind: 'intake' });
        break;
      case 'notify': {
        const change = changes.get(op.fingerprint);
        changes.delete(op.fingerprint);
        const plan = planNotify(change, op);
        const seq = change === undefined ? null : parseIncidentNumber(change.number);
        if (plan.kind === 'quiet' && seq !== null && plan.channels.length > 0) {
          await ctx.incidents.updateOne({ _id: seq }, { $addToSet: { notified: { $each: plan.channels } } }, inSession(session));
        }
        if (plan.kind === 'event') await insertDeliveries(plan.event, plan.channels, plan.event.at, ctx);
        results.push({ kind: 'notify', events: plan.kind === 'event' ? [plan.event.id] : [], fingerprint: op.fingerprint });
        break;
      }
    }
  }
  return results;
}

/**
 * Reads the fingerprint's active incident and runs `write` on it until a write's condition held
 * (it returns false when another writer changed the incident in between). Returns its number.
 */
async function casActive(
  ctx: WriteContext,
  fingerprint: string,
  projection: Record<string, 1>,
  write: (d: IncidentDoc) => Promise<boolean>,
): Promise<number | null> {
  for (let attempt = 1; attempt <= MAX_RACE_RETRIES; attempt++) {
    const d = await ctx.incidents.findOne({ fingerprint, status: { $in: ACTIVE } }, { projection: { _id: 1, ...projection }, ...inSession(ctx.session) });
    if (!d) return null;
    if (await write(d)) return d._id;
  }
  throw new StoreUnavailableError(`incident of fingerprint ${fingerprint} kept changing under concurrent writers on ${ctx.where}; the batch will be retried`);
}

/** The incident a fail lands on: the active one, else the latest resolved within the window. */
async function findForFail(op: FailInput & { reopenWindowMs: number }, ctx: WriteContext): Promise<(FoundIncident & { resolvedAt: Date | null }) | null> {
  const projection = { _id: 1, severity: 1, title: 1, description: 1, resolvedAt: 1 };
  const fingerprint = op.draft.fingerprint;
  const active = await ctx.incidents.findOne({ fingerprint, status: { $in: ACTIVE } }, { projection, ...inSession(ctx.session) });
  const d =
    active ??
    (await ctx.incidents.findOne(
      { fingerprint, status: 'resolved', resolvedAt: { $gte: new Date(reopenSince(op.at, op.reopenWindowMs)) } },
      { projection, sort: { resolvedAt: -1, _id: -1 }, ...inSession(ctx.session) },
    ));
  if (!d) return null;
  return { seq: d._id, active: active !== null, severity: d.severity, title: d.title, description: d.description, resolvedAt: d.resolvedAt };
}

async function applyFail(
  op: FailInput & { reopenWindowMs: number },
  ctx: WriteContext,
): Promise<{ outcome: 'opened' | 'repeated' | 'reopened'; seq: number; raisedFrom?: Severity }> {
  const { session } = ctx;
  for (let attempt = 1; ; attempt++) {
    const found = await findForFail(op, ctx);
    const plan = planFail(found, op);
    try {
      if (plan.outcome === 'repeated' && found) {
        const o = plan.occurrence;
        const set: Partial<IncidentDoc> = { lastMessage: o.lastMessage };
        if (plan.reclassify) Object.assign(set, { ...plan.reclassify, nextTimerAt: new Date(plan.reclassify.nextTimerAt) });
        if (plan.retitle) Object.assign(set, plan.retitle);
        // Applies only to the incident as read (still active, same severity and title).
        const r = await ctx.incidents.updateOne(
          { _id: plan.seq, status: { $in: ACTIVE }, severity: found.severity, title: found.title, description: found.description },
          { $inc: { occurrences: o.count }, $max: { lastSeen: new Date(o.at) }, $set: set, $push: { timeline: { $each: timeline(plan.timeline) } } },
          inSession(session),
        );
        if (r.matchedCount > 0) return plan.reclassify ? { outcome: 'repeated', seq: plan.seq, raisedFrom: found.severity } : { outcome: 'repeated', seq: plan.seq };
      } else if (plan.outcome === 'reopened' && found) {
        const o = plan.occurrence;
        const { reopens, escalation, nextTimerAt, ...fields } = plan.reopen;
        const r = await ctx.incidents.updateOne(
          { _id: plan.seq, status: 'resolved', resolvedAt: found.resolvedAt },
          {
            $set: { ...fields, lastMessage: o.lastMessage, escalation: escalationDoc(escalation), nextTimerAt: date(nextTimerAt) },
            $inc: { reopenCount: reopens, occurrences: o.count },
            $max: { lastSeen: new Date(o.at) },
            $push: { timeline: { $each: timeline(plan.timeline) } },
          },
          inSession(session),
        );
        if (r.matchedCount > 0) return { outcome: 'reopened', seq: plan.seq };
      } else {
        const seq = ctx.spareSeq ?? (await nextSeq(ctx));
        ctx.spareSeq = null;
        try {
          await ctx.incidents.insertOne(newIncidentDoc(openIncident(seq, op)), inSession(session));
        } catch (err) {
          if (isFingerprintRace(err)) ctx.spareSeq = seq;
          throw err;
        }
        return { outcome: 'opened', seq };
      }
    } catch (err) {
      // The unique index refused a second active incident: another instance opened or reopened this
      // fingerprint between our read and our write. Inside a transaction the whole commit is run
      // again (see MongoStore.commit); without one, read again.
      if (ctx.session || !isFingerprintRace(err)) throw err;
    }
    if (ctx.session || attempt >= MAX_RACE_RETRIES) {
      throw new StoreUnavailableError(
        `fingerprint ${op.draft.fingerprint} kept changing under concurrent writers on ${ctx.where} after ${attempt} attempts; the batch will be retried`,
      );
    }
  }
}

/** The next incident number, from a counter every instance increments atomically. */
async function nextSeq(ctx: WriteContext): Promise<number> {
  const c = await ctx.counters.findOneAndUpdate(
    { _id: 'incident' },
    { $inc: { value: 1 } },
    { upsert: true, returnDocument: 'after', ...inSession(ctx.session) },
  );
  if (!c) throw new StoreUnavailableError(`MongoDB returned no incident counter on ${ctx.where}`);
  return c.value;
}

/**
 * States are opaque here: only their fingerprint is read. A fingerprint with an active incident
 * keeps its state in that incident's document (it goes away with the resolution); any other in
 * fingerprint_state. One query finds which have an active incident, then two bulk writes.
 */
async function applyState(op: Extract<StoreOp, { kind: 'state' }>, ctx: WriteContext): Promise<void> {
  const fps = [...new Set(op.fingerprints.map((f) => f.fingerprint))];
  const withIncident = new Set<string>();
  if (fps.length > 0) {
    const docs = ctx.incidents.find({ fingerprint: { $in: fps }, status: { $in: ACTIVE } }, { projection: { fingerprint: 1 }, ...inSession(ctx.session) });
    for await (const d of docs) withIncident.add(d.fingerprint);
  }
  const incidentWrites: AnyBulkWriteOperation<IncidentDoc>[] = [];
  const stateWrites: AnyBulkWriteOperation<FingerprintStateDoc>[] = [];
  for (const f of op.fingerprints) {
    if (withIncident.has(f.fingerprint)) {
      incidentWrites.push({ updateOne: { filter: { fingerprint: f.fingerprint, status: { $in: ACTIVE } }, update: { $set: { state: f } } } });
      stateWrites.push({ deleteOne: { filter: { _id: f.fingerprint } } });
    } else {
      stateWrites.push({ replaceOne: { filter: { _id: f.fingerprint }, replacement: { data: f }, upsert: true } });
    }
  }
  for (const fp of op.forget) stateWrites.push({ deleteOne: { filter: { _id: fp } } });
  if (incidentWrites.length > 0) await ctx.incidents.bulkWrite(incidentWrites, { ordered: true, ...inSession(ctx.session) });
  if (stateWrites.length > 0) await ctx.states.bulkWrite(stateWrites, { ordered: true, ...inSession(ctx.session) });
}

/**
 * One pending delivery per recipient of the event (see recipients()); one that exists already (a
 * retried commit) is kept as it is. A delivery is the head of its queue (incident and channel, see
 * claimDeliveries) unless an older one of the queue is pending; those older ones get `next: true`,
 * so whoever finishes them promotes the next head. The write to them also makes a transaction that
 * finishes one of them at the same time conflict with this one, so neither decides on a stale read.
 * A channel never told of the incident before has no queue yet: an opening costs no extra query.
 */
export async function insertDeliveries(event: OutboxEvent, channels: string[], at: number, ctx: WriteContext): Promise<void> {
  const seq = parseIncidentNumber(event.number);
  if (seq === null) return;
  const before = await ctx.incidents.findOneAndUpdate(
    { _id: seq },
    { $addToSet: { notified: { $each: [...new Set(channels)] } } },
    { projection: { notified: 1 }, returnDocument: 'before', ...inSession(ctx.session) },
  );
  const told = before?.notified ?? [];
  const all = recipients(told, channels).notified;
  if (all.length === 0) return;
  const ids = all.map((channel) => deliveryId(event.id, channel));
  const queued = { 'event.number': event.number, status: 'pending' as const, _id: { $nin: ids } };
  // Channels with an older pending delivery of this incident, and how many such deliveries.
  const busy = new Set<string>();
  let older = 0;
  if (told.length > 0) {
    const found = ctx.deliveries.find({ ...queued, channelId: { $in: told } }, { projection: { channelId: 1 }, ...inSession(ctx.session) });
    for await (const o of found) {
      busy.add(o.channelId);
      older++;
    }
  }
  const writes: AnyBulkWriteOperation<DeliveryDoc>[] = all.map((channel, i) => {
    const doc = { ...newDeliveryDoc(ids[i]!, event, channel, at), head: !busy.has(channel) };
    return { updateOne: { filter: { _id: doc._id }, update: { $setOnInsert: doc }, upsert: true } };
  });
  await ctx.deliveries.bulkWrite(writes, { ordered: true, ...inSession(ctx.session) });
  if (busy.size === 0) return;
  const marked = await ctx.deliveries.updateMany({ ...queued, channelId: { $in: [...busy] } }, { $set: { next: true } }, inSession(ctx.session));
  // Without transactions an older one may have finished between the read and the mark, unaware of
  // this one: then its queue's head is set here.
  if (marked.matchedCount < older) for (const channel of busy) await promoteHead(ctx.deliveries, event.number, channel, ctx.session);
}

/**
 * Adds people to keep informed as planSubscription says; returns how many were refused. The write
 * applies only to the list as read: when another writer changed it in between, the plan is made
 * again on the new list, so the cap holds however many write at once.
 */
export async function addSubscribers(seq: number, addresses: string[], actor: string, at: number, max: number, ctx: WriteContext): Promise<number> {
  for (let attempt = 1; attempt <= 20; attempt++) {
    const d = await ctx.incidents.findOne({ _id: seq }, { projection: { subscribers: 1 }, ...inSession(ctx.session) });
    if (!d) return 0;
    const current = d.subscribers ?? [];
    const plan = planSubscription(current, addresses, actor, at, max);
    if (plan.added.length === 0) return plan.refused;
    const r = await ctx.incidents.updateOne(
      { _id: seq, subscribers: d.subscribers === undefined ? { $exists: false } : current },
      { $push: { subscribers: { $each: plan.added }, timeline: { $each: timeline(plan.entries) } } },
      { ...inSession(ctx.session) },
    );
    if (r.matchedCount > 0) return plan.refused;
  }
  throw new StoreUnavailableError(`the subscribers of incident ${incidentNumber(seq)} kept changing while adding ${addresses.length}; retry`);
}
