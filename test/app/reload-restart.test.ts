// A reload of the running daemon (real files, real HTTP, real SQLite): a setting that needs a
// restart is named, with why, and its running value stays in effect; hot settings apply at once.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app/app.js';
import { SystemClock } from '../../src/shared/clock.js';
import type { Logger } from '../../src/shared/logger.js';

type Line = { level: 'info' | 'warn' | 'error' | 'debug'; obj: object; msg: string };

function capturingLogger(lines: Line[]): Logger {
  const at =
    (level: Line['level']) =>
    (obj: object | string, msg?: string): void => {
      if (typeof obj === 'string') lines.push({ level, obj: {}, msg: obj });
      else lines.push({ level, obj, msg: msg ?? '' });
    };
  const logger: Logger = { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug'), child: () => logger };
  return logger;
}

let dir: string;
let app: App | null = null;
let lines: Line[] = [];

function configFile(opts: { port: number; concurrency: number; token: string; maxQueue: number; journalDir?: string }): void {
  writeFileSync(
    join(dir, 'incidentd.yaml'),
    `listen: { host: 127.0.0.1, port: ${opts.port} }
store: { type: sqlite, path: ${join(dir, 'incidentd.db')} }
api: { tokens: [ { name: admin, token: ${opts.token} } ] }
scheduler: { concurrency: ${opts.concurrency} }
ingest: { max_queue: ${opts.maxQueue}${opts.journalDir === undefined ? '' : `, journal_dir: ${opts.journalDir}`} }
`,
  );
}

async function status(path: string, token: string): Promise<number> {
  return (await fetch(`${app!.url}${path}`, { headers: { authorization: `Bearer ${token}` } })).status;
}

const restartWarnings = () => lines.filter((l) => l.level === 'warn' && 'setting' in l.obj);

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'incidentd-reload-'));
  mkdirSync(join(dir, 'probes'));
  mkdirSync(join(dir, 'rules'));
  writeFileSync(join(dir, 'probes', 'none.yaml'), 'targets: []\n');
  writeFileSync(join(dir, 'rules', 'none.yaml'), 'rules: []\n');
  configFile({ port: 9742, concurrency: 4, token: 'first-token-0001', maxQueue: 1000 });
  lines = [];
  app = await createApp({
    paths: { config: join(dir, 'incidentd.yaml'), probesDir: join(dir, 'probes'), rulesDir: join(dir, 'rules') },
    clock: new SystemClock(),
    logger: capturingLogger(lines),
    env: {},
    watch: false,
    port: 0,
  });
});

afterEach(async () => {
  await app?.stop();
  app = null;
  rmSync(dir, { recursive: true, force: true });
});

describe('reload and the settings that need a restart', () => {
  it('names each changed restart-only setting, keeps its running value, and applies the hot ones beside it', async () => {
    configFile({ port: 9743, concurrency: 8, token: 'second-token-0002', maxQueue: 5, journalDir: join(dir, 'elsewhere') });
    expect(await app!.reload()).toBeNull();

    expect(app!.restartPending().map((p) => p.setting)).toEqual(['listen', 'scheduler', 'ingest.journal_dir']);
    expect(restartWarnings().map((l) => [(l.obj as { setting: string }).setting, l.msg])).toEqual([
      ['listen', expect.stringMatching(/^listen changed; it takes effect at the next restart: the HTTP API listens on it/)],
      ['scheduler', expect.stringMatching(/^scheduler changed; it takes effect at the next restart: .*concurrency/)],
      ['ingest.journal_dir', expect.stringMatching(/^ingest.journal_dir changed; .*clean stop/)],
    ]);
    const daemon = app!.config().daemon;
    // The running values, still in effect.
    expect(daemon.listen).toEqual({ host: '127.0.0.1', port: 9742 });
    expect(daemon.scheduler.concurrency).toBe(4);
    expect(daemon.ingest.journalDir).toBeNull();
    // The hot ones, in effect now, including the one beside journal_dir in `ingest`.
    expect(daemon.ingest.maxQueue).toBe(5);
    expect(await status('/api/v1/incidents', 'second-token-0002')).toBe(200);
    expect(await status('/api/v1/incidents', 'first-token-0001')).toBe(401);
    expect(await (await fetch(`${app!.url}/metrics`)).text()).toMatch(/^incidentd_signal_queue_limit 5$/m);
  });

  it('a reload of hot settings only names nothing, and a restart-only setting written back as it runs is no longer pending', async () => {
    configFile({ port: 9743, concurrency: 4, token: 'first-token-0001', maxQueue: 1000 });
    await app!.reload();
    expect(app!.restartPending().map((p) => p.setting)).toEqual(['listen']);

    lines.length = 0;
    configFile({ port: 9742, concurrency: 4, token: 'third-token-0003', maxQueue: 7 });
    expect(await app!.reload()).toBeNull();
    expect(restartWarnings()).toEqual([]);
    expect(app!.restartPending()).toEqual([]);
    expect(app!.config().daemon.ingest.maxQueue).toBe(7);
    expect(await status('/api/v1/incidents', 'third-token-0003')).toBe(200);
  });
});

describe('reload and the audit log', () => {
  it('records each API token a reload adds, removes or changes, never its secret', async () => {
    const write = (tokens: string) =>
      writeFileSync(
        join(dir, 'incidentd.yaml'),
        `listen: { host: 127.0.0.1, port: 9742 }
store: { type: sqlite, path: ${join(dir, 'incidentd.db')} }
api:
  tokens:
${tokens}
`,
      );
    write(`    - { name: boss, token: boss-secret-0001, role: admin }
    - { name: ci, token: ci-secret-0001, role: read }
    - { name: grafana, token: grafana-secret-0001, role: read }`);
    expect(await app!.reload()).toBeNull();
    write(`    - { name: boss, token: boss-secret-0002, role: admin }
    - { name: grafana, token: grafana-secret-0001, role: write }
    - { name: hooks, token: hooks-secret-0001, role: ingest }`);
    expect(await app!.reload()).toBeNull();

    // The reload does not wait for the audit writes (a store outage must not hold it up).
    type Audit = { items: { type: string; actor: string; subject: string; detail: string }[] };
    let body: Audit = { items: [] };
    for (let i = 0; i < 50 && body.items.length < 8; i++) {
      const res = await fetch(`${app!.url}/api/v1/audit`, { headers: { authorization: 'Bearer boss-secret-0002' } });
      expect(res.status).toBe(200);
      body = (await res.json()) as Audit;
      if (body.items.length < 8) await new Promise((r) => setTimeout(r, 40));
    }
    const events = body.items.map((e) => `${e.type} ${e.subject}: ${e.detail}`).reverse();
    expect(events).toEqual([
      // First reload: the one token of the start was replaced by three.
      'token-added boss: role admin; all tenants',
      'token-added ci: role read; all tenants',
      'token-added grafana: role read; all tenants',
      'token-removed admin: was role write; all tenants',
      // Second reload.
      'token-changed boss: secret replaced',
      'token-changed grafana: role read -> write',
      'token-added hooks: role ingest; all tenants',
      'token-removed ci: was role read; all tenants',
    ]);
    expect(new Set(body.items.map((e) => e.actor))).toEqual(new Set(['configuration reload']));
    expect(JSON.stringify(body)).not.toMatch(/secret-000/);
  });
});
