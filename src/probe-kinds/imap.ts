// imap: connect (143, or 993 with implicit TLS), greeting, CAPABILITY, STARTTLS when offered or
// required, LOGIN when credentials are given, LOGOUT; each step timed.
import { z } from 'zod';
import type { CheckResult } from '../domain/check.js';
import { SystemClock, type Clock } from '../shared/clock.js';
import { MailReplyError, MailStepError } from './mail/errors.js';
import type { LineClient } from './mail/line-client.js';
import { credentialsTogether, insecureAuthReason, mailFields, portOf, type MailPorts } from './mail/options.js';
import { startMailSession } from './mail/session.js';
import { quoteSnippet } from './tcp.js';
import type { ProbeContext, ProbeKind } from './types.js';

const PORTS: MailPorts = { protocol: 'IMAP', upgradeCommand: 'STARTTLS', plain: 143, tls: 993 };
/** Untagged lines tolerated before the tagged completion of one command. */
const MAX_UNTAGGED = 200;

const schema = z.strictObject(mailFields(PORTS)).superRefine(credentialsTogether);

export type ImapSpec = z.output<typeof schema>;

interface ImapResponse {
  untagged: string[];
  /** The tagged completion without its tag, e.g. `NO [AUTHENTICATIONFAILED] Invalid credentials`. */
  completion: string;
}

/** IMAP quoted string (RFC 3501); line breaks are ruled out by the schema. */
export function imapQuote(s: string): string {
  return `"${s.replace(/[\\"]/g, '\\$&')}"`;
}

/** Sends `tag command` and reads up to the tagged completion; anything but OK throws. */
async function imapCommand(client: LineClient, tag: string, cmd: string): Promise<ImapResponse> {
  client.writeLine(`${tag} ${cmd}`);
  const untagged: string[] = [];
  for (;;) {
    const line = await client.readLine();
    if (line.startsWith(`${tag} `)) {
      const completion = line.slice(tag.length + 1);
      if (!/^OK\b/i.test(completion)) throw new MailReplyError(completion);
      return { untagged, completion };
    }
    if (!line.startsWith('* ')) throw new MailReplyError(`not an IMAP response: ${quoteSnippet(line)}`);
    untagged.push(line);
    if (untagged.length > MAX_UNTAGGED) throw new MailReplyError(`more than ${MAX_UNTAGGED} lines before the reply to ${cmd.split(' ')[0]}`);
  }
}

/** Capabilities from `* CAPABILITY …` lines, upper-cased, in server order. */
function capabilities(untagged: string[]): string[] {
  const out: string[] = [];
  for (const line of untagged) {
    const m = /^\* CAPABILITY (.*)$/i.exec(line);
    if (m?.[1]) out.push(...m[1].trim().split(/\s+/).map((c) => c.toUpperCase()));
  }
  return out;
}

/** `clock` dates certificate lifetimes; tests pass a FakeClock. */
export function createImapKind(clock: Clock = new SystemClock()): ProbeKind<ImapSpec> {
  async function run(spec: ImapSpec, ctx: ProbeContext): Promise<CheckResult> {
    const port = portOf(spec, PORTS);
    const session = startMailSession(spec.host, port, ctx, clock, spec.tls === true || spec.starttls !== 'never');
    let seq = 0;
    const tag = () => `A${++seq}`;

    return session.run(async () => {
      const client = await session.connect(spec.host, port);
      if (spec.tls) await session.step('TLS handshake', 'tlsMs', () => session.handshake(client, spec));

      await session.step('greeting', 'greetingMs', async () => {
        const line = await client.readLine();
        if (/^\* BYE\b/i.test(line)) throw new MailReplyError(`the server refused the session: ${quoteSnippet(line, 200)}`);
        if (!/^\* (OK|PREAUTH)\b/i.test(line)) throw new MailReplyError(`not an IMAP greeting: ${quoteSnippet(line)}`);
      });

      let caps = await session.step('CAPABILITY', 'capabilityMs', async () =>
        capabilities((await imapCommand(client, tag(), 'CAPABILITY')).untagged),
      );

      if (!spec.tls && spec.starttls !== 'never') {
        if (caps.includes('STARTTLS')) {
          // Capabilities learnt in clear text are void after the upgrade (RFC 3501 6.2.1): ask again.
          caps = await session.step('STARTTLS', 'starttlsMs', async () => {
            await imapCommand(client, tag(), 'STARTTLS');
            await session.handshake(client, spec);
            return capabilities((await imapCommand(client, tag(), 'CAPABILITY')).untagged);
          });
        } else {
          session.noTlsOffered();
          if (spec.starttls === 'required')
            throw new MailStepError('STARTTLS', `required, but the server does not offer it (CAPABILITY lists: ${caps.join(' ') || 'nothing'})`);
        }
      }
      session.values.capabilities = caps.join(' ');

      let detail = '';
      if (spec.username !== undefined && spec.password !== undefined) {
        const { username, password } = spec;
        if (!client.encrypted && !spec.allow_insecure_auth) throw new MailStepError('LOGIN', insecureAuthReason('STARTTLS'));
        if (caps.includes('LOGINDISABLED'))
          throw new MailStepError('LOGIN', 'the server advertises LOGINDISABLED (it allows no plain-text login on this connection)');
        await session.step('LOGIN', 'loginMs', () => imapCommand(client, tag(), `LOGIN ${imapQuote(username)} ${imapQuote(password)}`));
        detail = `logged in as ${username}`;
      }
      client.close(`${tag()} LOGOUT`);
      return detail;
    });
  }

  return {
    type: 'imap',
    schema,
    defaultName: (spec) => `imap:${portOf(spec, PORTS)}`,
    run,
  };
}

export const imapKind = createImapKind();
