import { X509Certificate } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createImapKind, imapKind, type ImapSpec } from '../../src/probe-kinds/imap.js';
import { FakeClock } from '../../src/shared/clock.js';
import { closedPort, runKind, tcpServer, type Running } from './helpers.js';
import { selfSignedCert, startImapServer, type MailServer, type TlsKeyPair } from './mail-servers.js';

const DAY_MS = 86_400_000;
const users = { alice: 'correct "horse" \\ battery' };

const servers: (MailServer | Running)[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => ('stop' in s ? s.stop() : s.close())));
});
async function track<T extends MailServer | Running>(p: Promise<T>): Promise<T> {
  const s = await p;
  servers.push(s);
  return s;
}

const parse = (raw: unknown) => imapKind.schema.parse(raw) as ImapSpec;

let cert: TlsKeyPair;
let validTo: number;
let expired: TlsKeyPair;
beforeAll(() => {
  cert = selfSignedCert();
  validTo = Date.parse(new X509Certificate(cert.cert).validTo);
  expired = selfSignedCert({ notBefore: new Date(Date.UTC(2020, 0, 1)), notAfter: new Date(Date.UTC(2020, 1, 1)) });
});

describe('imap probe kind, plain', () => {
  it('is ok after greeting and CAPABILITY, and reports the capabilities and step latencies', async () => {
    const s = await track(startImapServer());
    const r = await runKind(imapKind, { host: '127.0.0.1', port: s.port });
    expect(r.status).toBe('ok');
    expect(r.values.capabilities).toBe('IMAP4REV1 IDLE');
    expect(r.values.tls).toBe(false);
    expect(typeof r.values.connectMs).toBe('number');
    expect(typeof r.values.greetingMs).toBe('number');
    expect(typeof r.values.capabilityMs).toBe('number');
    expect(r.values.loginMs).toBeUndefined();
    expect(r.values.certDaysLeft).toBeUndefined();
    expect(r.message).toContain(`127.0.0.1:${s.port}`);
  });

  it('logs in over plain text only when allow_insecure_auth is set, quoting the password', async () => {
    const s = await track(startImapServer({ users }));
    const refused = await runKind(imapKind, { host: '127.0.0.1', port: s.port, username: 'alice', password: users.alice });
    expect(refused.status).toBe('fail');
    expect(refused.message).toContain('LOGIN failed: refusing to send the password over an unencrypted connection');
    expect(refused.message).toContain('allow_insecure_auth');

    const r = await runKind(imapKind, { host: '127.0.0.1', port: s.port, username: 'alice', password: users.alice, allow_insecure_auth: true });
    expect(r.status).toBe('ok');
    expect(typeof r.values.loginMs).toBe('number');
    expect(r.message).toContain('logged in as alice');
  });

  it('fails with the server\'s answer on a wrong password', async () => {
    const s = await track(startImapServer({ users }));
    const r = await runKind(imapKind, { host: '127.0.0.1', port: s.port, username: 'alice', password: 'wrong', allow_insecure_auth: true });
    expect(r.status).toBe('fail');
    expect(r.message).toContain('LOGIN failed: NO [AUTHENTICATIONFAILED] Invalid credentials');
    expect(r.values.loginMs).toBeUndefined();
  });

  it('fails at the greeting when the server is down (BYE), and recovers when it is back', async () => {
    const s = await track(startImapServer());
    s.setDown(true);
    const down = await runKind(imapKind, { host: '127.0.0.1', port: s.port });
    expect(down.status).toBe('fail');
    expect(down.message).toContain('greeting failed: the server refused the session');
    expect(down.message).toContain('BYE');
    s.setDown(false);
    expect((await runKind(imapKind, { host: '127.0.0.1', port: s.port })).status).toBe('ok');
  });

  it('fails on a greeting that is not IMAP', async () => {
    const s = await track(startImapServer({ greeting: '220 mail.example.org ESMTP' }));
    const r = await runKind(imapKind, { host: '127.0.0.1', port: s.port });
    expect(r.status).toBe('fail');
    expect(r.message).toContain('greeting failed: not an IMAP greeting: "220 mail.example.org ESMTP"');
  });

  it('fails on garbage in reply to CAPABILITY', async () => {
    const s = await track(
      tcpServer((sock) => {
        sock.write('* OK ready\r\n');
        sock.once('data', () => sock.write('HTTP/1.1 400 Bad Request\r\n'));
      }),
    );
    const r = await runKind(imapKind, { host: '127.0.0.1', port: s.port });
    expect(r.status).toBe('fail');
    expect(r.message).toContain('CAPABILITY failed: not an IMAP response: "HTTP/1.1 400 Bad Request"');
  });

  it('times out at the greeting when the server accepts but says nothing', async () => {
    const s = await track(tcpServer(() => undefined));
    const r = await runKind(imapKind, { host: '127.0.0.1', port: s.port }, 300);
    expect(r.status).toBe('fail');
    expect(r.message).toContain('greeting failed: timed out after 300 ms');
    expect(typeof r.values.connectMs).toBe('number');
  });

  it('fails with "connection refused" on a closed port', async () => {
    const port = await closedPort();
    const r = await runKind(imapKind, { host: '127.0.0.1', port });
    expect(r.status).toBe('fail');
    expect(r.message).toContain('connect failed: connection refused');
  });

  it('stops at once when the caller aborts', async () => {
    const s = await track(tcpServer(() => undefined));
    const controller = new AbortController();
    const spec = parse({ host: '127.0.0.1', port: s.port });
    const running = imapKind.run(spec, { timeoutMs: 60_000, signal: controller.signal });
    setTimeout(() => controller.abort(new Error('shutting down')), 50);
    const r = await running;
    expect(r.status).toBe('fail');
    expect(r.message).toContain('aborted: shutting down');
  });
});

