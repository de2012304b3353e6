// What a page of the incident list costs on a large SQLite table: 100,000 incidents (a tenth of
// them active, every severity and priority, opening times spread over a year), then the first and
// the 20th page of 50 in every order, a few filters, and a text search. Prints the median time of
// each and the query plan of every order (an index, never a temporary B-tree). One incident in five
// belongs to tenant `acme`: a user scoped to it pages through the same orders. Then the route
// itself: the real daemon (createApp) on that file, GET /api/v1/incidents over a loopback socket
// (first page, as the portal asks it), p50/p99 of many sequential requests, for an all-tenants token
// and one scoped to acme. The target: first page < 50 ms p99. Last, the same incidents over
// 250 and 500 tenants (an MSP): lists of all tenants, which merge every tenant's range.
//   npm run bench:list               (100,000 incidents)
//   npm run bench:list -- 20000      (another count)
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SEVERITIES } from '../src/domain/classification.js';
import { INCIDENT_SORTS, PRIORITIES, type IncidentSort } from '../src/domain/paging.js';
import { SqliteStore } from '../src/store/sqlite/index.js';
import { createApp } from '../src/app/app.js';
import { SystemClock } from '../src/shared/clock.js';
import { silentLogger } from '../src/shared/logger.js';
import type { IncidentFilter, StoreOp } from '../src/store/types.js';

const COUNT = Number(process.argv[2] ?? 100_000);
const T0 = Date.UTC(2025, 0, 1);
const YEAR = 365 * 86_400_000;
const RUNS = 7;
/** Tenants of the MSP case (and twice as many). */
const MSP_TENANTS = 250;
const ROUTE_WARMUP = 50;
const ROUTE_REQUESTS = 500;
const ALL_TOKEN = 'bench-list-all-4e1c9a7b2d';
const ACME_TOKEN = 'bench-list-acme-8f3b6d0c1e';

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

/** The HTTP route's first page on the real daemon over the SQLite file the store benchmarks used. */
async function routeFirstPage(dir: string, dbPath: string): Promise<void> {
  await mkdir(join(dir, 'probes'));
  await mkdir(join(dir, 'rules'));
  await writeFile(
    join(dir, 'incidentd.yaml'),
    `listen: { host: 127.0.0.1, port: 9740 }
store: { type: sqlite, path: ${dbPath} }
api:
  tokens:
    - { name: all, token: "${ALL_TOKEN}", role: read }
    - { name: acme, token: "${ACME_TOKEN}", role: read, tenants: [acme] }
tenants:
  - { id: acme, name: ACME }
`,
  );
  const app = await createApp({
    paths: { config: join(dir, 'incidentd.yaml'), probesDir: join(dir, 'probes'), rulesDir: join(dir, 'rules') },
    clock: new SystemClock(),
    logger: silentLogger(),
    env: { PATH: process.env.PATH ?? '' },
    watch: false,
    port: 0,
  });
  try {
    for (const [label, token, query] of [
      ['all tenants, default order', ALL_TOKEN, 'limit=25'],
      ['all tenants, status=open,acknowledged', ALL_TOKEN, 'limit=25&status=open,acknowledged'],
      ['scoped to acme, default order', ACME_TOKEN, 'limit=25'],
    ] as const) {
      const ms: number[] = [];
      let items = 0;
      for (let i = 0; i < ROUTE_WARMUP + ROUTE_REQUESTS; i++) {
        const start = performance.now();
        const res = await fetch(`${app.url}/api/v1/incidents?${query}`, { headers: { authorization: `Bearer ${token}` } });
        const body = (await res.json()) as { items: unknown[] };
        const took = performance.now() - start;
        if (res.status !== 200) throw new Error(`GET /api/v1/incidents answered ${res.status}`);
        items = body.items.length;
        if (i >= ROUTE_WARMUP) ms.push(took);
      }
      console.log(
        `HTTP first page (${items} items), ${label.padEnd(38)} p50 ${percentile(ms, 50).toFixed(2).padStart(7)} ms   p99 ${percentile(ms, 99).toFixed(2).padStart(7)} ms   (${ROUTE_REQUESTS} requests)`,
      );
    }
  } finally {
    await app.stop();
  }
}

