// Collections, indexes and the schema version of the MongoDB store.
import type { AnyBulkWriteOperation, Db, IndexDescription } from 'mongodb';
import type { CommitDoc, CounterDoc, DeliveryDoc, FingerprintStateDoc, IncidentDoc, MetaDoc } from './documents.js';
import type { SilenceDoc } from './silences.js';
import { MongoSchemaTooNewError } from './errors.js';
import { incidentNumber } from '../../domain/incident.js';
import { DEFAULT_TENANT } from '../../domain/principal.js';

/**
 * Raise when documents change shape, and teach ensureSchema to upgrade the older shape. Version 1:
 * incidents with embedded timeline, fingerprint_state, counters, meta. Version 2: deliveries (the
 * notification outbox); a version 1 database only lacks the collection and its indexes. Version 3:
 * escalation, nextTimerAt, notified, tickets, subscribers on incidents (read with defaults when
 * missing) and the `timers` index. Version 4: `commits` (ids of applied batches, kept a day) and
 * the deliveries' `pending_order` index. Version 5: the times inside `escalation` are BSON dates
 * (they were epoch-millisecond numbers; both are read, so version 4 documents need no rewrite).
 * Version 6: deliveries carry `head` and `next` (the head of each incident-and-channel queue is
 * claimed in one round trip); the upgrade sets them on pending deliveries and replaces the `due`
 * index with `claim`. Instances of an older version must be stopped first: they would write
 * deliveries without `head`, which no version 6 instance claims.
 * Version 6 also adds `silences` (a version 5 database only lacks the collection and its index).
 * Version 7: incidents carry `tenant`; the upgrade sets `default` where it is missing (documents
 * without it read as the default tenant anyway) and the `tenant_*` indexes are created.
 * Version 8: `users`, `sessions` and `audit` (local accounts; a version 7 database only lacks the
 * collections and their indexes).
 * Version 9: silences carry `tenant`; the upgrade sets `default` where it is missing (a silence
 * without it reads as the default tenant's anyway) and the `tenant_ends` index is created.
 * Version 10: `problem_reports` (what employees report; a version 9 database only lacks the
 * collection and its indexes).
 * Version 11: `escalated` timeline entries that handed over carry `tier` (the escalations report
 * counts by it); the upgrade sets it from the message of entries written before (upgradeTimelineToV11).
 */
export const SCHEMA_VERSION = 11;

export const COLLECTIONS = {
  incidents: 'incidents',
  fingerprintState: 'fingerprint_state',
  counters: 'counters',
  meta: 'meta',
  deliveries: 'deliveries',
  commits: 'commits',
} as const;

/** The status values of an active incident, spelt as in the unique index's filter. */
export const ACTIVE: Array<'open' | 'acknowledged'> = ['open', 'acknowledged'];

/**
 * Indexes of `incidents`. Names are fixed, so createIndexes at every start is a no-op once they
 * exist. `_id` is the sequence number, so newest first is the `_id` index read backwards.
 */
