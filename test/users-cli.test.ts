// `incidentd users add|passwd|disable|enable|list` as an admin runs it (a real process on a temp
// SQLite config), then the daemon on that file: the people added sign in over HTTP, the changes show
// in the audit log.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../src/app/app.js';
import { SystemClock } from '../src/shared/clock.js';
import { silentLogger } from '../src/shared/logger.js';
import { compileCli } from './cli-build.js';
import { freePort } from './shared/free-port.js';

const SPAWN_TIMEOUT = 60_000;
const ADMIN_TOKEN = 'tok-users-cli-admin-8e2b';
let CLI = '';
let built = '';
let dir = '';

function incidentd(args: string[], stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [CLI, 'users', ...args, '--config', join(dir, 'config', 'incidentd.yaml')],
      { cwd: dir, env: { PATH: process.env.PATH ?? '' } },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(stdin);
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'incidentd-users-cli-'));
  mkdirSync(join(dir, 'config'));
  mkdirSync(join(dir, 'probes'));
  mkdirSync(join(dir, 'rules'));
  writeFileSync(
    join(dir, 'config', 'incidentd.yaml'),
    `listen: { host: 127.0.0.1, port: ${await freePort()} }
store: { type: sqlite, path: ${join(dir, 'incidentd.db')} }
api: { tokens: [ { name: ops, token: "${ADMIN_TOKEN}", role: admin } ] }
`,
  );
  writeFileSync(join(dir, 'probes', 'none.yaml'), 'targets: []\n');
  writeFileSync(join(dir, 'rules', 'none.yaml'), 'rules: []\n');
  ({ cli: CLI, dir: built } = await compileCli('users-cli'));
}, SPAWN_TIMEOUT);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (built) rmSync(built, { recursive: true, force: true });
});

describe('incidentd users', () => {
  it(
    'add, passwd, disable, list; the daemon then signs the users in with their passwords',
    async () => {
      const added = await incidentd(['add', 'Dana', '--role', 'agent', '--email', 'dana@example.com'], 'first password 1234\n');
      expect(added, added.stderr).toMatchObject({ code: 0, stdout: 'added user Dana (roles agent; default)\n' });
      expect((await incidentd(['add', 'ada', '--role', 'admin', '--all-tenants'], 'admin password 5678\n')).code).toBe(0);
      expect((await incidentd(['add', 'eve', '--role', 'engineer'], 'eve password 9012\n')).code).toBe(0);

      const taken = await incidentd(['add', 'DANA', '--role', 'agent'], 'another password 1\n');
      expect(taken.code).toBe(1);
      expect(taken.stderr).toBe('incidentd: a user named "DANA" exists already (names are compared without case)\n');
      const short = await incidentd(['passwd', 'dana'], 'short\n');
      expect(short.code).toBe(1);
      expect(short.stderr).toContain('shorter than 12 characters');

      expect(await incidentd(['passwd', 'dana'], 'second password 4321\n')).toMatchObject({ code: 0, stdout: 'password of Dana changed\n' });
      expect(await incidentd(['disable', 'eve'])).toMatchObject({ code: 0, stdout: 'disabled eve\n' });
      const missing = await incidentd(['disable', 'nobody']);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('no user named "nobody"');

      const list = await incidentd(['list']);
      expect(list.code).toBe(0);
      expect(list.stdout.trim().split('\n').map((l) => l.split('\t').slice(0, 4))).toEqual([
        ['ada', 'admin', 'all tenants', 'enabled'],
        ['Dana', 'agent', 'default', 'enabled'],
        ['eve', 'engineer', 'default', 'disabled'],
      ]);

      // The daemon on the same file.
      const app: App = await createApp({
        paths: { config: join(dir, 'config', 'incidentd.yaml'), probesDir: join(dir, 'probes'), rulesDir: join(dir, 'rules') },
        clock: new SystemClock(),
        logger: silentLogger(),
        env: {},
        watch: false,
      });
      try {
        // A secret was generated beside the store, readable by the daemon's user only.
        const secretFile = join(dir, 'incidentd.db-session-secret');
        expect(existsSync(secretFile)).toBe(true);
        expect(statSync(secretFile).mode & 0o777).toBe(0o600);

        const signIn = (name: string, password: string) =>
          fetch(`${app.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, password }) });
        expect((await signIn('dana', 'first password 1234')).status).toBe(401);
        expect((await signIn('eve', 'eve password 9012')).status).toBe(401);
        const ok = await signIn('dana', 'second password 4321');
        expect(ok.status).toBe(201);
        const cookie = ok.headers.getSetCookie()[0]!.split(';', 1)[0]!;
        expect((await fetch(`${app.url}/api/v1/incidents`, { headers: { cookie } })).status).toBe(200);

        const audit = await fetch(`${app.url}/api/v1/audit?limit=100`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
        const entries = ((await audit.json()) as { items: { type: string; subject: string; actor: string }[] }).items.reverse();
        expect(entries.map((e) => `${e.type} ${e.subject}`)).toEqual([
          'user-added Dana',
          'user-added ada',
          'user-added eve',
          'password-changed Dana',
          'user-disabled eve',
          'sign-in-failed Dana',
          'sign-in-failed eve',
          'sign-in Dana',
        ]);
        expect(entries[0]!.actor).toMatch(/^cli:/);

        // The daemon keeps its SQLite file to itself: the CLI says so and what to do.
        const busy = await incidentd(['list']);
        expect(busy.code).toBe(1);
        expect(busy.stderr).toContain('A running incidentd keeps its SQLite database to itself: stop it');
      } finally {
        await app.stop();
      }
    },
    SPAWN_TIMEOUT,
  );
});
