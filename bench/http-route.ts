// The alert route's own per-request CPU (`npm run bench:http-route`): buildApi as the daemon builds
// it (every global hook: the guard, the span hooks, the not-found handler) with a no-op ingest, so
// neither the journal nor the store is measured, loaded by a child process over 8 keep-alive
// connections with one alert per POST /api/v1/alerts (batch 1, the case where per-request cost
// dominates). Prints the server process's CPU per request; `--plain` runs a bare Fastify route that
// parses the same JSON instead, the floor the framework itself sets.
//
//   npm run bench:http-route -- [--seconds 5] [--repeat 3] [--plain]
import { fork } from 'node:child_process';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { createMetrics } from '../src/api/metrics.js';
import { buildApi } from '../src/api/server.js';
import type { ApiToken } from '../src/config-core/types.js';
import { ingestSchema } from '../src/config-core/schemas.js';
import type { IncidentCommands } from '../src/incidents/types.js';
import { SystemClock } from '../src/shared/clock.js';
import { silentLogger } from '../src/shared/logger.js';
import { sourcesSchema } from '../src/sources/config.js';
import type { IncidentStore } from '../src/store/types.js';

const SELF = fileURLToPath(import.meta.url);
const TOKEN = 'bench-token';
const CONNECTIONS = 8;
const WARMUP_MS = 1000;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}

/** The load generator (child process): reports 'start' after the warm-up, then the requests counted. */
async function load(url: string, seconds: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const body = JSON.stringify({
    alerts: [{ name: 'HighLoad', target: 'srv-7', status: 'firing', severity: 'warning', labels: { job: 'node' }, annotations: { summary: 'load high on srv-7' } }],
  });
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, 'content-length': String(Buffer.byteLength(body)) };
  let done = 0;
  let errors = 0;
  let stop = false;
  const one = () =>
    new Promise<void>((resolve) => {
      const req = request(`${url}/api/v1/alerts`, { method: 'POST', agent, headers }, (res) => {
        if (res.statusCode !== 200) errors++;
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(body);
    });
  const workers = Array.from({ length: CONNECTIONS }, async () => {
    while (!stop) {
      await one();
      done++;
    }
  });
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  const from = done;
  process.send!('start');
  await new Promise((r) => setTimeout(r, seconds * 1000));
  process.send!({ requests: done - from, errors });
  stop = true;
  await Promise.all(workers);
  agent.destroy();
}

async function server(plain: boolean) {
  if (plain) {
    const app = Fastify({ logger: false });
    app.post('/api/v1/alerts', async (req) => ({ status: 'success', accepted: (req.body as { alerts: unknown[] }).alerts.length }));
    return app;
  }
  const clock = new SystemClock();
  const sources = sourcesSchema.parse([{ id: 'bench', type: 'generic', tokens: [TOKEN] }]);
  const ingest = ingestSchema.parse({});
  const tokens: ApiToken[] = [{ name: 'admin', token: 'bench-admin', role: 'admin' }];
  return buildApi({
    store: {} as IncidentStore,
    commands: {} as IncidentCommands,
    tokens: () => tokens,
    ready: async () => ({ ready: true, checks: {} }),
    metrics: createMetrics({ countActive: async () => ({ minor: 0, medium: 0, severe: 0, major: 0 }) }),
    logger: silentLogger(),
    clock,
    // Like the daemon's browser sessions: asked only where a route takes API credentials.
    authenticators: [{ name: 'session', authenticate: () => null }],
    alerts: {
      ingest: { submitMany: async () => undefined, queued: () => 0, acknowledgeSeries: async () => undefined },
      sources: () => sources,
      apiTokens: () => tokens,
      limits: () => ingest,
      clock,
      logger: silentLogger(),
    },
  });
}

async function run(plain: boolean, seconds: number): Promise<number> {
  const app = await server(plain);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const child = fork(SELF, ['--load', url, String(seconds)], { execArgv: process.execArgv });
  let from: NodeJS.CpuUsage | undefined;
  const result = await new Promise<{ requests: number; errors: number; cpu: NodeJS.CpuUsage }>((resolve) => {
    child.on('message', (m: 'start' | { requests: number; errors: number }) => {
      if (m === 'start') from = process.cpuUsage();
      else resolve({ ...m, cpu: process.cpuUsage(from) });
    });
  });
  await new Promise((r) => child.once('exit', r));
  await app.close();
  if (result.errors > 0) throw new Error(`${result.errors} requests failed`);
  const perRequest = (result.cpu.user + result.cpu.system) / result.requests;
  console.log(
    `  ${plain ? 'bare Fastify route' : 'incidentd alert route'}: ${Math.round(result.requests / seconds)} requests/s, ` +
      `${perRequest.toFixed(1)} µs CPU/request (user ${(result.cpu.user / result.requests).toFixed(1)}, system ${(result.cpu.system / result.requests).toFixed(1)})`,
  );
  return perRequest;
}

if (process.argv.includes('--load')) {
  const i = process.argv.indexOf('--load');
  await load(process.argv[i + 1]!, Number(process.argv[i + 2]));
} else {
  const seconds = arg('--seconds', 5);
  const repeat = arg('--repeat', 3);
  const plain = process.argv.includes('--plain');
  console.log(`HTTP per-request CPU of POST /api/v1/alerts, batch 1, ${CONNECTIONS} keep-alive connections, ${seconds}s per run, node ${process.version}`);
  const runs: number[] = [];
  for (let r = 0; r < repeat; r++) runs.push(await run(plain, seconds));
  const sorted = [...runs].sort((a, b) => a - b);
  console.log(`  over ${repeat} runs: ${sorted[0]!.toFixed(1)} – ${sorted.at(-1)!.toFixed(1)} µs CPU/request (median ${sorted[Math.floor(repeat / 2)]!.toFixed(1)})`);
}
