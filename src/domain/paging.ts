// Paging rules shared by every store: how large a page may be, and the cursors handed to callers.
// A cursor is opaque to callers; only the store that handed it out decodes it (InvalidCursorError
// for anything else, which the API answers with 400).
import { InvalidCursorError } from '../shared/errors.js';
import { SEVERITIES, type Priority } from './classification.js';
import type { Incident } from './incident.js';

/** Largest page a store returns, whatever the caller asks for. */
export const MAX_PAGE_SIZE = 1000;

/** The page size a store uses for a requested `limit`: at least 1, at most MAX_PAGE_SIZE. */
export function pageSize(limit: number): number {
  return Math.max(1, Math.min(MAX_PAGE_SIZE, Math.floor(limit) || 1));
}

export interface Page<T> {
  items: T[];
  /** Opaque cursor for the next page, or null at the end. */
  next: string | null;
}

/**
 * A page from up to `size + 1` rows read in page order: the extra row only tells that another page
 * exists, so `next` is null on the last page even when it is exactly full.
 */
export function pageFrom<T>(rows: readonly T[], size: number, cursorAfter: (last: T) => string): Page<T> {
  const items = rows.slice(0, size);
  const last = items[items.length - 1];
  return { items, next: rows.length > size && last !== undefined ? cursorAfter(last) : null };
}

/** Incidents are listed newest first by sequence number; the cursor names the last one seen. */
export function encodeSeqCursor(seq: number): string {
  return Buffer.from(`seq:${seq}`, 'utf8').toString('base64url');
}

