// pop3: connect (110, or 995 with implicit TLS), +OK greeting, CAPA, STLS when offered or
// required, USER/PASS when credentials are given, QUIT; each step timed.
import { z } from 'zod';
import type { CheckResult } from '../domain/check.js';
import { SystemClock, type Clock } from '../shared/clock.js';
import { MailReplyError, MailStepError } from './mail/errors.js';
import type { LineClient } from './mail/line-client.js';
import { credentialsTogether, insecureAuthReason, mailFields, portOf, type MailPorts } from './mail/options.js';
import { startMailSession } from './mail/session.js';
import { quoteSnippet } from './tcp.js';
import type { ProbeContext, ProbeKind } from './types.js';

const PORTS: MailPorts = { protocol: 'POP3', upgradeCommand: 'STLS', plain: 110, tls: 995 };
/** More lines than any CAPA answer has. */
const MAX_CAPA_LINES = 200;

const schema = z.strictObject(mailFields(PORTS)).superRefine(credentialsTogether);

export type Pop3Spec = z.output<typeof schema>;

/** Reads one status line: true for +OK, false for -ERR; anything else is not POP3. */
async function readStatus(client: LineClient): Promise<{ ok: boolean; line: string }> {
  const line = await client.readLine();
  if (/^\+OK\b/i.test(line)) return { ok: true, line };
  if (/^-ERR\b/i.test(line)) return { ok: false, line };
  throw new MailReplyError(`not a POP3 reply: ${quoteSnippet(line)}`);
}

async function pop3Command(client: LineClient, cmd: string): Promise<string> {
  client.writeLine(cmd);
  const status = await readStatus(client);
  if (!status.ok) throw new MailReplyError(status.line);
  return status.line;
}

/** CAPA (RFC 2449). An RFC 1939-only server answers -ERR: it then has no listed capabilities. */
async function capa(client: LineClient): Promise<string[]> {
  client.writeLine('CAPA');
  const status = await readStatus(client);
  if (!status.ok) return [];
  const lines: string[] = [];
  for (;;) {
    const line = await client.readLine();
    if (line === '.') return lines;
    // Byte-stuffing: a leading dot is doubled in multi-line answers.
    lines.push(line.startsWith('.') ? line.slice(1) : line);
    if (lines.length > MAX_CAPA_LINES) throw new MailReplyError(`CAPA answer longer than ${MAX_CAPA_LINES} lines (no terminating ".")`);
  }
}

const hasCapability = (caps: string[], name: string) => caps.some((c) => c.split(/\s+/)[0]?.toUpperCase() === name);

/** `clock` dates certificate lifetimes; tests pass a FakeClock. */
export function createPop3Kind(clock: Clock = new SystemClock()): ProbeKind<Pop3Spec> {
  async function run(spec: Pop3Spec, ctx: ProbeContext): Promise<CheckResult> {
    const port = portOf(spec, PORTS);
    const session = startMailSession(spec.host, port, ctx, clock, spec.tls === true || spec.starttls !== 'never');

    return session.run(async () => {
      const client = await session.connect(spec.host, port);
      if (spec.tls) await session.step('TLS handshake', 'tlsMs', () => session.handshake(client, spec));

      await session.step('greeting', 'greetingMs', async () => {
        const status = await readStatus(client);
        if (!status.ok) throw new MailReplyError(`the server refused the session: ${quoteSnippet(status.line, 200)}`);
      });

      let caps = await session.step('CAPA', 'capaMs', () => capa(client));

      if (!spec.tls && spec.starttls !== 'never') {
        if (hasCapability(caps, 'STLS')) {
          // Capabilities may change once encrypted (RFC 2595 4): ask again.
          caps = await session.step('STLS', 'starttlsMs', async () => {
            await pop3Command(client, 'STLS');
            await session.handshake(client, spec);
            return capa(client);
          });
        } else {
          session.noTlsOffered();
          if (spec.starttls === 'required')
            throw new MailStepError('STLS', `required, but the server does not offer it (CAPA lists: ${caps.join(', ') || 'nothing'})`);
        }
      }
      session.values.capabilities = caps.join(' ');

      let detail = '';
      if (spec.username !== undefined && spec.password !== undefined) {
        const { username, password } = spec;
        if (!client.encrypted && !spec.allow_insecure_auth) throw new MailStepError('login', insecureAuthReason('STLS'));
        await session.step('login', 'loginMs', async () => {
          try {
            await pop3Command(client, `USER ${username}`);
          } catch (err) {
            if (err instanceof MailReplyError) throw new MailReplyError(`USER rejected: ${err.message}`);
            throw err;
          }
          try {
            await pop3Command(client, `PASS ${password}`);
          } catch (err) {
            if (err instanceof MailReplyError) throw new MailReplyError(`PASS rejected: ${err.message}`);
            throw err;
          }
        });
        detail = `logged in as ${username}`;
      }
      client.close('QUIT');
      return detail;
    });
  }

  return {
    type: 'pop3',
    schema,
    defaultName: (spec) => `pop3:${portOf(spec, PORTS)}`,
    run,
  };
}

export const pop3Kind = createPop3Kind();
