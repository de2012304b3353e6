// blackbox_exporter beside incidentd's probe kinds: the exporter runs with icmp, tcp_connect and
// http_2xx modules on a loopback port, and this process drives probes through its
// /probe?target=…&module=… endpoint, as Prometheus does. Only the exporter's process CPU counts
// (utime + stime of /proc/<pid>/stat), not this client's.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sleep } from './measure.js';

// Debian names the binary prometheus-blackbox-exporter; upstream tarballs call it blackbox_exporter.
const BINARIES = ['prometheus-blackbox-exporter', 'blackbox_exporter'];

export function findBlackbox(): string | null {
  for (const b of BINARIES) {
    if (spawnSync('sh', ['-c', `command -v ${b}`], { stdio: 'ignore' }).status === 0) return b;
  }
  return null;
}

export function blackboxVersion(binary: string): string {
  const out = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  return /version (\S+)/.exec(`${out.stdout}${out.stderr}`)?.[1] ?? 'unknown version';
}

const CONFIG = `modules:
  icmp:
    prober: icmp
    timeout: 2s
    icmp:
      preferred_ip_protocol: ip4
  tcp_connect:
    prober: tcp
    timeout: 2s
    tcp:
      preferred_ip_protocol: ip4
  http_2xx:
    prober: http
    timeout: 2s
    http:
      preferred_ip_protocol: ip4
      fail_if_body_not_matches_regexp: ["ok"]
`;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function get(port: number, p: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: p, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.once('error', reject);
    req.end();
  });
}

export interface Blackbox {
  port: number;
  cpuS(): number;
  rssBytes(): number;
  stop(): void;
}

export async function startBlackbox(binary: string): Promise<Blackbox> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-blackbox-'));
  const cfg = path.join(dir, 'blackbox.yml');
  writeFileSync(cfg, CONFIG);
  const port = await freePort();
  const child: ChildProcess = spawn(binary, [`--config.file=${cfg}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (c: Buffer) => (log += c.toString()));
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      if ((await get(port, '/-/healthy')).status === 200) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`blackbox_exporter did not start:\n${log}`);
    await sleep(100);
  }
  const ticks = 100; // CLK_TCK on Linux
  return {
    port,
    cpuS: () => {
      // utime and stime, fields 14 and 15 of /proc/PID/stat.
      const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
      return (Number(f[11]) + Number(f[12])) / ticks;
    },
    rssBytes: () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? NaN) * 1024,
    stop: () => {
      child.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface BlackboxRun {
  module: string;
  probes: number;
  ok: number;
  firstFailure: string | null;
  cpuMsPerProbe: number;
  wallS: number;
}

/**
 * `probes` probes of `module`, spread evenly over `seconds` (the rate incidentd's phase ran at),
 * at most `concurrency` at a time, round-robin over `targets`.
 */
export async function driveBlackbox(
  bb: Blackbox,
  module: string,
  targets: string[],
  probes: number,
  seconds: number,
  concurrency = 64,
): Promise<BlackboxRun> {
  let ok = 0;
  let firstFailure: string | null = null;
  let next = 0;
  const start = Date.now();
  const cpu0 = bb.cpuS();
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= probes) return;
      const due = start + (i * seconds * 1000) / probes;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      const target = encodeURIComponent(targets[i % targets.length]!);
      const res = await get(bb.port, `/probe?target=${target}&module=${module}`);
      if (res.status === 200 && /^probe_success 1$/m.test(res.body)) ok++;
      else firstFailure ??= `HTTP ${res.status}: ${res.body.split('\n').find((l) => l.startsWith('probe_success')) ?? res.body.slice(0, 200)}`;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const cpu = bb.cpuS() - cpu0;
  return { module, probes, ok, firstFailure, cpuMsPerProbe: (cpu * 1000) / probes, wallS: (Date.now() - start) / 1000 };
}
