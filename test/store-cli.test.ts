// `incidentd store vacuum` as an admin runs it (a real process on a temp SQLite config): a file of
// 4 KiB pages from before gets 16 KiB ones and keeps every incident; a daemon holding the file, a
// MongoDB configuration and a missing file each get one line saying what to do, and change nothing.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../src/store/sqlite/store.js';
import type { OpResult } from '../src/store/types.js';
import { compileCli } from './cli-build.js';
import { fail } from './store/ops.js';

const SPAWN_TIMEOUT = 60_000;
const T0 = Date.UTC(2026, 11, 7, 9, 0, 0);
let CLI = '';
let built = '';
let dir = '';

function incidentd(args: string[], config: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, 'store', ...args, '--config', config],
      { cwd: dir, env: { PATH: process.env.PATH ?? '', ...env } },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** A daemon configuration naming the SQLite file `db`. */
function configFor(name: string, db: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, `store: { type: sqlite, path: ${db} }\n`);
  return file;
}

function pragma(db: string, name: string): unknown {
  const d = new Database(db, { readonly: true });
  try {
    return d.pragma(name, { simple: true });
  } finally {
    d.close();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'incidentd-store-cli-'));
  mkdirSync(join(dir, 'data'));
  ({ cli: CLI, dir: built } = await compileCli('store-cli'));
}, SPAWN_TIMEOUT);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (built) rmSync(built, { recursive: true, force: true });
});

describe('incidentd store vacuum', () => {
  it(
    'gives a file of 4 KiB pages from before 16 KiB pages and keeps every incident; refuses while a daemon holds the file',
    async () => {
      const db = join(dir, 'data', 'old.db');
      // A file made before new files got 16 KiB pages: 4 KiB, in WAL mode, which cannot change them.
      const before = new Database(db);
      before.pragma('page_size = 4096');
      before.pragma('journal_mode = WAL');
      before.close();
      const s1 = new SqliteStore({ path: db, exclusive: true });
      await s1.open();
      const results = await s1.commit(Array.from({ length: 200 }, (_, i) => fail(`fp-${i}`, T0 + i)));
      const numbers = results.map((r) => (r as Extract<OpResult, { kind: 'fail' }>).number);
      const config = configFor('old', db);

      // The daemon (here: a store opened as the daemon opens it) holds the file.
      const busy = await incidentd(['vacuum'], config);
      expect(busy.code).toBe(1);
      expect(busy.stderr).toBe(
        `incidentd: a running incidentd (pid ${process.pid}) holds the SQLite database ${db}; stop it, run \`incidentd store vacuum\`, and start it again\n`,
      );
      await s1.close();
      expect(pragma(db, 'page_size')).toBe(4096);

      const done = await incidentd(['vacuum'], config);
      expect(done.code, done.stderr).toBe(0);
      expect(done.stdout).toMatch(new RegExp(`^vacuumed ${db}: pages 4 KiB → 16 KiB, [0-9.]+ MB → [0-9.]+ MB \\(with its -wal file\\) in [0-9.]+ s\\n$`));
      expect(pragma(db, 'page_size')).toBe(16_384);
      expect(pragma(db, 'journal_mode')).toBe('wal');

      const s2 = new SqliteStore({ path: db, exclusive: true });
      await s2.open();
      try {
        for (const n of numbers) expect((await s2.get(n))?.fingerprint).toBe(`fp-${numbers.indexOf(n)}`);
        // And it goes on working: a repeat of the first fingerprint repeats its incident.
        const [again] = await s2.commit([fail('fp-0', T0 + 1000)]);
        expect(again).toMatchObject({ kind: 'fail', outcome: 'repeated', number: numbers[0] });
      } finally {
        await s2.close();
      }

      // A second run finds nothing to convert and says so.
      const twice = await incidentd(['vacuum'], config);
      expect(twice.stdout).toMatch(/: 16 KiB pages, /);
    },
    SPAWN_TIMEOUT,
  );

  it('says what to do for a missing file and for MongoDB, and creates nothing', async () => {
    const missing = join(dir, 'data', 'none.db');
    const r1 = await incidentd(['vacuum'], configFor('missing', missing));
    expect(r1).toMatchObject({ code: 1, stderr: `incidentd: ${missing}: no such SQLite database; check store.path in the daemon configuration\n` });

    const r2 = await incidentd(['vacuum'], configFor('mongo', missing), { MONGODB_URI: 'mongodb://mongo.invalid:27017' });
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain('the configured store is MongoDB');

    const r3 = await incidentd(['vacuum'], join(dir, 'nope.yaml'));
    expect(r3.code).toBe(1);
    expect(r3.stderr).toContain('nope.yaml: no such file');
    expect(existsSync(missing)).toBe(false);
  });
});
