// email: the ticket mail a helpdesk mailbox turns into one ticket per incident (nodemailer, pooled
// SMTP connections).
//
// Threading. Every mail about an incident names one Message-ID, derived from the incident alone:
// `<INC-000123.<fingerprint prefix>@<domain>>`. The opening mail carries it as its own Message-ID;
// every later mail (escalated, acknowledged, resolved, reopened, flapping) gets a Message-ID of its
// own (derived from the event id, so a retried delivery repeats it) and names the incident's id in
// both In-Reply-To and References, and every subject carries `[INC-000123]`. What the helpdesks key
// on, as documented by each:
// - Zammad: its own ticket hook in the subject (`[Ticket#12345]`); follow-ups by In-Reply-To /
//   References once "Additional follow-up detection: references" is on in the email channel
//   settings (admin docs, channels/email/settings).
// - Znuny / OTRS: its own `Ticket#` hook in the subject, and PostMaster::CheckFollowUpModule
//   `0200-References`, which looks up In-Reply-To / References among the Message-IDs of the
//   ticket's articles (Ticket.xml). Its ExternalTicketNumberRecognition pre-filter can also match
//   `\[INC-(\d+)\]` in the subject.
// - osTicket: In-Reply-To / References against the Message-IDs stored with each thread entry, then
//   its own `[#number]` subject tag (mail fetcher / TicketApiController).
// - Request Tracker: its `[rtname #id]` subject tag; header matching needs the CheckMessageId
//   extension (RT::Interface::Email::Filter::CheckMessageId), which looks In-Reply-To up among
//   stored Message-IDs.
// - Freshdesk: its `[#id]` subject tag first, then the Message-ID markers (In-Reply-To/References).
// - Jira Service Management: an issue key in the subject, then Message-ID / In-Reply-To /
//   References against the Message-IDs of mails it processed before.
// So the header chain is what every one of them understands: the opening mail's Message-ID is
// stored with the new ticket, and later mails point at it. The `[INC-000123]` tag is for people,
// mail clients, and systems that can be taught an external number (OTRS).
import type { ReportMail } from '../domain/events.js';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import type nodemailerModule from 'nodemailer';
import type { NodemailerError, Transporter } from 'nodemailer';
import { z } from 'zod';
import { DURATION_PATTERN } from '../config-core/yaml.js';
import { parseDuration } from '../shared/duration.js';
import type { Logger } from '../shared/logger.js';
import { loadTemplates, notificationView, reporterLink, TemplateError, type Template } from './render.js';
import { REPORT_RECEIVED_EVENT } from '../domain/events.js';
import { escapeHtml } from './markup.js';
import type { Incident } from '../domain/incident.js';
import { DEFAULT_EMAIL_TEMPLATES, DEFAULT_SUBSCRIBER_TEMPLATES, type EmailTemplateName } from './templates/email.js';
import { TLS_TRUST_CODES } from '../shared/tls.js';
import {
  ChannelConfigError,
  delivered,
  permanent,
  retryable,
  type Channel,
  type ChannelDeps,
  type ChannelKind,
  type DeliveryResult,
  type IncidentEvent,
  type ReceiptEvent,
} from './types.js';

export const CHANNEL_ID_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;
const HOSTNAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

export const channelId = z
  .string()
  .regex(CHANNEL_ID_PATTERN, {
    error: 'channel id must start with a lowercase letter or digit and contain only a-z, 0-9, ".", "_", "-"',
  })
  .describe('Unique id of the channel; tiers and the outbox name it.');

export const channelTimeout = (dflt: string) =>
  z
    .string()
    .regex(DURATION_PATTERN, { error: 'expected a duration like "10s" or "1m" (units ms, s, m, h, d)' })
    .default(dflt)
    .describe(`How long one delivery may take before it counts as failed and is retried. Default ${dflt}.`);

const address = z.email({ error: 'expected a mail address like helpdesk@example.org' });