export function decodeSeqCursor(cursor: string): number {
  const m = /^seq:(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw new InvalidCursorError(cursor);
  return Number(m[1]);
}

/** Dead letters are listed most recently dead-lettered first, ties by id descending. */
export function encodeDeadCursor(at: number, id: string): string {
  return Buffer.from(`dead:${at}:${id}`, 'utf8').toString('base64url');
}

export function decodeDeadCursor(cursor: string): { at: number; id: string } {
  const m = /^dead:(\d{1,15}):(.+)$/s.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw new InvalidCursorError(cursor);
  return { at: Number(m[1]), id: m[2]! };
}

/**
 * Silences are listed not-yet-ended first (soonest end first), then ended ones (latest end first),
 * ties by id. Every page of one listing judges the states at the instant of its first page (`at`),
 * so a silence that ends while someone pages is neither skipped nor listed twice.
 */
export interface SilenceCursor {
  at: number;
  /** End and id of the last silence of the previous page. */
  endsAt: number;
  id: string;
}

export function encodeSilenceCursor(c: SilenceCursor): string {
  return Buffer.from(`silence:${c.at}:${c.endsAt}:${c.id}`, 'utf8').toString('base64url');
}

export function decodeSilenceCursor(cursor: string): SilenceCursor {
  const m = /^silence:(\d{1,15}):(\d{1,15}):(.+)$/s.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw new InvalidCursorError(cursor);
  return { at: Number(m[1]), endsAt: Number(m[2]), id: m[3]! };
}

// ---------------------------------------------------------------------------------------------
// Incident list order. The policy (which orders exist, what ties break them, what a cursor holds)
// lives here; each store only translates it into its own query dialect.

/** Priorities, most urgent first (the order `sort=priority` lists them in). */
export const PRIORITIES = ['P1', 'P2', 'P3', 'P4', 'P5'] as const satisfies readonly Priority[];

/**
 * The orders the incident list offers; a leading `-` reverses one. `opened` is when the incident was
 * first opened (firstSeen), `lastSeen` when its failure was last observed, `number` its sequence.
 * `severity` goes minor → major, `priority` P1 → P5. Ties are broken by the incident number in the
 * same direction, so every order is total and a cursor names one place in it.
 */
export const INCIDENT_SORTS = [
  '-opened',
  'opened',
  '-lastSeen',
  'lastSeen',
  '-number',
  'number',
  '-severity',
  'severity',
  '-priority',
  'priority',
] as const;
export type IncidentSort = (typeof INCIDENT_SORTS)[number];
export const DEFAULT_INCIDENT_SORT: IncidentSort = '-opened';

/** A time-valued order: the store reads the key from a column/field and compares (key, seq) pairs. */
export type ScalarSortKey = 'opened' | 'lastSeen' | 'number';
/** A class-valued order: a few fixed values, each read through its own (value, seq) index in turn. */
export type BucketSortKey = 'severity' | 'priority';

export interface SortOrder {
  sort: IncidentSort;
  key: ScalarSortKey | BucketSortKey;
  descending: boolean;
}

export function sortOrder(sort: IncidentSort): SortOrder {
  const descending = sort.startsWith('-');
  return { sort, key: (descending ? sort.slice(1) : sort) as SortOrder['key'], descending };
}

/** The bucket values of a class-valued key, in ascending order. */
export function bucketValues(key: BucketSortKey): readonly string[] {
  return key === 'severity' ? SEVERITIES : PRIORITIES;
}

/** Where the previous page ended: the sort it was read in, the last item's key and its sequence. */
export interface IncidentCursor {
  sort: IncidentSort;
  /** Epoch ms for opened/lastSeen, the sequence for number, the bucket's index for severity/priority. */
  value: number;
  seq: number;
}

/** The sort key value of an incident, as a cursor holds it. */
export function sortValue(order: SortOrder, item: Pick<Incident, 'seq' | 'firstSeen' | 'lastSeen' | 'severity' | 'priority'>): number {
  switch (order.key) {
    case 'opened':
      return item.firstSeen;
    case 'lastSeen':
      return item.lastSeen;
    case 'number':
      return item.seq;
    case 'severity':
      return SEVERITIES.indexOf(item.severity);
    case 'priority':
      return PRIORITIES.indexOf(item.priority);
  }
}

export function encodeIncidentCursor(c: IncidentCursor): string {
  return Buffer.from(`inc:${c.sort}:${c.value}:${c.seq}`, 'utf8').toString('base64url');
}

/**
 * Decodes a cursor handed out by `list` for the order `sort`. A cursor of another order would land
 * at a meaningless place in this one, so it is refused (400) rather than silently misread.
 */
export function decodeIncidentCursor(cursor: string, sort: IncidentSort): IncidentCursor {
  const m = /^inc:(-?[a-zA-Z]{1,20}):(-?\d{1,15}):(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m || !(INCIDENT_SORTS as readonly string[]).includes(m[1]!)) throw new InvalidCursorError(cursor);
  if (m[1] !== sort) {
    throw new InvalidCursorError(cursor, `was returned for sort=${m[1]}, not sort=${sort}`);
  }
  const c: IncidentCursor = { sort, value: Number(m[2]), seq: Number(m[3]) };
  const order = sortOrder(sort);
  if ((order.key === 'severity' || order.key === 'priority') && (c.value < 0 || c.value >= bucketValues(order.key).length)) {
    throw new InvalidCursorError(cursor);
  }
  return c;
}

/** One bucket of a class-valued order still to read: its value, and the sequence to continue after. */
export interface Bucket {
  value: string;
  /** Read only sequences beyond this one (in the order's direction); null: the whole bucket. */
  afterSeq: number | null;
}

/**
 * The buckets a class-valued order still has to read, in page order, from the cursor on. `only`
 * (the list's own filter on the same field) leaves out buckets that cannot match.
 */
export function bucketsFrom(order: SortOrder & { key: BucketSortKey }, cursor: IncidentCursor | null, only?: readonly string[]): Bucket[] {
  const values = bucketValues(order.key);
  const indexes = values.map((_, i) => i);
  if (order.descending) indexes.reverse();
  const out: Bucket[] = [];
  for (const i of indexes) {
    if (cursor !== null && (order.descending ? i > cursor.value : i < cursor.value)) continue;
    const value = values[i]!;
    if (only !== undefined && only.length > 0 && !only.includes(value)) continue;
    out.push({ value, afterSeq: cursor !== null && i === cursor.value ? cursor.seq : null });
  }
  return out;
}

/**
 * Reads up to `size + 1` rows bucket after bucket (each read uses its own `(value, seq)` index and
 * asks only for what is still missing), so a page costs a few index range reads however many
 * incidents each bucket holds.
 */
export async function readBuckets<T>(
  buckets: readonly Bucket[],
  size: number,
  read: (bucket: Bucket, limit: number) => Promise<T[]>,
): Promise<T[]> {
  const rows: T[] = [];
  for (const bucket of buckets) {
    if (rows.length > size) break;
    rows.push(...(await read(bucket, size + 1 - rows.length)));
  }
  return rows;
}

/** readBuckets for a store whose reads are synchronous (SQLite, inside one read transaction). */
export function readBucketsSync<T>(buckets: readonly Bucket[], size: number, read: (bucket: Bucket, limit: number) => T[]): T[] {
  const rows: T[] = [];
  for (const bucket of buckets) {
    if (rows.length > size) break;
    rows.push(...read(bucket, size + 1 - rows.length));
  }
  return rows;
}

/** The page of incidents read in `order`, with a cursor for the next one. */
export function incidentPage(rows: readonly Incident[], size: number, order: SortOrder): Page<Incident> {
  return pageFrom(rows, size, (last) => encodeIncidentCursor({ sort: order.sort, value: sortValue(order, last), seq: last.seq }));
}

/**
 * `%`, `_` and the escape character itself, escaped for `LIKE … ESCAPE '\'`, so a search for
 * `50%` finds the text "50%" and not everything that starts with 50.
 */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Every regular-expression metacharacter escaped, so the search text matches literally. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The audit log is listed newest first, ties by id descending. */
export function encodeAuditCursor(at: number, id: string): string {
  return Buffer.from(`audit:${at}:${id}`, 'utf8').toString('base64url');
}

export function decodeAuditCursor(cursor: string): { at: number; id: string } {
  const m = /^audit:(\d{1,15}):(.+)$/s.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw new InvalidCursorError(cursor);
  return { at: Number(m[1]), id: m[2]! };
}
