import type { Database } from 'better-sqlite3';

/** Page size of a new database file, in bytes. */
export const PAGE_SIZE = 16_384;

/**
 * Connection settings shared by the store and bench/sqlite-raw.ts, so the benchmark measures what
 * the store really runs with.
 */
export function applyPragmas(db: Database, busyTimeoutMs: number): void {
  // How long SQLite itself waits for another connection's write lock before SQLITE_BUSY. Kept short
  // because it blocks the event loop; longer waits happen as async retries in the store.
  db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
  // 16 KiB pages for a new file (set before WAL; an existing file keeps its size, as WAL cannot
  // change it). A new incident inserts at random places in two indexes (fingerprint, target), so
  // each commit of a burst rewrites hundreds of index pages; bigger pages make that 4x fewer WAL
  // frames, each two write calls: 15 % less CPU per new incident in bench:ingest, and lists read
  // as fast or faster (bench:list).
  db.pragma(`page_size = ${PAGE_SIZE}`);
  // WAL lets readers (the API) run while the pipeline writes, and makes group commit cheap.
  db.pragma('journal_mode = WAL');
  // FULL: a committed transaction survives power loss. Callers batch ops so one fsync covers many.
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  // 8 MiB page cache. Misses are served from the OS page cache, so a bigger one measured no faster
  // at 100k incidents and only costs resident memory.
  db.pragma('cache_size = -8000');
  db.pragma('temp_store = MEMORY');
}
