// The real daemon process: a batch answered 2xx, and an SNMP inform answered, survive a kill -9
// right after the answer; a notification in flight at a kill -9 goes out at once after the restart.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ObjectType, type Varbind } from '../../src/probe-kinds/snmp/net-snmp.js';
import { freePort } from '../shared/free-port.js';

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

async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(r));
  return port;
}

/** A data folder of its own under the test dir (config, database, journal). */
function dataDir(name: string): string {
  const home = join(dir, name);
  mkdirSync(home, { recursive: true });
  return home;
}

interface Daemon {
  child: ChildProcess;
  exited: Promise<NodeJS.Signals | null>;
  /** Exit code once exited (null when killed by a signal). */
  code: Promise<number | null>;
  output(): string;
}

/** Writes a config for `home` (database in it) and spawns `incidentd run`; `extra` is appended YAML. */
function spawnDaemon(port: number, opts: { home?: string; extra?: string; name?: string } = {}): Daemon {
  const home = opts.home ?? dir;
  const cfg = join(home, opts.name ?? 'incidentd.yaml');
  writeFileSync(
    cfg,
    `listen: { host: 127.0.0.1, port: ${port} }
store: { type: sqlite, path: ${join(home, 'incidents.db')} }
api: { tokens: [ { name: admin, token: ${API} } ] }
sources:
  - { id: webhook, type: generic, tokens: [ ${HOOK} ] }
${opts.extra ?? ''}`,
  );
  // An explicit environment: a MONGODB_URI of the shell running the tests must not pick the store.
  const child = spawn(
    process.execPath,
    ['--import', TSX, CLI, 'run', '--config', cfg, '--probes', join(dir, 'probes'), '--rules', join(dir, 'rules')],
    { cwd: home, env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const ended = new Promise<[number | null, NodeJS.Signals | null]>((r) => child.on('exit', (code, signal) => r([code, signal])));
  return { child, exited: ended.then(([, signal]) => signal), code: ended.then(([code]) => code), output: () => out };
}

/**
 * Spawns the daemon and waits until /readyz says ready: the API listens before the journal replay
 * of a restart is committed, and a test that counts incidents earlier misses the replayed ones.
 */
async function startDaemon(port: number, opts: { home?: string; extra?: string } = {}): Promise<Daemon> {
  const d = spawnDaemon(port, opts);
  // Generous: on a loaded machine loading the TypeScript sources alone can take many seconds.
  const deadline = Date.now() + 45_000;
  while (!d.output().includes('API listening')) {
    if (Date.now() > deadline || d.child.exitCode !== null) throw new Error(`daemon did not start:\n${d.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  let last = '';
  for (;;) {
    const res = await fetch(`http://127.0.0.1:${port}/readyz`);
    last = await res.text();
    if (res.status === 200) return d;
    if (Date.now() > deadline || d.child.exitCode !== null) throw new Error(`daemon did not get ready: ${last}\n${d.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function postAlerts(port: number, targets: string[]): Promise<Response> {
  return fetch(`http://127.0.0.1:${port}/api/v1/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${HOOK}` },
    body: JSON.stringify({ alerts: targets.map((t) => ({ name: 'DiskFull', target: t, status: 'firing' })) }),
  });
}

/** Targets of every incident in the store, through the API (all pages). */
async function incidentTargets(port: number): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | null = null;
  do {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/incidents?limit=500${cursor ? `&cursor=${cursor}` : ''}`, {
      headers: { authorization: `Bearer ${API}` },
    });
    expect(res.status).toBe(200);
    const page = (await res.json()) as { items: { target: { id: string } }[]; next: string | null };
    out.push(...page.items.map((i) => i.target.id));
    cursor = page.next;
  } while (cursor);
  return out.sort();
}

async function stopDaemon(d: Daemon, signal: NodeJS.Signals): Promise<void> {
  d.child.kill(signal);
  await d.exited;
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

  it('keeps every alert answered 2xx through a restart with nothing in between and a kill -9 under load', async () => {
    const home = mkdtempSync(join(dir, 'restart-'));
    const port = await freePort();
    // Start and stop cleanly with no alerts: the journal's last segment is left empty.
    await stopDaemon(await startDaemon(port, { home }), 'SIGTERM');
    const second = await startDaemon(port, { home });
    // A first batch is committed (the commit lets applied segments go), then a stream of requests;
    // the kill follows the last answer at once.
    expect((await postAlerts(port, ['first'])).status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    const acknowledged = ['first'];
    const requests = Array.from({ length: 20 }, (_, r) => Array.from({ length: 50 }, (_, i) => `srv-${r}-${i}`));
    await Promise.all(
      requests.map(async (targets) => {
        const res = await postAlerts(port, targets);
        if (res.status === 200) acknowledged.push(...targets);
      }),
    );
    second.child.kill('SIGKILL');
    expect(await second.exited).toBe('SIGKILL');
    expect(acknowledged).toHaveLength(1001);

    await startDaemon(port, { home });
    expect(await incidentTargets(port)).toEqual(acknowledged.sort());
  }, 60_000);

  it('refuses a second daemon on the same files with one line, and the first keeps serving and loses nothing', async () => {
    const home = mkdtempSync(join(dir, 'twice-'));
    const port = await freePort();
    const first = await startDaemon(port, { home });
    expect((await postAlerts(port, ['before'])).status).toBe(200);

    // The same config: the journal's lock names the first daemon (before the port is tried).
    const second = spawnDaemon(port, { home });
    expect(await second.code).toBe(3);
    const lines = second.output().trim().split('\n');
    expect(lines.at(-1)).toBe(
      `incidentd: another incidentd (pid ${first.child.pid}) holds the intake journal ${join(home, 'incidents.db-intake')}; ` +
        'one journal serves one daemon: for several instances use MongoDB (store.type: mongodb) and give each its own ingest.journal_dir',
    );
    expect(lines.filter((l) => l.includes('another incidentd'))).toHaveLength(1);
    // Its own journal directory, the same SQLite file: the database's lock refuses it.
    const third = spawnDaemon(await freePort(), { home, name: 'third.yaml', extra: `ingest: { journal_dir: ${join(home, 'other-intake')} }\n` });
    expect(await third.code).toBe(3);
    expect(third.output().trim().split('\n').at(-1)).toBe(
      `incidentd: another incidentd (pid ${first.child.pid}) holds the SQLite database ${join(home, 'incidents.db')}; ` +
        'the embedded store serves one daemon: for several instances use MongoDB (store.type: mongodb or MONGODB_URI)',
    );

    expect((await postAlerts(port, ['after'])).status).toBe(200);
    first.child.kill('SIGKILL');
    await first.exited;
    // The kill -9 ended the first daemon's locks with it; the next start takes them.
    await startDaemon(port, { home });
    expect(await incidentTargets(port)).toEqual(['after', 'before']);
  }, 60_000);
});

// The sending half of net-snmp, typed for this test only.
interface InformSession {
  inform(typeOrOid: string, varbinds: Varbind[], options: object, cb: (err: Error | null) => void): void;
  close(): void;
  on(event: 'error', fn: (err: Error) => void): void;
}
const snmpApi = createRequire(import.meta.url)('net-snmp') as {
  Version2c: number;
  createSession(target: string, community: string, options: object): InformSession;
};
const COMMUNITY = 'daemon-traps';
/** A vendor trap of its own per number: each opens an incident of its own (named by the OID). */
const vendorTrap = (n: number): string => `1.3.6.1.4.1.9999.0.${n}`;
const detail: Varbind[] = [{ oid: '1.3.6.1.4.1.9999.1.1', type: ObjectType.OctetString, value: 'fan failed' }];

describe('incidentd run with SNMP traps', () => {
  it('keeps every inform it answered when killed with SIGKILL at the first answer, and journals traps like alerts', async () => {
    const port = await freePort();
    const trapPort = await freeUdpPort();
    const extra =
      `snmp_traps: { enabled: true, host: 127.0.0.1, port: ${trapPort}, communities: [ ${COMMUNITY} ] }\n` +
      'ingest: { max_queue: 50000, max_body_bytes: 8388608 }\n';
    const first = await startDaemon(port, { home: dataDir('traps'), extra });

    // A large batch of alerts keeps the store busy, so the informs wait behind it to be committed.
    const alerts = Array.from({ length: 8000 }, (_, i) => ({ name: 'DiskFull', target: `srv-${i}`, status: 'firing' }));
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${HOOK}` },
      body: JSON.stringify({ alerts }),
    });
    expect(res.status).toBe(200);

    const session = snmpApi.createSession('127.0.0.1', COMMUNITY, { version: snmpApi.Version2c, trapPort, timeout: 15_000, retries: 0 });
    session.on('error', () => undefined);
    // Informs, one per interface; the daemon is killed as soon as any is answered.
    const answered: number[] = [];
    const settled = Array.from(
      { length: 20 },
      (_, i) =>
        new Promise<void>((resolve) =>
          session.inform(vendorTrap(i + 1), detail, {}, (err) => {
            if (!err) {
              answered.push(i + 1);
              first.child.kill('SIGKILL');
            }
            resolve();
          }),
        ),
    );
    // Should no inform be answered at all, the kill follows their time-outs and the test fails below.
    await Promise.race([first.exited, Promise.all(settled)]);
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    // Answers already on their way when the kill landed count too: they were all given.
    await Promise.all(settled);
    session.close();
    expect(answered.length).toBeGreaterThan(0);

    await startDaemon(port, { home: dataDir('traps'), extra });
    // The restart commits what the journal holds beyond the store's mark, the big batch first.
    const missing = async (): Promise<number[]> => {
      const list = await fetch(`http://127.0.0.1:${port}/api/v1/incidents?status=open&target=127.0.0.1&limit=500`, {
        headers: { authorization: `Bearer ${API}` },
      });
      const body = (await list.json()) as { items: { check: { name: string } }[] };
      const stored = new Set(body.items.map((i) => i.check.name));
      return answered.filter((i) => !stored.has(vendorTrap(i)));
    };
    const deadline = Date.now() + 60_000;
    while ((await missing()).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await missing()).toEqual([]);

    // A trap after the restart goes through the intake journal, as an HTTP alert does.
    const again = snmpApi.createSession('127.0.0.1', COMMUNITY, { version: snmpApi.Version2c, trapPort, timeout: 15_000, retries: 0 });
    again.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => again.inform(vendorTrap(500), detail, {}, (err) => (err ? reject(err) : resolve())));
    again.close();
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/^incidentd_intake_journal_records_total 1$/m);
  }, 180_000);
});

