// Event-loop stalls under adversarial input (`npm run bench:stall`). Everything in the daemon runs
// on one event loop, so one slow step holds up probes, the API and escalation for all. Each
// scenario starts the real daemon (`incidentd run`, a child process, loopback only) in a fresh
// folder and prints the largest event-loop delay while the daemon takes the input, target < 100 ms:
//
//   series    5,000 alerts of one alertname+instance (one per pod: 5,000 series, one incident)
//             posted as an Alertmanager webhook, then 1,000 of them re-sent
//   labels    one alert with a 3,000-character label under a costly rule (a nested comprehension)
//   reload    a 10 MB probes inventory (70,000 targets) dropped into the watched probes folder
//   validate  `incidentd validate` on that inventory: wall time < 10 s and peak RSS < 500 MB
//
// The delay is measured twice: by the daemon itself (perf_hooks.monitorEventLoopDelay, read from
// incidentd_nodejs_eventloop_lag_max_seconds on /metrics, which resets at every scrape) and from
// outside, as the slowest GET /healthz of one sent every 10 ms. The daemon's CPU time for each
// phase is printed too: unlike the delay, it does not grow when other jobs share the cores.
//
//   npm run bench:stall -- [--only series|labels|reload|validate] [--targets 70000] [--series 5000] [--resend 1000]
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';

const { values: args } = parseArgs({
  options: {
    only: { type: 'string' },
    targets: { type: 'string', default: '70000' },
    series: { type: 'string', default: '5000' },
    resend: { type: 'string', default: '1000' },
  },
});
const SCENARIOS = ['series', 'labels', 'reload', 'validate'] as const;
type Scenario = (typeof SCENARIOS)[number];
if (args.only !== undefined && !SCENARIOS.includes(args.only as Scenario)) {
  throw new Error(`--only must be one of ${SCENARIOS.join(', ')}, not ${args.only}`);
}
const TARGETS = Number(args.targets);
const SERIES = Number(args.series);
const RESEND = Number(args.resend);

const SELF = fileURLToPath(import.meta.url);
// Compiled (npm run bench:stall): dist/bench/stall.js runs the compiled daemon, as production does.
// From source (npx tsx bench/stall.ts): the daemon runs from source through tsx.
const FROM_SOURCE = SELF.endsWith('.ts');
const ROOT = resolve(import.meta.dirname, '..');
const CLI = FROM_SOURCE ? join(ROOT, 'src', 'cli.ts') : join(ROOT, 'src', 'cli.js');
const NODE_ARGS = FROM_SOURCE ? ['--import', pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href, CLI] : [CLI];
const API_TOKEN = 'bench-api-token';
const AM_TOKEN = 'bench-alertmanager-token';
const TARGET_MS = 100;
/** How long one phase may take before the bench gives up on it (the daemon is then killed). */
const PHASE_DEADLINE_MS = 300_000;
const HEALTH_EVERY_MS = 10;

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// the daemon

interface Files {
  dir: string;
  config: string;
  probes: string;
  rules: string;
}

function daemonFiles(port: number, rulesYaml: string): Files {
  const dir = mkdtempSync(join(tmpdir(), 'incidentd-stall-'));
  const probes = join(dir, 'probes');
  const rules = join(dir, 'rules');
  mkdirSync(probes);
  mkdirSync(rules);
  writeFileSync(join(probes, 'none.yaml'), 'targets: []\n');
  writeFileSync(join(rules, 'bench.yaml'), rulesYaml);
  const config = join(dir, 'incidentd.yaml');
  writeFileSync(
    config,
    `listen: { host: 127.0.0.1, port: ${port} }
store: { type: sqlite, path: ${join(dir, 'incidents.db')} }
api: { tokens: [ { name: admin, token: ${API_TOKEN} } ] }
sources:
  - { id: alertmanager, type: alertmanager, tokens: [ ${AM_TOKEN} ], target: { from_label: instance, kind: server } }
ingest: { max_queue: 20000, max_body_bytes: 16777216 }
# Above the 10.9 MB inventory (the default refuses files over 8 MB).
config: { max_file_bytes: 16000000 }
`,
  );
  return { dir, config, probes, rules };
}

