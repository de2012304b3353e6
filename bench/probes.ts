// Probe benchmark: CPU per 1,000 checks for tcp, http and icmp, schedule slip, event-loop delay,
// and the highest check rate sustained without falling behind. Uses the real Scheduler, the real
// probe kinds and SystemClock against loopback servers running in a child process.
//
//   npx tsx bench/probes.ts            full run (about 2-3 minutes)
//   npx tsx bench/probes.ts --quick    a scaled-down run (about a minute)
//   --help for every flag.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { httpKind } from '../src/probe-kinds/http.js';
import { icmpKind } from '../src/probe-kinds/icmp.js';
import { runProbe } from '../src/probe-kinds/run.js';
import { tcpKind } from '../src/probe-kinds/tcp.js';
import type { ProbeKind } from '../src/probe-kinds/types.js';
import { Scheduler, type ScheduledCheck } from '../src/scheduler/scheduler.js';
import { SystemClock } from '../src/shared/clock.js';
import { silentLogger } from '../src/shared/logger.js';
import { childCpuSeconds, fmt, ownCpuSeconds, percentile, sleep } from './probes/measure.js';
import { benchSnmp } from './snmp.js';
import { blackboxVersion, driveBlackbox, findBlackbox, startBlackbox, type BlackboxRun } from './probes/blackbox.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    interval: { type: 'string' },
    concurrency: { type: 'string', default: '200' },
    'icmp-concurrency': { type: 'string', default: '64' },
    'icmp-raw': { type: 'string' },
    'skip-max': { type: 'boolean', default: false },
    'no-blackbox': { type: 'boolean', default: false },
    'no-memory': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (args.help) {
  console.log(`usage: npx tsx bench/probes.ts [flags]
  --quick                 shorter phases and fewer steps (about 1 minute instead of 2.5)
  --interval <s>          compressed check interval for the tcp/http phases (default 15, quick 5)
  --concurrency <n>       scheduler concurrency for tcp/http (default 200)
  --icmp-concurrency <n>  concurrency for the icmp phases and the raw ping comparison (default 64, the daemon's default)
  --icmp-raw <n>          ping runs in the icmp-vs-raw comparison (default 400, quick 120)
  --skip-max              skip the search for the highest sustainable rate
  --no-blackbox           do not run blackbox_exporter beside (it runs when prometheus-blackbox-exporter is installed)
  --no-memory             do not measure the daemon's RSS with 1,000 and 15,000 checks (bench:memory, about 4 minutes)`);
  process.exit(0);
}

const QUICK = args.quick;
const INTERVAL_MS = Number(args.interval ?? (QUICK ? 5 : 15)) * 1000;
const CONCURRENCY = Number(args.concurrency);
const ICMP_CONCURRENCY = Number(args['icmp-concurrency']);
const ICMP_RAW_RUNS = Number(args['icmp-raw'] ?? (QUICK ? 120 : 400));

// The targets the project states, per 60 s interval.
const TARGET = { tcp: 10_000, http: 5_000, icmpPerMin: 2_000, cpuShare: 0.25, slipP99Ms: 1000 };

interface Target {
  kind: ProbeKind;
  spec: unknown;
}

interface PhaseResult {
  name: string;
  targets: number;
  intervalMs: number;
  wallS: number;
  runs: number;
  expectedRuns: number;
  ok: number;
  fail: number;
  failSamples: string[];
  skipped: number;
  timedOut: number;
  cpuS: number;
  childCpuS: number;
  slipP50: number;
  slipP99: number;
  eldP99Ms: number;
  behind: boolean;
}