/** Prints the median ms per page of RUNS runs of `pages` pages. */
async function timeOn(store: SqliteStore, label: string, filter: IncidentFilter, sort: IncidentSort, pages = 1): Promise<void> {
  const ms: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    let cursor: string | null = null;
    const start = performance.now();
    for (let p = 0; p < pages; p++) cursor = (await store.list(filter, 50, cursor, sort)).next;
    ms.push((performance.now() - start) / pages);
  }
  console.log(`${label.padEnd(44)} ${median(ms).toFixed(2).padStart(8)} ms/page`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** COUNT incidents into the store, their tenant by `tenantOf`; nine in ten resolved again. */
async function seed(store: SqliteStore, tenantOf: (i: number) => string): Promise<void> {
  const t0 = performance.now();
  for (let base = 0; base < COUNT; base += 2000) {
    const ops: StoreOp[] = [];
    for (let i = base; i < Math.min(COUNT, base + 2000); i++) {
      ops.push({
        kind: 'fail',
        // Opening times not in number order, so `opened` and `number` differ.
        at: T0 + ((i * 7919) % COUNT) * Math.floor(YEAR / COUNT),
        count: 1,
        reopenWindowMs: 0,
        draft: {
          fingerprint: `fp-${i}`,
          tenant: tenantOf(i),
          classification: { category: 'network', severity: SEVERITIES[i % 4]!, impact: 'site', tier: 'L1', priority: PRIORITIES[i % 5]! },
          title: i % 1000 === 0 ? `Toner ${i} low on printer-${i}` : `host-${i} is down`,
          description: `Ping to host-${i} times out`,
          runbook: '',
          ruleId: 'r',
          source: 'probe',
          target: { id: `host-${i}`, kind: 'server', name: `host ${i}`, site: `site-${i % 20}`, labels: {} },
          check: { name: 'ping', type: 'icmp' },
          labels: {},
          message: 'timeout',
        },
      });
    }
    // Nine in ten are resolved again, as on a long-running installation.
    for (let i = base; i < Math.min(COUNT, base + 2000); i++) {
      if (i % 10 !== 0) ops.push({ kind: 'resolve', at: T0 + YEAR, fingerprint: `fp-${i}`, actor: 'system', message: 'ok' });
    }
    await store.commit(ops, { durable: false });
  }
  console.log(`seeded ${COUNT} incidents in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'incidentd-bench-list-'));
  const store = new SqliteStore({ path: join(dir, 'list.db') });
  await store.open();
  try {
    await seed(store, (i) => (i % 5 === 0 ? 'acme' : 'default'));

    const time = (label: string, filter: IncidentFilter, sort: IncidentSort, pages = 1) => timeOn(store, label, filter, sort, pages);

    for (const sort of INCIDENT_SORTS) {
      await time(`sort=${sort}, first page`, {}, sort);
      await time(`sort=${sort}, pages 1-20`, {}, sort, 20);
    }
    await time('status=open, sort=-opened', { status: ['open'] }, '-opened');
    await time('priority=P1, sort=-opened', { priority: ['P1'] }, '-opened');
    await time('opened in one week, sort=-opened', { openedAfter: T0 + YEAR / 2, openedBefore: T0 + YEAR / 2 + 7 * 86_400_000 }, '-opened');
    await time('q=toner (100 matches), sort=-opened', { text: 'toner' }, '-opened');
    await time('q=nothing-matches (full scan), sort=-opened', { text: 'nothing-matches' }, '-opened');
    await time('status=open, sort=-severity', { status: ['open'] }, '-severity');
    for (const sort of INCIDENT_SORTS) await time(`tenant=acme (1 in 5), sort=${sort}, first page`, { tenant: ['acme'] }, sort);
    await time('tenant=acme, status=open, sort=-opened', { tenant: ['acme'], status: ['open'] }, '-opened');

    console.log('\nquery plans (first page):');
    for (const sort of INCIDENT_SORTS) console.log(`  ${sort.padEnd(10)} ${store.explainList({}, 50, null, sort).join(' | ')}`);
    console.log(`  q=toner    ${store.explainList({ text: 'toner' }, 50, null, '-opened').join(' | ')}`);
    for (const sort of INCIDENT_SORTS) console.log(`  acme ${sort.padEnd(10)} ${store.explainList({ tenant: ['acme'] }, 50, null, sort).join(' | ')}`);
    await store.close();
    console.log('\nthe route, over a loopback socket:');
    await routeFirstPage(dir, join(dir, 'list.db'));

    // An MSP: the same incidents spread over many customers. A list of all tenants reads each
    // tenant's index range and merges them, so its cost grows with the number of tenants.
    for (const tenants of [MSP_TENANTS, 2 * MSP_TENANTS]) {
      console.log(`\n${tenants} tenants (an MSP), lists of all tenants:`);
      const msp = new SqliteStore({ path: join(dir, `msp-${tenants}.db`) });
      await msp.open();
      try {
        await seed(msp, (i) => `customer-${i % tenants}`);
        await timeOn(msp, 'sort=-opened, first page', {}, '-opened');
        await timeOn(msp, 'sort=-opened, pages 1-20', {}, '-opened', 20);
        await timeOn(msp, 'sort=-number, first page', {}, '-number');
        await timeOn(msp, 'sort=-severity, first page', {}, '-severity');
        await timeOn(msp, 'status=open, sort=-opened', { status: ['open'] }, '-opened');
        await timeOn(msp, 'tenant=customer-7, sort=-opened', { tenant: ['customer-7'] }, '-opened');
      } finally {
        await msp.close();
      }
    }
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
