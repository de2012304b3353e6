// smtp: connect, 220 banner, EHLO, STARTTLS (or implicit TLS), AUTH when credentials are given,
// each step timed. A small client of our own rather than nodemailer's verify(): verify() reports
// only success or one error, with no per-step timing and no access to the peer certificate.
import os from 'node:os';
import { z } from 'zod';
import type { CheckResult } from '../domain/check.js';
import { SystemClock, type Clock } from '../shared/clock.js';
import { MailReplyError, MailStepError } from './mail/errors.js';
import type { LineClient } from './mail/line-client.js';
import { credentialsTogether, insecureAuthReason, mailFields, portOf, type MailPorts } from './mail/options.js';
import { startMailSession } from './mail/session.js';
import { quoteSnippet } from './tcp.js';
import type { ProbeContext, ProbeKind } from './types.js';

const PORTS: MailPorts = { protocol: 'SMTP', upgradeCommand: 'STARTTLS', plain: 25, tls: 465 };
/** More continuation lines than any EHLO answer has; beyond this the server is babbling. */
const MAX_REPLY_LINES = 100;

const schema = z
  .strictObject({
    ...mailFields(PORTS),
    ehlo_name: z
      .string()
      .regex(/^[A-Za-z0-9.[\]:-]+$/, 'must be a host name or an address literal such as [192.0.2.1]')
      .optional()
      .describe('Name sent with EHLO. Default: this machine\'s host name.'),
  })
  .superRefine(credentialsTogether);

export type SmtpSpec = z.output<typeof schema>;

export interface SmtpReply {
  code: number;
  /** The text of each line, without the code. */
  lines: string[];
}

function replyText(r: SmtpReply): string {
  return `${r.code} ${r.lines.join(' ')}`.trim();
}

/** Reads one (possibly multi-line) SMTP reply. */
export async function readSmtpReply(client: LineClient): Promise<SmtpReply> {
  const lines: string[] = [];
  for (;;) {
    const line = await client.readLine();
    const m = /^(\d{3})(?:([ -])(.*))?$/.exec(line);
    if (!m) throw new MailReplyError(`not an SMTP reply: ${quoteSnippet(line)}`);
    lines.push(m[3] ?? '');
    if (m[2] !== '-') return { code: Number(m[1]), lines };
    if (lines.length >= MAX_REPLY_LINES) throw new MailReplyError(`reply longer than ${MAX_REPLY_LINES} lines`);
  }
}

async function command(client: LineClient, line: string, expected: number): Promise<SmtpReply> {
  client.writeLine(line);
  const reply = await readSmtpReply(client);
  if (reply.code !== expected) throw new MailReplyError(replyText(reply));
  return reply;
}

/** EHLO keywords (upper case) with their parameters, e.g. AUTH → "PLAIN LOGIN". */
function extensions(reply: SmtpReply): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of reply.lines.slice(1)) {
    const [keyword, ...params] = line.trim().split(/[\s=]+/);
    if (keyword) out.set(keyword.toUpperCase(), params.join(' ').toUpperCase());
  }
  return out;
}

function b64(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64');
}

async function authenticate(client: LineClient, mechanisms: string[], user: string, pass: string): Promise<string> {
  if (mechanisms.includes('PLAIN')) {
    client.writeLine(`AUTH PLAIN ${b64(`\0${user}\0${pass}`)}`);
    const reply = await readSmtpReply(client);
    if (reply.code !== 235) throw new MailReplyError(replyText(reply));
    return 'PLAIN';
  }
  if (mechanisms.includes('LOGIN')) {
    await command(client, 'AUTH LOGIN', 334);
    await command(client, b64(user), 334);
    await command(client, b64(pass), 235);
    return 'LOGIN';
  }
  throw new MailReplyError(
    `the server offers neither PLAIN nor LOGIN (AUTH ${mechanisms.join(' ') || 'lists no mechanisms'})`,
  );
}

/** `clock` dates certificate lifetimes; tests pass a FakeClock. */
export function createSmtpKind(clock: Clock = new SystemClock()): ProbeKind<SmtpSpec> {
  async function run(spec: SmtpSpec, ctx: ProbeContext): Promise<CheckResult> {
    const port = portOf(spec, PORTS);
    const session = startMailSession(spec.host, port, ctx, clock, spec.tls === true || spec.starttls !== 'never');
    return session.run(async () => {
      const client = await session.connect(spec.host, port);
      if (spec.tls) await session.step('TLS handshake', 'tlsMs', () => session.handshake(client, spec));

      await session.step('banner', 'bannerMs', async () => {
        const banner = await readSmtpReply(client);
        if (banner.code !== 220)
          throw new MailReplyError(`expected 220, the server said ${quoteSnippet(replyText(banner), 200)}`);
      });

      const ehloName = spec.ehlo_name ?? os.hostname();
      let ehlo = await session.step('EHLO', 'ehloMs', () => command(client, `EHLO ${ehloName}`, 250));
      let ext = extensions(ehlo);

      if (!spec.tls && spec.starttls !== 'never') {
        if (ext.has('STARTTLS')) {
          // The EHLO after the handshake belongs to STARTTLS: RFC 3207 discards what came before.
          ehlo = await session.step('STARTTLS', 'starttlsMs', async () => {
            await command(client, 'STARTTLS', 220);
            await session.handshake(client, spec);
            return command(client, `EHLO ${ehloName}`, 250);
          });
          ext = extensions(ehlo);
        } else {
          session.noTlsOffered();
          if (spec.starttls === 'required')
            throw new MailStepError(
              'STARTTLS',
              `required, but the server does not offer it (EHLO lists: ${[...ext.keys()].join(' ') || 'nothing'})`,
            );
        }
      }
      session.values.capabilities = [...ext.keys()].join(' ');

      let detail = '';
      if (spec.username !== undefined && spec.password !== undefined) {
        const { username, password } = spec;
        if (!client.encrypted && !spec.allow_insecure_auth) throw new MailStepError('AUTH', insecureAuthReason('STARTTLS'));
        const offered = ext.get('AUTH');
        if (offered === undefined) throw new MailStepError('AUTH', 'the server does not offer AUTH (no AUTH in its EHLO reply)');
        const mechanism = await session.step('AUTH', 'authMs', () =>
          authenticate(client, offered.split(' ').filter(Boolean), username, password),
        );
        detail = `logged in as ${username} with ${mechanism}`;
      }
      client.close('QUIT');
      return detail;
    });
  }

  return {
    type: 'smtp',
    schema,
    defaultName: (spec) => `smtp:${portOf(spec, PORTS)}`,
    run,
  };
}

export const smtpKind = createSmtpKind();
