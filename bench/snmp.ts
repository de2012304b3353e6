// SNMP probe benchmark: polls per second and CPU seconds per 1,000 polls of the snmp, printer and
// wifi-ap kinds against a loopback net-snmp agent running in a child process (so its CPU is not
// counted). `benchSnmp()` is the entry point for bench/probes.ts; run alone for a quick report:
//
//   npx tsx bench/snmp.ts [--polls 2000] [--concurrency 50]
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { printerKind } from '../src/probe-kinds/printer.js';
import { PRINTER_MIB } from '../src/probe-kinds/snmp/oids.js';
import { runProbe } from '../src/probe-kinds/run.js';
import { snmpKind } from '../src/probe-kinds/snmp.js';
import type { ProbeKind } from '../src/probe-kinds/types.js';
import { wifiApKind } from '../src/probe-kinds/wifi-ap.js';
import { startAgent, type AgentValue } from '../test/probe-kinds/snmp-agent.js';
import { fmt, ownCpuSeconds } from './probes/measure.js';

const HERE = fileURLToPath(import.meta.url);

export interface SnmpBenchOptions {
  /** Polls per kind. Default 2,000. */
  polls?: number;
  /** Polls in flight at once. Default 50. */
  concurrency?: number;
}

export interface SnmpBenchRow {
  kind: string;
  polls: number;
  ok: number;
  failSamples: string[];
  wallS: number;
  pollsPerSecond: number;
  cpuS: number;
  cpuSecondsPer1000: number;
}

/** What the agent serves: a small AP with a printer attached, enough for all three kinds. */
function benchValues(): Record<string, AgentValue> {
  const values: Record<string, AgentValue> = {
    '1.3.6.1.2.1.1.3.0': { type: 'TimeTicks', value: 360_000 },
    '1.3.6.1.2.1.1.5.0': { type: 'OctetString', value: 'bench-agent' },
    '1.3.6.1.2.1.25.3.2.1.5.1': { type: 'Integer', value: 2 },
    '1.3.6.1.2.1.25.3.5.1.1.1': { type: 'Integer', value: 3 },
    '1.3.6.1.2.1.25.3.5.1.2.1': { type: 'OctetString', value: Buffer.from([0, 0]) },
    [`${PRINTER_MIB.prtMarkerLifeCount}.1.1`]: { type: 'Counter32', value: 12_345 },
    '1.3.6.1.4.1.41112.1.6.1.2.1.8.1': { type: 'Gauge32', value: 7 },
    '1.3.6.1.4.1.41112.1.6.1.2.1.8.2': { type: 'Gauge32', value: 5 },
  };
  for (let i = 1; i <= 4; i++) {
    values[`1.3.6.1.2.1.2.2.1.2.${i}`] = { type: 'OctetString', value: i === 1 ? 'eth0' : `wifi${i - 2}` };
    values[`1.3.6.1.2.1.2.2.1.3.${i}`] = { type: 'Integer', value: i === 1 ? 6 : 71 };
    values[`1.3.6.1.2.1.2.2.1.7.${i}`] = { type: 'Integer', value: 1 };
    values[`1.3.6.1.2.1.2.2.1.8.${i}`] = { type: 'Integer', value: 1 };
    values[`1.3.6.1.2.1.2.2.1.10.${i}`] = { type: 'Counter32', value: 1000 * i };
  }
  for (let s = 1; s <= 4; s++) {
    values[`1.3.6.1.2.1.43.11.1.1.4.1.${s}`] = { type: 'Integer', value: 3 };
    values[`1.3.6.1.2.1.43.11.1.1.6.1.${s}`] = { type: 'OctetString', value: `Toner ${s}` };
    values[`1.3.6.1.2.1.43.11.1.1.8.1.${s}`] = { type: 'Integer', value: 100 };
    values[`1.3.6.1.2.1.43.11.1.1.9.1.${s}`] = { type: 'Integer', value: 20 * s };
  }
  return values;
}

