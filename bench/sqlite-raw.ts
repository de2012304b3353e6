// The ceiling for the store: how many plain batched upserts of a small row this machine's SQLite
// commits per second, with the store's own pragmas. The pipeline benchmark prints it beside the
// store's rate, so a slow store can be told apart from a slow disk.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { applyPragmas } from '../src/store/sqlite/pragmas.js';

const BATCH = 1000;
/** Upserts cycle over this many keys, like repeats of the incidents of 1,000 fingerprints. */
const KEYS = 1000;

/**
 * Commits `n` upserts (`INSERT … ON CONFLICT DO UPDATE`) in transactions of 1,000 into a fresh
 * database file in `dir`, which is deleted afterwards. Returns the rate in upserts per second.
 */
export async function measureRawUpserts(dir: string, n: number): Promise<{ perSecond: number }> {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'sqlite-raw-bench.db');
  const remove = () => {
    for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
  };
  remove();
  const db = new Database(file);
  try {
    applyPragmas(db, 100);
    db.exec(
      'CREATE TABLE counts (key TEXT PRIMARY KEY, n INTEGER NOT NULL, last_seen INTEGER NOT NULL, message TEXT NOT NULL) STRICT',
    );
    const upsert = db.prepare(
      `INSERT INTO counts (key, n, last_seen, message) VALUES (?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET n = n + excluded.n, last_seen = excluded.last_seen, message = excluded.message`,
    );
    const keys = Array.from({ length: KEYS }, (_, i) => `fingerprint-${String(i).padStart(6, '0')}`);
    const batch = db.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) upsert.run(keys[i % KEYS], 1, i, 'request timed out');
    });
    // Wall-clock measurement is the point of a benchmark; nothing here is domain time.
    const start = performance.now();
    for (let from = 0; from < n; from += BATCH) batch(from, Math.min(n, from + BATCH));
    const seconds = (performance.now() - start) / 1000;
    return { perSecond: n > 0 && seconds > 0 ? Math.round(n / seconds) : 0 };
  } finally {
    db.close();
    remove();
  }
}

// `npx tsx bench/sqlite-raw.ts [dir] [n]` prints the rate on its own.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dir = process.argv[2] ?? join(process.cwd(), 'data', 'bench');
  const n = Number(process.argv[3] ?? 200_000);
  const { perSecond } = await measureRawUpserts(dir, n);
  console.log(`raw SQLite upserts: ${perSecond.toLocaleString('en-US')}/s (${n} in batches of ${BATCH}, synchronous=FULL, WAL)`);
}
