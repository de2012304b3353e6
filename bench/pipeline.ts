// Signals/s through rules (50 loaded) → incident manager → SQLite, with every commit durable
// (WAL, synchronous=FULL). Run: npm run bench:pipeline [-- --repeats N --distinct N]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { RuleConfig } from '../src/rules/config.js';
import type { Signal } from '../src/domain/signal.js';
import { IncidentManager } from '../src/incidents/manager.js';
import { compileRules } from '../src/rules/compile.js';
import { SystemClock } from '../src/shared/clock.js';
import { silentLogger } from '../src/shared/logger.js';
import { MongoStore } from '../src/store/mongo/store.js';
import { SqliteStore } from '../src/store/sqlite/store.js';
import type { IncidentStore } from '../src/store/types.js';
import { MongoClient } from 'mongodb';
import { measureRawUpserts } from './sqlite-raw.js';

const { values: args } = parseArgs({
  options: {
    repeats: { type: 'string', default: '300000' },
    distinct: { type: 'string', default: '100000' },
    chunk: { type: 'string', default: '1000' },
    window: { type: 'string', default: '8' },
    'max-batch': { type: 'string', default: '5000' },
    store: { type: 'string', default: 'sqlite' },
  },
});
const STORE = args.store;
if (STORE !== 'sqlite' && STORE !== 'mongodb') throw new Error(`--store must be sqlite or mongodb, not ${STORE}`);
const REPEATS = Number(args.repeats);
const DISTINCT = Number(args.distinct);
const CHUNK = Number(args.chunk);
const WINDOW = Number(args.window);
const MAX_BATCH = Number(args['max-batch']);

function rules(): RuleConfig[] {
  const base = {
    description: '',
    runbook: 'Check power and uplink.',
    dedupBy: ['target.id', 'check.name', 'rule.id'],
    openAfter: 1,
    resolveAfter: 1,
    continue: false,
    file: 'bench',
  };
  const out: RuleConfig[] = [];
  // 49 rules that do not match the benchmark's signals, so every signal is evaluated against all 50.
  for (let i = 0; i < 49; i++) {
    out.push({
      ...base,
      id: `r${i}`,
      when: `target.kind == "kind-${i}" && check.type == "http" && values.status >= 500`,
      classify: { category: `cat.${i}`, severity: 'medium', impact: 'single-user', tier: 'L1' },
      title: '{{target.name}} rule {{rule.id}}',
    });
  }
  out.push({
    ...base,
    id: 'server-unreachable',
    when: 'target.kind == "server" && check.type == "icmp" && status == "fail"',
    classify: { category: 'network.reachability', severity: 'severe', impact: 'multiple-users', tier: 'L2' },
    title: '{{target.name}} does not answer ping',
  });
  return out;
}

function signal(i: number, at: number): Signal {
  const id = `srv-${i}`;
  return {
    source: 'probe',
    target: { id, kind: 'server', name: `Server ${i}`, site: 'hq', labels: { team: 'infra' }, dependsOn: [] },
    check: { name: 'icmp', type: 'icmp' },
    status: 'fail',
    message: '100% packet loss',
    values: { rttMs: 0, packetLoss: 100 },
    labels: { team: 'infra' },
    annotations: {},
    at,
  };
}

/**
 * Producers do not wait for each other: up to WINDOW chunks are in flight, so the manager's group
 * commit takes whatever queued while the previous commit was being written.
 */
