import type { Database } from 'better-sqlite3';

/**
 * Connection settings shared by the store and bench/sqlite-raw.ts, so the benchmark measures what
 * the store really runs with.
 */
export function applyPragmas(db: Database, busyTimeoutMs: number): void {
  // How long SQLite itself waits for another connection's write lock before SQLITE_BUSY. Kept short
  // because it blocks the event loop; longer waits happen as async retries in the store.
  db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
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
