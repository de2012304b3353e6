// The outbox queue of the MongoDB store: claims, outcomes and dead letters. What an outcome writes
// is settleDelivery's (src/domain/events.ts); only the reads and writes live here.
import type { Collection, Filter } from 'mongodb';
import type { DeliveryOutcome } from '../../domain/events.js';
import { compareDeliveries, settleDelivery } from '../../domain/events.js';
import { parseIncidentNumber } from '../../domain/incident.js';
import { decodeDeadCursor, encodeDeadCursor, pageFrom } from '../../domain/paging.js';
import type { Page } from '../../domain/paging.js';
import type { Delivery } from '../types.js';
import type { DeliveryDoc } from './documents.js';
import { docToDelivery } from './documents.js';
import { inSession, type WriteContext } from './writes.js';

/**
 * Claims up to `size` due deliveries, oldest due first. Each claim is one findOneAndUpdate, atomic
 * on its document, so two instances never claim the same one (MongoDB has no multi-document
 * UPDATE … RETURNING). A delivery waits while an older one for the same incident and channel is
 * still pending, so a helpdesk hears of an incident in order; a MongoDB filter cannot look at other
 * documents, so each round reads a page of due candidates and, in one more query, the older
 * pending deliveries of their queues: 2 round trips per round plus 1 per claimed delivery (it was
 * 3 per delivery).
 */
export async function claimDeliveries(
  deliveries: Collection<DeliveryDoc>,
  now: number,
  size: number,
  leaseMs: number,
  owner: string,
): Promise<Delivery[]> {
  const claimed: Delivery[] = [];
  const due = { status: 'pending' as const, nextAt: { $lte: new Date(now) } };
  const seen: string[] = [];
  while (claimed.length < size) {
    const candidates = await deliveries
      .find({ ...due, _id: { $nin: seen } }, { projection: { _id: 1, channelId: 1, 'event.number': 1, createdAt: 1 } })
      .sort({ nextAt: 1, _id: 1 })
      .limit(size - claimed.length)
      .toArray();
    if (candidates.length === 0) break;
    for (const c of candidates) seen.push(c._id);
    const queue = (d: Pick<DeliveryDoc, 'channelId' | 'event'>): string => JSON.stringify([d.channelId, d.event.number]);
    // The oldest pending delivery of each candidate's queue (incident and channel).
    const oldest = new Map<string, number>();
    const older = deliveries.find(
      {
        status: 'pending',
        $or: candidates.map((c) => ({ channelId: c.channelId, 'event.number': c.event.number, createdAt: { $lt: c.createdAt } })),
      },
      { projection: { channelId: 1, 'event.number': 1, createdAt: 1 } },
    );
    for await (const o of older) {
      const k = queue(o);
      const t = o.createdAt.getTime();
      if (!oldest.has(k) || t < oldest.get(k)!) oldest.set(k, t);
    }
    for (const c of candidates) {
      const first = oldest.get(queue(c));
      if (first !== undefined && first < c.createdAt.getTime()) continue;
      const d = await deliveries.findOneAndUpdate(
        { _id: c._id, ...due },
        { $inc: { attempts: 1 }, $set: { leaseOwner: owner, nextAt: new Date(now + leaseMs) } },
        { returnDocument: 'after' },
      );
      if (d) claimed.push(docToDelivery(d)); // else another instance claimed it first
    }
  }
  return claimed.sort(compareDeliveries);
}

/** Records how a claimed delivery went (in one transaction where the deployment has them). */
export async function completeDelivery(
  id: string,
  outcome: DeliveryOutcome,
  inTransaction: <T>(fn: (ctx: WriteContext) => Promise<T>) => Promise<T>,
): Promise<boolean> {
  const settled = settleDelivery(outcome);
  let update: { $set: Partial<DeliveryDoc> };
  if (settled.status === 'delivered') update = { $set: { ...settled, finishedAt: new Date(settled.finishedAt) } };
  else if (settled.status === 'dead') update = { $set: { ...settled, finishedAt: new Date(settled.finishedAt) } };
  else update = { $set: { ...settled, nextAt: new Date(settled.nextAt) } };
  return inTransaction(async (ctx) => {
    const r = await ctx.deliveries.findOneAndUpdate({ _id: id, status: 'pending' }, update, {
      projection: { channelId: 1, 'event.number': 1 },
      ...inSession(ctx.session),
    });
    const seq = r ? parseIncidentNumber(r.event.number) : null;
    if (r && seq !== null && 'delivered' in outcome && outcome.reference !== undefined) {
      // The first reference a channel answers for an incident is its ticket there. $setField,
      // not a dotted path: channel ids may contain dots.
      const tickets = { $ifNull: ['$tickets', {}] };
      const field = { $literal: r.channelId };
      await ctx.incidents.updateOne(
        { _id: seq },
        [
          {
            $set: {
              tickets: {
                $setField: {
                  field,
                  input: tickets,
                  value: { $ifNull: [{ $getField: { field, input: tickets } }, { $literal: outcome.reference }] },
                },
              },
            },
          },
        ],
        inSession(ctx.session),
      );
    }
    return r !== null;
  });
}

/** Dead letters after the cursor's, most recently dead-lettered first. Decoded before any I/O. */
export function deadLetterQuery(cursor: string | null | undefined): Filter<DeliveryDoc> {
  const q: Filter<DeliveryDoc> = { status: 'dead' };
  if (cursor) {
    const c = decodeDeadCursor(cursor);
    const at = new Date(c.at);
    q.$or = [{ finishedAt: { $lt: at } }, { finishedAt: at, _id: { $lt: c.id } }];
  }
  return q;
}

export async function listDeadLetters(deliveries: Collection<DeliveryDoc>, q: Filter<DeliveryDoc>, size: number): Promise<Page<Delivery>> {
  const docs = await deliveries.find(q).sort({ finishedAt: -1, _id: -1 }).limit(size + 1).toArray();
  return pageFrom(docs.map(docToDelivery), size, (last) => encodeDeadCursor(last.finishedAt ?? 0, last.id));
}

export async function countDeliveries(deliveries: Collection<DeliveryDoc>): Promise<{ pending: number; dead: number }> {
  const [pending, dead] = await Promise.all([
    deliveries.countDocuments({ status: 'pending' }),
    deliveries.countDocuments({ status: 'dead' }),
  ]);
  return { pending, dead };
}
