import { X509Certificate } from 'node:crypto';
import type net from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSmtpKind, smtpKind, type SmtpSpec } from '../../src/probe-kinds/smtp.js';
import { FakeClock } from '../../src/shared/clock.js';
import { closedPort, runKind, tcpServer, type Running } from './helpers.js';
import { selfSignedCert, type TlsKeyPair } from './mail-servers.js';

const DAY_MS = 86_400_000;

const running: Running[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

/** A real SMTP server (smtp-server) on 127.0.0.1; accepts carol / hunter2 only. */
async function smtpServer(options: SMTPServerOptions = {}): Promise<Running> {
  const server = new SMTPServer({
    logger: false,
    disableReverseLookup: true,
    banner: 'incidentd test MTA',
    authOptional: true,
    onAuth(auth, _session, callback) {
      if (auth.username === 'carol' && auth.password === 'hunter2') return callback(null, { user: auth.username });
      const err = Object.assign(new Error('5.7.8 authentication failed'), { responseCode: 535 });
      return callback(err);
    },
    ...options,
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const s: Running = {
    port: (server.server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  running.push(s);
  return s;
}

async function rawServer(onConnection: (socket: net.Socket) => void): Promise<Running> {
  const s = await tcpServer(onConnection);
  running.push(s);
  return s;
}

const parse = (raw: unknown) => smtpKind.schema.parse(raw) as SmtpSpec;

let cert: TlsKeyPair;
let validTo: number;
let expired: TlsKeyPair;
beforeAll(() => {
  cert = selfSignedCert();
  validTo = Date.parse(new X509Certificate(cert.cert).validTo);
  expired = selfSignedCert({ notBefore: new Date(Date.UTC(2020, 0, 1)), notAfter: new Date(Date.UTC(2020, 1, 1)) });
});

describe('smtp probe kind against a real SMTP server', () => {
  it('is ok after banner and EHLO on a plain connection, with step latencies and EHLO keywords', async () => {
    const s = await smtpServer({ disabledCommands: ['STARTTLS'] });
    const r = await runKind(smtpKind, { host: '127.0.0.1', port: s.port, ehlo_name: 'probe.example.org' });
    expect(r.status).toBe('ok');
    expect(r.values.tls).toBe(false);
    expect(typeof r.values.connectMs).toBe('number');
    expect(typeof r.values.bannerMs).toBe('number');
    expect(typeof r.values.ehloMs).toBe('number');
    expect(r.values.starttlsMs).toBeUndefined();
    expect(r.values.authMs).toBeUndefined();
    expect(String(r.values.capabilities).split(' ')).toContain('PIPELINING');
    expect(r.message).toContain('banner, EHLO ok');
  });

  it('upgrades with STARTTLS, authenticates with PLAIN, and reports certificate days left', async () => {
    const s = await smtpServer({ key: cert.key, cert: cert.cert });
    const kind = createSmtpKind(new FakeClock(validTo - 29.5 * DAY_MS));
    const r = await runKind(kind, { host: '127.0.0.1', port: s.port, tls_skip_verify: true, username: 'carol', password: 'hunter2' });
    expect(r.status).toBe('ok');
    expect(r.values.tls).toBe(true);
    expect(r.values.certDaysLeft).toBe(29);
    expect(typeof r.values.starttlsMs).toBe('number');
    expect(typeof r.values.authMs).toBe('number');
    // The EHLO after the upgrade no longer lists STARTTLS.
    expect(String(r.values.capabilities).split(' ')).not.toContain('STARTTLS');
    expect(r.message).toContain('logged in as carol with PLAIN');
  });

  it('falls back to AUTH LOGIN when PLAIN is not offered', async () => {
    const s = await smtpServer({ key: cert.key, cert: cert.cert, authMethods: ['LOGIN'] });
    const r = await runKind(smtpKind, { host: '127.0.0.1', port: s.port, tls_skip_verify: true, username: 'carol', password: 'hunter2' });
    expect(r.status).toBe('ok');
    expect(r.message).toContain('with LOGIN');
  });

  it('fails AUTH with the server\'s reply on a wrong password', async () => {
    const s = await smtpServer({ key: cert.key, cert: cert.cert });
    const r = await runKind(smtpKind, { host: '127.0.0.1', port: s.port, tls_skip_verify: true, username: 'carol', password: 'wrong' });
    expect(r.status).toBe('fail');
    expect(r.message).toContain('AUTH failed: 535 5.7.8 authentication failed');
    expect(r.values.authMs).toBeUndefined();
    expect(r.values.tls).toBe(true);
  });

  it('refuses to send credentials without encryption unless allow_insecure_auth', async () => {
    const s = await smtpServer({ disabledCommands: ['STARTTLS'], allowInsecureAuth: true });
    const refused = await runKind(smtpKind, { host: '127.0.0.1', port: s.port, username: 'carol', password: 'hunter2' });
    expect(refused.status).toBe('fail');
    expect(refused.message).toContain('AUTH failed: refusing to send the password over an unencrypted connection');
    const allowed = await runKind(smtpKind, {
      host: '127.0.0.1', port: s.port, username: 'carol', password: 'hunter2', allow_insecure_auth: true,
    });
    expect(allowed.status).toBe('ok');
  });

  it('fails when STARTTLS is required but not offered, listing the EHLO keywords', async () => {
    const s = await smtpServer({ disabledCommands: ['STARTTLS'] });
    const r = await runKind(smtpKind, { host: '127.0.0.1', port: s.port, starttls: 'required' });
    expect(r.status).toBe('fail');
    expect(r.message).toMatch(/STARTTLS failed: required, but the server does not offer it \(EHLO lists: .*PIPELINING/);
  });

  it('refuses the self-signed certificate after STARTTLS unless tls_skip_verify', async () => {
    const s = await smtpServer({ key: cert.key, cert: cert.cert });
    const r = await runKind(smtpKind, { host: '127.0.0.1', port: s.port });
    expect(r.status).toBe('fail');
    expect(r.message).toContain('STARTTLS failed: certificate not accepted (DEPTH_ZERO_SELF_SIGNED_CERT); fix the certificate or set tls_skip_verify: true');
  });

  it('stays plain with starttls: never even when STARTTLS is offered', async () => {
    const s = await smtpServer({ key: cert.key, cert: cert.cert });
    const r = await runKind(smtpKind, { host: '127.0.0.1', port: s.port, starttls: 'never' });
    expect(r.status).toBe('ok');
    expect(r.values.tls).toBe(false);
    expect(String(r.values.capabilities).split(' ')).toContain('STARTTLS');
  });

  it('speaks implicit TLS (465 style) and authenticates', async () => {
    const s = await smtpServer({ secure: true, key: cert.key, cert: cert.cert });
    const r = await runKind(smtpKind, { host: '127.0.0.1', port: s.port, tls: true, tls_skip_verify: true, username: 'carol', password: 'hunter2' });
    expect(r.status).toBe('ok');
    expect(r.values.tls).toBe(true);
    expect(typeof r.values.tlsMs).toBe('number');
    expect(r.values.starttlsMs).toBeUndefined();
  });

  it('with an expired certificate: refused by default, ok with tls_skip_verify, certDaysLeft negative either way', async () => {
    const s = await smtpServer({ secure: true, key: expired.key, cert: expired.cert });
    const kind = createSmtpKind(new FakeClock(Date.UTC(2020, 1, 11)));
    const refused = await runKind(kind, { host: '127.0.0.1', port: s.port, tls: true });
    expect(refused.status).toBe('fail');
    expect(refused.message).toContain('TLS handshake failed: certificate not accepted');
    expect(refused.values.certDaysLeft).toBe(-10);
    const accepted = await runKind(kind, { host: '127.0.0.1', port: s.port, tls: true, tls_skip_verify: true });
    expect(accepted.status).toBe('ok');
    expect(accepted.values.certDaysLeft).toBe(-10);
  });
});

describe('smtp probe kind against broken servers', () => {
  it('times out waiting for a banner that never comes', async () => {
    const s = await rawServer(() => undefined);
    const r = await runKind(smtpKind, { host: '127.0.0.1', port: s.port }, 300);
    expect(r.status).toBe('fail');
    expect(r.message).toContain('banner failed: timed out after 300 ms');
    expect(typeof r.values.connectMs).toBe('number');
  });

  it('fails on a refusal banner and quotes it', async () => {
    const s = await rawServer((sock) => sock.end('554 5.3.2 mx.example.org service unavailable\r\n'));
    const r = await runKind(smtpKind, { host: '127.0.0.1', port: s.port });
    expect(r.status).toBe('fail');
    expect(r.message).toContain('banner failed: expected 220, the server said "554 5.3.2 mx.example.org service unavailable"');
  });

  it('fails on a banner that is not SMTP', async () => {
    const s = await rawServer((sock) => sock.write('* OK IMAP4rev1 ready\r\n'));
    const r = await runKind(smtpKind, { host: '127.0.0.1', port: s.port });
    expect(r.status).toBe('fail');
    expect(r.message).toContain('banner failed: not an SMTP reply: "* OK IMAP4rev1 ready"');
  });

  it('fails on an endless line without a line break', async () => {
    const s = await rawServer((sock) => sock.write('2'.repeat(20_000)));
    const r = await runKind(smtpKind, { host: '127.0.0.1', port: s.port });
    expect(r.status).toBe('fail');
    expect(r.message).toContain('banner failed: the server sent a line longer than');
  });

  it('fails EHLO with the server\'s reply when it rejects it', async () => {
    const s = await rawServer((sock) => {
      sock.write('220 ready\r\n');
      sock.once('data', () => sock.write('550 5.7.1 go away\r\n'));
    });
    const r = await runKind(smtpKind, { host: '127.0.0.1', port: s.port });
    expect(r.status).toBe('fail');
    expect(r.message).toContain('EHLO failed: 550 5.7.1 go away');
  });

  it('fails with "connection refused" on a closed port', async () => {
    const r = await runKind(smtpKind, { host: '127.0.0.1', port: await closedPort() });
    expect(r.status).toBe('fail');
    expect(r.message).toContain(`connect failed: connection refused`);
  });
});

describe('smtp schema', () => {
  it('fills defaults; the default port follows tls', () => {
    const spec = parse({ host: 'mx.invalid' });
    expect(spec).toMatchObject({ tls: false, starttls: 'auto', tls_skip_verify: false, allow_insecure_auth: false });
    expect(smtpKind.defaultName(spec)).toBe('smtp:25');
    expect(smtpKind.defaultName(parse({ host: 'mx.invalid', tls: true }))).toBe('smtp:465');
    expect(smtpKind.defaultName(parse({ host: 'mx.invalid', port: 587 }))).toBe('smtp:587');
  });

  it.each([
    [{ host: 'mx.invalid', starttls: true }],
    [{ host: 'mx.invalid', ehlo_name: 'bad name\r\nRCPT TO:<x>' }],
    [{ host: 'mx.invalid', username: 'carol' }],
    [{ host: 'mx.invalid', port: '25' }],
    [{ host: 'mx.invalid', auth: { user: 'carol' } }],
  ])('rejects %j', (raw) => {
    expect(smtpKind.schema.safeParse(raw).success).toBe(false);
  });
});