describe('incidentd run with a webhook channel', () => {
  it('after a kill -9 mid-delivery, the restarted daemon takes its claim back and delivers at once, not after the 120 s lease', async () => {
    // The receiver keeps the first request unanswered (the daemon dies waiting); later ones get 204.
    const requests: { key: string; at: number }[] = [];
    const hung: ServerResponse[] = [];
    let firstArrived: () => void = () => undefined;
    const arrived = new Promise<void>((r) => (firstArrived = r));
    const receiver = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      requests.push({ key: String(req.headers['idempotency-key']), at: Date.now() });
      if (requests.length === 1) {
        hung.push(res);
        firstArrived();
        return;
      }
      res.writeHead(204).end();
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const hookPort = (receiver.address() as { port: number }).port;
    try {
      const port = await freePort();
      const extra = `channels:\n  - { id: helpdesk, type: webhook, url: "http://127.0.0.1:${hookPort}/hook", secret: "0123456789abcdef-daemon", timeout: 20s }\n`;
      const first = await startDaemon(port, { home: dataDir('outbox'), extra });
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${HOOK}` },
        body: JSON.stringify({ alerts: [{ name: 'DiskFull', target: 'srv-1', status: 'firing' }] }),
      });
      expect(res.status).toBe(200);
      await arrived;
      // Killed while the delivery is claimed and in flight.
      first.child.kill('SIGKILL');
      expect(await first.exited).toBe('SIGKILL');
      const killedAt = Date.now();

      await startDaemon(port, { home: dataDir('outbox'), extra });
      // Bounded at half the 120 s lease (the restart itself may take a while on a loaded
      // machine): waiting the lease out would fail here.
      const deadline = killedAt + 60_000;
      while (requests.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(requests).toHaveLength(2);
      expect(requests[1]!.key).toBe(requests[0]!.key);
    } finally {
      for (const r of hung) r.destroy();
      receiver.closeAllConnections();
      await new Promise((r) => receiver.close(r));
    }
  }, 150_000);
});

// A real full disk under the journal: a 256 KiB tmpfs (mounting needs root; skipped, and said so,
// where it is refused).
const tmpfs = (() => {
  const root = mkdtempSync(join(tmpdir(), 'incidentd-daemon-fulldisk-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', root]);
  if (r.status === 0) return root;
  rmSync(root, { recursive: true, force: true });
  process.stderr.write(`\n*** SKIPPED: daemon disk-full test: cannot mount a tmpfs (${String(r.stderr).trim() || `exit ${r.status}`}); run it as root ***\n\n`);
  return null;
})();
afterAll(() => {
  if (tmpfs === null) return;
  spawnSync('umount', ['-l', tmpfs]);
  rmSync(tmpfs, { recursive: true, force: true });
});

describe.skipIf(tmpfs === null)('incidentd run with its journal on a full disk', () => {
  it('answers 503 with Retry-After and says not ready while the journal cannot write, then recovers; nothing answered 2xx is lost', async () => {
    const home = mkdtempSync(join(dir, 'full-'));
    const journalDir = join(tmpfs!, 'intake');
    const port = await freePort();
    const extra = `ingest: { journal_dir: ${journalDir} }\n`;
    const d = await startDaemon(port, { home, extra });
    expect((await postAlerts(port, ['before'])).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);

    // Fill the disk.
    const filler = join(tmpfs!, 'filler');
    const fill = () => {
      try {
        for (;;) writeFileSync(filler, Buffer.alloc(4096, 1), { flag: 'a' });
      } catch {
        // ENOSPC
      }
    };
    fill();
    // About 100 KiB: more than the zeros the journal wrote ahead of its records (64 KiB after a
    // start), whose blocks stay its own on a full disk.
    const big = Array.from({ length: 400 }, (_, i) => `full-${i}-${'x'.repeat(180)}`);
    const refused = await postAlerts(port, big);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(((await refused.json()) as { message: string }).message).toMatch(/cannot write the intake journal .*no space left on device.*retry after 5s/);
    // Cutting the partial round off gave the zeros back too; the disk is filled again.
    fill();
    const notReady = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(notReady.status).toBe(503);
    expect(((await notReady.json()) as { checks: Record<string, string> }).checks).toMatchObject({
      store: 'ok',
      journal: expect.stringMatching(/^write failing: .*ENOSPC/),
      commits: 'ok',
    });
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/^incidentd_intake_journal_write_errors_total [1-9]/m);

    // Room again: ready without an alert having to try first, and alerts are taken.
    rmSync(filler);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { checks: Record<string, string> }).checks).toMatchObject({ journal: 'ok' });
    expect((await postAlerts(port, ['after'])).status).toBe(200);

    d.child.kill('SIGKILL');
    await d.exited;
    await startDaemon(port, { home, extra });
    expect(await incidentTargets(port)).toEqual(['after', 'before']);
  }, 60_000);
});

