// Readiness at start-up while the alerts the intake journal kept from the last run are replayed:
// the daemon listens at once, but says ready only once they are committed, so whoever counts
// incidents after /readyz turns 200 sees all of them. Real HTTP, real SQLite file, real journal.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp, defaultStore, type App } from '../../src/app/app.js';
import { SystemClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import type { OpResult, StoreOp } from '../../src/store/types.js';

const TOKEN = 'replay-api-token';
const HOOK = 'replay-hook-token';

let dir: string;
const gate = { failing: false, held: null as Promise<void> | null, release: () => undefined as void };
let app: App | null = null;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'incidentd-replay-'));
  mkdirSync(join(dir, 'probes'));
  mkdirSync(join(dir, 'rules'));
  writeFileSync(join(dir, 'probes', 'none.yaml'), 'targets: []\n');
  writeFileSync(join(dir, 'rules', 'none.yaml'), 'rules: []\n');
  writeFileSync(
    join(dir, 'incidentd.yaml'),
    `listen: { host: 127.0.0.1, port: 9742 }
store: { type: sqlite, path: ${join(dir, 'incidentd.db')} }
api: { tokens: [ { name: admin, token: ${TOKEN} } ] }
sources:
  - { id: webhook, type: generic, tokens: [ ${HOOK} ] }
`,
  );
});
afterEach(async () => {
  gate.failing = false;
  gate.release();
  gate.held = null;
  await app?.stop();
  app = null;
  rmSync(dir, { recursive: true, force: true });
});

/** The daemon on the test's files; its store's commits fail while `gate.failing`, wait while `gate.held`. */
function start(): Promise<App> {
  return createApp({
    paths: { config: join(dir, 'incidentd.yaml'), probesDir: join(dir, 'probes'), rulesDir: join(dir, 'rules') },
    clock: new SystemClock(),
    logger: silentLogger(),
    env: {},
    watch: false,
    port: 0,
    makeStore: async (cfg) =>
      new Proxy(await defaultStore(cfg), {
        get(obj, prop, recv) {
          if (prop === 'commit') {
            return async (ops: StoreOp[]): Promise<OpResult[]> => {
              if (gate.failing) throw new Error('SQLITE_IOERR: disk I/O error');
              if (gate.held) await gate.held;
              return obj.commit(ops);
            };
          }
          const v = Reflect.get(obj, prop, recv) as unknown;
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(obj) : v;
        },
      }),
  });
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('readiness while the intake journal is replayed', () => {
  it('is 503 until the alerts answered before the last stop are committed, then 200 with all of them stored', async () => {
    // The first run answers three alerts while its store cannot commit, and stops.
    app = await start();
    gate.failing = true;
    for (const t of ['srv-1', 'srv-2', 'srv-3']) {
      const res = await fetch(`${app.url}/api/v1/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${HOOK}` },
        body: JSON.stringify({ alerts: [{ name: 'DiskFull', target: t, status: 'firing' }] }),
      });
      expect(res.status).toBe(200);
    }
    await app.stop();
    app = null;

    // The next run listens while its first commit (the replay) is still in the store.
    gate.failing = false;
    gate.held = new Promise<void>((r) => (gate.release = () => r()));
    app = await start();
    const url = app.url;
    const readyz = async () => {
      const res = await fetch(`${url}/readyz`);
      return { status: res.status, checks: ((await res.json()) as { checks: Record<string, string> }).checks };
    };
    const stored = async () => {
      const res = await fetch(`${url}/api/v1/incidents`, { headers: { authorization: `Bearer ${TOKEN}` } });
      return ((await res.json()) as { items: unknown[] }).items.length;
    };
    const before = await readyz();
    expect(before.status).toBe(503);
    expect(before.checks.commits).toMatch(/replaying the intake journal/);
    expect(await stored()).toBe(0);

    gate.release();
    await until('ready', async () => (await readyz()).status === 200);
    expect(await stored()).toBe(3);
  }, 30_000);
});
