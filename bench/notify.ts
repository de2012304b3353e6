// Notification benchmark (`npm run bench:notify`): how long from the failing signal that crosses a
// rule's open_after to the ticket mail accepted by an SMTP server, and how many deliveries per
// second the outbox sustains to an email and to a webhook channel.
//
// The daemon is the real one, built by its composition root (createApp) from YAML files in a temp
// dir: manager → SQLite file (WAL, synchronous=FULL) → outbox → email channel (nodemailer, pooled
// SMTP) or webhook channel (axios). Signals go in through app.manager, as probes and alert
// endpoints hand them over. The receivers (smtp-server and node:http on 127.0.0.1) run in a child
// process (bench/notify-sink.ts) and time each message there with Date.now(); the signal's
// submission is timed with Date.now() here, so latencies are differences of one wall clock.
//
// Phases, per channel, each on a fresh daemon: warm-up (opens the channel's connections; its first
// incident is the "cold" figure), latency (incidents opened one at a time at --rate), burst
// (--burst incidents in one submitMany, timed to the last message accepted).
//
// Mind when reading the email figures: smtp-server holds its greeting back 100 ms on every new
// connection (early-talker detection), so each SMTP connection the channel opens costs 100 ms more
// here than at a relay that greets at once (a real relay costs TLS and AUTH instead).
//
// Run under tsx: compiled JS (tsc, then node dist/bench/notify.js) measured the same latencies and
// rates within run-to-run noise; its peak RSS is about 25 MB lower (tsx's loader).
//
//   npm run bench:notify -- [--latency 300] [--warmup 20] [--rate 50] [--burst 2000] [--pool 2]
//                           [--open-after 2] [--channels email,webhook]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createApp, type App } from '../src/app/app.js';
import type { Signal } from '../src/domain/signal.js';
import { SystemClock } from '../src/shared/clock.js';
import { silentLogger } from '../src/shared/logger.js';
import type { SinkItem, SinkKind, SinkMessage } from './notify-sink.js';

const { values: args } = parseArgs({
  options: {
    latency: { type: 'string', default: '300' },
    warmup: { type: 'string', default: '20' },
    rate: { type: 'string', default: '50' },
    burst: { type: 'string', default: '2000' },
    pool: { type: 'string', default: '2' },
    'open-after': { type: 'string', default: '2' },
    channels: { type: 'string', default: 'email,webhook' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log(`usage: npm run bench:notify -- [flags]
  --latency <n>     incidents opened one by one for the latency figures (default 300)
  --warmup <n>      incidents opened before the latency phase, not counted (default 20): they
                    open the channel's connections; the first one's latency is shown as "cold"
  --rate <n>        crossing signals per second in the latency and warm-up phases (default 50)
  --burst <n>       incidents opened at once for the deliveries/s figures (default 2000)
  --pool <n>        the email channel's smtp.pool_size (default 2, the config default)
  --open-after <n>  the rule's open_after; n-1 failing signals go in before the timed one (default 2)
  --channels <list> which channel kinds to measure, in order (default email,webhook)`);
  process.exit(0);
}
const LATENCY_N = Number(args.latency);
const WARMUP_N = Number(args.warmup);
const RATE = Number(args.rate);
const BURST_N = Number(args.burst);
const POOL = Number(args.pool);
const OPEN_AFTER = Number(args['open-after']);
for (const [name, v] of Object.entries({ latency: LATENCY_N, warmup: WARMUP_N, rate: RATE, burst: BURST_N, pool: POOL, 'open-after': OPEN_AFTER })) {
  if (!Number.isInteger(v) || v < (name === 'warmup' ? 0 : 1)) throw new Error(`--${name} must be a whole number${name === 'warmup' ? '' : ' of 1 or more'}`);
}
const CHANNELS = args.channels.split(',').map((c) => c.trim());
for (const c of CHANNELS) if (c !== 'email' && c !== 'webhook') throw new Error(`--channels: unknown channel kind "${c}" (email, webhook)`);
/** No phase waits longer than this for its messages; the run then reports what arrived. */
const PHASE_DEADLINE_MS = 40_000;

// ---------------------------------------------------------------------------------------------
// the receivers' process

const SELF = fileURLToPath(import.meta.url);
// Under tsx the sink is a .ts file and needs the tsx loader; built (dist/bench/*.js) it does not.
const SINK = SELF.replace(/notify\.(ts|js)$/, 'notify-sink.$1');
const SINK_ARGS = SELF.endsWith('.ts') ? ['--import', 'tsx', SINK] : [SINK];

class Sink {
  /** Incident number → Date.now() of acceptance, per kind; repeats counted apart. */
  readonly got: Record<SinkKind, Map<string, number>> = { mail: new Map(), hook: new Map() };
  readonly repeats: Record<SinkKind, number> = { mail: 0, hook: 0 };
  private waiter: (() => void) | null = null;

  private constructor(
    private readonly child: ChildProcess,
    readonly smtpPort: number,
    readonly httpPort: number,
  ) {
    child.on('message', (m: SinkMessage) => {
      if (m.type !== 'got') return;
      for (const item of m.items) this.add(item);
      this.waiter?.();
    });
  }

  static start(): Promise<Sink> {
    const child = spawn(process.execPath, SINK_ARGS, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return new Promise((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`bench sink exited ${code} before it was ready`)));
      child.once('message', (m: SinkMessage) => {
        if (m.type === 'ready') resolve(new Sink(child, m.smtpPort, m.httpPort));
      });
    });
  }

  private add(item: SinkItem): void {
    const seen = this.got[item.kind];
    if (seen.has(item.number)) this.repeats[item.kind]++;
    else seen.set(item.number, item.at);
  }

  /** Resolves once `n` distinct incidents arrived by `kind`, or at the deadline; returns the count. */
  async waitFor(kind: SinkKind, n: number, deadlineMs = PHASE_DEADLINE_MS): Promise<number> {
    const until = Date.now() + deadlineMs;
    while (this.got[kind].size < n && Date.now() < until) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 100);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.waiter = null;
    }
    return this.got[kind].size;
  }

  clear(): void {
    for (const k of ['mail', 'hook'] as const) {
      this.got[k].clear();
      this.repeats[k] = 0;
    }
  }

  async stop(): Promise<void> {
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.send('stop');
    await exited;
  }
}