/** Child-process mode: serve the agent and print its port. */
async function serveAgent(): Promise<void> {
  const agent = await startAgent({ community: 'public', values: benchValues() });
  console.log(JSON.stringify({ port: agent.port }));
  process.stdin.resume();
  process.stdin.once('end', () => void agent.stop().then(() => process.exit(0)));
}

async function startAgentProcess(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', HERE, '--serve-agent'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`snmp agent process exited with code ${code}`)));
  });
  return { child, port: (JSON.parse(line) as { port: number }).port };
}

async function measure(kind: ProbeKind, spec: unknown, polls: number, concurrency: number): Promise<SnmpBenchRow> {
  let next = 0;
  let ok = 0;
  const failSamples: string[] = [];
  const cpu0 = ownCpuSeconds();
  const t0 = performance.now();
  const worker = async () => {
    while (next < polls) {
      next++;
      const r = await runProbe(kind, spec, { timeoutMs: 2000, signal: new AbortController().signal });
      if (r.status === 'ok') ok++;
      else if (failSamples.length < 3) failSamples.push(r.message);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const wallS = (performance.now() - t0) / 1000;
  const cpuS = ownCpuSeconds() - cpu0;
  return { kind: kind.type, polls, ok, failSamples, wallS, pollsPerSecond: polls / wallS, cpuS, cpuSecondsPer1000: (cpuS / polls) * 1000 };
}

/** Polls each SNMP kind `polls` times at `concurrency` against a loopback agent in a child process. */
export async function benchSnmp(options: SnmpBenchOptions = {}): Promise<SnmpBenchRow[]> {
  const polls = options.polls ?? 2000;
  const concurrency = options.concurrency ?? 50;
  const { child, port } = await startAgentProcess();
  try {
    const target = { host: '127.0.0.1', port };
    const cases: Array<[ProbeKind, unknown]> = [
      [snmpKind, snmpKind.schema.parse({ ...target, get: { uptime: '1.3.6.1.2.1.1.3.0', name: '1.3.6.1.2.1.1.5.0' } })],
      [snmpKind, snmpKind.schema.parse({ ...target, walk: { ifIn: '1.3.6.1.2.1.2.2.1.10' } })],
      [printerKind, printerKind.schema.parse(target)],
      [wifiApKind, wifiApKind.schema.parse({ ...target, vendor: 'ubiquiti' })],
    ];
    const rows: SnmpBenchRow[] = [];
    for (const [kind, spec] of cases) {
      const row = await measure(kind, spec, polls, concurrency);
      const label = (spec as { walk?: object }).walk ? 'snmp (walk)' : kind.type === 'snmp' ? 'snmp (get)' : kind.type;
      rows.push({ ...row, kind: label });
    }
    return rows;
  } finally {
    child.stdin?.end();
    child.kill();
  }
}

async function main(): Promise<void> {
  const { values: args } = parseArgs({
    options: { polls: { type: 'string', default: '2000' }, concurrency: { type: 'string', default: '50' }, 'serve-agent': { type: 'boolean', default: false } },
  });
  if (args['serve-agent']) return serveAgent();
  const rows = await benchSnmp({ polls: Number(args.polls), concurrency: Number(args.concurrency) });
  console.log(`SNMP probes against a loopback net-snmp agent (child process), node ${process.version}, concurrency ${args.concurrency}`);
  console.log('  kind          polls   ok     polls/s   CPU s / 1,000 polls');
  for (const r of rows) {
    console.log(
      `  ${r.kind.padEnd(12)}  ${String(r.polls).padStart(5)}  ${String(r.ok).padStart(5)}  ${fmt(r.pollsPerSecond, 0).padStart(9)}  ${fmt(r.cpuSecondsPer1000, 3).padStart(8)}` +
        (r.failSamples.length ? `  FAILED: ${r.failSamples.join(' | ')}` : ''),
    );
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
