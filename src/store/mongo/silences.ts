// Silences in MongoDB: one document each in `silences`, times as BSON dates. Expiring one also
// makes the escalation timer of the incidents it holds back due at once (see SilenceStore), in one
// transaction where the deployment has them.
import type { ClientSession, Collection, Db } from 'mongodb';
import { pageSize } from '../../domain/paging.js';
import { DEFAULT_TENANT } from '../../domain/principal.js';
import { expiredAt, SilenceNotFoundError, type Matcher, type Silence, type SilenceState } from '../../domain/silence.js';
import type { SilencePosition } from '../types.js';
import type { IncidentDoc } from './documents.js';
import { ACTIVE, COLLECTIONS, SILENCES } from './schema.js';
import { inSession } from './writes.js';

export interface SilenceDoc {
  _id: string;
  /** Absent in silences stored before tenants: the default tenant's. */
  tenant?: string;
  matchers: Matcher[];
  startsAt: Date;
  endsAt: Date;
  createdBy: string;
  comment: string;
  createdAt: Date;
  updatedAt: Date;
}

function toDoc(s: Silence): SilenceDoc {
  return {
    _id: s.id,
    tenant: s.tenant,
    matchers: s.matchers.map((m) => ({ name: m.name, op: m.op, value: m.value })),
    startsAt: new Date(s.startsAt),
    endsAt: new Date(s.endsAt),
    createdBy: s.createdBy,
    comment: s.comment,
    createdAt: new Date(s.createdAt),
    updatedAt: new Date(s.updatedAt),
  };
}

function fromDoc(d: SilenceDoc): Silence {
  return {
    id: d._id,
    tenant: d.tenant ?? DEFAULT_TENANT,
    matchers: d.matchers.map((m) => ({ name: m.name, op: m.op, value: m.value })),
    startsAt: d.startsAt.getTime(),
    endsAt: d.endsAt.getTime(),
    createdBy: d.createdBy,
    comment: d.comment,
    createdAt: d.createdAt.getTime(),
    updatedAt: d.updatedAt.getTime(),
  };
}

export function silences(db: Db): Collection<SilenceDoc> {
  return db.collection<SilenceDoc>(SILENCES);
}

export async function insertSilence(db: Db, s: Silence): Promise<void> {
  await silences(db).insertOne(toDoc(s));
}

export async function findSilences(
  db: Db,
  states: readonly SilenceState[],
  now: number,
  limit: number,
  after: SilencePosition | null,
  tenants?: readonly string[],
): Promise<Silence[]> {
  if (tenants !== undefined && tenants.length === 0) return [];
  // Documents from before tenants have none: they are the default tenant's.
  const ofTenants =
    tenants === undefined
      ? []
      : [tenants.includes(DEFAULT_TENANT) ? { $or: [{ tenant: { $in: [...tenants] } }, { tenant: { $exists: false } }] } : { tenant: { $in: [...tenants] } }];
  const wanted: readonly SilenceState[] = states.length === 0 ? ['pending', 'active', 'expired'] : states;
  const size = pageSize(limit);
  const at = new Date(now);
  // Past the not-yet-ended ones once the previous page ended with an ended one.
  const afterLive = after !== null && after.endsAt > now;
  const afterEnded = after !== null && after.endsAt <= now;
  const e = new Date(after?.endsAt ?? 0);
  const i = after?.id ?? '';
  const filters: Record<'pending' | 'active', object> = {
    pending: { startsAt: { $gt: at }, endsAt: { $gt: at } },
    active: { startsAt: { $lte: at }, endsAt: { $gt: at } },
  };
  const out: Silence[] = [];
  const live = wanted.filter((s): s is 'pending' | 'active' => s !== 'expired');
  if (live.length > 0 && !afterEnded) {
    const past = afterLive ? [{ $or: [{ endsAt: { $gt: e } }, { endsAt: e, _id: { $gt: i } }] }] : [];
    const docs = await silences(db)
      .find({ $and: [{ $or: live.map((s) => filters[s]) }, ...past, ...ofTenants] })
      .sort({ endsAt: 1, _id: 1 })
      .limit(size)
      .toArray();
    out.push(...docs.map(fromDoc));
  }
  if (wanted.includes('expired') && out.length < size) {
    const docs = await silences(db)
      .find({
        $and: [{ endsAt: { $lte: at } }, ...(afterEnded ? [{ $or: [{ endsAt: { $lt: e } }, { endsAt: e, _id: { $gt: i } }] }] : []), ...ofTenants],
      })
      .sort({ endsAt: -1, _id: 1 })
      .limit(size - out.length)
      .toArray();
    out.push(...docs.map(fromDoc));
  }
  return out;
}

export async function countSilenceDocs(db: Db, now: number): Promise<Record<SilenceState, number>> {
  const at = new Date(now);
  const [pending, active, expired] = await Promise.all([
    silences(db).countDocuments({ startsAt: { $gt: at }, endsAt: { $gt: at } }),
    silences(db).countDocuments({ startsAt: { $lte: at }, endsAt: { $gt: at } }),
    silences(db).countDocuments({ endsAt: { $lte: at } }),
  ]);
  return { pending, active, expired };
}

export async function expireSilenceDoc(db: Db, session: ClientSession | undefined, id: string, at: number, tenants?: readonly string[]): Promise<Silence> {
  const doc = await silences(db).findOne({ _id: id }, inSession(session));
  // Another tenant's silence is answered as one that does not exist.
  if (!doc || (tenants !== undefined && !tenants.includes(doc.tenant ?? DEFAULT_TENANT))) throw new SilenceNotFoundError(id);
  const changed = expiredAt(fromDoc(doc), at);
  // Compare-and-set on the old end: of two expiries at once, one changes it.
  const r = await silences(db).updateOne(
    { _id: id, endsAt: doc.endsAt },
    { $set: { startsAt: new Date(changed.startsAt), endsAt: new Date(changed.endsAt), updatedAt: new Date(at) } },
    inSession(session),
  );
  if (r.matchedCount === 0) return expiredAt(changed, at); // throws: the other expiry ended it
  await db.collection<IncidentDoc>(COLLECTIONS.incidents).updateMany(
    { status: { $in: ACTIVE }, 'escalation.silencedBy': id, nextTimerAt: { $gt: new Date(at) } },
    { $set: { nextTimerAt: new Date(at) } },
    inSession(session),
  );
  return changed;
}