class Daemon {
  private out = '';
  readonly exited: Promise<void>;

  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
  ) {
    child.stdout!.on('data', (d) => (this.out += d));
    child.stderr!.on('data', (d) => (this.out += d));
    this.exited = new Promise((r) => child.on('exit', () => r()));
  }

  static async start(files: Files, port: number): Promise<Daemon> {
    const child = spawn(process.execPath, [...NODE_ARGS, 'run', '--config', files.config, '--probes', files.probes, '--rules', files.rules], {
      cwd: files.dir,
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const d = new Daemon(child, port);
    await d.waitForLog(/API listening/, 60_000);
    return d;
  }

  /** Resolves with the first log line (after `from` characters of output) that matches. */
  async waitForLog(pattern: RegExp, timeoutMs: number, from = 0): Promise<string> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const line = this.out.slice(from).split('\n').find((l) => pattern.test(l));
      if (line !== undefined) return line;
      if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`daemon exited:\n${this.out.slice(-4000)}`);
      if (performance.now() > deadline) throw new Error(`no log line matching ${pattern} within ${timeoutMs / 1000} s`);
      await sleep(20);
    }
  }

  get outputLength(): number {
    return this.out.length;
  }

  /** Peak RSS of the daemon so far (VmHWM), in bytes. */
  peakRss(): number {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${this.child.pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP on loopback

const agent = new Agent({ keepAlive: true, maxSockets: 4 });

function http(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolvePromise, reject) => {
    const h = body === undefined ? headers : { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) };
    const req = request({ host: '127.0.0.1', port, method, path, agent, headers: h, timeout: PHASE_DEADLINE_MS }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * The daemon's own largest event-loop delay since the previous scrape (ms), and the CPU time it has
 * used since it started (s): the CPU a phase costs does not depend on what else the machine runs.
 */
async function daemonGauges(port: number): Promise<{ loopMs: number; cpuS: number }> {
  const { text } = await http(port, 'GET', '/metrics');
  const gauge = (name: string): number => {
    const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
    if (!m) throw new Error(`the daemon reports no ${name}`);
    return Number(m[1]);
  };
  return { loopMs: gauge('incidentd_nodejs_eventloop_lag_max_seconds') * 1000, cpuS: gauge('incidentd_process_cpu_seconds_total') };
}

/**
 * GET /healthz every 10 ms (one at a time) until stopped; the slowest answer is the outside view.
 * A failed request ends the polling and is reported by stop().
 */
function pollHealth(port: number): { stop(): Promise<number> } {
  let running = true;
  let maxMs = 0;
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      const res = await http(port, 'GET', '/healthz');
      const ms = performance.now() - t0;
      if (res.status !== 200) throw new Error(`/healthz answered ${res.status}`);
      maxMs = Math.max(maxMs, ms);
      await sleep(Math.max(0, HEALTH_EVERY_MS - ms));
    }
  })();
  const ended = loop.then(
    () => null,
    (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
  );
  return {
    async stop() {
      running = false;
      const err = await ended;
      if (err !== null) throw err;
      return maxMs;
    },
  };
}

interface Measured {
  label: string;
  loopMs: number;
  healthMs: number;
  /** CPU the daemon used during the phase, including the polling of /healthz and of the API. */
  cpuMs: number;
  seconds: number;
  extra?: string | undefined;
}

/** Runs `work` while watching the daemon's loop from inside and outside. */
async function measure(d: Daemon, label: string, work: () => Promise<string | void>): Promise<Measured> {
  const before = await daemonGauges(d.port); // also resets the daemon's delay histogram
  const health = pollHealth(d.port);
  const started = performance.now();
  let extra: string | void;
  try {
    extra = await work();
  } catch (err) {
    await health.stop().catch(() => undefined);
    throw err;
  }
  const seconds = (performance.now() - started) / 1000;
  const healthMs = await health.stop();
  const after = await daemonGauges(d.port);
  return { label, loopMs: after.loopMs, healthMs, cpuMs: (after.cpuS - before.cpuS) * 1000, seconds, extra: extra ?? undefined };
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = performance.now() + PHASE_DEADLINE_MS;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`${what}: not done within ${PHASE_DEADLINE_MS / 1000} s`);
    await sleep(50);
  }
}