/** Runs `targets` on a fresh Scheduler for `intervals` whole intervals and measures it. */
async function runPhase(
  name: string,
  targets: Target[],
  opts: { intervalMs: number; intervals: number; concurrency: number; timeoutMs?: number },
): Promise<PhaseResult> {
  const slips: number[] = [];
  let ok = 0;
  let fail = 0;
  const failSamples: string[] = [];
  const scheduler = new Scheduler({
    clock: new SystemClock(),
    logger: silentLogger(),
    concurrency: opts.concurrency,
    onRun: (i) => {
      // Count only runs that fell due inside the measured window.
      const due = Date.now() - i.durationMs - i.slipMs;
      if (due >= windowStart && due < windowEnd) slips.push(i.slipMs);
    },
  });
  const timeoutMs = opts.timeoutMs ?? Math.min(5000, opts.intervalMs);
  const checks: ScheduledCheck[] = targets.map((t, i) => ({
    key: `${name}/${i}`,
    intervalMs: opts.intervalMs,
    timeoutMs,
    // As the daemon does (src/app/checks.ts): icmp runs start on a grid and share fping processes.
    alignMs: t.kind.alignMs,
    run: async (ctx) => {
      const r = await runProbe(t.kind, t.spec, ctx, { targetId: `t${i}`, checkName: t.kind.type });
      if (r.status === 'ok') ok++;
      else {
        fail++;
        if (failSamples.length < 3) failSamples.push(r.message);
      }
    },
  }));
  scheduler.setChecks(checks);

  const windowMs = opts.intervalMs * opts.intervals;
  // First runs fall due within one interval of the start, those of aligned kinds (icmp) rounded up
  // to the next grid step: a window that opens one step after the start holds exactly `intervals`
  // runs of every check that keeps up. (Opened at the start, it missed the checks whose first run
  // the rounding pushed past its first interval, and icmp read 1,988 of 2,000 checks a minute.)
  const alignMs = Math.max(0, ...targets.map((t) => t.kind.alignMs ?? 0));
  let windowStart = Infinity;
  let windowEnd = Infinity;
  const eld = monitorEventLoopDelay({ resolution: 10 });
  scheduler.start();
  const opensAt = Date.now() + alignMs;
  // Unaligned kinds: every run from the start counts, as none falls due before it.
  windowStart = alignMs > 0 ? opensAt : -Infinity;
  windowEnd = opensAt + windowMs;
  if (alignMs > 0) await sleep(alignMs);
  const cpu0 = ownCpuSeconds();
  const child0 = childCpuSeconds();
  const t0 = performance.now();
  eld.enable();
  // A little past the window, so runs due at its very end (batched up to 100 ms) still start.
  await sleep(Math.max(0, windowEnd - Date.now()) + 300);
  await scheduler.stop();
  eld.disable();
  const wallS = (performance.now() - t0) / 1000;
  const cpuS = ownCpuSeconds() - cpu0;
  const childCpuS = childCpuSeconds() - child0;
  const stats = scheduler.stats();
  const expectedRuns = targets.length * opts.intervals;
  const runs = slips.length;
  const slipP99 = percentile(slips, 99);
  return {
    name,
    targets: targets.length,
    intervalMs: opts.intervalMs,
    wallS,
    runs,
    expectedRuns,
    ok,
    fail,
    failSamples,
    skipped: stats.skipped,
    timedOut: stats.timedOut,
    cpuS,
    childCpuS,
    slipP50: percentile(slips, 50),
    slipP99,
    eldP99Ms: eld.percentile(99) / 1e6,
    // Behind: runs went missing, some were skipped because the previous one had not finished,
    // or runs started more than the allowed slip late.
    behind: runs < expectedRuns * 0.98 || stats.skipped > 0 || slipP99 > TARGET.slipP99Ms,
  };
}

async function startTargets(): Promise<{ child: ChildProcess; tcp: number[]; http: number[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(HERE, 'probes', 'server.ts')], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout });
    rl.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`target server exited with code ${code}`)));
  });
  const ports = JSON.parse(line) as { tcp: number[]; http: number[] };
  return { child, ...ports };
}

function tcpTargets(n: number, ports: number[]): Target[] {
  return Array.from({ length: n }, (_, i) => ({ kind: tcpKind, spec: tcpKind.schema.parse({ host: '127.0.0.1', port: ports[i % ports.length] }) }));
}

function httpTargets(n: number, ports: number[]): Target[] {
  return Array.from({ length: n }, (_, i) => ({
    kind: httpKind,
    spec: httpKind.schema.parse({ url: `http://127.0.0.1:${ports[i % ports.length]}/t/${i}`, expect: { body: 'ok' } }),
  }));
}

/** n distinct loopback hosts (127.0.0.0/8 all answer on Linux): one host each, as a real inventory has. */
function icmpTargets(n: number): Target[] {
  return Array.from({ length: n }, (_, i) => ({
    kind: icmpKind,
    spec: icmpKind.schema.parse({ host: `127.${1 + Math.floor(i / 65_536)}.${Math.floor(i / 256) % 256}.${1 + (i % 254)}` }),
  }));
}

