// `incidentd store vacuum`: rewrites a stopped daemon's SQLite file. A file made before new files got
// 16 KiB pages keeps its 4 KiB ones for good in WAL mode; a rewrite in rollback mode can change
// them. The rewrite also hands free pages (left by deleted deliveries, sessions, expired silences)
// back to the file system.
import { existsSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { InstanceLockedError, StoreUnavailableError } from '../../shared/errors.js';
import { pidLocking } from '../../shared/lock-file.js';
import { isBusy } from './errors.js';
import { PAGE_SIZE } from './pragmas.js';

export interface VacuumResult {
  pageSizeBefore: number;
  pageSizeAfter: number;
  /** The database file and its -wal file together, in bytes. */
  bytesBefore: number;
  bytesAfter: number;
}

/** How long another holder of the file is waited for before the daemon is named. */
const LOCK_WAIT_MS = 1000;

function bytesOf(path: string): number {
  let n = 0;
  for (const f of [path, `${path}-wal`]) if (existsSync(f)) n += statSync(f).size;
  return n;
}

/**
 * Rewrites the SQLite database at `path` with PAGE_SIZE pages, in one transaction (a crash during
 * it leaves the file as it was). Needs the file to itself: a running daemon holds it, and is named.
 * SQLite builds the rewrite in a temporary file ($SQLITE_TMPDIR, else $TMPDIR, else /var/tmp or
 * /tmp; not in memory, where a large database would need its size in RAM), so it needs about the
 * database's size free there and again beside the database.
 */
export function vacuumSqliteFile(path: string): VacuumResult {
  if (!existsSync(path)) {
    throw new StoreUnavailableError(`${path}: no such SQLite database; check store.path in the daemon configuration`);
  }
  const bytesBefore = bytesOf(path);
  const db = new Database(path, { fileMustExist: true });
  let pageSizeBefore: number;
  let pageSizeAfter: number;
  try {
    db.pragma(`busy_timeout = ${LOCK_WAIT_MS}`);
    // Taken before the first read and kept until close, as the daemon itself does.
    db.pragma('locking_mode = EXCLUSIVE');
    try {
      db.exec('BEGIN EXCLUSIVE; COMMIT');
    } catch (err) {
      if (!isBusy(err)) throw err;
      const pid = pidLocking(path);
      throw new InstanceLockedError(
        `a running incidentd (${pid === null ? 'pid unknown' : `pid ${pid}`}) holds the SQLite database ${path}; ` +
          'stop it, run `incidentd store vacuum`, and start it again',
        { cause: err },
      );
    }
    pageSizeBefore = db.pragma('page_size', { simple: true }) as number;
    db.pragma('temp_store = FILE');
    // Rollback mode checkpoints the WAL into the file and removes it; only there can the page size change.
    db.pragma('journal_mode = DELETE');
    db.pragma(`page_size = ${PAGE_SIZE}`);
    db.exec('VACUUM');
    db.pragma('journal_mode = WAL');
    pageSizeAfter = db.pragma('page_size', { simple: true }) as number;
  } finally {
    db.close();
  }
  return { pageSizeBefore, pageSizeAfter, bytesBefore, bytesAfter: bytesOf(path) };
}