export const emailChannelSchema = z
  .strictObject({
    id: channelId,
    type: z.literal('email'),
    smtp: z
      .strictObject({
        host: z.string().min(1).describe('SMTP relay (submission server) host name or address.'),
        port: z.number().int().min(1).max(65535).default(587).describe('SMTP port. Default 587 (submission).'),
        secure: z.boolean().default(false).describe('Implicit TLS from the first byte (port 465). Default false.'),
        starttls: z
          .boolean()
          .default(true)
          .describe('With secure false: true requires STARTTLS (mail is never sent in the clear); false never uses it. Default true.'),
        auth: z
          .strictObject({
            user: z.string().min(1, { error: 'user must not be empty (an unset ${ENV} gives an empty one)' }),
            pass: z.string().min(1, { error: 'pass must not be empty (an unset ${ENV} gives an empty one)' }),
          })
          .optional()
          .describe('SMTP AUTH credentials; use ${ENV} to keep the password out of the file.'),
        ca_file: z.string().min(1).optional().describe('PEM file of the CA (or self-signed certificate) to trust for the relay.'),
        tls_skip_verify: z.boolean().default(false).describe('Accept any TLS certificate from the relay. Default false.'),
        pool_size: z.number().int().min(1).max(20).default(2).describe('Connections kept open to the relay. Default 2.'),
      })
      .describe('The SMTP relay that accepts the mails.'),
    from: address.describe('Sender address; the helpdesk sees it as the ticket\'s customer.'),
    audience: z
      .enum(['helpdesk', 'subscribers'])
      .default('helpdesk')
      .describe(
        'helpdesk: ticket mails to `to` about every event. subscribers: plain-language mails to each incident\'s subscribers (Bcc) about its opening, acknowledgement, resolution and reopening; name the channel in communication.channels. Default helpdesk.',
      ),
    to: z.array(address).default([]).describe('Helpdesk mailbox(es); with audience subscribers, optional visible recipients.'),
    cc: z.array(address).default([]).describe('Copies.'),
    domain: z
      .string()
      .regex(HOSTNAME, { error: 'expected a domain like incidentd.example.org' })
      .describe('Right-hand side of the Message-IDs, e.g. incidentd.example.org; keep it stable or threads break.'),
    templates_dir: z
      .string()
      .min(1)
      .optional()
      .describe('Directory with subject.mustache, text.mustache, html.mustache overriding the shipped templates.'),
    link_base_url: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe('Public base URL of this daemon; helpdesk mails link to the incident’s page in the portal, <base>/incidents/INC-000123; subscriber mails to the reporter’s own reports, <base>/my-reports.'),
    timeout: channelTimeout('30s'),
  })
  .superRefine((c, ctx) => {
    if (c.audience === 'helpdesk' && c.to.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['to'], message: 'give at least one recipient (the helpdesk mailbox)' });
    }
  })
  .describe('Ticket mails over SMTP, threaded into one helpdesk ticket per incident; or updates to the people an incident affects.');

/** What subscribers hear of: receipt, status changes and the resolution; not internal escalation or flapping. */
const SUBSCRIBER_EVENTS: ReadonlySet<string> = new Set([
  'incident.opened',
  'incident.reopened',
  'incident.acknowledged',
  'incident.resolved',
]);

export type EmailChannelConfig = z.output<typeof emailChannelSchema>;

function fingerprintPrefix(fingerprint: string): string {
  return fingerprint.replace(/[^A-Za-z0-9]/g, '').slice(0, 12).toLowerCase() || 'x';
}

/** The Message-ID of the incident's opening mail, which every later mail refers to. */
export function incidentMessageId(number: string, fingerprint: string, domain: string): string {
  return `<${number}.${fingerprintPrefix(fingerprint)}@${domain}>`;
}

/** The Message-ID of a later mail: unique per event, the same on every retry of that event. */
export function eventMessageId(number: string, eventId: string, domain: string): string {
  const h = createHash('sha256').update(eventId).digest('hex').slice(0, 20);
  return `<${number}.${h}@${domain}>`;
}

