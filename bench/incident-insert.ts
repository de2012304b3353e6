// What a new incident costs the SQLite store (issue 19, "batch 100, all new"): CPU µs per incident
// of store.commit() with fail ops of new fingerprints (random hex, as the daemon's hashes), 500 per
// commit (the daemon commits a burst of openings about 550 at a time), into a file that already
// holds `--seed` incidents of `--tenants` tenants. `--drop a,b` adds a copy of that file without
// those indexes of the incidents table (repeatable: one copy each), measured in alternation with
// the full one: what those indexes cost. `--page-size N` adds a file of N-byte pages and one of
// PAGE_SIZE (what new files get), each seeded by commits. Prints the load average, since the two
// cores are shared.
//   npm run bench:incident-insert
//   npm run bench:incident-insert -- --rounds 7 --drop incidents_status,incidents_severity
//   npm run bench:incident-insert -- --page-size 4096
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { SEVERITIES } from '../src/domain/classification.js';
import { PRIORITIES } from '../src/domain/paging.js';
import { PAGE_SIZE } from '../src/store/sqlite/pragmas.js';
import { SqliteStore } from '../src/store/sqlite/store.js';
import type { StoreOp } from '../src/store/types.js';

const { values: args } = parseArgs({
  options: {
    seed: { type: 'string', default: '50000' },
    tenants: { type: 'string', default: '5' },
    batch: { type: 'string', default: '500' },
    batches: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '9' },
    drop: { type: 'string', multiple: true, default: [] },
    'page-size': { type: 'string', multiple: true, default: [] },
  },
});
const SEED = Number(args.seed);
const TENANTS = Number(args.tenants);
const BATCH = Number(args.batch);
const BATCHES = Number(args.batches);
const ROUNDS = Number(args.rounds);
const T0 = Date.UTC(2026, 0, 1);

let next = 0;
function failOp(at: number): StoreOp {
  const i = next++;
  return {
    kind: 'fail',
    at,
    count: 1,
    reopenWindowMs: 0,
    draft: {
      fingerprint: randomBytes(16).toString('hex'),
      tenant: `tenant-${i % TENANTS}`,
      classification: { category: 'network', severity: SEVERITIES[i % 4]!, impact: 'site', tier: 'L1', priority: PRIORITIES[i % 5]! },
      title: `host-${i} is down`,
      description: `Ping to host-${i} times out`,
      runbook: '',
      ruleId: 'r',
      source: 'alertmanager',
      target: { id: `host-${i}`, kind: 'server', name: `host ${i}`, site: `site-${i % 20}`, labels: {} },
      check: { name: 'ping', type: 'icmp' },
      labels: { alertname: 'HostDown', instance: `host-${i}` },
      message: 'timeout',
    },
  };
}

const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');

/** Commits BATCHES batches of BATCH new incidents; returns CPU µs per incident. */
async function round(store: SqliteStore, at: { t: number }): Promise<number> {
  let cpu = 0;
  for (let b = 0; b < BATCHES; b++) {
    const ops = Array.from({ length: BATCH }, () => failOp((at.t += 10)));
    const start = process.cpuUsage();
    await store.commit(ops);
    const used = process.cpuUsage(start);
    cpu += used.user + used.system;
  }
  return cpu / (BATCHES * BATCH);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'incidentd-bench-insert-'));
  try {
    // Seeded by commits, as a daemon's file grows: index pages split and stay part-full.
    const seed = async (path: string, pageSize?: number): Promise<SqliteStore> => {
      if (pageSize !== undefined) {
        // Set before WAL on the empty file: the store's own page_size then changes nothing.
        const pre = new Database(path);
        pre.pragma(`page_size = ${pageSize}`);
        pre.pragma('journal_mode = WAL');
        pre.close();
      }
      const store = new SqliteStore({ path });
      await store.open();
      for (let base = 0; base < SEED; base += 2000) {
        const n = Math.min(2000, SEED - base);
        await store.commit(Array.from({ length: n }, (_, k) => failOp(T0 + (base + k) * 60_000)), { durable: false });
      }
      return store;
    };
    const seedPath = join(dir, 'seed.db');
    await (await seed(seedPath)).close();
    const raw = new Database(seedPath);
    const indexes = (raw.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'incidents' AND sql IS NOT NULL ORDER BY name").all() as { name: string }[]).map((r) => r.name);
    raw.pragma('wal_checkpoint(TRUNCATE)');
    raw.close();
    console.log(`${SEED} incidents of ${TENANTS} tenants seeded; ${indexes.length} indexes on incidents; ${BATCHES} commits of ${BATCH} new incidents per round, ${ROUNDS} rounds`);

    const copy = (name: string, drop: string[]) => {
      const path = join(dir, `${name}.db`);
      const db = new Database(seedPath, { readonly: true });
      db.exec(`VACUUM INTO '${path}'`);
      db.close();
      if (drop.length > 0) {
        const w = new Database(path);
        for (const d of drop) w.exec(`DROP INDEX ${d}`);
        w.close();
      }
      return path;
    };
    // Variants alternate round by round, so a neighbour's load falls on each alike.
    const variants: { label: string; store: SqliteStore; at: { t: number }; cpu: number[] }[] = [];
    const sets: string[][] = [[], ...args.drop.map((d) => d.split(',').filter((x) => x !== ''))];
    for (const [i, drop] of sets.entries()) {
      for (const d of drop) if (!indexes.includes(d)) throw new Error(`--drop ${d}: no such index on incidents (${indexes.join(', ')})`);
      const store = new SqliteStore({ path: copy(`v${i}`, drop) });
      await store.open();
      const label = drop.length === 0 ? `all ${indexes.length} indexes (a VACUUMed copy)` : `without ${drop.join(', ')} (${indexes.length - drop.length} indexes)`;
      variants.push({ label, store, at: { t: T0 + 400 * 86_400_000 }, cpu: [] });
    }
    // Page sizes compare files seeded alike by commits: a VACUUMed copy packs every index page
    // full, so that each insert splits one, which hides most of what the page size changes.
    const sizes = args['page-size'].map(Number);
    for (const size of sizes.length > 0 ? [PAGE_SIZE, ...sizes] : []) {
      if (!Number.isInteger(size) || size < 512 || size > 65_536 || (size & (size - 1)) !== 0) throw new Error(`--page-size ${size}: a power of two from 512 to 65536`);
      const store = await seed(join(dir, `p${size}-${variants.length}.db`), size);
      variants.push({ label: `all ${indexes.length} indexes, ${size}-byte pages, seeded by commits`, store, at: { t: T0 + 400 * 86_400_000 }, cpu: [] });
    }
    for (let r = 0; r < ROUNDS; r++) for (const v of variants) v.cpu.push(await round(v.store, v.at));
    for (const v of variants) {
      await v.store.close();
      // The least round is the one a neighbour on the cores disturbed least.
      console.log(`${median(v.cpu).toFixed(1).padStart(6)} µs CPU per new incident, least ${Math.min(...v.cpu).toFixed(1)} (rounds ${v.cpu.map((x) => x.toFixed(1)).join(', ')}): ${v.label}`);
    }
    console.log(`load average ${load()}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
