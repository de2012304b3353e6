// The real daemon process: a batch answered 2xx survives a kill -9 right after the answer.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'src', 'cli.ts');
const TSX = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const API = 'daemon-api-token';
const HOOK = 'daemon-webhook-token';

let dir: string;
const children: ChildProcess[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'incidentd-ingest-'));
  mkdirSync(join(dir, 'probes'));
  mkdirSync(join(dir, 'rules'));
  writeFileSync(join(dir, 'probes', 'none.yaml'), 'targets: []\n');
  writeFileSync(join(dir, 'rules', 'none.yaml'), 'rules: []\n');
});
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

async function startDaemon(port: number): Promise<{ child: ChildProcess; exited: Promise<NodeJS.Signals | null> }> {
  const cfg = join(dir, 'incidentd.yaml');
  writeFileSync(
    cfg,
    `listen: { host: 127.0.0.1, port: ${port} }
store: { type: sqlite, path: ${join(dir, 'incidents.db')} }
api: { tokens: [ { name: admin, token: ${API} } ] }
sources:
  - { id: webhook, type: generic, tokens: [ ${HOOK} ] }
`,
  );
  const child = spawn(
    process.execPath,
    ['--import', TSX, CLI, 'run', '--config', cfg, '--probes', join(dir, 'probes'), '--rules', join(dir, 'rules')],
    { cwd: dir, env: { ...process.env, LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_code, signal) => r(signal)));
  const deadline = Date.now() + 15_000;
  while (!out.includes('API listening')) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`daemon did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, exited };
}

describe('incidentd run with alert sources', () => {
  it('keeps every alert of a batch answered 2xx when killed with SIGKILL right after the answer', async () => {
    const port = await freePort();
    const first = await startDaemon(port);
    const alerts = Array.from({ length: 50 }, (_, i) => ({ name: 'DiskFull', target: `srv-${i}`, status: 'firing' }));
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${HOOK}` },
      body: JSON.stringify({ alerts }),
    });
    // No graceful shutdown: the kill follows the answer at once.
    first.child.kill('SIGKILL');
    expect(res.status).toBe(200);
    expect(await first.exited).toBe('SIGKILL');

    await startDaemon(port);
    const list = await fetch(`http://127.0.0.1:${port}/api/v1/incidents?status=open&limit=500`, {
      headers: { authorization: `Bearer ${API}` },
    });
    expect(list.status).toBe(200);
    const body = (await list.json()) as { items: { target: { id: string } }[] };
    expect(body.items.map((i) => i.target.id).sort()).toEqual(alerts.map((a) => a.target).sort());

    // The journal's work shows in the metrics: one more request, one write of one record.
    const more = await fetch(`http://127.0.0.1:${port}/api/v1/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${HOOK}` },
      body: JSON.stringify({ alerts: [{ name: 'DiskFull', target: 'srv-extra', status: 'firing' }] }),
    });
    expect(more.status).toBe(200);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/^incidentd_intake_journal_records_total 1$/m);
    expect(metrics).toMatch(/^incidentd_intake_journal_write_seconds_count 1$/m);
    expect(metrics).toMatch(/^incidentd_intake_journal_write_errors_total 0$/m);
    expect(metrics).toMatch(/^incidentd_intake_journal_segments [1-9]\d*$/m);
  }, 40_000);
});
