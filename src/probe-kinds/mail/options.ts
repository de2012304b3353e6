// Check fields shared by the smtp, imap and pop3 kinds, so the three read alike in probe files.
import { z } from 'zod';

export interface MailPorts {
  /** Protocol name for descriptions, e.g. `IMAP`. */
  protocol: string;
  /** The command that upgrades a plain connection, e.g. `STARTTLS` or `STLS`. */
  upgradeCommand: string;
  plain: number;
  tls: number;
}

const noLineBreaks = (s: string) => !/[\r\n]/.test(s);

/** Fields every mail kind has; spread into the kind's strictObject. */
export function mailFields(p: MailPorts) {
  return {
    host: z.string().min(1).describe('Host name or IP address of the mail server, e.g. `mail.example.org`.'),
    port: z
      .number()
      .int()
      .min(1)
      .max(65535)
      .optional()
      .describe(`TCP port. Default ${p.plain}, or ${p.tls} with \`tls: true\`.`),
    tls: z
      .boolean()
      .default(false)
      .describe(`Implicit TLS: the TLS handshake comes first, before any ${p.protocol} (port ${p.tls}). Default false.`),
    starttls: z
      .enum(['auto', 'required', 'never'])
      .default('auto')
      .describe(
        `Upgrade a plain connection with ${p.upgradeCommand}: \`auto\` when the server offers it, \`required\` fails the check ` +
          `when it does not, \`never\` stays plain. Ignored with \`tls: true\`. Default auto.`,
      ),
    tls_skip_verify: z
      .boolean()
      .default(false)
      .describe('Accept any TLS certificate (self-signed, wrong name, expired). certDaysLeft is still reported.'),
    username: z
      .string()
      .min(1)
      .refine(noLineBreaks, { message: 'must not contain line breaks' })
      .optional()
      .describe('Log in with this user name (needs `password`). Without it the check stops before logging in.'),
    password: z
      .string()
      .min(1)
      .refine(noLineBreaks, { message: 'must not contain line breaks' })
      .optional()
      .describe('Password for `username`; use `${ENV_VAR}` interpolation rather than writing it into the file.'),
    allow_insecure_auth: z
      .boolean()
      .default(false)
      .describe('Send the password even when the connection is not encrypted. Default false: such a login fails the check instead.'),
  };
}

/** zod check: username and password come together. */
export function credentialsTogether(spec: { username?: string | undefined; password?: string | undefined }, ctx: z.RefinementCtx): void {
  if ((spec.username === undefined) !== (spec.password === undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: [spec.username === undefined ? 'username' : 'password'],
      message: 'username and password must be given together',
    });
  }
}

export function portOf(spec: { port?: number | undefined; tls?: boolean }, p: MailPorts): number {
  return spec.port ?? (spec.tls ? p.tls : p.plain);
}

/** Spec fields the kinds read after parsing (defaults filled). */
export interface MailSpecBase {
  host: string;
  port?: number;
  tls?: boolean;
  starttls?: 'auto' | 'required' | 'never';
  tls_skip_verify?: boolean;
  username?: string;
  password?: string;
  allow_insecure_auth?: boolean;
}

/** Message for a login refused because the connection is plain. */
export function insecureAuthReason(upgradeCommand: string): string {
  return `refusing to send the password over an unencrypted connection; use tls: true or a server that offers ${upgradeCommand}, or set allow_insecure_auth: true`;
}