/** Runs `fn` with PATH holding only a folder with `ping`: the icmp kind then spawns one ping per check. */
async function withPingOnly<T>(fn: () => Promise<T>): Promise<T> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-ping-only-'));
  const ping = execFileSync('sh', ['-c', 'command -v ping'], { env: { PATH: process.env.PATH ?? '' } }).toString().trim();
  symlinkSync(ping, path.join(dir, 'ping'));
  const saved = process.env.PATH;
  process.env.PATH = dir;
  try {
    return await fn();
  } finally {
    process.env.PATH = saved;
    rmSync(dir, { recursive: true, force: true });
  }
}

function hasProgram(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore', env: { PATH: process.env.PATH ?? '' } }).status === 0;
}

/** Spawns `ping -c1 127.0.0.1` `runs` times, `concurrency` at a time; returns spawns per second. */
async function rawPingRate(runs: number, concurrency: number): Promise<{ perS: number }> {
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < runs) {
      next++;
      await new Promise<void>((resolve, reject) => {
        const p = spawn('ping', ['-n', '-c', '1', '-W', '1', '127.0.0.1'], { stdio: 'ignore' });
        p.once('error', reject);
        p.once('close', () => resolve());
      });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const wallS = (performance.now() - t0) / 1000;
  return { perS: runs / wallS };
}

/** The same number of icmp checks through Scheduler + runProbe, all due at once. */
async function kindPingRate(runs: number, concurrency: number): Promise<{ perS: number; ok: number }> {
  let ok = 0;
  let done = 0;
  const scheduler = new Scheduler({ clock: new SystemClock(), logger: silentLogger(), concurrency, jitter: 0 });
  const spec = icmpKind.schema.parse({ host: '127.0.0.1' });
  let finished!: () => void;
  const allDone = new Promise<void>((r) => (finished = r));
  scheduler.setChecks(
    Array.from({ length: runs }, (_, i) => ({
      key: `icmp-burst/${i}`,
      intervalMs: 3_600_000,
      timeoutMs: 5000,
      run: async (ctx) => {
        const r = await runProbe(icmpKind, spec, ctx);
        if (r.status === 'ok') ok++;
        if (++done === runs) finished();
      },
    })),
  );
  const t0 = performance.now();
  scheduler.start();
  const keepAlive = setInterval(() => undefined, 1000);
  await allDone;
  clearInterval(keepAlive);
  const wallS = (performance.now() - t0) / 1000;
  await scheduler.stop();
  return { perS: runs / wallS, ok };
}

function perThousand(cpuS: number, runs: number): number {
  return runs === 0 ? NaN : (cpuS / runs) * 1000;
}

function verdict(ok: boolean): string {
  return ok ? 'PASS' : 'FAIL';
}

