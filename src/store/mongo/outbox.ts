// The outbox queue of the MongoDB store: claims, outcomes and dead letters. What an outcome writes
// is settleDelivery's (src/domain/events.ts); only the reads and writes live here.
import type { ClientSession, Collection, Filter } from 'mongodb';
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
 * Claims up to `size` due deliveries, oldest due first, one findOneAndUpdate (one round trip) per
 * delivery and one more that finds nothing when fewer than `size` are due. Each claim is atomic on
 * its document, so two instances never claim the same one. A delivery waits while an older one for
 * the same incident and channel (its queue) is still pending, so a helpdesk hears of an incident in
 * order: a MongoDB filter cannot look at other documents, so the queue's oldest pending delivery
 * carries `head: true` (see insertDeliveries and promoteHead) and only heads are claimed.
 */
export async function claimDeliveries(
  deliveries: Collection<DeliveryDoc>,
  now: number,
  size: number,
  leaseMs: number,
  owner: string,
): Promise<Delivery[]> {
  const claimed: Delivery[] = [];
  while (claimed.length < size) {
    const d = await deliveries.findOneAndUpdate(
      { status: 'pending', head: true, nextAt: { $lte: new Date(now) } },
      { $inc: { attempts: 1 }, $set: { leaseOwner: owner, nextAt: new Date(now + leaseMs) } },
      { sort: { nextAt: 1, _id: 1 }, returnDocument: 'after' },
    );
    if (!d) break;
    claimed.push(docToDelivery(d));
  }
  return claimed.sort(compareDeliveries);
}

/**
 * Makes the oldest pending delivery of a queue its head. Idempotent, and safe whenever it runs: a
 * queue's oldest pending delivery is always the one allowed out next.
 */
export async function promoteHead(
  deliveries: Collection<DeliveryDoc>,
  number: string,
  channelId: string,
  session: ClientSession | undefined,
): Promise<void> {
  await deliveries.findOneAndUpdate(
    { channelId, 'event.number': number, status: 'pending' },
    { $set: { head: true } },
    { sort: { createdAt: 1, _id: 1 }, projection: { _id: 1 }, ...inSession(session) },
  );
}

/** Records how a claimed delivery went (in one transaction where the deployment has them). */
export async function completeDelivery(
  id: string,
  outcome: DeliveryOutcome,
  inTransaction: <T>(fn: (ctx: WriteContext) => Promise<T>) => Promise<T>,
): Promise<boolean> {
  const settled = settleDelivery(outcome);
  let update: { $set: Partial<DeliveryDoc> };
  // A finished delivery leaves its queue: it is no longer the head.
  if (settled.status === 'delivered') update = { $set: { ...settled, finishedAt: new Date(settled.finishedAt), head: false } };
  else if (settled.status === 'dead') update = { $set: { ...settled, finishedAt: new Date(settled.finishedAt), head: false } };
  else update = { $set: { ...settled, nextAt: new Date(settled.nextAt) } };
  return inTransaction(async (ctx) => {
    const r = await ctx.deliveries.findOneAndUpdate({ _id: id, status: 'pending' }, update, {
      projection: { channelId: 1, 'event.number': 1, next: 1 },
      ...inSession(ctx.session),
    });
    // The next delivery of its queue may go now. `next` says one was written after it; without
    // one, the promotion's round trip is saved.
    if (r && settled.status !== 'pending' && r.next === true) await promoteHead(ctx.deliveries, r.event.number, r.channelId, ctx.session);
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
