// Paging rules shared by every store: how large a page may be, and the cursors handed to callers.
// A cursor is opaque to callers; only the store that handed it out decodes it (InvalidCursorError
// for anything else, which the API answers with 400).
import { InvalidCursorError } from '../shared/errors.js';

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