export const INCIDENT_INDEXES: IndexDescription[] = [
  // Dedup: at most one active incident per fingerprint, whichever instance writes. $in in a
  // partial filter needs MongoDB 6.0 or newer.
  {
    name: 'active_fingerprint',
    key: { fingerprint: 1 },
    unique: true,
    partialFilterExpression: { status: { $in: ACTIVE } },
  },
  // Every incident of a fingerprint, newest first: the reopen lookup and the fingerprint filter.
  { name: 'fingerprint_seq', key: { fingerprint: 1, _id: -1 } },
  // countActive reads only this index (status and severity are all it needs).
  { name: 'status_severity', key: { status: 1, severity: 1 } },
  // List filters, each ending in _id for newest-first keyset pagination.
  { name: 'status_seq', key: { status: 1, _id: -1 } },
  { name: 'severity_seq', key: { severity: 1, _id: -1 } },
  { name: 'category_seq', key: { category: 1, _id: -1 } },
  { name: 'site_seq', key: { 'target.site': 1, _id: -1 } },
  { name: 'target_seq', key: { 'target.id': 1, _id: -1 } },
  // The list's orders (src/domain/paging.ts), each ending in _id, the tie-breaker; severity uses
  // severity_seq, one range per severity. Created at every start like the rest, so no upgrade step.
  { name: 'first_seen_seq', key: { firstSeen: 1, _id: 1 } },
  { name: 'last_seen_seq', key: { lastSeen: 1, _id: 1 } },
  { name: 'priority_seq', key: { priority: 1, _id: -1 } },
  // Tenants: a list scoped to some tenants, newest first or by status; countActive of some tenants.
  { name: 'tenant_seq', key: { tenant: 1, _id: -1 } },
  { name: 'tenant_status_seq', key: { tenant: 1, status: 1, _id: -1 } },
  { name: 'tenant_status_severity', key: { tenant: 1, status: 1, severity: 1 } },
  // A list scoped to one tenant in each order seeks its range of these (bench:list measures SQLite's twins).
  { name: 'tenant_first_seen_seq', key: { tenant: 1, firstSeen: 1, _id: 1 } },
  { name: 'tenant_last_seen_seq', key: { tenant: 1, lastSeen: 1, _id: 1 } },
  { name: 'tenant_severity_seq', key: { tenant: 1, severity: 1, _id: -1 } },
  { name: 'tenant_priority_seq', key: { tenant: 1, priority: 1, _id: -1 } },
  // Reports: the backlog counts resolutions per day (the other reports match on the opening-time
  // indexes above, leading with the tenant when scoped).
  { name: 'resolved_at', key: { resolvedAt: 1 }, partialFilterExpression: { resolvedAt: { $type: 'date' } } },
  { name: 'tenant_resolved_at', key: { tenant: 1, resolvedAt: 1 }, partialFilterExpression: { resolvedAt: { $type: 'date' } } },
  // Reports: escalations per tier seek the escalated entries of a range of time; only incidents
  // escalated at least once are in it.
  {
    name: 'escalated_timeline',
    key: { 'timeline.action': 1, 'timeline.at': 1 },
    partialFilterExpression: { 'timeline.action': 'escalated' },
  },
  // The escalation sweep: due timers of active incidents only.
  {
    name: 'timers',
    key: { nextTimerAt: 1, _id: 1 },
    partialFilterExpression: { status: { $in: ACTIVE }, nextTimerAt: { $type: 'date' } },
  },
];

/** Silences (src/store/mongo/silences.ts), keyed by their id; listed by end. */
export const SILENCES = 'silences';
export const SILENCE_INDEXES: IndexDescription[] = [
  { name: 'ends', key: { endsAt: 1, _id: 1 } },
  // A list scoped to some tenants.
  { name: 'tenant_ends', key: { tenant: 1, endsAt: 1, _id: 1 } },
];

/** Local accounts, browser sessions and the audit log (src/store/mongo/accounts.ts). */
export const ACCOUNT_COLLECTIONS = { users: 'users', sessions: 'sessions', audit: 'audit' } as const;
export const ACCOUNT_INDEXES: Record<keyof typeof ACCOUNT_COLLECTIONS, IndexDescription[]> = {
  // Names are unique without regard to case.
  users: [{ name: 'name', key: { nameKey: 1 }, unique: true }],
  sessions: [{ name: 'user', key: { userId: 1 } }],
  audit: [{ name: 'newest', key: { at: -1, _id: -1 } }],
};

/** What employees report (src/store/mongo/problem-reports.ts). */
export const PROBLEM_REPORTS = 'problem_reports';
export const PROBLEM_REPORT_INDEXES: IndexDescription[] = [
  // "My reports": one person's, newest first.
  { name: 'reporter_newest', key: { reporterId: 1, createdAt: -1, _id: -1 } },
  // The people who reported one incident.
  { name: 'incident_reporter', key: { incident: 1, reporterId: 1 }, partialFilterExpression: { incident: { $type: 'string' } } },
];

