// The incident list as MongoDB queries: the filter from incidentQuery, the order
// (src/domain/paging.ts) as keyset conditions on an index that ends in _id (the sequence).
import type { Collection, Filter, Sort } from 'mongodb';
import type { Incident } from '../../domain/incident.js';
import {
  bucketsFrom,
  decodeIncidentCursor,
  DEFAULT_INCIDENT_SORT,
  incidentPage,
  pageSize,
  readBuckets,
  sortOrder,
  type BucketSortKey,
  type IncidentSort,
  type Page,
  type SortOrder,
} from '../../domain/paging.js';
import type { IncidentFilter } from '../types.js';
import type { IncidentDoc } from './documents.js';
import { docToIncident, incidentQuery } from './documents.js';

const SCALAR_FIELDS = { opened: 'firstSeen', lastSeen: 'lastSeen' } as const;

export async function listIncidents(
  incidents: Collection<IncidentDoc>,
  filter: IncidentFilter,
  limit: number,
  cursor: string | null | undefined,
  sort: IncidentSort = DEFAULT_INCIDENT_SORT,
): Promise<Page<Incident>> {
  const size = pageSize(limit);
  const order = sortOrder(sort);
  const after = cursor ? decodeIncidentCursor(cursor, sort) : null;
  const base = incidentQuery(filter);
  const dir = order.descending ? -1 : 1;
  const cmp = order.descending ? '$lt' : '$gt';
  const find = async (q: Filter<IncidentDoc>, by: Sort, n: number): Promise<Incident[]> => {
    const docs = await incidents.find(q, { projection: { timeline: 0, state: 0 } }).sort(by).limit(n).toArray();
    return docs.map((d) => docToIncident(d, false));
  };

  let rows: Incident[];
  if (order.key === 'severity' || order.key === 'priority') {
    const bucketOrder = order as SortOrder & { key: BucketSortKey };
    const field = bucketOrder.key;
    const only = field === 'severity' ? filter.severity : filter.priority;
    rows = await readBuckets(bucketsFrom(bucketOrder, after, only), size, (bucket, n) => {
      const q: Filter<IncidentDoc> = { $and: [base, { [field]: bucket.value }] };
      if (bucket.afterSeq !== null) q.$and!.push({ _id: { [cmp]: bucket.afterSeq } });
      return find(q, { _id: dir }, n);
    });
  } else if (order.key === 'number') {
    const q: Filter<IncidentDoc> = after === null ? base : { $and: [base, { _id: { [cmp]: after.seq } }] };
    rows = await find(q, { _id: dir }, size + 1);
  } else {
    const field = SCALAR_FIELDS[order.key];
    let q: Filter<IncidentDoc> = base;
    if (after !== null) {
      const at = new Date(after.value);
      // (field, _id) beyond the cursor's pair, in the order's direction.
      q = { $and: [base, { $or: [{ [field]: { [cmp]: at } }, { [field]: at, _id: { [cmp]: after.seq } }] }] };
    }
    // One document more than asked tells whether another page exists, so `next` is null on the last.
    rows = await find(q, { [field]: dir, _id: dir }, size + 1);
  }
  return incidentPage(rows, size, order);
}
