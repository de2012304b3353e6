// Readiness of the running daemon while the store's commits fail: over real HTTP, with the real
// SQLite file, the store's commit made to fail and then work again.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp, defaultStore, type App } from '../../src/app/app.js';
import { SystemClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import type { IncidentStore } from '../../src/store/types.js';

const TOKEN = 'health-api-token';
const HOOK = 'health-hook-token';

let dir: string;
let app: App | null = null;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'incidentd-health-'));
  mkdirSync(join(dir, 'probes'));
  mkdirSync(join(dir, 'rules'));
  writeFileSync(join(dir, 'probes', 'none.yaml'), 'targets: []\n');
  writeFileSync(join(dir, 'rules', 'none.yaml'), 'rules: []\n');
  writeFileSync(
    join(dir, 'incidentd.yaml'),
    `listen: { host: 127.0.0.1, port: 9741 }
store: { type: sqlite, path: ${join(dir, 'incidentd.db')} }
api: { tokens: [ { name: admin, token: ${TOKEN} } ] }
sources:
  - { id: webhook, type: generic, tokens: [ ${HOOK} ] }
`,
  );
});
afterEach(async () => {
  await app?.stop();
  app = null;
  rmSync(dir, { recursive: true, force: true });
});

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('readiness while the store cannot commit', () => {
  it('says not ready with the commit error while commits are retried, and ready again once one succeeds', async () => {
    const failing = { on: false };
    app = await createApp({
      paths: { config: join(dir, 'incidentd.yaml'), probesDir: join(dir, 'probes'), rulesDir: join(dir, 'rules') },
      clock: new SystemClock(),
      logger: silentLogger(),
      env: {},
      watch: false,
      port: 0,
      // The real store; its commits fail while `failing.on` (a disk that refuses writes).
      makeStore: async (cfg) => {
        const real = await defaultStore(cfg);
        return new Proxy(real, {
          get(obj, prop, recv) {
            if (prop === 'commit') {
              return (ops: Parameters<IncidentStore['commit']>[0]) =>
                failing.on ? Promise.reject(new Error('SQLITE_FULL: database or disk is full')) : obj.commit(ops);
            }
            const v = Reflect.get(obj, prop, recv);
            return typeof v === 'function' ? v.bind(obj) : v;
          },
        });
      },
    });
    const readyz = async () => {
      const res = await fetch(`${app!.url}/readyz`);
      return { status: res.status, checks: ((await res.json()) as { checks: Record<string, string> }).checks };
    };
    expect(await readyz()).toEqual({ status: 200, checks: { store: 'ok', journal: 'ok', commits: 'ok' } });

    failing.on = true;
    const res = await fetch(`${app.url}/api/v1/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${HOOK}` },
      body: JSON.stringify({ alerts: [{ name: 'DiskFull', target: 'srv-1', status: 'firing' }] }),
    });
    // Journaled, so taken; its commit is what fails.
    expect(res.status).toBe(200);
    await until('not ready', async () => (await readyz()).status === 503);
    expect((await readyz()).checks).toEqual({ store: 'ok', journal: 'ok', commits: 'failing: SQLITE_FULL: database or disk is full' });

    failing.on = false;
    await until('ready again', async () => (await readyz()).status === 200);
    const list = await fetch(`${app.url}/api/v1/incidents`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(((await list.json()) as { items: unknown[] }).items).toHaveLength(1);
  }, 30_000);
});