function printTable(title: string, rows: string[][]): void {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  console.log(`\n${title}`);
  rows.forEach((r, i) => {
    console.log('  ' + r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '));
    if (i === 0) console.log('  ' + widths.map((w) => '-'.repeat(w)).join('  '));
  });
}

function describePhase(p: PhaseResult): string {
  const fails = p.fail > 0 ? `  FAILED CHECKS ${p.fail}: ${p.failSamples.join(' | ')}` : '';
  return (
    `  ${p.name}: ${p.targets} targets every ${p.intervalMs / 1000} s, ${p.runs}/${p.expectedRuns} runs, ` +
    `cpu ${fmt(p.cpuS)} s over ${fmt(p.wallS, 1)} s, slip p99 ${fmt(p.slipP99, 0)} ms, ` +
    `skipped ${p.skipped}, timed out ${p.timedOut}${p.behind ? '  (fell behind)' : ''}${fails}`
  );
}

async function main(): Promise<void> {
  const scale = INTERVAL_MS / 60_000;
  const tcpN = Math.round(TARGET.tcp * scale);
  const httpN = Math.round(TARGET.http * scale);
  console.log(
    `incidentd probe benchmark — node ${process.version}, ${QUICK ? 'quick' : 'full'} run, concurrency ${CONCURRENCY}, ` +
      `scheduler batch window 100 ms (default)\n` +
      `Compressed: the target load (${TARGET.tcp} tcp + ${TARGET.http} http every 60 s = ${(TARGET.tcp + TARGET.http) / 60} checks/s) ` +
      `is run as ${tcpN} tcp + ${httpN} http every ${INTERVAL_MS / 1000} s, the same checks per second.`,
  );

  const targets = await startTargets();
  const phases: PhaseResult[] = [];
  try {
    const intervals = 2;
    console.log('\nphases:');
    const tcp = await runPhase('tcp', tcpTargets(tcpN, targets.tcp), { intervalMs: INTERVAL_MS, intervals, concurrency: CONCURRENCY });
    console.log(describePhase(tcp));
    const http = await runPhase('http', httpTargets(httpN, targets.http), { intervalMs: INTERVAL_MS, intervals, concurrency: CONCURRENCY });
    console.log(describePhase(http));
    const mixed = await runPhase('tcp+http', [...tcpTargets(tcpN, targets.tcp), ...httpTargets(httpN, targets.http)], {
      intervalMs: INTERVAL_MS,
      intervals,
      concurrency: CONCURRENCY,
    });
    console.log(describePhase(mixed));

    // icmp: 2,000 targets per minute, compressed the same way.
    const icmpInterval = QUICK ? 6000 : 15_000;
    const icmpIntervals = QUICK ? 1 : 2;
    const icmpN = Math.round((TARGET.icmpPerMin * icmpInterval) / 60_000);
    const fping = hasProgram('fping');
    const icmpOpts = { intervalMs: icmpInterval, intervals: icmpIntervals, concurrency: ICMP_CONCURRENCY, timeoutMs: 2000 };
    const icmp = await runPhase(fping ? 'icmp (fping)' : 'icmp (ping, no fping installed)', icmpTargets(icmpN), icmpOpts);
    console.log(describePhase(icmp));
    // The same load with one ping per check, for comparison (what a machine without fping does).
    const icmpPing = fping && hasProgram('ping') ? await withPingOnly(() => runPhase('icmp (ping per check)', icmpTargets(icmpN), icmpOpts)) : null;
    if (icmpPing) console.log(describePhase(icmpPing));
    phases.push(tcp, http, mixed, icmp);

    // blackbox_exporter on the same targets, the same number of probes at the same rate.
    const bbBinary = args['no-blackbox'] ? null : findBlackbox();
    let bbRuns: BlackboxRun[] = [];
    let bbRss = NaN;
    if (bbBinary) {
      const bb = await startBlackbox(bbBinary);
      try {
        const tcpHosts = Array.from({ length: tcpN }, (_, i) => `127.0.0.1:${targets.tcp[i % targets.tcp.length]}`);
        const httpUrls = Array.from({ length: httpN }, (_, i) => `http://127.0.0.1:${targets.http[i % targets.http.length]}/t/${i}`);
        const icmpHosts = icmpTargets(icmpN).map((t) => (t.spec as { host: string }).host);
        bbRuns = [
          await driveBlackbox(bb, 'tcp_connect', tcpHosts, tcp.runs, tcp.wallS),
          await driveBlackbox(bb, 'http_2xx', httpUrls, http.runs, http.wallS),
          await driveBlackbox(bb, 'icmp', icmpHosts, icmp.runs, icmp.wallS),
        ];
        bbRss = bb.rssBytes();
        for (const r of bbRuns) {
          console.log(
            `  blackbox_exporter ${blackboxVersion(bbBinary)} ${r.module}: ${r.probes} probes in ${fmt(r.wallS, 1)} s, ${r.ok} ok, ` +
              `${fmt(r.cpuMsPerProbe, 3)} ms CPU per probe${r.firstFailure ? ` (first failure: ${r.firstFailure})` : ''}`,
          );
        }
      } finally {
        bb.stop();
      }
    } else if (!args['no-blackbox']) {
      console.log('  blackbox_exporter not found on PATH (apt-get install prometheus-blackbox-exporter); incidentd only');
    }

    // Raw spawns before and after the kind, averaged, so warm-up and neighbours weigh on both.
    const rawBefore = await rawPingRate(ICMP_RAW_RUNS, ICMP_CONCURRENCY);
    const viaKind = await kindPingRate(ICMP_RAW_RUNS, ICMP_CONCURRENCY);
    const rawAfter = await rawPingRate(ICMP_RAW_RUNS, ICMP_CONCURRENCY);
    const raw = { perS: (rawBefore.perS + rawAfter.perS) / 2 };
    console.log(
      `  icmp burst: ${ICMP_RAW_RUNS} pings at concurrency ${ICMP_CONCURRENCY}: raw spawn ${fmt(raw.perS, 0)}/s, ` +
        `icmp kind ${fmt(viaKind.perS, 0)}/s (${viaKind.ok} ok)`,
    );

    // Highest sustained rate: tcp:http 2:1, doubling until the scheduler falls behind.
    const steps: Array<{ perS: number; p: PhaseResult }> = [];
    let searchTopped = false;
    if (!args['skip-max']) {
      const stepInterval = 3000;
      let rate = 500;
      const maxRate = QUICK ? 2000 : 16_000;
      let lastOk = 0;
      let firstBad = 0;
      for (; rate <= maxRate; rate *= 2) {
        const n = Math.round((rate * stepInterval) / 1000);
        const tN = Math.round((n * 2) / 3);
        const p = await runPhase(`max@${rate}/s`, [...tcpTargets(tN, targets.tcp), ...httpTargets(n - tN, targets.http)], {
          intervalMs: stepInterval,
          intervals: 2,
          concurrency: CONCURRENCY,
        });
        steps.push({ perS: rate, p });
        console.log(describePhase(p));
        if (p.behind || p.fail > 0) {
          firstBad = rate;
          break;
        }
        lastOk = rate;
        await sleep(1000); // let TIME_WAIT sockets and the target server settle between steps
      }
      searchTopped = firstBad === 0;
      if (firstBad && lastOk) {
        const mid = Math.round((lastOk + firstBad) / 2);
        const n = Math.round((mid * stepInterval) / 1000);
        const tN = Math.round((n * 2) / 3);
        const p = await runPhase(`max@${mid}/s`, [...tcpTargets(tN, targets.tcp), ...httpTargets(n - tN, targets.http)], {
          intervalMs: stepInterval,
          intervals: 2,
          concurrency: CONCURRENCY,
        });
        steps.push({ perS: mid, p });
        console.log(describePhase(p));
      }
    }

    // ---- the report ----
    const cpuShare = mixed.cpuS / mixed.wallS;
    const icmpAchievedPerMin = (icmp.runs / ((icmpInterval * icmpIntervals) / 1000)) * 60;
    const icmpCpuPerK = perThousand(icmp.cpuS, icmp.runs);
    const icmpChildPerK = perThousand(icmp.childCpuS, icmp.runs);
    printTable('CPU per 1,000 checks (this process; the targets run in a child process)', [
      ['kind', 'checks', 'CPU s / 1,000', 'fping/ping children CPU s / 1,000', 'failed'],
      ['tcp', String(tcp.runs), fmt(perThousand(tcp.cpuS, tcp.runs), 3), '-', String(tcp.fail)],
      ['http', String(http.runs), fmt(perThousand(http.cpuS, http.runs), 3), '-', String(http.fail)],
      [fping ? 'icmp (fping)' : 'icmp (ping)', String(icmp.runs), fmt(icmpCpuPerK, 3), fmt(icmpChildPerK, 3), String(icmp.fail)],
      ...(icmpPing
        ? [['icmp (ping per check)', String(icmpPing.runs), fmt(perThousand(icmpPing.cpuS, icmpPing.runs), 3), fmt(perThousand(icmpPing.childCpuS, icmpPing.runs), 3), String(icmpPing.fail)]]
        : []),
    ]);
    console.log(
      `  icmp CPU per probe, this process + its children: ${fmt((icmpCpuPerK + icmpChildPerK), 3)} ms` +
        (icmpPing ? ` (ping per check: ${fmt(perThousand(icmpPing.cpuS + icmpPing.childCpuS, icmpPing.runs), 3)} ms)` : '') +
        '; blackbox_exporter 0.23 measured 2.2 ms on the reference machine (issue 19)',
    );

    if (bbRuns.length > 0) {
      const bbOf = (m: string): BlackboxRun => bbRuns.find((r) => r.module === m)!;
      const row = (kind: string, ours: number, m: string): string[] => {
        const theirs = bbOf(m).cpuMsPerProbe;
        return [kind, fmt(ours, 3), fmt(theirs, 3), `${fmt(theirs / ours, 2)}x`, `${bbOf(m).ok} / ${bbOf(m).probes}`];
      };
      printTable('CPU ms per probe beside blackbox_exporter (same targets, same probes at the same rate; its process CPU only)', [
        ['kind', 'incidentd', 'blackbox_exporter', 'ratio (>= 1 is better)', 'blackbox ok'],
        row('tcp', perThousand(tcp.cpuS, tcp.runs), 'tcp_connect'),
        row('http', perThousand(http.cpuS, http.runs), 'http_2xx'),
        row('icmp', icmpCpuPerK + icmpChildPerK, 'icmp'),
      ]);
      console.log(`  blackbox_exporter RSS after the runs: ${fmt(bbRss / 1e6, 0)} MB`);
    }
    console.log(`  this process's RSS after the phases: ${fmt(process.memoryUsage.rss() / 1e6, 0)} MB (the daemon's: below)`);

    const sustained = steps.filter((s) => !s.p.behind && s.p.fail === 0).map((s) => s.perS);
    const best = sustained.length ? Math.max(...sustained) : NaN;
    const rows: string[][] = [
      ['figure', 'measured', 'target', 'verdict'],
      [
        `tcp+http CPU, share of one core (${tcpN}+${httpN} / ${INTERVAL_MS / 1000} s)`,
        `${fmt(cpuShare * 100, 1)} %`,
        `< ${TARGET.cpuShare * 100} %`,
        verdict(cpuShare < TARGET.cpuShare && mixed.fail === 0),
      ],
      ['tcp+http schedule slip p99', `${fmt(mixed.slipP99, 0)} ms`, `< ${TARGET.slipP99Ms} ms`, verdict(mixed.slipP99 < TARGET.slipP99Ms)],
      ['tcp+http schedule slip p50', `${fmt(mixed.slipP50, 0)} ms`, '-', ''],
      ['tcp+http event-loop delay p99', `${fmt(mixed.eldP99Ms, 1)} ms`, '-', ''],
      ['tcp+http runs done / due', `${mixed.runs} / ${mixed.expectedRuns}`, 'all', verdict(!mixed.behind)],
      [
        `icmp checks per minute (${icmpN} targets / ${icmpInterval / 1000} s)`,
        fmt(icmpAchievedPerMin, 0),
        `>= ${TARGET.icmpPerMin}`,
        verdict(!icmp.behind && icmp.fail === 0 && icmpAchievedPerMin >= TARGET.icmpPerMin),
      ],
      ['icmp schedule slip p99', `${fmt(icmp.slipP99, 0)} ms`, `< ${TARGET.slipP99Ms} ms`, verdict(icmp.slipP99 < TARGET.slipP99Ms)],
      ['icmp event-loop delay p99', `${fmt(icmp.eldP99Ms, 1)} ms`, '-', ''],
      [
        `icmp kind rate as share of raw ping spawns (c=${ICMP_CONCURRENCY})`,
        `${fmt((viaKind.perS / raw.perS) * 100, 0)} % (${fmt(viaKind.perS, 0)} vs ${fmt(raw.perS, 0)}/s)`,
        '-',
        '',
      ],
      [
        'highest sustained tcp+http checks per minute',
        args['skip-max'] ? 'skipped' : Number.isNaN(best) ? 'none sustained' : `${fmt(best * 60, 0)}${searchTopped ? '+' : ''}`,
        `>= ${TARGET.tcp + TARGET.http}`,
        args['skip-max'] ? '' : verdict(best * 60 >= TARGET.tcp + TARGET.http),
      ],
    ];
    printTable('Results against targets', rows);

    // SNMP: polls against a net-snmp agent in its own process, per kind.
    const snmpRows = await benchSnmp({ polls: QUICK ? 500 : 2000 });
    printTable('SNMP polls against a local agent (another process)', [
      ['kind', 'polls', 'ok', 'polls/s', 'CPU s / 1,000'],
      ...snmpRows.map((r) => [r.kind, String(r.polls), String(r.ok), fmt(r.pollsPerSecond, 0), fmt(r.cpuSecondsPer1000, 2)]),
    ]);
    console.log(
      '\nNotes: runs are compressed (same checks/s, shorter interval). "Behind" = a run went missing, was skipped' +
        ' because its previous run had not finished, or slip p99 exceeded 1 s. The machine may be shared; CPU figures' +
        ' include the scheduler, runProbe, spans (no-op tracer) and the kinds. A "+" means the search stopped at its top step.',
    );
    if (!args['no-memory']) await daemonMemory();
  } finally {
    targets.child.stdin?.end();
    targets.child.kill();
  }
}

/**
 * RSS of the daemon as it runs with 1,000 and 15,000 checks: the memory benchmark (the built CLI,
 * `npm run bench:memory`), run from here so one command prints CPU per probe and memory per check.
 */
async function daemonMemory(): Promise<void> {
  const script = path.resolve(HERE, '..', 'dist', 'bench', 'memory.js');
  console.log('\nRSS of the daemon (the built CLI) with 1,000 and 15,000 tcp/http checks (bench:memory):');
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, [script, '--sizes', '1000,15000'], { stdio: 'inherit' });
    child.on('error', () => resolve(null));
    child.on('exit', (c) => resolve(c));
  });
  if (code !== 0) console.log(`  bench:memory did not complete (exit ${code}); build it with npm run build:all and npm run build:bundle`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