/** Indexes of `deliveries` (`_id` is the delivery id). */
export const DELIVERY_INDEXES: IndexDescription[] = [
  // The claim: heads of queues, oldest due first.
  { name: 'claim', key: { head: 1, nextAt: 1, _id: 1 }, partialFilterExpression: { status: 'pending' } },
  // Dead letters, most recently dead-lettered first.
  { name: 'finished', key: { status: 1, finishedAt: -1, _id: -1 } },
  // The pending deliveries of one incident and channel, oldest first: the queue behind its head.
  {
    name: 'pending_order',
    key: { channelId: 1, 'event.number': 1, createdAt: 1 },
    partialFilterExpression: { status: 'pending' },
  },
];

/**
 * Brings the database to SCHEMA_VERSION: indexes, the incident counter and the meta document.
 * Every step is idempotent, so several instances starting at once do no harm.
 */
export async function ensureSchema(db: Db, where: string, now: number): Promise<void> {
  const meta = db.collection<MetaDoc>(COLLECTIONS.meta);
  const current = await meta.findOne({ _id: 'schema' });
  const found = current?.version ?? 0;
  if (found > SCHEMA_VERSION) throw new MongoSchemaTooNewError(where, found, SCHEMA_VERSION);

  await db.collection<IncidentDoc>(COLLECTIONS.incidents).createIndexes(INCIDENT_INDEXES);
  // Creating the indexes creates the collection, so the first notify op in a transaction need not.
  await db.collection<DeliveryDoc>(COLLECTIONS.deliveries).createIndexes(DELIVERY_INDEXES);
  await db.collection(SILENCES).createIndexes(SILENCE_INDEXES);
  await db.collection(PROBLEM_REPORTS).createIndexes(PROBLEM_REPORT_INDEXES);
  for (const [key, name] of Object.entries(ACCOUNT_COLLECTIONS) as [keyof typeof ACCOUNT_COLLECTIONS, string][]) {
    await db.collection(name).createIndexes(ACCOUNT_INDEXES[key]);
  }
  // A retried batch is recognised by its id for a day (a retry comes within minutes).
  await db.collection<CommitDoc>(COLLECTIONS.commits).createIndexes([{ name: 'expire', key: { at: 1 }, expireAfterSeconds: 86_400 }]);
  // fingerprint_state is keyed by the fingerprint (_id); it needs no other index. Creating the
  // collection up front keeps the first commit inside a transaction from having to.
  const existing = new Set((await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name));
  if (!existing.has(COLLECTIONS.fingerprintState)) {
    await db.createCollection<FingerprintStateDoc>(COLLECTIONS.fingerprintState).catch(ignoreAlreadyExists);
  }
  await db
    .collection<CounterDoc>(COLLECTIONS.counters)
    .updateOne({ _id: 'incident' }, { $setOnInsert: { value: 0 } }, { upsert: true });
  if (found > 0 && found < 3) await upgradeIncidentsToV3(db);
  if (found > 0 && found < 6) await upgradeDeliveriesToV6(db);
  // Idempotent: touches only incidents without a tenant.
  if (found > 0 && found < 7) {
    await db.collection<IncidentDoc>(COLLECTIONS.incidents).updateMany({ tenant: { $exists: false } }, { $set: { tenant: DEFAULT_TENANT } });
  }
  // Idempotent: touches only silences without a tenant.
  if (found > 0 && found < 9) {
    await db.collection<SilenceDoc>(SILENCES).updateMany({ tenant: { $exists: false } }, { $set: { tenant: DEFAULT_TENANT } });
  }
  if (found > 0 && found < 11) await upgradeTimelineToV11(db);
  if (found !== SCHEMA_VERSION) {
    await meta.updateOne(
      { _id: 'schema' },
      { $setOnInsert: { createdAt: new Date(now) }, $max: { version: SCHEMA_VERSION }, $set: { migratedAt: new Date(now) } },
      { upsert: true },
    );
  }
}

/**
 * The tier of each `escalated` entry without one, read from its message as the escalations report
 * used to (escalatedInto in src/domain/reports.ts): `escalated by hand from L1 to L2: ...`,
 * `...; escalated to L2` or `...; L2 takes over`. An entry whose message names none (a raise that
 * kept the tier) stays without. Idempotent: entries with a tier are left alone.
 */