async function pushAll(manager: IncidentManager, n: number, make: (k: number) => Signal): Promise<number> {
  const started = performance.now();
  const inFlight = new Set<Promise<void>>();
  for (let k = 0; k < n; k += CHUNK) {
    const batch: Signal[] = [];
    for (let j = k; j < Math.min(n, k + CHUNK); j++) batch.push(make(j));
    const p: Promise<void> = manager.submitMany(batch).then(() => void inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= WINDOW) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  return n / ((performance.now() - started) / 1000);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'incidentd-bench-'));
  const clock = new SystemClock();
  const { engine, issues } = compileRules(rules(), {
    category: 'uncategorized',
    severity: 'medium',
    impact: 'single-user',
    tier: 'L1',
  });
  if (issues.length > 0) throw new Error(`bench rules do not compile: ${JSON.stringify(issues)}`);
  const policy = {
    reopenWindowMs: 3_600_000,
    closeAfterMs: null,
    flapping: { windowMs: 600_000, threshold: 6 },
    uncategorized: { category: 'uncategorized', severity: 'medium' as const, impact: 'single-user' as const, tier: 'L1' as const },
    maxSubscribers: 50,
  };
  let store: IncidentStore;
  let mongoDb: string | null = null;
  if (STORE === 'mongodb') {
    const uri = process.env.MONGODB_URI;
    if (!uri) {
      console.log('bench:pipeline --store mongodb SKIPPED: set MONGODB_URI to a MongoDB server (a replica set for transactions)');
      return;
    }
    mongoDb = `incidentd_bench_${process.pid}`;
    store = new MongoStore({ uri, database: mongoDb });
  } else {
    store = new SqliteStore({ path: join(dir, 'pipeline.db') });
  }
  await store.open();
  const manager = await IncidentManager.create({
    store,
    clock,
    logger: silentLogger(),
    current: () => ({ engine, policy, targets: new Map() }),
    maxBatch: MAX_BATCH,
  });

  // (a) repeats: open 1,000 incidents, then hammer them.
  await pushAll(manager, 1000, (j) => signal(j, clock.now()));
  const repeatRate = await pushAll(manager, REPEATS, (j) => signal(j % 1000, clock.now()));

  // (b) distinct: 100,000 new failures, each opening an incident.
  const distinctRate = await pushAll(manager, DISTINCT, (j) => signal(1000 + j, clock.now()));
  const counts = await store.countActive();
  const active = Object.values(counts).reduce((a, b) => a + b, 0);
  (globalThis as { gc?: () => void }).gc?.();
  const mem = process.memoryUsage();
  const rssNow = mem.rss;
  const peakRss = process.resourceUsage().maxRSS * 1024;
  const sample = await store.get('INC-000001');
  await manager.stop();
  await store.close();
  if (mongoDb !== null) await dropDatabase(process.env.MONGODB_URI!, mongoDb);

  // The raw SQLite rate is the machine's yardstick for either store.
  const raw = await measureRawUpserts(dir, 200_000);
  rmSync(dir, { recursive: true, force: true });

  const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`;
  const f = (n: number) => Math.round(n).toLocaleString('en-US');
  console.log(
    `incidentd pipeline benchmark: rules (50 loaded) → manager → ${STORE === 'sqlite' ? 'SQLite (WAL, synchronous=FULL)' : `MongoDB (${store.describe()})`}`,
  );
  console.log(`  (a) repeats on 1,000 active fingerprints  ${f(repeatRate).padStart(10)} signals/s   target ≥ 50,000`);
  console.log(`  (b) ${f(DISTINCT)} distinct failures         ${f(distinctRate).padStart(10)} signals/s   target ≥ 10,000`);
  console.log(`  raw batched SQLite upserts (1,000/txn)    ${f(raw.perSecond).padStart(10)} rows/s`);
  console.log(`  ratio (a) / raw                           ${(repeatRate / raw.perSecond).toFixed(2).padStart(10)}`);
  console.log(`  ratio (b) / raw                           ${(distinctRate / raw.perSecond).toFixed(2).padStart(10)}`);
  console.log(`  active incidents stored                   ${f(active).padStart(10)}`);
  console.log(`  occurrences of INC-000001                 ${f(sample?.occurrences ?? 0).padStart(10)}   expected ${f(1 + REPEATS / 1000)}`);
  console.log(`  RSS now / peak                            ${mb(rssNow)} / ${mb(peakRss)}   target < 250 MB`);
  console.log(`  V8 heap used / total                      ${mb(mem.heapUsed)} / ${mb(mem.heapTotal)}`);
}

async function dropDatabase(uri: string, name: string): Promise<void> {
  const client = new MongoClient(uri);
  try {
    await client.db(name).dropDatabase();
  } finally {
    await client.close();
  }
}

await main();