async function openIncidents(port: number): Promise<{ occurrences: number }[]> {
  const res = await http(port, 'GET', '/api/v1/incidents?status=open&limit=500', { authorization: `Bearer ${API_TOKEN}` });
  if (res.status !== 200) throw new Error(`GET /api/v1/incidents answered ${res.status}: ${res.text}`);
  return (JSON.parse(res.text) as { items: { occurrences: number }[] }).items;
}

async function postAlertmanager(port: number, alerts: unknown[]): Promise<void> {
  const body = JSON.stringify({ version: '4', status: 'firing', receiver: 'incidentd', groupKey: '{}:{alertname="KubePodCrashLooping"}', alerts });
  const res = await http(port, 'POST', '/api/v1/alertmanager', { authorization: `Bearer ${AM_TOKEN}` }, body);
  if (res.status !== 200) throw new Error(`POST /api/v1/alertmanager answered ${res.status}: ${res.text}`);
}

// ---------------------------------------------------------------------------------------------
// scenarios

const RULE_HEAD = `rules:
  - id: pods
    when: source == "alertmanager" && labels.alertname == "KubePodCrashLooping"
    classify: { category: kubernetes.pods, severity: medium, impact: multiple-users, tier: L1 }
    title: "{{target.name}}: pods crash-looping"
`;

function podAlert(i: number): unknown {
  return {
    status: 'firing',
    labels: { alertname: 'KubePodCrashLooping', instance: 'node-1.example.invalid', namespace: 'shop', pod: `checkout-7d9f8c6b5-${String(i).padStart(5, '0')}`, severity: 'warning' },
    annotations: { summary: `pod ${i} is crash-looping` },
    startsAt: '2026-12-04T10:00:00Z',
    // Alertmanager names every alert by a hash of its labels; this stands in for it.
    fingerprint: (0x5eed0000 + i).toString(16).padStart(16, '0'),
  };
}

/** 5,000 pods under one alertname+instance: one fingerprint fired by 5,000 series. */
async function seriesScenario(): Promise<Measured[]> {
  const port = await freePort();
  const files = daemonFiles(port, RULE_HEAD);
  const d = await Daemon.start(files, port);
  try {
    // A first small post (another alertname) warms the ingest path up, so the figures are the
    // series', not the daemon's first request.
    await postAlertmanager(port, [{ status: 'firing', labels: { alertname: 'WarmUp', instance: 'node-0.example.invalid' }, annotations: {} }]);
    await until('the warm-up alert', async () => (await openIncidents(port)).length > 0);
    const occurrences = async (n: number) => (await openIncidents(port)).some((i) => i.occurrences === n);
    const first = await measure(d, `${SERIES.toLocaleString('en-US')} series posted`, async () => {
      await postAlertmanager(port, Array.from({ length: SERIES }, (_, i) => podAlert(i)));
      await until('the first post', () => occurrences(SERIES));
    });
    const resent = await measure(d, `${RESEND.toLocaleString('en-US')} of them re-sent`, async () => {
      await postAlertmanager(port, Array.from({ length: RESEND }, (_, i) => podAlert(i)));
      await until('the re-send', () => occurrences(SERIES + RESEND));
    });
    return [first, resent];
  } finally {
    await d.stop();
    rmSync(files.dir, { recursive: true, force: true });
  }
}

