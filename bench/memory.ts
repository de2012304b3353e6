// Memory benchmark: the real daemon (the compiled CLI, `incidentd run`) with 1,000 and 15,000
// generated checks (two thirds tcp, one third http) against loopback servers this benchmark starts,
// the default configuration otherwise and its SQLite store in a temporary folder. Per size it prints
// the start-up time (spawn to GET /readyz answering 200), the steady RSS (median of one-second samples
// over the last interval, after two whole intervals), the peak RSS (VmHWM of /proc/<pid>/status)
// and the V8 heap used (from the daemon's /metrics). The daemon runs as it ships, `node
// dist/bundle/cli.js run` (--unbundled: tsc's dist/src/cli.js, to compare), with the environment
// the shipped systemd unit gives it (its Environment= lines, e.g. MALLOC_ARENA_MAX; the Docker image
// sets the same), as a server runs it; --plain-env leaves those out, as `npm start` from a shell
// runs it.
//
//   npm run bench:memory                       both sizes (about 4 minutes)
//   npm run bench:memory -- --sizes 15000      one size
//   npm run bench:memory -- --snapshot         also writes a heap snapshot of each daemon once
//                                              steady, and prints its largest constructors
//   npm run bench:memory -- --timeline         also prints the RSS every 5 s and when it peaked
//   --help for every flag.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { daemonCli } from './daemon-cli.js';
import { summarizeHeapSnapshot } from './memory/heap-summary.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
// Run from dist/bench (compiled) or bench (tsx): the CLI is always the compiled one.
const ROOT = [resolve(HERE, '..'), resolve(HERE, '..', '..')].find((d) => {
  try {
    return statSync(join(d, 'package.json')).isFile();
  } catch {
    return false;
  }
})!;

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,15000' },
    interval: { type: 'string', default: '30' },
    snapshot: { type: 'boolean', default: false },
    detail: { type: 'boolean', default: false },
    timeline: { type: 'boolean', default: false },
    'startup-only': { type: 'boolean', default: false },
    'plain-env': { type: 'boolean', default: false },
    unbundled: { type: 'boolean', default: false },
    'node-arg': { type: 'string', multiple: true, default: [] },
    'cpu-prof': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (args.help) {
  console.log(`usage: npm run bench:memory -- [flags]
  --sizes <n,n>     numbers of checks, one daemon each (default 1000,15000)
  --interval <s>    the checks' interval (default 30, the probes files' default)
  --snapshot        write a heap snapshot of each daemon once steady (SIGUSR2) and print its largest constructors
  --startup-only    stop each daemon once ready (start-up time and the peak RSS of start-up only)
  --detail          also print the V8 heap spaces (size and used) once steady
  --timeline        also print the RSS every 5 s from spawn on, when the peak was reached, and the
                    V8 old space's used size every 5 s (garbage between full GCs)
  --plain-env       leave out the environment of the shipped systemd unit (deploy/incidentd.service's
                    Environment= lines, e.g. MALLOC_ARENA_MAX), as \`npm start\` from a shell runs the daemon
  --unbundled       run tsc's dist/src/cli.js instead of the bundle that ships (dist/bundle/cli.js)
  --node-arg <a>    a flag for the daemon's node (repeatable), e.g. --node-arg=--max-semi-space-size=8
  --cpu-prof <dir>  the daemon runs with node --cpu-prof and writes its profile into <dir> when it stops
                    (with --startup-only: a profile of start-up)`);
  process.exit(0);
}

const CLI = daemonCli(ROOT, 'bench:memory', args.unbundled);
const SIZES = args.sizes.split(',').map(Number);
/** The systemd unit's Environment= settings (NAME=value), which the Docker image sets too. */
const UNIT_ENV: Record<string, string> = args['plain-env']
  ? {}
  : Object.fromEntries(
      [...readFileSync(join(ROOT, 'deploy', 'incidentd.service'), 'utf8').matchAll(/^Environment=([A-Z_][A-Z0-9_]*)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]),
    );
const INTERVAL_S = Number(args.interval);
const MB = 1024 * 1024;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

async function startTargets(): Promise<{ child: ChildProcess; tcp: number[]; http: number[] }> {
  const server = join(ROOT, 'bench', 'probes', 'server.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', server], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolveLine, reject) => {
    createInterface({ input: child.stdout }).once('line', resolveLine);
    child.once('exit', (code) => reject(new Error(`target server exited with code ${code}`)));
  });
  return { child, ...(JSON.parse(line) as { tcp: number[]; http: number[] }) };
}

/** A probes file of n targets with one check each: two thirds tcp, one third http, all on loopback. */
function probesYaml(n: number, tcp: number[], http: number[]): string {
  const out = ['defaults:', `  interval: ${INTERVAL_S}s`, '  timeout: 5s', 'targets:'];
  for (let i = 0; i < n; i++) {
    out.push(`  - id: t${i}`, `    site: site-${i % 50}`, `    labels: { customer: c${i % 20} }`, '    checks:');
    if (i % 3 === 2) out.push(`      - { type: http, url: "http://127.0.0.1:${http[i % http.length]}/t/${i}" }`);
    else out.push(`      - { type: tcp, host: 127.0.0.1, port: ${tcp[i % tcp.length]} }`);
  }
  return `${out.join('\n')}\n`;
}

