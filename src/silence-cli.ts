// `incidentd silence add|list|expire`: a client of the daemon's silences API. The daemon's address
// comes from --url, else from the listen address in the daemon configuration; the token from
// --token or INCIDENTD_TOKEN. Every failure is one line on stderr and exit code 1.
import { existsSync, readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { ApiSilence } from './domain/silence.js';
import { IncidentdError } from './shared/errors.js';

const DEFAULT_CONFIG = 'config/incidentd.yaml';
const DEFAULT_LISTEN = { host: '127.0.0.1', port: 9740 };

export class SilenceCliError extends IncidentdError {}

interface ClientOpts {
  url?: string;
  token?: string;
  config: string;
}

/** `http://host:port` from the config's listen section; a wildcard address is reached on loopback. */
export function urlFromConfig(file: string): string {
  let listen: { host?: unknown; port?: unknown } = {};
  if (existsSync(file)) {
    let doc: unknown;
    try {
      doc = parseYaml(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new SilenceCliError(`cannot read the listen address from ${file}: ${(err as Error).message}; give the daemon's address with --url`);
    }
    const l = (doc as { listen?: unknown } | null)?.listen;
    if (l !== null && typeof l === 'object') listen = l;
  }
  let host = typeof listen.host === 'string' && listen.host !== '' ? listen.host : DEFAULT_LISTEN.host;
  const port = typeof listen.port === 'number' ? listen.port : DEFAULT_LISTEN.port;
  if (host === '0.0.0.0') host = '127.0.0.1';
  if (host === '::') host = '::1';
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

class ApiClient {
  private readonly base: string;
  private readonly token: string;

  constructor(o: ClientOpts, env: NodeJS.ProcessEnv) {
    this.base = (o.url ?? urlFromConfig(o.config)).replace(/\/+$/, '');
    const token = o.token ?? env.INCIDENTD_TOKEN ?? '';
    if (token === '') throw new SilenceCliError('no API token: pass --token or set INCIDENTD_TOKEN to a token from api.tokens');
    this.token = token;
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = `${this.base}${path}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(15_000),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (err as Error).message;
      throw new SilenceCliError(`cannot reach the daemon at ${this.base} (${why}); is it running? Give its address with --url`);
    }
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text === '' ? null : JSON.parse(text);
    } catch {
      // Not the daemon's JSON (a proxy's page): reported below with the status.
    }
    if (res.ok) return json as T;
    const message = (json as { message?: unknown } | null)?.message;
    const said = typeof message === 'string' ? message : `HTTP ${res.status} ${res.statusText}`;
    if (res.status === 401) throw new SilenceCliError(`the daemon refused the token (401): ${said}; check --token or INCIDENTD_TOKEN`);
    throw new SilenceCliError(`${method} ${path} failed (${res.status}): ${said}`);
  }
}

function formatSilence(s: ApiSilence): string {
  const matchers = s.matchers.map((m) => m.text).join(' ');
  return [s.id, s.status.state, s.startsAt, s.endsAt, s.createdBy, matchers, s.comment].join('\t');
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function client(cmd: Command): Command {
  return cmd
    .option('--url <url>', "the daemon's API, e.g. http://127.0.0.1:9740 (default: the listen address in --config)")
    .option('--token <token>', 'API token (default: $INCIDENTD_TOKEN)')
    .option('--config <file>', 'daemon configuration, read for its listen address', DEFAULT_CONFIG);
}

/** Runs fn, printing a failure as one line and setting exit code 1. */
async function guarded(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (!(err instanceof SilenceCliError)) throw err;
    process.stderr.write(`incidentd: ${err.message}\n`);
    process.exitCode = 1;
  }
}

export function silenceCommand(env: NodeJS.ProcessEnv = process.env): Command {
  const silence = new Command('silence').description('hold back the announcements and escalation of matching incidents for a time');

  client(silence.command('add'))
    .description('add a silence; prints its id')
    .requiredOption('--match <matcher>', 'name=value, name!=value, name=~regex or name!~regex; repeat for more (all must match)', collect, [])
    .addOption(new Option('--duration <duration>', 'how long, e.g. 2h or 30m (default 1h, as amtool)').conflicts('ends'))
    .option('--ends <time>', 'end, ISO 8601 with offset (instead of --duration)')
    .option('--starts <time>', 'start, ISO 8601 with offset (default: now)')
    .requiredOption('--comment <text>', 'why; shown on the incidents it holds back')
    .option('--by <name>', "who sets it (default: the token's name)")
    .option('--tenant <id>', "the tenant whose incidents it holds back (default: the token's only tenant, else default)")
    .action(async (o: ClientOpts & { match: string[]; duration?: string; ends?: string; starts?: string; comment: string; by?: string; tenant?: string }) =>
      guarded(async () => {
        const api = new ApiClient(o, env);
        const body = {
          matchers: o.match,
          comment: o.comment,
          ...(o.duration === undefined && o.ends === undefined ? { duration: '1h' } : {}),
          ...(o.duration === undefined ? {} : { duration: o.duration }),
          ...(o.ends === undefined ? {} : { endsAt: o.ends }),
          ...(o.starts === undefined ? {} : { startsAt: o.starts }),
          ...(o.by === undefined ? {} : { createdBy: o.by }),
          ...(o.tenant === undefined ? {} : { tenant: o.tenant }),
        };
        const s = await api.call<ApiSilence>('POST', '/api/v1/silences', body);
        process.stdout.write(`${s.id}\n`);
      }),
    );

  client(silence.command('list'))
    .description('list silences: id, state, starts, ends, created by, matchers, comment (tab-separated)')
    .option('--state <states>', 'pending, active, expired, comma-separated', 'pending,active')
    .option('--json', 'print the API answer as JSON')
    .action(async (o: ClientOpts & { state: string; json?: boolean }) =>
      guarded(async () => {
        const api = new ApiClient(o, env);
        const r = await api.call<{ items: ApiSilence[] }>('GET', `/api/v1/silences?state=${encodeURIComponent(o.state)}`);
        if (o.json) {
          process.stdout.write(`${JSON.stringify(r.items, null, 2)}\n`);
          return;
        }
        for (const s of r.items) process.stdout.write(`${formatSilence(s)}\n`);
        if (r.items.length === 0) process.stderr.write(`no ${o.state.split(',').join(' or ')} silences\n`);
      }),
    );

  client(silence.command('expire').argument('<id>', 'the silence to end now'))
    .description('end a silence now; what it held back and is still active is announced')
    .action(async (id: string, o: ClientOpts) =>
      guarded(async () => {
        const api = new ApiClient(o, env);
        const s = await api.call<ApiSilence>('DELETE', `/api/v1/silences/${encodeURIComponent(id)}`);
        process.stdout.write(`expired ${s.id}\n`);
      }),
    );

  return silence;
}