/** One alert whose label `blob` has 3,000 characters, under a rule that compares every pair of them. */
async function labelsScenario(): Promise<Measured[]> {
  const port = await freePort();
  const rules = `rules:
  - id: costly
    when: source == "alertmanager" && "blob" in labels && labels.blob.split("").exists(c, labels.blob.split("").exists(d, c + d == "#!"))
    classify: { category: security.payload, severity: medium, impact: single-user, tier: L1 }
    title: "{{target.name}}: suspicious payload"
`;
  const files = daemonFiles(port, rules);
  let d: Daemon;
  try {
    d = await Daemon.start(files, port);
  } catch (err) {
    // A cost bound checked at load time is a fine outcome too: the rule never runs.
    rmSync(files.dir, { recursive: true, force: true });
    return [{ label: 'costly rule refused at start', loopMs: NaN, healthMs: NaN, cpuMs: NaN, seconds: 0, extra: (err as Error).message.split('\n').slice(-3).join(' ') }];
  }
  try {
    // A first ordinary alert warms the ingest path up (JIT, prepared statements), so the figure is
    // that of the costly label, not of the daemon's first request.
    await postAlertmanager(port, [{ status: 'firing', labels: { alertname: 'WarmUp', instance: 'web-0.example.invalid' }, annotations: {} }]);
    await until('the warm-up alert', async () => (await openIncidents(port)).length > 0);
    const alert = { status: 'firing', labels: { alertname: 'Payload', instance: 'web-1.example.invalid', blob: 'a'.repeat(3000) }, annotations: {} };
    return [
      await measure(d, '1 alert, 3,000-char label', async () => {
        await postAlertmanager(port, [alert]);
        await until('the alert', async () => (await openIncidents(port)).length > 1);
      }),
    ];
  } finally {
    await d.stop();
    rmSync(files.dir, { recursive: true, force: true });
  }
}

/**
 * An MSP's inventory: `count` targets of 20 customers, each with a label set and a TCP check of a
 * closed port on loopback once an hour (the daemon's jitter spreads the first runs over the hour).
 */
function inventory(count: number): string {
  const out: string[] = ['# generated by bench/stall.ts\ndefaults: { interval: 1h, timeout: 5s }\ntargets:\n'];
  for (let i = 0; i < count; i++) {
    const customer = `cust-${String(i % 20).padStart(3, '0')}`;
    const id = `${customer}-dev-${String(i).padStart(6, '0')}`;
    out.push(
      `  - id: ${id}\n    site: ${customer}\n    labels: { customer: ${customer}, role: switch }\n    checks:\n      - { type: tcp, host: 127.0.0.1, port: 9 }\n`,
    );
  }
  return out.join('');
}

async function reloadScenario(): Promise<Measured[]> {
  const port = await freePort();
  const files = daemonFiles(port, RULE_HEAD);
  const d = await Daemon.start(files, port);
  try {
    const staged = join(files.dir, 'inventory.yaml');
    writeFileSync(staged, inventory(TARGETS));
    const mb = statSync(staged).size / 1024 / 1024;
    const from = d.outputLength;
    let outcome = '';
    const m = await measure(d, `${mb.toFixed(1)} MB inventory (${TARGETS.toLocaleString('en-US')} targets) hot-reloaded`, async () => {
      // One rename into the watched folder, as configuration management delivers a file.
      renameSync(staged, join(files.probes, 'inventory.yaml'));
      const line = await d.waitForLog(/configuration reloaded|reload failed|reload crashed/, PHASE_DEADLINE_MS, from);
      outcome = /configuration reloaded/.test(line) ? 'reloaded' : `FAILED: ${line.slice(0, 200)}`;
    });
    m.extra = `${outcome}; reload ${m.seconds.toFixed(1)} s; daemon peak RSS ${(d.peakRss() / 1024 / 1024).toFixed(0)} MB`;
    return [m];
  } finally {
    await d.stop();
    rmSync(files.dir, { recursive: true, force: true });
  }
}