function get(port: number, path: string): Promise<{ status: number; text: string }> {
  return new Promise((resolveGet, reject) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 10_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolveGet({ status: res.statusCode ?? 0, text }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

function procStatus(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

interface Result {
  log: string;
  checks: number;
  startupS: number;
  rssSteady: number;
  rssPeak: number;
  heapUsed: number;
  runs: number;
  /** The daemon's CPU over the sampled interval, as a share of one core. */
  cpuShare: number;
  snapshot?: string;
  /** RSS sampled once a second from spawn on: [seconds since spawn, bytes]. */
  timeline: [number, number][];
  /** With --timeline: the old space's used bytes every 5 s (from /metrics): [seconds since spawn, bytes]. */
  oldSpace: [number, number][];
  /** V8 heap spaces once steady: name, size, used (bytes). */
  spaces: { space: string; size: number; used: number }[];
}

async function measure(n: number, tcp: number[], http: number[]): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'incidentd-memory-'));
  try {
    mkdirSync(join(dir, 'probes'));
    writeFileSync(join(dir, 'probes', 'inventory.yaml'), probesYaml(n, tcp, http));
    // The shipped daemon configuration, with its listen port and store moved into the temp folder.
    const port = await freePort();
    const shipped = readFileSync(join(ROOT, 'config', 'incidentd.yaml'), 'utf8')
      .replace(/^ {2}port: 9740$/m, `  port: ${port}`)
      .replace(/^ {2}path: \.\.\/data\/incidentd\.db$/m, `  path: ${join(dir, 'incidentd.db')}`);
    if (!shipped.includes(`port: ${port}`) || !shipped.includes(dir)) throw new Error('config/incidentd.yaml changed: update bench/memory.ts');
    writeFileSync(join(dir, 'incidentd.yaml'), shipped);

    const nodeArgs = [
      ...args['node-arg'],
      ...(args.snapshot ? ['--heapsnapshot-signal=SIGUSR2'] : []),
      ...(args['cpu-prof'] !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${resolve(args['cpu-prof'])}`] : []),
    ];
    const t0 = performance.now();
    const child = spawn(
      process.execPath,
      [...nodeArgs, CLI, 'run', '--config', join(dir, 'incidentd.yaml'), '--probes', join(dir, 'probes'), '--rules', join(ROOT, 'rules')],
      { cwd: dir, env: { ...UNIT_ENV, PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    // The daemon's output (warnings, and what --node-arg=--trace-gc prints) is kept for a look after.
    const log = join(tmpdir(), `incidentd-memory-${n}.log`);
    // Where in the daemon's life the RSS peaks (start-up, first interval, a later full GC).
    const timeline: [number, number][] = [];
    const oldSpace: [number, number][] = [];
    let ticks = 0;
    const sampler = setInterval(() => {
      try {
        timeline.push([(performance.now() - t0) / 1000, procStatus(child.pid!, 'VmRSS')]);
      } catch {
        // gone already
      }
      // The old space every 5 s tells garbage piling up between full GCs from other growth.
      if (args.timeline && ++ticks % 5 === 0) {
        const at = (performance.now() - t0) / 1000;
        get(port, '/metrics')
          .then((m) => {
            const used = /^incidentd_nodejs_heap_space_size_used_bytes\{space="old"\} (\S+)$/m.exec(m.text)?.[1];
            if (used !== undefined) oldSpace.push([at, Number(used)]);
          })
          .catch(() => {});
      }
    }, 1000);
    child.stdout.pipe(createWriteStream(log));
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const pid = child.pid!;
    try {
      for (;;) {
        if (child.exitCode !== null) throw new Error(`daemon exited with ${child.exitCode}:\n${stderr.slice(-3000)}`);
        const res = await get(port, '/readyz').catch(() => null);
        if (res?.status === 200) break;
        if (performance.now() - t0 > 120_000) throw new Error(`not ready within 120 s:\n${stderr.slice(-3000)}`);
        await sleep(25);
      }
      const startupS = (performance.now() - t0) / 1000;
      if (args['startup-only']) {
        const peak = procStatus(pid, 'VmHWM');
        return { log, checks: n, startupS, rssSteady: NaN, rssPeak: peak, heapUsed: NaN, runs: 0, spaces: [], cpuShare: NaN, timeline, oldSpace };
      }
      // Two whole intervals for every check to have run (first runs are spread over one), then one
      // interval of samples.
      await sleep(2 * INTERVAL_S * 1000);
      const cpuAt = async (): Promise<number> =>
        Number(/^incidentd_process_cpu_seconds_total (\S+)$/m.exec((await get(port, '/metrics')).text)?.[1] ?? NaN);
      const cpu0 = await cpuAt();
      const samples: number[] = [];
      for (let s = 0; s < INTERVAL_S; s++) {
        samples.push(procStatus(pid, 'VmRSS'));
        await sleep(1000);
      }
      samples.sort((a, b) => a - b);
      const metrics = (await get(port, '/metrics')).text;
      const cpuShare = (Number(/^incidentd_process_cpu_seconds_total (\S+)$/m.exec(metrics)?.[1] ?? NaN) - cpu0) / INTERVAL_S;
      const gauge = (re: RegExp): number => Number(re.exec(metrics)?.[1] ?? NaN);
      const heapUsed = gauge(/^incidentd_nodejs_heap_size_used_bytes (\S+)$/m);
      let runs = 0;
      for (const m of metrics.matchAll(/^incidentd_probe_runs_total\{[^}]*\} (\S+)$/gm)) runs += Number(m[1]);
      const rssPeak = procStatus(pid, 'VmHWM');
      const spaces: Result['spaces'] = [];
      for (const m of metrics.matchAll(/^incidentd_nodejs_heap_space_size_total_bytes\{space="([^"]+)"\} (\S+)$/gm)) {
        const used = gauge(new RegExp(`^incidentd_nodejs_heap_space_size_used_bytes\\{space="${m[1]}"\\} (\\S+)$`, 'm'));
        spaces.push({ space: m[1]!, size: Number(m[2]), used });
      }
      const result: Result = { log, checks: n, startupS, rssSteady: samples[Math.floor(samples.length / 2)]!, rssPeak, heapUsed, runs, spaces, cpuShare, timeline, oldSpace };
      if (args.snapshot) {
        child.kill('SIGUSR2');
        // Written into the daemon's cwd as Heap.*.heapsnapshot; wait for the file to stop growing.
        let last = -1;
        for (let i = 0; i < 600; i++) {
          await sleep(1000);
          const f = readdirSync(dir).find((x) => x.endsWith('.heapsnapshot'));
          if (f === undefined) continue;
          const size = statSync(join(dir, f)).size;
          if (size > 0 && size === last) {
            const keep = join(tmpdir(), `incidentd-memory-${n}.heapsnapshot`);
            writeFileSync(keep, readFileSync(join(dir, f)));
            result.snapshot = keep;
            break;
          }
          last = size;
        }
      }
      return result;
    } finally {
      clearInterval(sampler);
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const targets = await startTargets();
try {
  const envNote = Object.keys(UNIT_ENV).length === 0 ? 'no environment of the systemd unit' : `the systemd unit's environment: ${Object.entries(UNIT_ENV).map(([k, v]) => `${k}=${v}`).join(' ')}`;
  console.log(`incidentd memory: node ${CLI} run (${envNote}), checks every ${INTERVAL_S} s (2/3 tcp, 1/3 http on loopback), default config, SQLite in a temp folder`);
  for (const n of SIZES) {
    const r = await measure(n, targets.tcp, targets.http);
    console.log(
      `  ${String(r.checks).padStart(6)} checks   start-up ${r.startupS.toFixed(2)} s   RSS steady ${(r.rssSteady / MB).toFixed(0)} MB   ` +
        `peak ${(r.rssPeak / MB).toFixed(0)} MB   heap used ${(r.heapUsed / MB).toFixed(0)} MB   ` +
        `CPU ${(r.cpuShare * 100).toFixed(1)} % of a core   (${r.runs} runs counted; load average ${loadavg()[0]!.toFixed(1)})`,
    );
    if (args.detail) {
      console.log(`    daemon output: ${r.log}`);
      console.log(`    heap spaces (size / used, MB): ${r.spaces.map((s) => `${s.space} ${(s.size / MB).toFixed(0)}/${(s.used / MB).toFixed(0)}`).join(', ')}`);
    }
    if (args.timeline && r.timeline.length > 0) {
      const top = r.timeline.reduce((a, b) => (b[1] > a[1] ? b : a));
      const every5 = r.timeline.filter((_, i) => i % 5 === 4);
      console.log(`    RSS every 5 s (s: MB): ${every5.map(([t, b]) => `${t.toFixed(0)}: ${(b / MB).toFixed(0)}`).join(', ')}`);
      console.log(`    old space used every 5 s (s: MB): ${r.oldSpace.map(([t, b]) => `${t.toFixed(0)}: ${(b / MB).toFixed(0)}`).join(', ')}`);
      console.log(`    highest sampled RSS ${(top[1] / MB).toFixed(0)} MB at ${top[0].toFixed(0)} s (start-up ended at ${r.startupS.toFixed(1)} s)`);
    }
    if (r.snapshot !== undefined) {
      console.log(`    heap snapshot: ${r.snapshot}; largest by self size:`);
      for (const row of summarizeHeapSnapshot(r.snapshot, 25)) {
        console.log(`      ${(row.selfBytes / MB).toFixed(1).padStart(7)} MB  ${String(row.count).padStart(9)}  ${row.name}`);
      }
    }
  }
} finally {
  targets.child.stdin!.end();
}