// ---------------------------------------------------------------------------------------------
// the daemon under test

type ChannelKind = 'email' | 'webhook';

function channelYaml(kind: ChannelKind, sink: Sink): string {
  if (kind === 'email') {
    // Plain SMTP on loopback: the sink offers neither STARTTLS nor AUTH.
    return `  - id: bench-mail
    type: email
    smtp: { host: 127.0.0.1, port: ${sink.smtpPort}, starttls: false, pool_size: ${POOL} }
    from: incidentd@bench.invalid
    to: [helpdesk@bench.invalid]
    domain: incidentd.bench.invalid
`;
  }
  return `  - id: bench-hook
    type: webhook
    url: "http://127.0.0.1:${sink.httpPort}/hook"
    secret: "bench-secret-0123456789"
`;
}

async function startDaemon(dir: string, kind: ChannelKind, sink: Sink): Promise<App> {
  mkdirSync(join(dir, 'probes'));
  mkdirSync(join(dir, 'rules'));
  writeFileSync(
    join(dir, 'incidentd.yaml'),
    `listen: { host: 127.0.0.1, port: 9740 }
store: { type: sqlite, path: ${join(dir, 'incidentd.db')} }
api: { tokens: [ { name: bench, token: bench-token-0123456789 } ] }
ingest: { max_queue: 100000 }
channels:
${channelYaml(kind, sink)}`,
  );
  writeFileSync(
    join(dir, 'rules', 'bench.yaml'),
    `rules:
  - id: server-unreachable
    when: 'target.kind == "server" && check.type == "icmp"'
    classify: { category: network.reachability, severity: severe, impact: multiple-users, tier: L2 }
    title: "{{target.name}} does not answer ping"
    description: "{{target.name}} ({{target.id}}) failed {{check.name}}: {{message}}"
    runbook: "Check power and uplink of {{target.name}}."
    open_after: ${OPEN_AFTER}
    resolve_after: 1
`,
  );
  return createApp({
    paths: { config: join(dir, 'incidentd.yaml'), probesDir: join(dir, 'probes'), rulesDir: join(dir, 'rules') },
    clock: new SystemClock(),
    logger: silentLogger(),
    env: {}, // no MONGODB_URI from the caller's shell: this measures the SQLite store
    watch: false,
    port: 0,
  });
}

function signal(targetId: string): Signal {
  return {
    source: 'probe',
    target: { id: targetId, kind: 'server', name: `Server ${targetId}`, site: 'hq', labels: { team: 'infra' }, dependsOn: [] },
    check: { name: 'icmp', type: 'icmp' },
    status: 'fail',
    message: '100% packet loss',
    values: { rttMs: 0, packetLoss: 100 },
    labels: { team: 'infra' },
    annotations: {},
    at: Date.now(),
  };
}

