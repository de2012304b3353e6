// Alert ingest benchmark (`npm run bench:ingest`): sustained alerts/s, request latency p50/p99 and
// peak RSS of POST /api/v1/alerts, for batches of 100 and of 1, with dedup on 1,000 fingerprints
// and with all-new fingerprints. The load comes from a separate process over keep-alive HTTP
// (node:http). incidentd is the daemon as it runs: the bundled CLI (`node dist/bundle/cli.js run`)
// with the example config and the shipped rules/, a fresh process and SQLite file per run. When
// Alertmanager is on PATH (Debian package and binary: prometheus-alertmanager), the same load goes
// to its /api/v2/alerts and the ratio is printed. CPU per alert is each server's process CPU
// (utime + stime from /proc/PID/stat, until everything accepted is stored) divided by its alerts.
//
//   npm run bench:ingest -- [flags]   (--help lists them)
//
// The floors: per batch size, the same load against a bare node:http server in its own process that
// reads each body, JSON.parses it and answers 200, nothing else. Its CPU per alert is what Node's
// HTTP stack alone costs on this machine, below which no route on Node can go. The durable floors
// add what the 2xx promises: each body is written to a file opened with O_DSYNC before the answer,
// into zeros written there before the run (as the journal writes ahead of its records), the bodies
// that queue while a write runs going out together in the next (group commit). One
// writes on the libuv pool (FileHandle.writev), as the intake journal does for large rounds; the
// other on the event loop (writevSync, once per turn for what that turn read), as it does for small
// ones: less CPU, but everything else waits while the disk syncs. No route that answers only once
// the alert is on disk can go below the lower of the two on Node on this machine. A third keeps up to
// two writes in flight on the pool, at their own offsets, and answers each round once every round
// before it is on disk too: whether the disk takes overlapping flushes faster than one at a time
// (at batch 1 the rate is bound by the flush latency, not by the CPU).
//
// Not like for like in one respect, in Alertmanager's favour: incidentd answers once the alerts are
// on disk in its intake journal (and commits them to SQLite right after; the bounded queue
// between the two answers 429 when the store falls behind); Alertmanager keeps alerts in memory
// only.
import { spawn, type ChildProcess } from 'node:child_process';
import { constants, mkdirSync, writevSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { once } from 'node:events';
import { Agent, createServer as createHttpServer, request } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import Fastify from 'fastify';
import { alertRoutes } from '../src/api/alerts.js';
import type { IncidentPolicy } from '../src/config-core/types.js';
import type { SourceConfig } from '../src/sources/config.js';
import { IntakeJournal } from '../src/incidents/intake-journal.js';
import { IncidentManager } from '../src/incidents/manager.js';
import { compileRules } from '../src/rules/compile.js';
import { SystemClock } from '../src/shared/clock.js';
import { silentLogger } from '../src/shared/logger.js';
import { SqliteStore } from '../src/store/sqlite/store.js';
import { daemonCli } from './daemon-cli.js';

const SELF = fileURLToPath(import.meta.url);
const ROOT = resolve(import.meta.dirname, '..');
/** The repository (config/, rules/, dist/), whether this runs compiled from dist/bench or from bench/. */
const REPO = SELF.endsWith('.ts') ? ROOT : resolve(ROOT, '..');
// npm run bench:ingest runs the compiled file (as the daemon runs); run from source, children need tsx.
const TSX = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const CHILD_ARGS = SELF.endsWith('.ts') ? ['--import', TSX, SELF] : [SELF];
const TOKEN = 'bench-token';
const FINGERPRINTS = 1000;
/** The daemon's default ingest.max_queue: alerts journaled and not yet committed before 429s. */
const MAX_QUEUE = 10_000;
// Debian names the binary prometheus-alertmanager; upstream tarballs call it alertmanager.
const AM_BINARIES = ['prometheus-alertmanager', 'alertmanager'];
let amBinary = 'alertmanager';
// The children this file starts (load generator, floor server, in-process scenario) get one
// internal flag and a JSON spec; everything else is the command line of a person.
const INTERNAL = ['--floor-server', '--load', '--scenario'];
const internal = process.argv.slice(2).some((a) => INTERNAL.includes(a));
const { values: args } = parseArgsOrExit({
  args: internal ? [] : process.argv.slice(2),
  options: {
    seconds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '8' },
    repeat: { type: 'string', default: '3' },
    only: { type: 'string' },
    'no-alertmanager': { type: 'boolean', default: false },
    'no-floor': { type: 'boolean', default: false },
    'in-process': { type: 'boolean', default: false },
    unbundled: { type: 'boolean', default: false },
    'node-option': { type: 'string', multiple: true, default: [] },
    'cpu-prof': { type: 'string' },
    'cpu-prof-interval': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

/** parseArgs, with its error (an unknown flag, a missing value) said in one line rather than a stack. */
function parseArgsOrExit<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    console.error(`bench:ingest: ${(err as Error).message} (--help lists the flags)`);
    process.exit(2);
  }
}
const SCENARIOS = ['100:dedup', '100:new', '1:dedup', '1:new'];
if (!internal && (args.help || (args.only !== undefined && !SCENARIOS.includes(args.only)))) {
  if (!args.help) console.error(`--only takes one of ${SCENARIOS.join(', ')}, not "${args.only}"`);
  console.log(`usage: npm run bench:ingest -- [flags]
  --seconds <n>            length of each run (default 5)
  --warmup <n>             seconds of the same load before each run, on other fingerprints, not counted (default 2; 0: none)
  --concurrency <n>        keep-alive connections of the load generator (default 8)
  --repeat <n>             alternated runs per server and scenario; the table shows the median (default 3)
  --only <batch:mode>      one scenario: ${SCENARIOS.join(', ')}
  --no-alertmanager        incidentd only, even when Alertmanager is installed
  --no-floor               skip the node:http floors (bare, and with a synced append per request: pool, event loop, two in flight)
  --in-process             the old mode: routes, manager and store in one process with one rule
  --unbundled              run tsc's dist/src/cli.js instead of the bundle that ships (dist/bundle/cli.js)
  --node-option=<flag>     a node/V8 flag for the daemon only (repeatable)
  --cpu-prof <dir>         the daemon writes a V8 CPU profile per run into <dir>
  --cpu-prof-interval <us> its sampling interval in µs (node's default: 1000)`);
  process.exit(args.help ? 0 : 2);
}
for (const name of ['seconds', 'concurrency', 'repeat', 'cpu-prof-interval'] as const) {
  const v = args[name];
  if (!internal && v !== undefined && !(Number(v) > 0)) {
    console.error(`bench:ingest: --${name} takes a positive number, not "${v}"`);
    process.exit(2);
  }
}
if (!internal && !(Number(args.warmup) >= 0)) {
  console.error(`bench:ingest: --warmup takes a number of seconds (0 or more), not "${args.warmup}"`);
  process.exit(2);
}
/**
 * --warmup <s>: each server takes the same load for this long before the run that is measured, on
 * fingerprints of their own (warm-srv-…): a daemon runs for months, and a fresh node process spends
 * its first seconds compiling its hot code (V8's optimizing compiler, on background threads too),
 * which a Go binary does not. The figures are those of the run after it.
 */
const WARMUP_S = Number(args.warmup);
/**
 * --in-process: the alert routes, manager and store in the scenario's own process, one rule (for
 * profiling). The scenario children (--scenario) exist for this mode alone, and are told nothing else.
 */
const IN_PROCESS = args['in-process'] || process.argv.includes('--scenario');
/** --node-option=<flag> (repeatable): a node/V8 flag for the daemon only, e.g. --node-option=--max-semi-space-size=32. */
const NODE_OPTIONS = args['node-option'];
/** The daemon the scenarios start (the children and --in-process start none). */
const DAEMON_CLI = internal || IN_PROCESS ? '' : daemonCli(REPO, 'bench:ingest', args.unbundled);
/** --cpu-prof <dir>: the daemon runs with node --cpu-prof and writes its profile there. */
const CPU_PROF = args['cpu-prof'] !== undefined ? resolve(args['cpu-prof']) : null;
/** --cpu-prof-interval <µs>: V8's sampling interval for --cpu-prof (node's default 1000 gives few samples in a short run). */
const CPU_PROF_INTERVAL = args['cpu-prof-interval'] !== undefined ? Number(args['cpu-prof-interval']) : null;

type Target = 'incidentd' | 'alertmanager';
type Mode = 'dedup' | 'new';

interface LoadSpec {
  target: Target;
  url: string;
  batch: number;
  mode: Mode;
  seconds: number;
  concurrency: number;
  /** Before each instance name: the warm-up's fingerprints are not the run's. */
  prefix?: string;
}

interface LoadResult {
  alerts: number;
  requests: number;
  errors: number;
  firstError: string | null;
  seconds: number;
  p50: number;
  p99: number;
  /** CPU seconds the load generator itself used. */
  cpu: number;
}

// ---------------------------------------------------------------------------------------------
// load generator (the child process)

function body(spec: LoadSpec, next: () => number): string {
  const alerts: unknown[] = [];
  for (let i = 0; i < spec.batch; i++) {
    const n = next();
    const instance = `${spec.prefix ?? ''}srv-${spec.mode === 'dedup' ? n % FINGERPRINTS : n}`;
    if (spec.target === 'incidentd') {
      alerts.push({ name: 'HighLoad', target: instance, status: 'firing', severity: 'warning', labels: { job: 'node' }, annotations: { summary: `load high on ${instance}` } });
    } else {
      alerts.push({ labels: { alertname: 'HighLoad', instance, job: 'node', severity: 'warning' }, annotations: { summary: `load high on ${instance}` } });
    }
  }
  return JSON.stringify(spec.target === 'incidentd' ? { alerts } : alerts);
}

/** One keep-alive POST with node:http (undici's fetch costs the load generator about twice the CPU). */
function post(agent: Agent, url: URL, headers: Record<string, string>, payload: string): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(payload)) } }, (res) => {
      res.resume();
      res.on('end', () => resolvePromise(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (spec.target === 'incidentd') headers.authorization = `Bearer ${TOKEN}`;
  const agent = new Agent({ keepAlive: true, maxSockets: spec.concurrency });
  const url = new URL(spec.url);
  let counter = 0;
  const next = () => counter++;
  const latencies: number[] = [];
  let alerts = 0;
  let errors = 0;
  let firstError: string | null = null;
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  const end = started + spec.seconds * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      const payload = body(spec, next);
      const t0 = performance.now();
      try {
        const status = await post(agent, url, headers, payload);
        if (status >= 200 && status < 300) {
          alerts += spec.batch;
          latencies.push(performance.now() - t0);
        } else {
          errors++;
          firstError ??= `HTTP ${status}`;
          if (status === 429) await new Promise((r) => setTimeout(r, 50));
        }
      } catch (err) {
        errors++;
        firstError ??= (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pick = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return { alerts, requests: latencies.length, errors, firstError, seconds, p50: pick(0.5), p99: pick(0.99), cpu: (cpu.user + cpu.system) / 1e6 };
}

// ---------------------------------------------------------------------------------------------
// servers under test

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

interface Server {
  url: string;
  /** Peak resident set size in bytes while the load ran. */
  peakRss(): number;
  /** CPU time (user + system) the server has used so far, in seconds. */
  cpuSeconds(): number;
  /** Waits until everything accepted is stored (incidentd commits journaled alerts after answering). */
  settle(): Promise<void>;
  /** The run that is measured starts now (after the warm-up): what note() reports counts from here. */
  begin(): Promise<void>;
  /** Anything else worth printing about the run. */
  note(): string;
  stop(): Promise<void>;
}

const policy: IncidentPolicy = {
  reopenWindowMs: 60 * 60_000,
  closeAfterMs: null,
  flapping: { windowMs: 10 * 60_000, threshold: 6 },
  uncategorized: { category: 'uncategorized', severity: 'medium', impact: 'single-user', tier: 'L1' },
  maxSubscribers: 50,
};

/** incidentd's alert routes, manager and SQLite store, in this process (the load is elsewhere). */
async function startIncidentd(dir: string): Promise<Server> {
  // Exclusive, as the daemon opens it.
  const store = new SqliteStore({ path: join(dir, 'bench.db'), exclusive: true });
  await store.open();
  const { engine } = compileRules(
    [
      {
        id: 'high-load',
        when: 'labels.alertname == "HighLoad"',
        classify: { category: 'capacity.cpu', severity: 'medium', impact: 'single-user', tier: 'L1' },
        title: '{{check.name}} on {{target.id}}',
        description: '',
        runbook: '',
        dedupBy: ['target.id', 'check.name', 'rule.id'],
        openAfter: 1,
        resolveAfter: 1,
        continue: false,
        file: 'bench',
      },
    ],
    policy.uncategorized,
  );
  const clock = new SystemClock();
  const targets = new Map();
  const writes = { rounds: 0, records: 0 };
  const journal = await IntakeJournal.open({
    dir: join(dir, 'bench.db-intake'),
    logger: silentLogger(),
    hooks: { written: (records) => ((writes.rounds += 1), (writes.records += records)) },
  });
  const manager = await IncidentManager.create({ store, clock, logger: silentLogger(), current: () => ({ engine, policy, targets }), journal, maxQueue: MAX_QUEUE });
  const source: SourceConfig = {
    id: 'bench',
    type: 'generic',
    tokens: [TOKEN],
    routingKeys: [],
    allowSubscribers: true,
    labels: {},
    tenant: 'default',
    target: { fromLabel: 'instance', kind: 'server', siteLabel: null },
  };
  const app = Fastify({ logger: false, keepAliveTimeout: 60_000 });
  await app.register(
    alertRoutes({
      ingest: manager.alertIngest(),
      sources: () => [source],
      apiTokens: () => [],
      limits: () => ({ maxQueue: MAX_QUEUE, maxBodyBytes: 4 * 1024 * 1024, journalDir: null }),
      clock,
      logger: silentLogger(),
    }),
  );
  const port = await freePort();
  await app.listen({ host: '127.0.0.1', port });
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  return {
    url: `http://127.0.0.1:${port}/api/v1/alerts`,
    peakRss: () => peak,
    cpuSeconds: () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1e6;
    },
    settle: () => manager.flush(),
    begin: async () => {
      writes.records = 0;
      writes.rounds = 0;
    },
    note: () => `${(writes.records / Math.max(1, writes.rounds)).toFixed(1)} requests per journal write`,
    async stop() {
      clearInterval(sampler);
      await app.close();
      await manager.stop();
      await store.close();
    },
  };
}

/** utime + stime of a process (fields 14 and 15 of /proc/PID/stat), in seconds (100 ticks per second on Linux). */
function procCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds per thread name (/proc/PID/task/TID/stat: comm, utime, stime), to show where a server's CPU goes. */
function threadCpuSeconds(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended meanwhile
    }
    const comm = tid === String(pid) ? 'main' : (/\((.*)\)/.exec(stat)?.[1] ?? '?').replace(/[\d-]+$/, '');
    const fields = stat.replace(/^.*\) /, '').split(' ');
    out.set(comm, (out.get(comm) ?? 0) + (Number(fields[11]) + Number(fields[12])) / 100);
  }
  return out;
}

