// `incidentd silence add|list|expire` as an admin runs it: a real process talking to a running
// daemon (createApp on loopback, real SQLite) and what the incidents API shows afterwards.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { compileCli as buildCli } from './cli-build.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../src/app/app.js';
import { SystemClock } from '../src/shared/clock.js';
import { silentLogger } from '../src/shared/logger.js';
import { sig, target } from './incidents/harness.js';
import { freePort } from './shared/free-port.js';

const run = promisify(execFile);
const SPAWN_TIMEOUT = 60_000;
const TOKEN = 'tok-silence-cli-5b1e';
let CLI = '';
let built = '';
let dir = '';
let app: App | null = null;

async function compileCli(): Promise<void> {
  ({ cli: CLI, dir: built } = await buildCli('silence-cli'));
}

async function incidentd(args: string[], env: Record<string, string> = { INCIDENTD_TOKEN: TOKEN }) {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, 'silence', ...args], { cwd: dir, env: { PATH: process.env.PATH ?? '', ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function incident(number: string) {
  const res = await fetch(`${app!.url}/api/v1/incidents/${number}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return (await res.json()) as { silencedBy: string[]; timeline: { action: string; message: string }[] };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'incidentd-silence-cli-'));
  mkdirSync(join(dir, 'config'));
  mkdirSync(join(dir, 'probes'));
  mkdirSync(join(dir, 'rules'));
  // The CLI finds the daemon through the listen address in config/incidentd.yaml (its default).
  writeFileSync(
    join(dir, 'config', 'incidentd.yaml'),
    `listen: { host: 127.0.0.1, port: ${await freePort()} }
store: { type: sqlite, path: ${join(dir, 'incidentd.db')} }
api: { tokens: [ { name: ops-team, token: "${TOKEN}" } ] }
`,
  );
  writeFileSync(join(dir, 'probes', 'none.yaml'), 'targets: []\n');
  writeFileSync(join(dir, 'rules', 'none.yaml'), 'rules: []\n');
  await compileCli();
  app = await createApp({
    paths: { config: join(dir, 'config', 'incidentd.yaml'), probesDir: join(dir, 'probes'), rulesDir: join(dir, 'rules') },
    clock: new SystemClock(),
    logger: silentLogger(),
    env: {},
    watch: false,
  });
}, SPAWN_TIMEOUT);

afterAll(async () => {
  await app?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (built) rmSync(built, { recursive: true, force: true });
});

describe('incidentd silence', { timeout: SPAWN_TIMEOUT }, () => {
  it('adds, lists and expires a silence; the incident it held back shows it and is released', async () => {
    const add = await incidentd(['add', '--match', 'target=printer-3f', '--match', 'check=~ic.*', '--duration', '2h', '--comment', 'toner swap, ticket 4711']);
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    const id = add.stdout.trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);

    // As alerts: the daemon drops probe results of checks its probe files do not name.
    await app!.manager.submit({ ...sig(target('printer-3f'), 'fail', Date.now()), source: 'generic' });
    await app!.manager.submit({ ...sig(target('core-sw'), 'fail', Date.now()), source: 'generic' });
    let held = await incident('INC-000001');
    expect(held.silencedBy).toEqual([id]);
    expect(held.timeline.map((t) => t.message)).toContain(`held back by silence ${id} (toner swap, ticket 4711)`);
    expect((await incident('INC-000002')).silencedBy).toEqual([]);

    const list = await incidentd(['list']);
    expect(list.code).toBe(0);
    const [line] = list.stdout.trim().split('\n');
    expect(line!.split('\t')).toEqual([id, 'active', expect.any(String), expect.any(String), 'ops-team', 'target=printer-3f check=~ic.*', 'toner swap, ticket 4711']);

    const expire = await incidentd(['expire', id]);
    expect(expire).toMatchObject({ code: 0, stdout: `expired ${id}\n` });
    held = await incident('INC-000001');
    // The expiry sweeps at once: the incident is announced, no longer held back.
    for (let i = 0; i < 100 && held.silencedBy.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      held = await incident('INC-000001');
    }
    expect(held.silencedBy).toEqual([]);
    expect(held.timeline.at(-1)).toMatchObject({ action: 'announced', message: expect.stringContaining(`silence ${id} is over`) });

    const expired = await incidentd(['list', '--state', 'expired']);
    expect(expired.stdout).toContain(`${id}\texpired\t`);
    const none = await incidentd(['list']);
    expect(none).toMatchObject({ code: 0, stdout: '', stderr: 'no pending or active silences\n' });
  });

  it('says in one line what is wrong: bad input, an unknown id, a wrong token, no daemon', async () => {
    const bad = await incidentd(['add', '--match', 'labels.alertname=~Disk((', '--duration', '1h', '--comment', 'x']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^incidentd: POST \/api\/v1\/silences failed \(400\): matchers\[0\]: invalid regular expression "Disk\(\(".*\n$/);
    // A tenant that is not configured: the silence would hold back nothing, so it is refused.
    const tenant = await incidentd(['add', '--match', 'target=ap-1', '--comment', 'x', '--tenant', 'initech']);
    expect(tenant).toMatchObject({ code: 1, stderr: expect.stringMatching(/^incidentd: POST \/api\/v1\/silences failed \(400\): tenant: no tenant "initech".*\n$/) });
    const unknown = await incidentd(['expire', 'no-such-silence']);
    expect(unknown).toMatchObject({ code: 1, stderr: expect.stringMatching(/^incidentd: .*\(404\): no silence with id "no-such-silence".*\n$/) });
    const wrong = await incidentd(['list', '--token', 'not-the-token']);
    expect(wrong).toMatchObject({ code: 1, stderr: expect.stringMatching(/^incidentd: the daemon refused the token \(401\): invalid API token.*\n$/) });
    const notoken = await incidentd(['list'], {});
    expect(notoken).toMatchObject({ code: 1, stderr: 'incidentd: no API token: pass --token or set INCIDENTD_TOKEN to a token from api.tokens\n' });
    const down = await incidentd(['list', '--url', `http://127.0.0.1:${await freePort()}`]);
    expect(down).toMatchObject({ code: 1, stderr: expect.stringMatching(/^incidentd: cannot reach the daemon at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\); is it running\?.*\n$/) });
  });
});
