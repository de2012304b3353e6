// A lock that gives a folder to one process: a small SQLite file held in SQLite's exclusive locking
// mode. The kernel keeps the lock (a POSIX record lock) and drops it when the process ends however
// it ends, kill -9 included, so nothing is left behind to guess about: no stale pid, no reused pid,
// no container whose hostname changed. Node has no flock; SQLite's locking is portable and tested.
import { readFileSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';

export type LockResult =
  | { ok: true; release: () => void }
  /** `pid`: the holder's, where this machine can tell (same host, Linux); null otherwise. */
  | { ok: false; pid: number | null };

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}

/**
 * Takes the lock file at `path` (created if missing) for this process, or says who holds it. The
 * file stays on disk after release: deleting a lock file races with the next process opening it.
 */
export function tryLock(path: string): LockResult {
  // timeout 0: a held lock is an answer now, not something to wait for.
  const db = new Database(path, { timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    // No rollback journal: the file only carries the lock (and who holds it, for people).
    db.pragma('journal_mode = OFF');
    db.exec('BEGIN EXCLUSIVE');
    db.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER NOT NULL, since TEXT NOT NULL)');
    db.exec('DELETE FROM holder');
    db.prepare('INSERT INTO holder (pid, since) VALUES (?, ?)').run(process.pid, new Date().toISOString());
    // In exclusive locking mode the lock outlives the transaction, until the connection closes.
    db.exec('COMMIT');
  } catch (err) {
    db.close();
    if (isBusy(err)) return { ok: false, pid: pidLocking(path) };
    throw err;
  }
  let held = true;
  return {
    ok: true,
    release: () => {
      if (!held) return;
      held = false;
      db.close();
    },
  };
}

/**
 * The pid of the process holding a POSIX lock on `file` (as SQLite takes them), from Linux's
 * /proc/locks: another process's if there is one, else this process's own (a second open within one
 * process); null where that is not known. Only for telling a person who holds it.
 */
export function pidLocking(file: string): number | null {
  let own = false;
  try {
    const ino = String(statSync(file).ino);
    for (const line of readFileSync('/proc/locks', 'utf8').split('\n')) {
      // "1: POSIX  ADVISORY  WRITE 7026 fe:00:2147395 1073741826 1073742335"
      const f = line.trim().split(/\s+/);
      if (f[1] !== 'POSIX' || f[5]?.split(':')[2] !== ino) continue;
      const pid = Number(f[4]);
      if (pid !== process.pid) return pid;
      own = true;
    }
  } catch {
    // no /proc (not Linux), or the file went away
  }
  return own ? process.pid : null;
}