export interface ComposedMail {
  subject: string;
  text: string;
  html: string;
  messageId: string;
  inReplyTo?: string;
  references?: string;
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

/** Sorts an SMTP failure into retryable or permanent, with a sentence that says what to do. */
export function classifySmtpError(err: unknown, callerSignal: AbortSignal, timeoutMs: number, relay: string): DeliveryResult {
  if (callerSignal.aborted) return retryable(`delivery to ${relay} cancelled (shutting down); the mail may or may not have been accepted`);
  const e = (err ?? {}) as NodemailerError;
  const code = e.code ?? '';
  if (code === 'EABORT' || code === 'ETIMEDOUT' || e.name === 'AbortError' || e.name === 'TimeoutError') {
    return retryable(`SMTP relay ${relay} did not finish within ${timeoutMs} ms (raise the channel's timeout if it is only slow)`);
  }
  if (typeof e.responseCode === 'number') {
    const answer = oneLine(e.response ?? e.message ?? '');
    const during = e.command ? ` to ${e.command.split(' ')[0]}` : '';
    const rejected = e.rejected?.length ? ` (rejected: ${e.rejected.join(', ')})` : '';
    const isPermanent = e.permanent ?? (e.responseCode >= 500 && e.responseCode !== 503);
    if (isPermanent)
      return permanent(
        `SMTP relay ${relay} refused the mail${during}${rejected}: ${answer}; check the addresses and the relay's policy`,
      );
    return retryable(`SMTP relay ${relay} answered a temporary failure${during}${rejected}: ${answer}`);
  }
  const cause = e.originalCode ?? (e.cause as NodeJS.ErrnoException | undefined)?.code ?? code;
  if (TLS_TRUST_CODES.has(cause) || TLS_TRUST_CODES.has(code))
    return permanent(`TLS certificate of ${relay} not accepted (${cause}: ${e.message}); set smtp.ca_file, or smtp.tls_skip_verify: true`);
  if (code === 'EAUTH' || code === 'ENOAUTH') return permanent(`SMTP login at ${relay} failed: ${e.message}; check smtp.auth`);
  if (code === 'ETLS' || code === 'EREQUIRETLS')
    return permanent(`STARTTLS with ${relay} failed: ${e.message}; fix the relay's TLS or set smtp.starttls: false`);
  if (code === 'ECONFIG') return permanent(`invalid SMTP settings for ${relay}: ${e.message}`);
  if (cause === 'ECONNREFUSED') return retryable(`SMTP relay ${relay} refused the connection (nothing listens there, or it is down)`);
  return retryable(`SMTP relay ${relay} failed: ${code ? `${code}: ` : ''}${e.message ?? String(err)}`);
}

export class EmailChannel implements Channel {
  readonly type = 'email';
  readonly id: string;
  private readonly templates: Record<EmailTemplateName, Template>;
  private readonly transport: Transporter;
  private readonly timeoutMs: number;
  private readonly relay: string;
  private readonly log: Logger;

  constructor(
    private readonly config: EmailChannelConfig,
    deps: ChannelDeps,
  ) {
    this.id = config.id;
    this.log = deps.logger.child({ channel: config.id, channelType: 'email' });
    this.timeoutMs = parseDuration(config.timeout) ?? 30_000;
    this.relay = `${config.smtp.host}:${config.smtp.port}`;
    try {
      const defaults = config.audience === 'subscribers' ? DEFAULT_SUBSCRIBER_TEMPLATES : DEFAULT_EMAIL_TEMPLATES;
      this.templates = loadTemplates(defaults, config.templates_dir, (name) => name === 'html');
    } catch (err) {
      if (err instanceof TemplateError) throw new ChannelConfigError(config.id, err.message, { cause: err });
      throw err;
    }
    let ca: string | undefined;
    if (config.smtp.ca_file !== undefined) {
      try {
        ca = fs.readFileSync(config.smtp.ca_file, 'utf8');
      } catch (err) {
        throw new ChannelConfigError(config.id, `smtp.ca_file ${config.smtp.ca_file} cannot be read`, { cause: err });
      }
    }
    const smtp = config.smtp;
    // Loaded with the first email channel: a daemon without one does not carry nodemailer.
    const nodemailer = createRequire(import.meta.url)('nodemailer') as typeof nodemailerModule;
    this.transport = nodemailer.createTransport({
      pool: true,
      maxConnections: smtp.pool_size,
      // nodemailer's default (100) drops a pooled connection after 100 mails and reconnects: a
      // 100 ms+ stall per hundred ticket mails (measured by bench:notify) for nothing.
      maxMessages: Infinity,
      host: smtp.host,
      port: smtp.port,
      secure: smtp.secure,
      requireTLS: !smtp.secure && smtp.starttls,
      ignoreTLS: !smtp.secure && !smtp.starttls,
      auth: smtp.auth ? { user: smtp.auth.user, pass: smtp.auth.pass } : undefined,
      tls: { rejectUnauthorized: !smtp.tls_skip_verify, ...(ca !== undefined ? { ca } : {}) },
      connectionTimeout: this.timeoutMs,
      greetingTimeout: this.timeoutMs,
      socketTimeout: this.timeoutMs,
      // Mails are built from templates only; never let a template pull in files or URLs.
      disableFileAccess: true,
      disableUrlAccess: true,
      logger: false,
    });
  }