/** `incidentd validate` on the inventory: wall time and peak RSS of the child (GNU time, else /proc). */
async function validateScenario(): Promise<{ seconds: number; rssMb: number; exit: number | null; output: string }> {
  const files = daemonFiles(await freePort(), RULE_HEAD);
  try {
    writeFileSync(join(files.probes, 'inventory.yaml'), inventory(TARGETS));
    const cmd = [...NODE_ARGS, 'validate', '--config', files.config, '--probes', files.probes, '--rules', files.rules];
    const gnuTime = existsSync('/usr/bin/time');
    const started = performance.now();
    const child = gnuTime
      ? spawn('/usr/bin/time', ['-v', process.execPath, ...cmd], { cwd: files.dir, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(process.execPath, cmd, { cwd: files.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    let hwm = 0;
    const sampler = setInterval(() => {
      try {
        const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) hwm = Math.max(hwm, Number(m[1]) * 1024);
      } catch {
        // gone already
      }
    }, 20);
    const killer = setTimeout(() => child.kill('SIGKILL'), PHASE_DEADLINE_MS);
    const exit = await new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    clearTimeout(killer);
    clearInterval(sampler);
    const seconds = (performance.now() - started) / 1000;
    const fromTime = /Maximum resident set size \(kbytes\): (\d+)/.exec(output);
    const rss = fromTime ? Number(fromTime[1]) * 1024 : hwm;
    const shown = output.replace(/\n\s*Command being timed[\s\S]*$/, '').trim();
    return { seconds, rssMb: rss / 1024 / 1024, exit, output: shown.slice(-300) };
  } finally {
    rmSync(files.dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------

function row(m: Measured): string {
  const ok = (ms: number) => (Number.isNaN(ms) ? '' : ms < TARGET_MS ? 'ok' : 'OVER');
  const loop = Number.isNaN(m.loopMs) ? '-' : `${m.loopMs.toFixed(0)} ms`;
  const health = Number.isNaN(m.healthMs) ? '-' : `${m.healthMs.toFixed(0)} ms`;
  const cpu = Number.isNaN(m.cpuMs) ? '-' : `${m.cpuMs.toFixed(0)} ms`;
  const head = `  ${m.label.padEnd(52)} loop delay max ${loop.padStart(9)} ${ok(m.loopMs).padEnd(4)}  /healthz max ${health.padStart(9)}  daemon CPU ${cpu.padStart(9)}   target < ${TARGET_MS} ms`;
  return m.extra ? `${head}\n      ${m.extra}` : head;
}

async function main(): Promise<void> {
  const run = (s: Scenario) => args.only === undefined || args.only === s;
  console.log(`incidentd stall benchmark: the daemon's largest event-loop delay under adversarial input (${FROM_SOURCE ? 'from source' : 'compiled'})`);
  try {
    if (run('series')) for (const m of await seriesScenario()) console.log(row(m));
    if (run('labels')) for (const m of await labelsScenario()) console.log(row(m));
    if (run('reload')) for (const m of await reloadScenario()) console.log(row(m));
    if (run('validate')) {
      const v = await validateScenario();
      const verdict = v.seconds < 10 && v.rssMb < 500 ? 'ok' : 'OVER';
      console.log(
        `  incidentd validate, ${TARGETS.toLocaleString('en-US')}-target inventory        ${v.seconds.toFixed(1)} s, peak RSS ${v.rssMb.toFixed(0)} MB, exit ${v.exit}   ${verdict}   target < 10 s and < 500 MB`,
      );
      if (v.exit !== 0) console.log(`      ${v.output.replace(/\n/g, '\n      ')}`);
    }
  } finally {
    agent.destroy();
  }
}

await main();