/** The failing signals below open_after, so that the next one for each target opens an incident. */
async function prime(app: App, targets: string[]): Promise<void> {
  for (let k = 1; k < OPEN_AFTER; k++) await app.manager.submitMany(targets.map(signal));
}

/** Incident number → target id, read back from the store. */
async function targetsOf(app: App, numbers: Iterable<string>): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const n of numbers) {
    const inc = await app.store.get(n);
    if (inc) out.set(n, inc.target.id);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// phases

interface LatencyResult {
  n: number;
  arrived: number;
  /** Crossing signal submitted → message accepted by the receiver, ms. */
  total: number[];
  /** Submitted → the manager's commit resolved, ms (the store's share). */
  commit: number[];
}

/** Opens `n` incidents one at a time, `RATE` per second, and times each to its message. */
async function latencyPhase(app: App, sink: Sink, kind: SinkKind, n: number, prefix: string): Promise<LatencyResult> {
  const targets = Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
  await prime(app, targets);
  sink.clear();
  const submitted = new Map<string, number>();
  const commit: number[] = [];
  const commits: Promise<void>[] = [];
  const start = Date.now();
  const gapMs = 1000 / RATE;
  for (let i = 0; i < n; i++) {
    const wait = start + i * gapMs - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const id = targets[i]!;
    const t0 = Date.now();
    submitted.set(id, t0);
    commits.push(app.manager.submit(signal(id)).then(() => void commit.push(Date.now() - t0)));
  }
  await Promise.all(commits);
  const arrived = await sink.waitFor(kind, n);
  const byNumber = await targetsOf(app, sink.got[kind].keys());
  // In the order the signals went in, so total[0] is the first incident's.
  const accepted = new Map<string, number>();
  for (const [number, at] of sink.got[kind]) {
    const target = byNumber.get(number);
    if (target !== undefined) accepted.set(target, at);
  }
  const total: number[] = [];
  for (const id of targets) {
    const at = accepted.get(id);
    if (at !== undefined) total.push(at - submitted.get(id)!);
  }
  return { n, arrived, total, commit };
}

interface BurstResult {
  n: number;
  arrived: number;
  /** First crossing signal submitted → last message accepted, ms. */
  elapsedMs: number;
  /** Submitted → every incident committed (the outbox may start before), ms. */
  committedMs: number;
  /** First → last message accepted, ms: the outbox's own pace once it is going. */
  spreadMs: number;
  /** CPU time of this (the daemon's) process from submission to the last message, ms. */
  cpuMs: number;
}

/** Opens `n` incidents in one submitMany and waits until every message is accepted. */
async function burstPhase(app: App, sink: Sink, kind: SinkKind, n: number): Promise<BurstResult> {
  const targets = Array.from({ length: n }, (_, i) => `burst-${i}`);
  await prime(app, targets);
  sink.clear();
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  await app.manager.submitMany(targets.map(signal));
  const committedMs = Date.now() - t0;
  const arrived = await sink.waitFor(kind, n);
  const cpu = process.cpuUsage(cpu0);
  const times = [...sink.got[kind].values()];
  const first = Math.min(...times);
  const last = Math.max(...times);
  return { n, arrived, elapsedMs: last - t0, committedMs, spreadMs: last - first, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/** The outbox's counts once nothing is pending any more, or after a few seconds. */
async function settled(app: App): Promise<{ pending: number; dead: number }> {
  const until = Date.now() + 5000;
  for (;;) {
    const counts = await app.store.countDeliveries();
    if (counts.pending === 0 || Date.now() > until) return counts;
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface ChannelRun {
  kind: ChannelKind;
  /** Latency of the first incident's message: the channel opens its connection for it. */
  coldMs: number;
  latency: LatencyResult;
  burst: BurstResult;
  repeats: number;
  pending: number;
  dead: number;
  /** This process's peak RSS after the run (it only grows). */
  peakRss: number;
}

async function runChannel(kind: ChannelKind, sink: Sink): Promise<ChannelRun> {
  const dir = mkdtempSync(join(tmpdir(), `incidentd-bench-notify-${kind}-`));
  const sinkKind: SinkKind = kind === 'email' ? 'mail' : 'hook';
  const app = await startDaemon(dir, kind, sink);
  try {
    const warm = await latencyPhase(app, sink, sinkKind, WARMUP_N, 'warm');
    const warmRepeats = sink.repeats[sinkKind];
    const latency = await latencyPhase(app, sink, sinkKind, LATENCY_N, 'lat');
    const latencyRepeats = warmRepeats + sink.repeats[sinkKind];
    const burst = await burstPhase(app, sink, sinkKind, BURST_N);
    const repeats = latencyRepeats + sink.repeats[sinkKind];
    // The receiver has the last message a moment before the outbox records the answer.
    const { pending, dead } = await settled(app);
    const coldMs = warm.total[0] ?? NaN;
    return { kind, coldMs, latency, burst, repeats, pending, dead, peakRss: process.resourceUsage().maxRSS * 1024 };
  } finally {
    await app.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// report

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const ms = (x: number) => (Number.isFinite(x) ? `${x.toFixed(0)} ms` : '-');
const rate = (n: number, elapsedMs: number) => (elapsedMs > 0 ? Math.round((n * 1000) / elapsedMs).toLocaleString('en-US') : '-');
const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`;
const row = (cells: string[], widths: number[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 12)).join('');

function report(runs: ChannelRun[], totalMs: number, load: [number, number]): void {
  console.log('');
  console.log(
    `latency: ${LATENCY_N} incidents opened one at a time, ${RATE}/s, after ${WARMUP_N} warm-up ones; crossing signal submitted → message accepted`,
  );
  const lw = [10, 11, 9, 9, 9, 13, 16];
  console.log(row(['channel', 'arrived', 'p50', 'p99', 'max', 'cold (1st)', 'commit p50/p99'], lw));
  for (const r of runs) {
    const l = r.latency;
    console.log(
      row(
        [
          r.kind,
          `${l.arrived}/${l.n}`,
          ms(percentile(l.total, 50)),
          ms(percentile(l.total, 99)),
          ms(Math.max(...l.total)),
          ms(r.coldMs),
          `${ms(percentile(l.commit, 50))} / ${ms(percentile(l.commit, 99))}`,
        ],
        lw,
      ),
    );
  }
  console.log('');
  console.log(`throughput: ${BURST_N} incidents opened in one burst; submitted → last message accepted`);
  const bw = [10, 11, 14, 10, 11, 20, 20];
  console.log(row(['channel', 'arrived', 'deliveries/s', 'total', 'committed', 'first→last message', 'daemon CPU/delivery'], bw));
  for (const r of runs) {
    const b = r.burst;
    console.log(
      row(
        [
          r.kind,
          `${b.arrived}/${b.n}`,
          rate(b.arrived, b.elapsedMs),
          ms(b.elapsedMs),
          ms(b.committedMs),
          `${ms(b.spreadMs)} (${rate(b.arrived - 1, b.spreadMs)}/s)`,
          `${(b.cpuMs / Math.max(1, b.arrived)).toFixed(2)} ms`,
        ],
        bw,
      ),
    );
  }
  console.log('');
  for (const r of runs) {
    const bad = r.repeats > 0 || r.pending > 0 || r.dead > 0;
    console.log(
      `${r.kind.padEnd(8)} repeated messages ${r.repeats}, deliveries still pending ${r.pending}, dead ${r.dead}${bad ? '   <-- not clean' : ''}`,
    );
  }
  const peak = Math.max(...runs.map((r) => r.peakRss));
  console.log(`peak RSS of the daemon process: ${mb(peak)} (the receivers run in a separate process)`);
  console.log(
    `${availableParallelism()} cores; load average ${load[0].toFixed(2)} before, ${load[1].toFixed(2)} after ` +
      `(above ~1 something else shares the machine and the figures); wall time ${(totalMs / 1000).toFixed(1)} s`,
  );
}

async function main(): Promise<void> {
  const started = Date.now();
  const loadBefore = loadavg()[0]!;
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(`incidentd notification benchmark: manager → SQLite (WAL, synchronous=FULL) → outbox → channel → receiver on 127.0.0.1`);
  console.log(
    `node ${process.version} (${SELF.endsWith('.ts') ? 'tsx' : 'compiled JS'}), ${availableParallelism()} cores (${cpu}); ` +
      `open_after ${OPEN_AFTER}, smtp pool_size ${POOL}, outbox as createApp builds it`,
  );
  const sink = await Sink.start();
  const runs: ChannelRun[] = [];
  try {
    for (const kind of CHANNELS as ChannelKind[]) {
      const r = await runChannel(kind, sink);
      console.log(`  ${kind}: done`);
      runs.push(r);
    }
  } finally {
    await sink.stop();
  }
  report(runs, Date.now() - started, [loadBefore, loadavg()[0]!]);
  const incomplete = runs.some((r) => r.latency.arrived < r.latency.n || r.burst.arrived < r.burst.n);
  if (incomplete) process.exitCode = 1;
}

await main();
