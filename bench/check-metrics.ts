// What per-check metrics cost a scrape: 10,000 checks (2 series each: incidentd_check_up and
// incidentd_check_duration_seconds, rendered from the check-status table at scrape time), fed
// through the table as probe runs feed it, then /metrics rendered several times. Prints series,
// size and time.
//   npm run bench:check-metrics               (10,000 checks)
//   npm run bench:check-metrics -- 50000      (another count)
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createMetrics } from '../src/api/metrics.js';
import { CheckStatusTable } from '../src/scheduler/check-status.js';
import { SystemClock } from '../src/shared/clock.js';

const checks = Number(process.argv[2] ?? 10_000);
const SCRAPES = 10;

async function main(): Promise<void> {
  const table = new CheckStatusTable({ clock: new SystemClock() });
  const metrics = createMetrics({
    countActive: async () => ({ minor: 0, medium: 0, severe: 0, major: 0 }),
    checkCounts: () => table.counts(),
    eachCheck: (visit) => table.each(visit),
  });
  const kinds = ['icmp', 'tcp', 'http', 'snmp'];
  const refs = Array.from({ length: checks }, (_, i) => ({
    targetId: `site-${Math.floor(i / 100)}-ap-${i % 100}`,
    targetName: `AP ${i}`,
    checkName: kinds[i % kinds.length]!,
    kind: kinds[i % kinds.length]!,
  }));
  const t0 = performance.now();
  table.setChecks(refs);
  const setMs = performance.now() - t0;

  const t1 = performance.now();
  for (const [i, r] of refs.entries()) {
    table.record(r.targetId, r.checkName, {
      status: i % 10 === 0 ? 'fail' : 'ok',
      message: i % 10 === 0 ? 'no reply' : 'ok',
      latencyMs: 1 + (i % 500) / 7,
      values: {},
    });
  }
  const perRunUs = ((performance.now() - t1) * 1000) / checks;

  const base = createMetrics({ countActive: async () => ({ minor: 0, medium: 0, severe: 0, major: 0 }) });
  const baseText = await base.render();

  const times: number[] = [];
  let text = '';
  for (let i = 0; i < SCRAPES; i++) {
    const s = performance.now();
    text = await metrics.render();
    times.push(performance.now() - s);
  }
  times.sort((a, b) => a - b);
  const series = text.split('\n').filter((l) => l.startsWith('incidentd_check_up{') || l.startsWith('incidentd_check_duration_seconds{')).length;
  const median = times[Math.floor(times.length / 2)]!;
  const baseTimes: number[] = [];
  for (let i = 0; i < SCRAPES; i++) {
    const s = performance.now();
    await base.render();
    baseTimes.push(performance.now() - s);
  }
  baseTimes.sort((a, b) => a - b);

  console.log(`checks: ${checks}, per-check series: ${series} (${(series / checks).toFixed(0)} per check)`);
  console.log(`/metrics body: ${(text.length / 1024).toFixed(0)} KiB (without checks: ${(baseText.length / 1024).toFixed(0)} KiB)`);
  console.log(
    `/metrics render: median ${median.toFixed(1)} ms, max ${times[times.length - 1]!.toFixed(1)} ms over ${SCRAPES} scrapes` +
      ` (without checks: median ${baseTimes[Math.floor(baseTimes.length / 2)]!.toFixed(1)} ms)`,
  );
  console.log(`load average at the end: ${loadavg()[0]!.toFixed(1)} (figures grow with it)`);
  console.log(`table: setChecks ${setMs.toFixed(1)} ms for ${checks} checks; record() ${perRunUs.toFixed(1)} µs per run`);
}

await main();