describe('imap probe kind with TLS', () => {
  it('upgrades with STARTTLS when offered, logs in, and reports certificate days left', async () => {
    const s = await track(startImapServer({ starttls: cert, users }));
    const kind = createImapKind(new FakeClock(validTo - 12.5 * DAY_MS));
    const r = await runKind(kind, { host: '127.0.0.1', port: s.port, tls_skip_verify: true, username: 'alice', password: users.alice });
    expect(r.status).toBe('ok');
    expect(r.values.tls).toBe(true);
    expect(r.values.certDaysLeft).toBe(12);
    expect(typeof r.values.starttlsMs).toBe('number');
    // Asked again after the upgrade: STARTTLS is no longer offered.
    expect(r.values.capabilities).toBe('IMAP4REV1 IDLE');
  });

  it('refuses a self-signed certificate unless tls_skip_verify, still reporting its lifetime', async () => {
    const s = await track(startImapServer({ starttls: cert }));
    const kind = createImapKind(new FakeClock(validTo - 5.5 * DAY_MS));
    const r = await runKind(kind, { host: '127.0.0.1', port: s.port });
    expect(r.status).toBe('fail');
    expect(r.message).toContain('STARTTLS failed: certificate not accepted (DEPTH_ZERO_SELF_SIGNED_CERT)');
    expect(r.message).toContain('tls_skip_verify');
    expect(r.values.certDaysLeft).toBe(5);
    expect(r.values.tls).toBe(false);
  });

  it('stays plain with starttls: never', async () => {
    const s = await track(startImapServer({ starttls: cert }));
    const r = await runKind(imapKind, { host: '127.0.0.1', port: s.port, starttls: 'never' });
    expect(r.status).toBe('ok');
    expect(r.values.tls).toBe(false);
    expect(r.values.capabilities).toBe('IMAP4REV1 STARTTLS IDLE');
  });

  it('fails when STARTTLS is required but not offered, listing what is', async () => {
    const s = await track(startImapServer());
    const r = await runKind(imapKind, { host: '127.0.0.1', port: s.port, starttls: 'required' });
    expect(r.status).toBe('fail');
    expect(r.message).toContain('STARTTLS failed: required, but the server does not offer it (CAPABILITY lists: IMAP4REV1 IDLE)');
  });

  it('speaks implicit TLS (993 style) and logs in', async () => {
    const s = await track(startImapServer({ tls: cert, users }));
    const r = await runKind(imapKind, { host: '127.0.0.1', port: s.port, tls: true, tls_skip_verify: true, username: 'alice', password: users.alice });
    expect(r.status).toBe('ok');
    expect(r.values.tls).toBe(true);
    expect(typeof r.values.tlsMs).toBe('number');
    expect(typeof r.values.loginMs).toBe('number');
  });

  it('with an expired certificate: refused by default, ok with tls_skip_verify and a negative certDaysLeft', async () => {
    const s = await track(startImapServer({ tls: expired }));
    const kind = createImapKind(new FakeClock(Date.UTC(2020, 1, 4, 12)));
    const refused = await runKind(kind, { host: '127.0.0.1', port: s.port, tls: true });
    expect(refused.status).toBe('fail');
    expect(refused.message).toContain('TLS handshake failed: certificate not accepted');
    expect(refused.values.certDaysLeft).toBe(-4);

    const accepted = await runKind(kind, { host: '127.0.0.1', port: s.port, tls: true, tls_skip_verify: true });
    expect(accepted.status).toBe('ok');
    expect(accepted.values.certDaysLeft).toBe(-4);
  });

  it('fails the TLS handshake against a plain server', async () => {
    const s = await track(startImapServer());
    const r = await runKind(imapKind, { host: '127.0.0.1', port: s.port, tls: true });
    expect(r.status).toBe('fail');
    expect(r.message).toContain('TLS handshake failed');
  });
});

describe('imap schema', () => {
  it('fills defaults and names the check after the port', () => {
    const spec = parse({ host: 'mail.invalid' });
    expect(spec).toMatchObject({ tls: false, starttls: 'auto', tls_skip_verify: false, allow_insecure_auth: false });
    expect(imapKind.defaultName(spec)).toBe('imap:143');
    expect(imapKind.defaultName(parse({ host: 'mail.invalid', tls: true }))).toBe('imap:993');
  });

  it.each([
    [{ port: 143 }],
    [{ host: 'mail.invalid', port: 0 }],
    [{ host: 'mail.invalid', starttls: 'yes' }],
    [{ host: 'mail.invalid', username: 'alice' }],
    [{ host: 'mail.invalid', username: 'alice', password: 'x\r\nA1 DELETE INBOX' }],
    [{ host: 'mail.invalid', hots: 'typo' }],
  ])('rejects %j', (raw) => {
    expect(imapKind.schema.safeParse(raw).success).toBe(false);
  });
});
