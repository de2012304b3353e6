// A lock file that says which process holds a folder: created atomically (link), holding the pid, the
// process's start time (Linux) and the host. Node has no flock, so a process killed with -9 leaves
// the file behind; the next one checks whether its holder still runs and takes it over if not.
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Logger } from './logger.js';

export interface LockHolder {
  pid: number;
  /** Start time of the process in clock ticks since boot (/proc/PID/stat); null where unknown. */
  start: string | null;
  host: string;
}

export type LockResult = { ok: true; release(): void } | { ok: false; holder: LockHolder | null };

/** Lock files this process holds: its own pid in a lock file is then no leftover. */
const held = new Set<string>();

/** Field 22 of /proc/PID/stat: when the process started. Tells a reused pid from its first owner. */
function startTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses; the fields after it do not.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function readHolder(path: string): LockHolder | null {
  try {
    const h = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockHolder>;
    if (typeof h.pid !== 'number' || !Number.isSafeInteger(h.pid) || h.pid <= 0) return null;
    return { pid: h.pid, start: typeof h.start === 'string' ? h.start : null, host: typeof h.host === 'string' ? h.host : '' };
  } catch {
    return null;
  }
}

/** Whether the holder may still run. A lock from another host cannot be checked: it counts as held. */
function alive(path: string, h: LockHolder): boolean {
  if (h.host !== hostname()) return true;
  // Our own pid: held by this process, or left by an earlier one with the same pid (a container's pid 1).
  if (h.pid === process.pid) return held.has(path);
  try {
    process.kill(h.pid, 0);
  } catch (err) {
    // EPERM: it runs under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // The pid runs; if it started at another time, it was reused by an unrelated process.
  const now = startTime(h.pid);
  return h.start === null || now === null || now === h.start;
}

/**
 * Takes the lock file at `path`, or says who holds it. A file left by a process that no longer
 * runs, or one that cannot be read, is taken over and logged.
 */
export function tryLock(path: string, logger: Logger): LockResult {
  const me: LockHolder = { pid: process.pid, start: startTime(process.pid), host: hostname() };
  // Written whole under a temporary name, then linked into place: link fails if the lock file
  // exists, and a lock file never exists half written.
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, `${JSON.stringify(me)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(tmp, path);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = readHolder(path);
      if ((holder !== null && alive(path, holder)) || attempt === 2) return { ok: false, holder };
      logger.warn({ lock: path, pid: holder?.pid ?? null }, 'taking over a lock file left by a process that no longer runs');
      try {
        unlinkSync(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      // Another process starting at this moment may win the next link; then it holds the lock.
    }
  } finally {
    unlinkSync(tmp);
  }
  held.add(path);
  return {
    ok: true,
    release() {
      if (!held.delete(path)) return;
      try {
        unlinkSync(path);
      } catch (err) {
        logger.warn({ err, lock: path }, 'cannot remove the lock file');
      }
    },
  };
}

/**
 * The pid of another process holding a POSIX lock on `file` (as SQLite takes them), from Linux's
 * /proc/locks; null where that is not known. Only for telling a person who holds it.
 */
export function pidLocking(file: string): number | null {
  try {
    const ino = String(statSync(file).ino);
    for (const line of readFileSync('/proc/locks', 'utf8').split('\n')) {
      // "1: POSIX  ADVISORY  WRITE 7026 fe:00:2147395 1073741826 1073742335"
      const f = line.trim().split(/\s+/);
      const pid = Number(f[4]);
      if (f[1] === 'POSIX' && f[5]?.split(':')[2] === ino && pid !== process.pid) return pid;
    }
  } catch {
    // no /proc (not Linux), or the file went away
  }
  return null;
}
