// What a page of the incident list costs on a large SQLite table: 100,000 incidents (a tenth of
// them active, every severity and priority, opening times spread over a year), then the first and
// the 20th page of 50 in every order, a few filters, and a text search. Prints the median time of
// each and the query plan of every order (an index, never a temporary B-tree). One incident in five
// belongs to tenant `acme`: a user scoped to it pages through the same orders.
//   npm run bench:list               (100,000 incidents)
//   npm run bench:list -- 20000      (another count)
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SEVERITIES } from '../src/domain/classification.js';
import { INCIDENT_SORTS, PRIORITIES, type IncidentSort } from '../src/domain/paging.js';
import { SqliteStore } from '../src/store/sqlite/index.js';
import type { IncidentFilter, StoreOp } from '../src/store/types.js';

const COUNT = Number(process.argv[2] ?? 100_000);
const T0 = Date.UTC(2025, 0, 1);
const YEAR = 365 * 86_400_000;
const RUNS = 7;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'incidentd-bench-list-'));
  const store = new SqliteStore({ path: join(dir, 'list.db') });
  await store.open();
  try {
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
            tenant: i % 5 === 0 ? 'acme' : 'default',
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

    const time = async (label: string, filter: IncidentFilter, sort: IncidentSort, pages = 1) => {
      const ms: number[] = [];
      for (let r = 0; r < RUNS; r++) {
        let cursor: string | null = null;
        const start = performance.now();
        for (let p = 0; p < pages; p++) cursor = (await store.list(filter, 50, cursor, sort)).next;
        ms.push((performance.now() - start) / pages);
      }
      console.log(`${label.padEnd(44)} ${median(ms).toFixed(2).padStart(8)} ms/page`);
    };

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
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
