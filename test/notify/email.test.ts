import fs from 'node:fs';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createChannel, type ChannelConfig } from '../../src/notify/registry.js';
import { ChannelConfigError, type Channel } from '../../src/notify/types.js';
import { emailChannelSchema } from '../../src/notify/email.js';
import { FakeClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { closedPort, tcpServer, type Running } from '../probe-kinds/helpers.js';
import { selfSignedCert, type TlsKeyPair } from '../probe-kinds/mail-servers.js';
import { event, incident } from './fixtures.js';
import { parseMail, type ParsedMail } from './mime.js';

const ROOT_ID = '<INC-000123.9f86d081884c@incidentd.example.org>';

interface Received {
  from: string;
  to: string[];
  user: string | undefined;
  secure: boolean;
  mail: ParsedMail;
}

interface TestMta extends Running {
  received: Received[];
  /** When set, RCPT TO is answered with this code instead of accepted. */
  rcptReply: { code: number; text: string } | null;
}

let cert: TlsKeyPair;
let dir: string;
let caFile: string;
beforeAll(() => {
  cert = selfSignedCert();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'incidentd-notify-'));
  caFile = path.join(dir, 'ca.pem');
  fs.writeFileSync(caFile, cert.cert);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((f) => f()));
});

/** A real SMTP server on 127.0.0.1 with STARTTLS; AUTH (only after TLS) as noc / s3cret. */
async function mta(options: SMTPServerOptions = {}): Promise<TestMta> {
  const received: Received[] = [];
  const state: { rcptReply: TestMta['rcptReply'] } = { rcptReply: null };
  const server = new SMTPServer({
    logger: false,
    disableReverseLookup: true,
    key: cert.key,
    cert: cert.cert,
    onAuth(auth, _session, callback) {
      if (auth.username === 'noc' && auth.password === 's3cret') return callback(null, { user: auth.username });
      return callback(Object.assign(new Error('5.7.8 authentication failed'), { responseCode: 535 }));
    },
    onRcptTo(_address, _session, callback) {
      const r = state.rcptReply;
      if (r) return callback(Object.assign(new Error(r.text), { responseCode: r.code }));
      return callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          user: session.user as string | undefined,
          secure: session.secure,
          mail: parseMail(Buffer.concat(chunks).toString('utf8')),
        });
        callback();
      });
    },
    ...options,
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const m: TestMta = {
    port: (server.server.address() as net.AddressInfo).port,
    received,
    get rcptReply() {
      return state.rcptReply;
    },
    set rcptReply(v) {
      state.rcptReply = v;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  cleanup.push(() => m.close());
  return m;
}

function emailConfig(port: number, extra: Record<string, unknown> = {}): ChannelConfig {
  return emailChannelSchema.parse({
    id: 'helpdesk-mail',
    type: 'email',
    smtp: { host: '127.0.0.1', port, starttls: true, auth: { user: 'noc', pass: 's3cret' }, ca_file: caFile },
    from: 'incidentd@example.org',
    to: ['helpdesk@example.org'],
    cc: ['noc-lead@example.org'],
    domain: 'incidentd.example.org',
    link_base_url: 'https://incidentd.example.org/',
    timeout: '5s',
    ...extra,
  });
}

function channel(config: ChannelConfig): Channel {
  const ch = createChannel(config, { clock: new FakeClock(), logger: silentLogger() });
  cleanup.unshift(async () => ch.close?.());
  return ch;
}

const signal = () => new AbortController().signal;

describe('email channel against a real SMTP server with STARTTLS and AUTH', () => {
  it('threads opened, acknowledged and resolved mails into one ticket: subject tag, Message-ID chain', async () => {
    const server = await mta();
    const ch = channel(emailConfig(server.port));
    const opened = incident();
    // As the store records it: the opening mail's Message-ID is this channel's ticket from then on.
    const tickets = { 'helpdesk-mail': ROOT_ID };
    const acked = incident({ status: 'acknowledged', acknowledgedAt: opened.lastSeen + 1000, acknowledgedBy: 'alice', tickets });
    const resolved = incident({ status: 'resolved', resolvedAt: opened.lastSeen + 5000, resolvedBy: 'system', tickets });

    const r1 = await ch.deliver(event('incident.opened', opened), signal());
    const r2 = await ch.deliver(event('incident.acknowledged', acked, { actor: 'alice', message: 'on it' }), signal());
    const r3 = await ch.deliver(event('incident.resolved', resolved), signal());
    expect([r1.outcome, r2.outcome, r3.outcome]).toEqual(['ok', 'ok', 'ok']);
    expect(server.received).toHaveLength(3);

    const [m1, m2, m3] = server.received.map((r) => r.mail) as [ParsedMail, ParsedMail, ParsedMail];
    // The opening mail is the ticket; its Message-ID is the incident's.
    expect(m1.headers.get('message-id')).toBe(ROOT_ID);
    expect(m1.headers.get('in-reply-to')).toBeUndefined();
    expect(r1).toEqual({ outcome: 'ok', reference: ROOT_ID });
    for (const m of [m2, m3]) {
      expect(m.headers.get('in-reply-to')).toBe(ROOT_ID);
      expect(m.headers.get('references')).toBe(ROOT_ID);
      expect(m.headers.get('message-id')).toMatch(/^<INC-000123\.[0-9a-f]+@incidentd\.example\.org>$/);
      expect(m.headers.get('message-id')).not.toBe(ROOT_ID);
    }
    expect(m2.headers.get('message-id')).not.toBe(m3.headers.get('message-id'));
    expect(r2).toEqual({ outcome: 'ok', reference: m2.headers.get('message-id') });

    expect(m1.headers.get('subject')).toBe('[INC-000123] Opened: Printer 3F offline (P2 severe, Printer 3F)');
    expect(m2.headers.get('subject')).toBe('Re: [INC-000123] Acknowledged: Printer 3F offline (P2 severe, Printer 3F)');
    expect(m3.headers.get('subject')).toBe('Re: [INC-000123] Resolved: Printer 3F offline (P2 severe, Printer 3F)');
    expect(m1.headers.get('auto-submitted')).toBe('auto-generated');

    // Delivered over TLS after AUTH, to the helpdesk and the copy.
    for (const r of server.received) {
      expect(r.secure).toBe(true);
      expect(r.user).toBe('noc');
      expect(r.from).toBe('incidentd@example.org');
      expect(r.to.sort()).toEqual(['helpdesk@example.org', 'noc-lead@example.org']);
    }
  });

  it('starts the thread with whatever mail reaches a helpdesk first: a tier told only at escalation gets a root mail', async () => {
    const server = await mta();
    const ch = channel(emailConfig(server.port));
    const first = await ch.deliver(event('incident.escalated', incident(), { tier: 'L2', message: 'not acknowledged within 30m at L1' }), signal());
    expect(first).toEqual({ outcome: 'ok', reference: ROOT_ID });
    const later = incident({ status: 'resolved', resolvedBy: 'system', tickets: { 'helpdesk-mail': ROOT_ID } });
    await ch.deliver(event('incident.resolved', later), signal());
    const [m1, m2] = server.received.map((r) => r.mail) as [ParsedMail, ParsedMail];
    expect(m1.headers.get('message-id')).toBe(ROOT_ID);
    expect(m1.headers.get('in-reply-to')).toBeUndefined();
    expect(m1.headers.get('subject')).toMatch(/^\[INC-000123\] Escalated to L2: /);
    expect(m2.headers.get('in-reply-to')).toBe(ROOT_ID);
    expect(m2.headers.get('subject')).toMatch(/^Re: \[INC-000123\] Resolved: /);
  });

  it('with audience subscribers: plain-language mails in Bcc to the incident\'s subscribers, about receipt, status and resolution only', async () => {
    const server = await mta();
    const ch = channel(emailConfig(server.port, { id: 'customer-mail', audience: 'subscribers', to: [], cc: [] }));
    const people = ['alice@example.org', 'bob@example.org'];
    const opened = incident({ subscribers: people });
    const r1 = await ch.deliver(event('incident.opened', opened), signal());
    // Internal events and incidents nobody subscribed to send nothing, and count as done.
    const r2 = await ch.deliver(event('incident.escalated', incident({ subscribers: people, tickets: { 'customer-mail': ROOT_ID } }), { tier: 'L3' }), signal());
    const r3 = await ch.deliver(event('incident.opened', incident({ number: 'INC-000124' })), signal());
    const resolved = incident({ status: 'resolved', subscribers: people, tickets: { 'customer-mail': ROOT_ID } });
    const r4 = await ch.deliver(event('incident.resolved', resolved), signal());
    expect([r1, r2, r3].map((r) => r.outcome)).toEqual(['ok', 'ok', 'ok']);
    expect(r2).toEqual({ outcome: 'ok' });
    expect(r3).toEqual({ outcome: 'ok' });
    expect(r4.outcome).toBe('ok');
    expect(server.received).toHaveLength(2);
    const [m1, m2] = server.received;
    expect(m1!.to.sort()).toEqual(people);
    // Bcc: nobody sees the others' addresses.
    expect(m1!.mail.headers.get('to')).toBeUndefined();
    expect(m1!.mail.headers.get('bcc')).toBeUndefined();
    expect(m1!.mail.headers.get('subject')).toBe('[INC-000123] Opened: Printer 3F offline');
    expect(m1!.mail.text).toContain('We have registered this problem and are working on it.');
    expect(m1!.mail.text).toContain('Reference: INC-000123');
    expect(m1!.mail.text).not.toContain('Runbook');
    expect(m2!.mail.text).toContain('The problem has been resolved.');
    expect(m2!.mail.headers.get('in-reply-to')).toBe(ROOT_ID);
    // The people of an incident cannot open the staff's incident page: their link is their reports.
    expect(m1!.mail.text).toContain('https://incidentd.example.org/my-reports');
    expect(m1!.mail.text).not.toContain('/incidents/');
  });

  it('mails a joining reporter the receipt alone, with the number and status; a helpdesk channel sends none', async () => {
    const server = await mta();
    const people = channel(emailConfig(server.port, { id: 'customer-mail', audience: 'subscribers', to: [], cc: [] }));
    const helpdesk = channel(emailConfig(server.port));
    const inc = incident({ status: 'acknowledged', subscribers: ['alice@example.org', 'bob@example.org'] });
    const receipt = { id: 'INC-000123:report.received:1:r1', at: 1, incident: inc, to: ['bob@example.org'] };
    expect(await helpdesk.deliverReceipt!(receipt, signal())).toEqual({ outcome: 'ok' });
    expect(server.received).toHaveLength(0);
    expect((await people.deliverReceipt!(receipt, signal())).outcome).toBe('ok');
    expect(server.received).toHaveLength(1);
    const m = server.received[0]!;
    expect(m.to).toEqual(['bob@example.org']);
    expect(m.mail.headers.get('subject')).toBe('[INC-000123] Your report was received: Printer 3F offline');
    expect(m.mail.text).toContain('Reference: INC-000123');
    expect(m.mail.text).toContain('Status:    acknowledged');
    expect(m.mail.text).toContain('https://incidentd.example.org/my-reports');
    expect(m.mail.headers.get('in-reply-to')).toBe(ROOT_ID);
  });

  it('needs a recipient for the helpdesk audience', () => {
    const r = emailChannelSchema.safeParse({ id: 'm', type: 'email', smtp: { host: 'smtp.example.org' }, from: 'a@example.org', domain: 'example.org' });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]).toMatchObject({ path: ['to'], message: 'give at least one recipient (the helpdesk mailbox)' });
  });

  it('sends text and HTML parts with runbook, classification, priority, tier, target, timeline and the link to the incident’s page in the portal', async () => {
    const server = await mta();
    const ch = channel(emailConfig(server.port));
    const inc = incident({ title: 'Router <core> & uplink down', tier: 'L1' });
    const result = await ch.deliver(event('incident.escalated', inc, { tier: 'L2', message: 'no acknowledgement within 15m' }), signal());
    expect(result.outcome).toBe('ok');
    const mail = server.received[0]!.mail;
    expect(mail.headers.get('content-type')).toMatch(/^multipart\/alternative/);

    expect(mail.text).toContain('Escalated to L2: Router <core> & uplink down');
    expect(mail.text).toContain('no acknowledgement within 15m');
    expect(mail.text).toContain('Check the power and the network cable; then restart the print spooler on ps-01.');
    expect(mail.text).toMatch(/Classification: printing/);
    expect(mail.text).toMatch(/Priority: +P2 \(severity severe, impact site\)/);
    expect(mail.text).toMatch(/Tier: +L2/);
    expect(mail.text).toMatch(/Target: +Printer 3F \(printer printer-3f, site hq\)/);
    expect(mail.text).toContain('opened by printer-down: opened after 3 failures');
    expect(mail.text).toContain('https://incidentd.example.org/incidents/INC-000123');

    // The HTML part escapes what came from outside.
    expect(mail.html).toContain('Router &lt;core&gt; &amp; uplink down');
    expect(mail.html).not.toContain('<core>');
    expect(mail.html).toContain('restart the print spooler on ps-01');
    expect(mail.html).toContain('<a href="https://incidentd.example.org/incidents/INC-000123">');
  });

  it('uses override templates from templates_dir and keeps the defaults for the others', async () => {
    const server = await mta();
    const tdir = fs.mkdtempSync(path.join(dir, 'templates-'));
    fs.writeFileSync(path.join(tdir, 'subject.mustache'), 'Stoerung {{target.name}} [{{priority}}]');
    fs.writeFileSync(path.join(tdir, 'text.mustache'), 'Ticket {{number}}\nAnleitung: {{runbook}}\n');
    const ch = channel(emailConfig(server.port, { templates_dir: tdir }));
    expect((await ch.deliver(event('incident.opened'), signal())).outcome).toBe('ok');
    const mail = server.received[0]!.mail;
    // The tag is put in front even though the override subject has none.
    expect(mail.headers.get('subject')).toBe('[INC-000123] Stoerung Printer 3F [P2]');
    expect(mail.text).toBe('Ticket INC-000123\nAnleitung: Check the power and the network cable; then restart the print spooler on ps-01.\n');
    expect(mail.html).toContain('<h2'); // default html template
  });

  it('refuses an override template with a typo when the channel is built, naming the file', async () => {
    const tdir = fs.mkdtempSync(path.join(dir, 'templates-'));
    fs.writeFileSync(path.join(tdir, 'text.mustache'), 'Ticket {{numbr}}');
    const config = emailConfig(await closedPort(), { templates_dir: tdir });
    expect(() => createChannel(config, { clock: new FakeClock(), logger: silentLogger() })).toThrow(ChannelConfigError);
    expect(() => createChannel(config, { clock: new FakeClock(), logger: silentLogger() })).toThrow(/text\.mustache: unknown name '\{\{numbr\}\}'/);
  });

  it('answers retryable when the server says 451 and permanent when it says 550', async () => {
    const server = await mta();
    const ch = channel(emailConfig(server.port));
    server.rcptReply = { code: 451, text: '4.3.0 mailbox temporarily unavailable' };
    const soft = await ch.deliver(event('incident.opened'), signal());
    expect(soft.outcome).toBe('retryable');
    expect(soft.outcome === 'retryable' && soft.error).toMatch(/451/);

    server.rcptReply = { code: 550, text: '5.1.1 no such user' };
    const hard = await ch.deliver(event('incident.opened'), signal());
    expect(hard.outcome).toBe('permanent');
    expect(hard.outcome === 'permanent' && hard.error).toMatch(/550.*no such user/);
    expect(server.received).toHaveLength(0);
  });

  it('answers permanent when the login is refused', async () => {
    const server = await mta();
    const config = emailConfig(server.port);
    const ch = channel({ ...config, smtp: { ...(config as { smtp: object }).smtp, auth: { user: 'noc', pass: 'wrong' } } } as ChannelConfig);
    const r = await ch.deliver(event('incident.opened'), signal());
    expect(r.outcome).toBe('permanent');
    expect(r.outcome === 'permanent' && r.error).toMatch(/535/);
  });

  it('answers retryable when the server is down', async () => {
    const ch = channel(emailConfig(await closedPort()));
    const r = await ch.deliver(event('incident.opened'), signal());
    expect(r.outcome).toBe('retryable');
    expect(r.outcome === 'retryable' && r.error).toMatch(/refused the connection/);
  });

  it('answers retryable when the server never greets within the timeout', async () => {
    const silent = await tcpServer(() => undefined);
    cleanup.push(() => silent.close());
    const ch = channel(emailConfig(silent.port, { timeout: '300ms' }));
    const r = await ch.deliver(event('incident.opened'), signal());
    expect(r.outcome).toBe('retryable');
    expect(r.outcome === 'retryable' && r.error).toMatch(/did not finish within 300 ms/);
  });

  it('refuses a relay whose certificate it cannot trust, permanently', async () => {
    const server = await mta();
    const config = emailConfig(server.port);
    const smtp = { ...(config as { smtp: Record<string, unknown> }).smtp };
    delete smtp.ca_file;
    const ch = channel({ ...config, smtp } as ChannelConfig);
    const r = await ch.deliver(event('incident.opened'), signal());
    expect(r.outcome).toBe('permanent');
    expect(r.outcome === 'permanent' && r.error).toMatch(/ca_file/);
  });
});

describe('emailChannelSchema', () => {
  it('rejects misspelt keys and an empty recipient list', () => {
    const base = { id: 'm', type: 'email', smtp: { host: 'smtp.example.org' }, from: 'a@example.org', to: ['b@example.org'], domain: 'example.org' };
    expect(emailChannelSchema.safeParse(base).success).toBe(true);
    expect(emailChannelSchema.safeParse({ ...base, smtp: { host: 'smtp.example.org', prot: 25 } }).success).toBe(false);
    expect(emailChannelSchema.safeParse({ ...base, to: [] }).success).toBe(false);
    expect(emailChannelSchema.safeParse({ ...base, domain: 'not a domain' }).success).toBe(false);
  });
});