/** Each thread's CPU between two readings, per alert (µs) when `alerts` is known, else in seconds. */
function threadShares(before: Map<string, number>, after: Map<string, number>, alerts: number): string {
  return [...after]
    .map(([name, s]) => [name, s - (before.get(name) ?? 0)] as const)
    .filter(([, s]) => s > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([name, s]) => `${name} ${alerts > 0 ? `${((s / alerts) * 1e6).toFixed(0)} µs` : `${s.toFixed(2)} s`}`)
    .join(', ');
}

/**
 * Every process this run started and that still runs. A bench stopped by Ctrl-C or a timeout stops
 * them too: a daemon left running would spend a core and void every later figure on the machine.
 */
const children = new Set<ChildProcess>();

function track<T extends ChildProcess>(child: T): T {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    for (const c of children) c.kill('SIGTERM');
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
}

/** Servers an earlier bench:ingest left running (their directories are named incidentd-bench-…). */
function strayServers(): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    let cmd: string;
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
    } catch {
      continue; // it ended meanwhile
    }
    if (cmd.includes('incidentd-bench-')) found.push(`${pid} (${cmd.slice(0, 100)})`);
  }
  return found;
}

function procPeakRss(pid: number): number {
  return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) * 1024;
}

/** Reads one unlabelled sample (or the sum of a metric's samples) from the Prometheus text. */
function metric(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(name) && (line[name.length] === ' ' || line[name.length] === '{')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/**
 * The daemon as it runs: the bundled CLI (`node dist/bundle/cli.js run`) with the example config
 * (copied, its port, store and webhook token changed), the shipped rules/, no probes, SQLite in
 * `dir`. The load goes to the generic source `webhook`.
 */
async function startDaemon(dir: string): Promise<Server> {
  const port = await freePort();
  mkdirSync(join(dir, 'config'));
  mkdirSync(join(dir, 'probes'));
  const example = readFileSync(join(REPO, 'config', 'incidentd.yaml'), 'utf8');
  const config = example.replace(/^ {2}port: 9740$/m, `  port: ${port}`).replace('# yaml-language-server: $schema=schemas/incidentd.schema.json\n', '');
  if (config === example) throw new Error('config/incidentd.yaml changed: cannot set the bench port');
  writeFileSync(join(dir, 'config', 'incidentd.yaml'), config);
  const args = [
    ...NODE_OPTIONS,
    ...(CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF}`] : []),
    ...(CPU_PROF && CPU_PROF_INTERVAL ? [`--cpu-prof-interval=${CPU_PROF_INTERVAL}`] : []),
    DAEMON_CLI, 'run', '--config', join(dir, 'config', 'incidentd.yaml'), '--probes', join(dir, 'probes'), '--rules', join(REPO, 'rules'), '--log-format', 'json'];
  const child: ChildProcess = track(spawn(process.execPath, args, {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, INCIDENTD_WEBHOOK_TOKEN: TOKEN, INCIDENTD_API_TOKEN: 'bench-admin' },
  }));
  let log = '';
  child.stderr!.on('data', (d) => (log = (log + d).slice(-4000)));
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`incidentd did not start:\n${log}`);
    const ok = await fetch(`${base}/healthz`).then((r) => r.ok, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const metrics = () => fetch(`${base}/metrics`).then((r) => r.text());
  let m0 = await metrics();
  let m1 = m0;
  let threads0 = threadCpuSeconds(child.pid!);
  let threads1 = threads0;
  return {
    url: `${base}/api/v1/alerts`,
    peakRss: () => procPeakRss(child.pid!),
    cpuSeconds: () => procCpuSeconds(child.pid!),
    // Everything journaled is committed when the queue to the store is empty.
    settle: async () => {
      for (;;) {
        m1 = await metrics();
        threads1 = threadCpuSeconds(child.pid!);
        if (metric(m1, 'incidentd_signal_queue_signals') === 0) return;
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    begin: async () => {
      m0 = await metrics();
      threads0 = threadCpuSeconds(child.pid!);
    },
    note: () => {
      const rounds = metric(m1, 'incidentd_intake_journal_write_seconds_count') - metric(m0, 'incidentd_intake_journal_write_seconds_count');
      const records = metric(m1, 'incidentd_intake_journal_records_total') - metric(m0, 'incidentd_intake_journal_records_total');
      const alerts = metric(m1, 'incidentd_signals_total') - metric(m0, 'incidentd_signals_total');
      const commits = metric(m1, 'incidentd_pipeline_commit_seconds_count') - metric(m0, 'incidentd_pipeline_commit_seconds_count');
      const perThread = threadShares(threads0, threads1, alerts);
      return (
        `${(records / Math.max(1, rounds)).toFixed(1)} requests per journal write; ${commits} store commits (${Math.round(alerts / Math.max(1, commits))} alerts each); ` +
        `CPU by thread${alerts > 0 ? ' per alert' : ''}: ${perThread}`
      );
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * The floor's server (run as `--floor-server <spec>`): reads, parses and answers; prints its port.
 * The durable kinds first append every body to a file in `dir` opened with O_DSYNC, group-committed
 * like the intake journal: what queues while a write runs goes in the next one. `durable-sync`
 * writes on the event loop, once per turn of it, for what that turn queued. Like the journal's
 * segments, the file holds zeros before the run (FLOOR_PREFILL_BYTES) and the bodies are written
 * into them at their offset: a synced write into blocks the file has needs no metadata commit.
 */
async function floorServer(spec: FloorSpec): Promise<void> {
  const stats = { writes: 0, records: 0, alerts: 0 };
  // The bare floor answers at once, as before the durable one existed: no promise per request.
  let append: ((bytes: Buffer) => Promise<void>) | null = null;
  if (spec.kind !== 'bare') {
    const fh = await open(join(spec.dir, 'floor.log'), constants.O_WRONLY | constants.O_CREAT | constants.O_DSYNC);
    const zeros = Buffer.alloc(1024 * 1024);
    for (let at = 0; at < FLOOR_PREFILL_BYTES; at += zeros.length) await fh.write(zeros, 0, zeros.length, at);
    // Where the next body goes; past the zeros the file grows, as a plain append.
    let end = 0;
    let queue: { bytes: Buffer; done: () => void }[] = [];
    let writing = false;
    const written = (round: { done: () => void }[]) => {
      stats.writes++;
      stats.records += round.length;
      for (const r of round) r.done();
    };
    const flushSync = () => {
      writing = false;
      const round = queue;
      queue = [];
      end += writevSync(fh.fd, round.map((r) => r.bytes), end);
      written(round);
    };
    const flush = async (): Promise<void> => {
      writing = true;
      while (queue.length > 0) {
        const round = queue;
        queue = [];
        // An append to a regular file is written whole unless the disk is full, which fails the bench.
        end += (await fh.writev(round.map((r) => r.bytes), end)).bytesWritten;
        written(round);
      }
      writing = false;
    };
    // durable-overlap: up to OVERLAP rounds in flight on the pool at once, each at its own offset;
    // a round is answered once it and every round before it are on disk (a crash keeps a prefix).
    // Two, not four: with four in flight the rounds shrank to 1.2 requests and the rate fell
    // (17,800 against 20,500 alerts/s at batch 1 on the development VM).
    const OVERLAP = 2;
    let inFlight = 0;
    const order: { round: { done: () => void }[]; onDisk: boolean }[] = [];
    const startOverlapped = (): void => {
      while (queue.length > 0 && inFlight < OVERLAP) {
        const round = queue;
        queue = [];
        const buffers = round.map((r) => r.bytes);
        const at = end;
        for (const b of buffers) end += b.length;
        const entry = { round, onDisk: false };
        order.push(entry);
        inFlight++;
        void fh.writev(buffers, at).then(() => {
          inFlight--;
          entry.onDisk = true;
          while (order.length > 0 && order[0]!.onDisk) written(order.shift()!.round);
          startOverlapped();
        });
      }
    };
    append = (bytes) =>
      new Promise<void>((done) => {
        queue.push({ bytes, done });
        if (spec.kind === 'durable-overlap') {
          startOverlapped();
          return;
        }
        if (writing) return;
        if (spec.kind === 'durable') {
          void flush();
          return;
        }
        // After the requests this turn of the event loop reads: they share the write.
        writing = true;
        setImmediate(flushSync);
      });
  }
  const server = createHttpServer((req, res) => {
    if (req.method === 'GET') {
      res.end(JSON.stringify(stats));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = JSON.parse(raw.toString('utf8')) as { alerts: unknown[] };
      stats.alerts += body.alerts.length;
      const answer = () => {
        const out = JSON.stringify({ status: 'success', accepted: body.alerts.length });
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(out) });
        res.end(out);
      };
      if (append === null) answer();
      else void append(raw).then(answer);
    });
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
}

/** Zeros in a durable floor's file before its run: the bodies of a batch-1 run fit (about 15 MB). */
const FLOOR_PREFILL_BYTES = 64 * 1024 * 1024;

type Floor = 'bare' | 'durable' | 'durable-sync' | 'durable-overlap';
const FLOORS: readonly Floor[] = ['bare', 'durable', 'durable-sync', 'durable-overlap'];

interface FloorSpec {
  kind: Floor;
  /** Where the durable kinds write. */
  dir: string;
}

async function startFloor(kind: Floor, dir: string): Promise<Server> {
  const floor: FloorSpec = { kind, dir };
  const spec = JSON.stringify(floor);
  const child: ChildProcess = track(spawn(process.execPath, [...CHILD_ARGS, '--floor-server', spec], { stdio: ['ignore', 'pipe', 'inherit'] }));
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  const base = `http://127.0.0.1:${Number(line)}`;
  let threads0 = threadCpuSeconds(child.pid!);
  let threads1 = threads0;
  const readStats = async () => (await fetch(`${base}/stats`).then((r) => r.json())) as { writes: number; records: number; alerts: number };
  let stats0 = { writes: 0, records: 0, alerts: 0 };
  let stats = stats0;
  return {
    url: `${base}/api/v1/alerts`,
    peakRss: () => procPeakRss(child.pid!),
    cpuSeconds: () => procCpuSeconds(child.pid!),
    settle: async () => {
      threads1 = threadCpuSeconds(child.pid!);
      stats = await readStats();
    },
    begin: async () => {
      threads0 = threadCpuSeconds(child.pid!);
      stats0 = await readStats();
    },
    note: () => {
      const perThread = threadShares(threads0, threads1, stats.alerts - stats0.alerts);
      if (kind === 'bare') return `CPU by thread per alert: ${perThread}`;
      return `${((stats.records - stats0.records) / Math.max(1, stats.writes - stats0.writes)).toFixed(1)} requests per write; CPU by thread per alert: ${perThread}`;
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function startAlertmanager(dir: string): Promise<Server> {
  const cfg = join(dir, 'alertmanager.yml');
  writeFileSync(cfg, "route:\n  receiver: 'null'\nreceivers:\n  - name: 'null'\n");
  const port = await freePort();
  const child: ChildProcess = track(
    spawn(
      amBinary,
      [`--config.file=${cfg}`, `--storage.path=${join(dir, 'am-data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address='],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    ),
  );
  let log = '';
  child.stderr!.on('data', (d) => (log += d));
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`alertmanager did not start:\n${log}`);
    const ok = await fetch(`http://127.0.0.1:${port}/-/ready`).then((r) => r.ok, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `http://127.0.0.1:${port}/api/v2/alerts`,
    // VmHWM: the process's peak resident set size.
    peakRss: () => procPeakRss(child.pid!),
    cpuSeconds: () => procCpuSeconds(child.pid!),
    settle: async () => undefined,
    begin: async () => undefined,
    note: () => 'alerts kept in memory only',
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function findAlertmanager(): Promise<boolean> {
  for (const bin of AM_BINARIES) {
    const ok = await new Promise<boolean>((r) => {
      const c = spawn(bin, ['--version'], { stdio: 'ignore' });
      c.on('error', () => r(false));
      c.on('exit', (code) => r(code === 0));
    });
    if (ok) {
      amBinary = bin;
      return true;
    }
  }
  return false;
}

async function alertmanagerVersion(): Promise<string> {
  return new Promise((r) => {
    const c = spawn(amBinary, ['--version'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (out += d));
    c.on('exit', () => r(/version (\S+)/.exec(out)?.[1] ?? 'unknown'));
  });
}

/** The warm-up (WARMUP_S): the same load on fingerprints of its own, until all of it is stored. */
async function warmUp(server: Server, spec: LoadSpec): Promise<void> {
  if (spec.seconds > 0) {
    await loadFromChild({ ...spec, prefix: 'warm-' });
    await server.settle();
  }
  await server.begin();
}

function loadFromChild(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolvePromise, reject) => {
    const child = track(spawn(process.execPath, [...CHILD_ARGS, '--load', JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'inherit'] }));
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => (code === 0 ? resolvePromise(JSON.parse(out) as LoadResult) : reject(new Error(`load generator exited ${code}`))));
  });
}

// ---------------------------------------------------------------------------------------------
// main

interface Row {
  target: Target;
  batch: number;
  mode: Mode;
  result: LoadResult;
  rss: number;
  /** Server CPU seconds spent during the load and until everything accepted was stored. */
  cpu: number;
  /** Seconds after the load until everything accepted was stored. */
  backlog: number;
  note: string;
}

/**
 * incidentd runs each scenario in a fresh process of its own, like Alertmanager, so that peak RSS
 * is that scenario's and not the high-water mark of the runs before it.
 */
function scenarioInChild(batch: number, mode: Mode, seconds: number, concurrency: number): Promise<Row> {
  return new Promise((resolvePromise, reject) => {
    const spec = JSON.stringify({ batch, mode, seconds, concurrency });
    const child = track(spawn(process.execPath, [...CHILD_ARGS, '--scenario', spec], { stdio: ['ignore', 'pipe', 'inherit'] }));
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => (code === 0 ? resolvePromise(JSON.parse(out) as Row) : reject(new Error(`incidentd scenario exited ${code}`))));
  });
}

async function scenario(target: Target, batch: number, mode: Mode, seconds: number, concurrency: number): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), `incidentd-bench-${target}-`));
  try {
    const server = target === 'alertmanager' ? await startAlertmanager(dir) : IN_PROCESS ? await startIncidentd(dir) : await startDaemon(dir);
    try {
      await warmUp(server, { target, url: server.url, batch, mode, seconds: WARMUP_S, concurrency });
      const cpu0 = server.cpuSeconds();
      const result = await loadFromChild({ target, url: server.url, batch, mode, seconds, concurrency });
      const t0 = performance.now();
      await server.settle();
      const backlog = (performance.now() - t0) / 1000;
      const perRequest = ((result.cpu / Math.max(1, result.requests + result.errors)) * 1e6).toFixed(0);
      const note = `load generator ${perRequest} µs CPU per request; ${server.note()}`;
      return { target, batch, mode, result, rss: server.peakRss(), cpu: server.cpuSeconds() - cpu0, backlog, note };
    } finally {
      await server.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const seconds = Number(args.seconds);
  const concurrency = Number(args.concurrency);
  const skipAm = args['no-alertmanager'];
  const strays = strayServers();
  if (strays.length > 0) {
    console.error(`bench:ingest: servers of an earlier run still run and would skew every figure; stop them first (kill <pid>): ${strays.join('; ')}`);
    process.exit(2);
  }
  const withAm = !skipAm && (await findAlertmanager());
  console.log(`alert ingest: ${seconds}s per run after ${WARMUP_S}s of warm-up, ${concurrency} keep-alive connections from a separate process, node ${process.version}, load average ${loadAverage()}`);
  if (withAm) console.log(`comparing with Prometheus Alertmanager ${await alertmanagerVersion()} (/api/v2/alerts)`);
  else if (skipAm) console.log('incidentd only (--no-alertmanager)');
  else console.log('alertmanager not found on PATH (apt-get install prometheus-alertmanager); incidentd only');

  // --only 100:dedup runs one scenario (for profiling).
  const only = args.only;
  // Runs on this kind of machine vary by ±20 % with the neighbours: each pair runs `repeat` times,
  // alternating, and the table shows the median run of each server.
  const repeat = Math.max(1, Number(args.repeat));
  const rows: Row[] = [];
  for (const batch of [100, 1]) {
    for (const mode of ['dedup', 'new'] as const) {
      if (only !== undefined && only !== `${batch}:${mode}`) continue;
      const runs: Record<Target, Row[]> = { incidentd: [], alertmanager: [] };
      for (let i = 0; i < repeat; i++) {
        for (const row of [IN_PROCESS ? await scenarioInChild(batch, mode, seconds, concurrency) : await scenario('incidentd', batch, mode, seconds, concurrency), withAm ? await scenario('alertmanager', batch, mode, seconds, concurrency) : null]) {
          if (row === null) continue;
          const rate = (row.result.alerts / row.result.seconds).toFixed(0);
          const us = ((row.cpu / Math.max(1, row.result.alerts)) * 1e6).toFixed(1);
          console.log(`  ${row.target} batch ${row.batch} ${row.mode}: ${rate} alerts/s, ${us} µs CPU/alert; ${row.note}`);
          runs[row.target].push(row);
        }
      }
      for (const target of ['incidentd', 'alertmanager'] as const) {
        const sorted = runs[target].sort((a, b) => a.result.alerts / a.result.seconds - b.result.alerts / b.result.seconds);
        if (sorted.length > 0) rows.push(sorted[Math.floor(sorted.length / 2)]!);
        if (sorted.length > 1) {
          const rates = sorted.map((r) => r.result.alerts / r.result.seconds);
          const cpus = sorted.map((r) => (r.cpu / Math.max(1, r.result.alerts)) * 1e6).sort((a, b) => a - b);
          console.log(
            `  ${target} batch ${batch} ${mode} over ${sorted.length} runs: ${rates[0]!.toFixed(0)} – ${rates.at(-1)!.toFixed(0)} alerts/s, ` +
              `${cpus[0]!.toFixed(1)} – ${cpus.at(-1)!.toFixed(1)} µs CPU/alert (median ${cpus[Math.floor(cpus.length / 2)]!.toFixed(1)})`,
          );
        }
      }
    }
  }

  // The same load against bare node:http, without and with a synced append per request (on the pool
  // and on the event loop), per batch size (median of `repeat` runs, alternated).
  const floors: string[] = [];
  if (!args['no-floor']) {
    for (const batch of [100, 1]) {
      if (only !== undefined && !only.startsWith(`${batch}:`)) continue;
      const runs = Object.fromEntries(FLOORS.map((kind) => [kind, []])) as unknown as Record<Floor, { cpu: number; rate: number; note: string }[]>;
      for (let i = 0; i < repeat; i++) {
        for (const kind of FLOORS) {
          const dir = mkdtempSync(join(tmpdir(), 'incidentd-bench-floor-'));
          const server = await startFloor(kind, dir);
          try {
            await warmUp(server, { target: 'incidentd', url: server.url, batch, mode: 'dedup', seconds: WARMUP_S, concurrency });
            const cpu0 = server.cpuSeconds();
            const result = await loadFromChild({ target: 'incidentd', url: server.url, batch, mode: 'dedup', seconds, concurrency });
            const cpu = ((server.cpuSeconds() - cpu0) / Math.max(1, result.alerts)) * 1e6;
            await server.settle();
            runs[kind].push({ cpu, rate: result.alerts / result.seconds, note: server.note() });
          } finally {
            await server.stop();
            rmSync(dir, { recursive: true, force: true });
          }
        }
      }
      for (const kind of FLOORS) {
        const mid = Math.floor(runs[kind].length / 2);
        const median = [...runs[kind]].sort((a, b) => a.cpu - b.cpu)[mid]!;
        const cpus = runs[kind].map((r) => r.cpu).sort((a, b) => a - b);
        const rates = runs[kind].map((r) => r.rate).sort((a, b) => a - b);
        const what = {
          bare: 'node:http floor',
          durable: 'durable floor (node:http + O_DSYNC write into zeros, group commit, written on the libuv pool)',
          'durable-sync': 'durable floor, written on the event loop',
          'durable-overlap': 'durable floor, up to 2 writes in flight on the pool, answered in order',
        }[kind];
        floors.push(
          `${what}, batch ${batch}: ${median.cpu.toFixed(1)} µs CPU/alert, ${rates[mid]!.toFixed(0)} alerts/s ` +
            `(${cpus.length} runs: ${cpus.map((c) => c.toFixed(1)).join(', ')} µs; ${rates.map((r) => r.toFixed(0)).join(', ')} alerts/s); median run: ${median.note}`,
        );
      }
    }
  }

  const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`;
  const ms = (x: number) => `${x.toFixed(2)} ms`;
  console.log('');
  for (const f of floors) console.log(f);
  if (floors.length > 0) console.log('');
  if (repeat > 1) console.log(`median run of ${repeat} for each server and scenario:`);
  console.log(
    ['server', 'batch', 'fingerprints', 'alerts/s', 'p50', 'p99', 'peak RSS', 'CPU µs/alert', 'stored +s', 'errors'].map((h) => h.padEnd(13)).join(''),
  );
  for (const r of rows) {
    const rate = r.result.alerts / r.result.seconds;
    const fps = r.mode === 'dedup' ? `${FINGERPRINTS}` : 'all new';
    const errs = r.result.errors === 0 ? '0' : `${r.result.errors} (${r.result.firstError})`;
    console.log(
      [r.target, String(r.batch), fps, rate.toFixed(0), ms(r.result.p50), ms(r.result.p99), mb(r.rss), ((r.cpu / r.result.alerts) * 1e6).toFixed(1), r.backlog.toFixed(2), errs]
        .map((c) => c.padEnd(13))
        .join(''),
    );
  }
  if (withAm) {
    console.log('');
    for (const batch of [100, 1]) {
      for (const mode of ['dedup', 'new'] as const) {
        if (only !== undefined && only !== `${batch}:${mode}`) continue;
        const find = (t: Target) => rows.find((r) => r.target === t && r.batch === batch && r.mode === mode)!;
        const a = find('incidentd');
        const b = find('alertmanager');
        const ratio = a.result.alerts / a.result.seconds / (b.result.alerts / b.result.seconds);
        console.log(`batch ${String(batch).padEnd(4)} ${mode === 'dedup' ? '1000 fingerprints' : 'all-new fingerprints'}: incidentd / alertmanager = ${ratio.toFixed(2)}x`);
      }
    }
  }
  console.log(`\nload average at the end: ${loadAverage()} (the two cores are shared: figures grow with it)`);
}

function loadAverage(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

const loadAt = process.argv.indexOf('--load');
const scenarioAt = process.argv.indexOf('--scenario');
const floorAt = process.argv.indexOf('--floor-server');
if (floorAt >= 0) {
  await floorServer(JSON.parse(process.argv[floorAt + 1]!) as FloorSpec);
} else if (loadAt >= 0) {
  const result = await runLoad(JSON.parse(process.argv[loadAt + 1]!) as LoadSpec);
  process.stdout.write(JSON.stringify(result));
} else if (scenarioAt >= 0) {
  const { batch, mode, seconds, concurrency } = JSON.parse(process.argv[scenarioAt + 1]!) as { batch: number; mode: Mode; seconds: number; concurrency: number };
  process.stdout.write(JSON.stringify(await scenario('incidentd', batch, mode, seconds, concurrency)));
} else {
  await main();
}