  /** Subject, bodies and threading headers of the mail for `event`. */
  compose(event: IncidentEvent): ComposedMail {
    const inc = event.incident;
    // The people of an incident cannot open the staff's incident page; their link is their reports.
    const view = notificationView(event, this.config.link_base_url, this.config.audience === 'subscribers' ? 'reporter' : 'staff');
    const root = incidentMessageId(inc.number, inc.fingerprint, this.config.domain);
    const tag = `[${inc.number}]`;
    // The first mail this helpdesk gets about the incident starts the thread, whatever the event:
    // a tier reached by escalation hears of the incident first through an `escalated` mail. Once
    // delivered, its Message-ID is the incident's ticket for this channel (Incident.tickets).
    const opening = inc.tickets[this.id] === undefined;
    const subject = `${opening ? '' : 'Re: '}${tag} ${oneLine(this.templates.subject.render(view))}`;
    const text = this.templates.text.render(view);
    const html = this.templates.html.render(view);
    if (opening) return { subject, text, html, messageId: root };
    return { subject, text, html, messageId: eventMessageId(inc.number, event.id, this.config.domain), inReplyTo: root, references: root };
  }

  async deliver(event: IncidentEvent, signal: AbortSignal): Promise<DeliveryResult> {
    const subscribers = this.config.audience === 'subscribers';
    // Nobody to tell (no subscribers, or an internal event): done, and no thread started.
    if (subscribers && (event.incident.subscribers.length === 0 || !SUBSCRIBER_EVENTS.has(event.type))) return delivered();
    let mail: ComposedMail;
    try {
      mail = this.compose(event);
    } catch (err) {
      return permanent(`rendering the mail templates failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    // A real timer on purpose: it bounds socket I/O with the relay, not scheduling logic.
    const attempt = AbortSignal.any([signal, AbortSignal.timeout(this.timeoutMs)]);
    try {
      const info = await this.transport.sendMail({
        from: this.config.from,
        to: this.config.to.length > 0 ? this.config.to : undefined,
        cc: this.config.cc.length > 0 ? this.config.cc : undefined,
        // Subscribers do not see each other's addresses.
        bcc: subscribers ? event.incident.subscribers : undefined,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        messageId: mail.messageId,
        inReplyTo: mail.inReplyTo,
        references: mail.references,
        headers: {
          // RFC 3834: no vacation replies or helpdesk auto-responses back to the daemon.
          'Auto-Submitted': 'auto-generated',
          'X-Incidentd-Incident': event.incident.number,
          'X-Incidentd-Event': event.type,
        },
        signal: attempt,
      });
      const rejected = (info as { rejected?: unknown[] }).rejected ?? [];
      if (rejected.length > 0) {
        // The others have it; sending again would duplicate their ticket mail.
        this.log.warn({ incident: event.incident.number, event: event.id, rejected }, 'SMTP relay refused some recipients');
      }
      return delivered(mail.messageId);
    } catch (err) {
      const result = classifySmtpError(err, signal, this.timeoutMs, this.relay);
      this.log.debug({ incident: event.incident.number, event: event.id, err }, 'email delivery failed');
      return result;
    }
  }

  /**
   * The receipt of a report that joined a known incident, to the reporter alone: its number and
   * status now. Only a subscribers channel sends it; a helpdesk channel has nothing to do.
   */
  async deliverReceipt(event: ReceiptEvent, signal: AbortSignal): Promise<DeliveryResult> {
    if (this.config.audience !== 'subscribers') return delivered();
    const inc = event.incident;
    const mail = receiptMail(inc, this.config.link_base_url);
    const root = incidentMessageId(inc.number, inc.fingerprint, this.config.domain);
    const messageId = eventMessageId(inc.number, event.id, this.config.domain);
    const attempt = AbortSignal.any([signal, AbortSignal.timeout(this.timeoutMs)]);
    try {
      await this.transport.sendMail({
        from: this.config.from,
        to: event.to,
        subject: `[${inc.number}] ${mail.subject}`,
        text: mail.text,
        html: mail.html,
        messageId,
        inReplyTo: root,
        references: root,
        headers: { 'Auto-Submitted': 'auto-generated', 'X-Incidentd-Incident': inc.number, 'X-Incidentd-Event': REPORT_RECEIVED_EVENT },
        signal: attempt,
      });
      // No reference: the receipt starts no helpdesk thread and leaves Incident.tickets alone.
      return delivered();
    } catch (err) {
      this.log.debug({ incident: inc.number, event: event.id, err }, 'receipt delivery failed');
      return classifySmtpError(err, signal, this.timeoutMs, this.relay);
    }
  }

  /** A scheduled report (src/reports/mailer.ts): to its own addresses, with its CSV attached. */
  async deliverMail(mail: ReportMail, eventId: string, signal: AbortSignal): Promise<DeliveryResult> {
    const attempt = AbortSignal.any([signal, AbortSignal.timeout(this.timeoutMs)]);
    const messageId = `<${eventId.replace(/[^A-Za-z0-9._-]/g, '.')}@${this.config.domain}>`;
    try {
      await this.transport.sendMail({
        from: this.config.from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        // The same id on a retry: a relay or mailbox that saw it drops the repeat.
        messageId,
        attachments: [{ filename: mail.attachment.filename, content: mail.attachment.content, contentType: 'text/csv; charset=utf-8' }],
        headers: { 'Auto-Submitted': 'auto-generated', 'X-Incidentd-Report': mail.tenant },
        signal: attempt,
      });
      return delivered(messageId);
    } catch (err) {
      this.log.debug({ report: eventId, err }, 'report mail delivery failed');
      return classifySmtpError(err, signal, this.timeoutMs, this.relay);
    }
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}

/** The receipt a reporter gets when the report joined an incident that was known already. */
export function receiptMail(inc: Incident, linkBase: string | undefined): { subject: string; text: string; html: string } {
  const link = reporterLink(linkBase);
  const status = inc.status;
  const subject = `Your report was received: ${oneLine(inc.title)}`;
  const text = [
    'Thank you for your report. This problem is known already; your report was added to it.',
    '',
    inc.title,
    '',
    `Reference: ${inc.number} (keep it in your reply)`,
    `Status:    ${status}`,
    ...(link === '' ? [] : [`Your reports: ${link}`]),
    '',
    'You will hear from us when a technician takes it on and when it is resolved.',
    '',
  ].join('\n');
  const html = `<!doctype html>
<html><body style="font-family: sans-serif">
<p>Thank you for your report. This problem is known already; your report was added to it.</p>
<h2 style="margin: 0.5em 0">${escapeHtml(inc.title)}</h2>
<table cellpadding="2">
<tr><td>Reference</td><td><b>${escapeHtml(inc.number)}</b> (keep it in your reply)</td></tr>
<tr><td>Status</td><td>${escapeHtml(status)}</td></tr>
${link === '' ? '' : `<tr><td>Your reports</td><td><a href="${escapeHtml(link)}">${escapeHtml(link)}</a></td></tr>\n`}</table>
<p style="color: #666">You will hear from us when a technician takes it on and when it is resolved.</p>
</body></html>
`;
  return { subject, text, html };
}

export const emailChannel: ChannelKind<typeof emailChannelSchema> = {
  type: 'email',
  schema: emailChannelSchema,
  create: (config, deps) => new EmailChannel(config, deps),
  resolveFiles: (c, resolve) => ({
    ...c,
    templates_dir: c.templates_dir === undefined ? undefined : resolve(c.templates_dir),
    smtp: { ...c.smtp, ca_file: c.smtp.ca_file === undefined ? undefined : resolve(c.smtp.ca_file) },
  }),
};