async function upgradeTimelineToV11(db: Db): Promise<void> {
  const captured = (regex: string) => ({
    $arrayElemAt: [{ $ifNull: [{ $getField: { field: 'captures', input: { $regexFind: { input: '$$e.message', regex } } } }, [null]] }, 0],
  });
  const parsed = { $ifNull: [captured('^escalated by hand from L\\d to (L\\d):'), captured('; escalated to (L\\d)$'), captured('; (L\\d) takes over$')] };
  await db.collection<IncidentDoc>(COLLECTIONS.incidents).updateMany({ timeline: { $elemMatch: { action: 'escalated', tier: { $exists: false } } } }, [
    {
      $set: {
        timeline: {
          $map: {
            input: '$timeline',
            as: 'e',
            in: {
              $cond: [
                { $and: [{ $eq: ['$$e.action', 'escalated'] }, { $eq: [{ $type: '$$e.tier' }, 'missing'] }] },
                { $let: { vars: { t: parsed }, in: { $cond: [{ $eq: ['$$t', null] }, '$$e', { $mergeObjects: ['$$e', { tier: '$$t' }] }] } } },
                '$$e',
              ],
            },
          },
        },
      },
    },
  ]);
}

/**
 * Incidents from before escalation: the channels their events went to count as told (they hear the
 * end), and active ones are due at once, so the sweep starts their timers without announcing again.
 * Idempotent: only documents without `escalation` are touched.
 */
async function upgradeIncidentsToV3(db: Db): Promise<void> {
  const incidents = db.collection<IncidentDoc>(COLLECTIONS.incidents);
  const deliveries = db.collection<DeliveryDoc>(COLLECTIONS.deliveries);
  for await (const d of incidents.find({ escalation: { $exists: false } }, { projection: { _id: 1, status: 1, lastSeen: 1 } })) {
    const number = incidentNumber(d._id);
    const channels = await deliveries.distinct('channelId', { 'event.number': number });
    const set: Partial<IncidentDoc> = { notified: channels };
    if (d.status === 'open' || d.status === 'acknowledged') set.nextTimerAt = d.lastSeen;
    await incidents.updateOne({ _id: d._id, escalation: { $exists: false } }, { $set: set });
  }
}

/**
 * Sets `head` on the oldest pending delivery of each incident and channel, `next` on every pending
 * one with a later one behind it, and drops the version 5 claim index. Idempotent: only pending
 * deliveries without `head` are touched, and a queue's order is read from its creation times.
 */
async function upgradeDeliveriesToV6(db: Db): Promise<void> {
  const deliveries = db.collection<DeliveryDoc>(COLLECTIONS.deliveries);
  const pending = deliveries
    .find({ status: 'pending', head: { $exists: false } }, { projection: { _id: 1, channelId: 1, 'event.number': 1 } })
    .sort({ channelId: 1, 'event.number': 1, createdAt: 1, _id: 1 });
  let queue: string | null = null;
  let previous: string | null = null;
  let writes: AnyBulkWriteOperation<DeliveryDoc>[] = [];
  for await (const d of pending) {
    const key = JSON.stringify([d.channelId, d.event.number]);
    const head = key !== queue;
    if (!head && previous !== null) writes.push({ updateOne: { filter: { _id: previous }, update: { $set: { next: true } } } });
    writes.push({ updateOne: { filter: { _id: d._id }, update: { $set: { head, next: false } } } });
    queue = key;
    previous = d._id;
    if (writes.length >= 1000) {
      await deliveries.bulkWrite(writes, { ordered: true });
      writes = [];
    }
  }
  if (writes.length > 0) await deliveries.bulkWrite(writes, { ordered: true });
  await deliveries.dropIndex('due').catch(ignoreIndexNotFound);
}

/** The index is gone already (another instance upgraded first, or a database created at version 6). */
function ignoreIndexNotFound(err: unknown): void {
  if ((err as { codeName?: unknown } | null)?.codeName === 'IndexNotFound') return;
  throw err;
}

/** Another instance created the collection between our check and our create. */
function ignoreAlreadyExists(err: unknown): void {
  if ((err as { codeName?: unknown } | null)?.codeName === 'NamespaceExists') return;
  throw err;
}
