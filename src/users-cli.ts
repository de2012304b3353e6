// `incidentd users add|passwd|disable|enable|roles|list`: local accounts, written straight into the
// configured store (like Gitea's admin CLI), so the first admin can be made before anyone can sign
// in. Works while the daemon runs: SQLite is opened as a second connection, MongoDB as a client.
// Passwords come from stdin when it is not a terminal (`echo pw | incidentd users add …`), else
// from a prompt asked twice without echo. Every failure is one line on stderr and exit code 1.
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { createInterface } from 'node:readline';
import { text as readStream } from 'node:stream/consumers';
import { Writable } from 'node:stream';
import { Command, Option } from 'commander';
import type { Accounts, Actor } from './api/accounts.js';
import { loadDaemonFile } from './config/daemon-file.js';
import { IssueList } from './config/issues.js';
import { UserExistsError, UserNotFoundError, type User } from './domain/account.js';
import { DEFAULT_TENANT, USER_ROLES, type TenantScope, type UserRole } from './domain/principal.js';
import { SystemClock } from './shared/clock.js';
import { formatIssue, IncidentdError, StoreUnavailableError } from './shared/errors.js';
import { checkPassword, WeakPasswordError } from './shared/passwords.js';
import type { StoreConfig } from './config-core/schemas.js';
import type { IncidentStore } from './store/types.js';

const DEFAULT_CONFIG = 'config/incidentd.yaml';

export class UsersCliError extends IncidentdError {}

interface StoreOpts {
  config: string;
}

/** The store the daemon configuration names (MONGODB_URI wins, as for `run`). */
export async function configuredStore(file: string, env: NodeJS.ProcessEnv): Promise<StoreConfig> {
  if (!existsSync(file)) {
    throw new UsersCliError(`${file}: no such file (looked in ${process.cwd()}); give the daemon configuration with --config`);
  }
  const issues = new IssueList();
  const cfg = await loadDaemonFile(file, env, issues, [], new IssueList());
  if (cfg === null) throw new UsersCliError(`${file} has errors; run \`incidentd validate\`:\n${issues.sorted().map(formatIssue).join('\n')}`);
  // The store's modules are loaded here, not with the command line: `incidentd run` starts
  // faster without them (see cli.ts).
  const { storeConfigFrom } = await import('./app/store-open.js');
  return storeConfigFrom(cfg.store, env);
}

/** The store the daemon configuration names, opened. */
async function openConfiguredStore(file: string, env: NodeJS.ProcessEnv): Promise<IncidentStore> {
  const storeCfg = await configuredStore(file, env);
  if (storeCfg.type === 'mongodb') {
    // Loaded only when used (see defaultStore in app/store-open.ts).
    const { MongoStore } = await import('./store/mongo/store.js');
    const store = new MongoStore({ uri: storeCfg.uri, database: storeCfg.database });
    await store.open();
    return store;
  }
  // A running daemon holds its SQLite file for itself (exclusive): waited for briefly, then said so.
  const { SqliteStore } = await import('./store/sqlite/store.js');
  const store = new SqliteStore({ path: storeCfg.path, lockTimeoutMs: 2000 });
  try {
    await store.open();
  } catch (err) {
    if (!(err instanceof StoreUnavailableError)) throw err;
    throw new UsersCliError(
      `${err.message}\nA running incidentd keeps its SQLite database to itself: stop it, run \`incidentd users\`, and start it again (with MongoDB this works while it runs).`,
    );
  }
  return store;
}

function cliActor(): Actor {
  let who = process.env.USER ?? 'unknown';
  try {
    who = userInfo().username;
  } catch {
    // No passwd entry for this uid (a container): keep $USER.
  }
  return { name: `cli:${who}`, address: '' };
}

/** Reads the password: the first line of stdin when piped, else a prompt twice without echo. */
async function readPassword(stdin: NodeJS.ReadStream, stderr: NodeJS.WriteStream): Promise<string> {
  if (!stdin.isTTY) {
    const text = await readStream(stdin);
    return text.split(/\r?\n/, 1)[0] ?? '';
  }
  const first = await promptHidden('Password: ', stdin, stderr);
  const second = await promptHidden('Password again: ', stdin, stderr);
  if (first !== second) throw new UsersCliError('the two passwords differ; nothing changed');
  return first;
}

function promptHidden(question: string, stdin: NodeJS.ReadStream, stderr: NodeJS.WriteStream): Promise<string> {
  stderr.write(question);
  // What the user types goes to this sink, not the terminal.
  const muted = new Writable({ write: (_chunk, _enc, done) => done() });
  const rl = createInterface({ input: stdin, output: muted, terminal: true });
  return new Promise((resolve) => {
    rl.question('', (answer) => {
      rl.close();
      stderr.write('\n');
      resolve(answer);
    });
  });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function scopeOf(o: { tenant: string[]; allTenants?: boolean }): TenantScope {
  if (o.allTenants && o.tenant.length > 0) throw new UsersCliError('give either --tenant or --all-tenants, not both');
  if (o.allTenants) return { all: true };
  return { all: false, tenants: o.tenant.length > 0 ? [...new Set(o.tenant)] : [DEFAULT_TENANT] };
}

function describeScope(t: TenantScope): string {
  return t.all ? 'all tenants' : t.tenants.join(',');
}

function iso(at: number | null): string {
  return at === null ? '-' : new Date(at).toISOString();
}

function stateOf(u: User, now: number): string {
  if (u.disabled) return 'disabled';
  if (u.lockedUntil !== null && u.lockedUntil > now) return `locked until ${iso(u.lockedUntil)}`;
  return 'enabled';
}

/** Opens the store, runs fn, closes the store; failures a person can act on are one line. */
async function withAccounts(o: StoreOpts, env: NodeJS.ProcessEnv, fn: (a: Accounts) => Promise<void>): Promise<void> {
  let store: IncidentStore | null = null;
  try {
    store = await openConfiguredStore(o.config, env);
    const { Accounts } = await import('./api/accounts.js');
    await fn(new Accounts(store, new SystemClock()));
  } catch (err) {
    const known =
      err instanceof UsersCliError ||
      err instanceof UserExistsError ||
      err instanceof UserNotFoundError ||
      err instanceof WeakPasswordError ||
      err instanceof StoreUnavailableError;
    if (!known) throw err;
    process.stderr.write(`incidentd: ${err.message}\n`);
    process.exitCode = 1;
  } finally {
    await store?.close();
  }
}

function withConfig(cmd: Command): Command {
  return cmd.option('--config <file>', 'daemon configuration, read for its store', DEFAULT_CONFIG);
}

function roleOption(): Option {
  return new Option('--role <role>', 'a role; repeat for more').choices(USER_ROLES).argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]);
}

/** Reads and checks the password before the store is opened, so a short one changes nothing. */
async function newPassword(): Promise<string> {
  const password = await readPassword(process.stdin, process.stderr);
  try {
    checkPassword(password);
  } catch (err) {
    if (err instanceof WeakPasswordError) throw new UsersCliError(err.message);
    throw err;
  }
  return password;
}

export function usersCommand(env: NodeJS.ProcessEnv = process.env): Command {
  const users = new Command('users').description('local accounts people sign in with (written straight into the configured store)');

  withConfig(users.command('add').argument('<name>', 'user name (unique, without regard to case)'))
    .description('add a user; the password comes from stdin when piped, else from a prompt')
    .addOption(roleOption().makeOptionMandatory())
    .option('--tenant <tenant>', `a tenant the user works for; repeat for more (default: ${DEFAULT_TENANT})`, collect, [])
    .option('--all-tenants', 'the user works for every tenant (a service provider\'s own staff)')
    .option('--email <address>', 'e-mail address')
    .option('--display-name <text>', 'name shown in the portal (default: the user name)')
    .action(async (name: string, o: StoreOpts & { role: UserRole[]; tenant: string[]; allTenants?: boolean; email?: string; displayName?: string }) =>
      withAccounts(o, env, async (accounts) => {
        const tenants = scopeOf(o);
        const password = await newPassword();
        const u = await accounts.add(
          {
            name,
            roles: [...new Set(o.role)],
            tenants,
            password,
            ...(o.email === undefined ? {} : { email: o.email }),
            ...(o.displayName === undefined ? {} : { displayName: o.displayName }),
          },
          cliActor(),
        );
        process.stdout.write(`added user ${u.name} (roles ${u.roles.join(',')}; ${describeScope(u.tenants)})\n`);
      }),
    );

  withConfig(users.command('passwd').argument('<name>', 'user name'))
    .description("set a user's password (ends their sessions); the password comes from stdin when piped, else from a prompt")
    .action(async (name: string, o: StoreOpts) =>
      withAccounts(o, env, async (accounts) => {
        const password = await newPassword();
        const u = await accounts.setPassword(name, password, cliActor());
        process.stdout.write(`password of ${u.name} changed\n`);
      }),
    );

  withConfig(users.command('disable').argument('<name>', 'user name'))
    .description('refuse sign-in to a user and end their sessions')
    .action(async (name: string, o: StoreOpts) =>
      withAccounts(o, env, async (accounts) => {
        const u = await accounts.disable(name, cliActor());
        process.stdout.write(`disabled ${u.name}\n`);
      }),
    );

  withConfig(users.command('enable').argument('<name>', 'user name'))
    .description('allow sign-in again; also lifts a lockout after failed sign-ins')
    .action(async (name: string, o: StoreOpts) =>
      withAccounts(o, env, async (accounts) => {
        const u = await accounts.enable(name, cliActor());
        process.stdout.write(`enabled ${u.name}\n`);
      }),
    );

  withConfig(users.command('roles').argument('<name>', 'user name'))
    .description("replace a user's roles and tenants (ends their sessions)")
    .addOption(roleOption().makeOptionMandatory())
    .option('--tenant <tenant>', `a tenant; repeat for more (default: ${DEFAULT_TENANT})`, collect, [])
    .option('--all-tenants', 'every tenant')
    .action(async (name: string, o: StoreOpts & { role: UserRole[]; tenant: string[]; allTenants?: boolean }) =>
      withAccounts(o, env, async (accounts) => {
        const u = await accounts.setRoles(name, [...new Set(o.role)], scopeOf(o), cliActor());
        process.stdout.write(`${u.name}: roles ${u.roles.join(',')}; ${describeScope(u.tenants)}\n`);
      }),
    );

  withConfig(users.command('list'))
    .description('list users: name, roles, tenants, state, last sign-in, e-mail (tab-separated)')
    .action(async (o: StoreOpts) =>
      withAccounts(o, env, async (accounts) => {
        const now = Date.now();
        const all = await accounts.list();
        for (const u of all) {
          process.stdout.write([u.name, u.roles.join(','), describeScope(u.tenants), stateOf(u, now), iso(u.lastSignInAt), u.email || '-'].join('\t') + '\n');
        }
        if (all.length === 0) process.stderr.write('no users yet; add one with `incidentd users add NAME --role admin --all-tenants`\n');
      }),
    );

  return users;
}
