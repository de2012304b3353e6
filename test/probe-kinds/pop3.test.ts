import { X509Certificate } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPop3Kind, pop3Kind, type Pop3Spec } from '../../src/probe-kinds/pop3.js';
import { FakeClock } from '../../src/shared/clock.js';
import { closedPort, runKind, tcpServer, type Running } from './helpers.js';
import { selfSignedCert, startPop3Server, type MailServer, type TlsKeyPair } from './mail-servers.js';

const DAY_MS = 86_400_000;
const users = { bob: 's3cret pass' };

const servers: (MailServer | Running)[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => ('stop' in s ? s.stop() : s.close())));
});
async function track<T extends MailServer | Running>(p: Promise<T>): Promise<T> {
  const s = await p;
  servers.push(s);
  return s;
}

const parse = (raw: unknown) => pop3Kind.schema.parse(raw) as Pop3Spec;

let cert: TlsKeyPair;
let validTo: number;
beforeAll(() => {
  cert = selfSignedCert();
  validTo = Date.parse(new X509Certificate(cert.cert).validTo);
});

describe('pop3 probe kind, plain', () => {
  it('is ok after +OK greeting and CAPA, reporting capabilities and step latencies', async () => {
    const s = await track(startPop3Server());
    const r = await runKind(pop3Kind, { host: '127.0.0.1', port: s.port });
    expect(r.status).toBe('ok');
    expect(r.values.capabilities).toBe('USER UIDL IMPLEMENTATION incidentd');
    expect(r.values.tls).toBe(false);
    expect(typeof r.values.greetingMs).toBe('number');
    expect(typeof r.values.capaMs).toBe('number');
  });

  it('logs in with USER/PASS when plain-text auth is allowed', async () => {
    const s = await track(startPop3Server({ users }));
    const r = await runKind(pop3Kind, { host: '127.0.0.1', port: s.port, username: 'bob', password: users.bob, allow_insecure_auth: true });
    expect(r.status).toBe('ok');
    expect(typeof r.values.loginMs).toBe('number');
    expect(r.message).toContain('logged in as bob');
  });

  it('fails with the server\'s answer on a wrong password', async () => {
    const s = await track(startPop3Server({ users }));
    const r = await runKind(pop3Kind, { host: '127.0.0.1', port: s.port, username: 'bob', password: 'nope', allow_insecure_auth: true });
    expect(r.status).toBe('fail');
    expect(r.message).toContain('login failed: PASS rejected: -ERR [AUTH] invalid user name or password');
  });

  it('refuses to send the password in clear text by default', async () => {
    const s = await track(startPop3Server({ users }));
    const r = await runKind(pop3Kind, { host: '127.0.0.1', port: s.port, username: 'bob', password: users.bob });
    expect(r.status).toBe('fail');
    expect(r.message).toContain('refusing to send the password over an unencrypted connection');
  });

  it('fails at the greeting when the server is down (-ERR)', async () => {
    const s = await track(startPop3Server());
    s.setDown(true);
    const r = await runKind(pop3Kind, { host: '127.0.0.1', port: s.port });
    expect(r.status).toBe('fail');
    expect(r.message).toContain('greeting failed: the server refused the session: "-ERR [SYS/TEMP] server is down for maintenance"');
  });

  it('fails on a greeting that is not POP3', async () => {
    const s = await track(startPop3Server({ greeting: 'SSH-2.0-OpenSSH_9.6' }));
    const r = await runKind(pop3Kind, { host: '127.0.0.1', port: s.port });
    expect(r.status).toBe('fail');
    expect(r.message).toContain('greeting failed: not a POP3 reply: "SSH-2.0-OpenSSH_9.6"');
  });

  it('treats a server without CAPA (RFC 1939 only) as having no listed capabilities', async () => {
    const s = await track(
      tcpServer((sock) => {
        sock.write('+OK old server\r\n');
        sock.on('data', () => sock.write('-ERR unknown command\r\n'));
      }),
    );
    const r = await runKind(pop3Kind, { host: '127.0.0.1', port: s.port });
    expect(r.status).toBe('ok');
    expect(r.values.capabilities).toBe('');
  });

  it('fails when the server closes in the middle of a CAPA answer', async () => {
    const s = await track(
      tcpServer((sock) => {
        sock.write('+OK ready\r\n');
        sock.once('data', () => sock.end('+OK list follows\r\nUSER\r\n'));
      }),
    );
    const r = await runKind(pop3Kind, { host: '127.0.0.1', port: s.port });
    expect(r.status).toBe('fail');
    expect(r.message).toContain('CAPA failed: the server closed the connection');
  });

  it('times out when no greeting comes, and says so', async () => {
    const s = await track(tcpServer(() => undefined));
    const r = await runKind(pop3Kind, { host: '127.0.0.1', port: s.port }, 300);
    expect(r.status).toBe('fail');
    expect(r.message).toContain('greeting failed: timed out after 300 ms');
  });

  it('fails with "connection refused" on a closed port', async () => {
    const r = await runKind(pop3Kind, { host: '127.0.0.1', port: await closedPort() });
    expect(r.status).toBe('fail');
    expect(r.message).toContain('connect failed: connection refused');
  });

  it('names an unresolvable host', async () => {
    const r = await runKind(pop3Kind, { host: 'pop.example.invalid', port: 110 });
    expect(r.status).toBe('fail');
    expect(r.message).toContain('cannot resolve host name');
  });
});

describe('pop3 probe kind with TLS', () => {
  it('upgrades with STLS when offered, logs in, and reports certificate days left', async () => {
    const s = await track(startPop3Server({ starttls: cert, users }));
    const kind = createPop3Kind(new FakeClock(validTo - 20.2 * DAY_MS));
    const r = await runKind(kind, { host: '127.0.0.1', port: s.port, tls_skip_verify: true, username: 'bob', password: users.bob });
    expect(r.status).toBe('ok');
    expect(r.values.tls).toBe(true);
    expect(r.values.certDaysLeft).toBe(20);
    expect(typeof r.values.starttlsMs).toBe('number');
    expect(r.values.capabilities).not.toContain('STLS');
  });

  it('refuses the self-signed certificate without tls_skip_verify', async () => {
    const s = await track(startPop3Server({ tls: cert }));
    const r = await runKind(pop3Kind, { host: '127.0.0.1', port: s.port, tls: true });
    expect(r.status).toBe('fail');
    expect(r.message).toContain('TLS handshake failed: certificate not accepted (DEPTH_ZERO_SELF_SIGNED_CERT)');
  });

  it('speaks implicit TLS (995 style)', async () => {
    const s = await track(startPop3Server({ tls: cert, users }));
    const r = await runKind(pop3Kind, { host: '127.0.0.1', port: s.port, tls: true, tls_skip_verify: true, username: 'bob', password: users.bob });
    expect(r.status).toBe('ok');
    expect(typeof r.values.tlsMs).toBe('number');
    expect(typeof r.values.loginMs).toBe('number');
  });

  it('fails when STLS is required but not offered', async () => {
    const s = await track(startPop3Server());
    const r = await runKind(pop3Kind, { host: '127.0.0.1', port: s.port, starttls: 'required' });
    expect(r.status).toBe('fail');
    expect(r.message).toContain('STLS failed: required, but the server does not offer it');
  });

  it('refuses a server that sends more data right after +OK to STLS (injection)', async () => {
    const s = await track(
      tcpServer((sock) => {
        sock.write('+OK ready\r\n');
        sock.on('data', (d: Buffer) => {
          const cmd = d.toString().trim();
          if (cmd === 'CAPA') sock.write('+OK\r\nSTLS\r\n.\r\n');
          if (cmd === 'STLS') sock.write('+OK go ahead\r\n+OK injected\r\n');
        });
      }),
    );
    const r = await runKind(pop3Kind, { host: '127.0.0.1', port: s.port, tls_skip_verify: true });
    expect(r.status).toBe('fail');
    expect(r.message).toContain('STLS failed: the server sent more data right before the TLS handshake');
  });
});

describe('pop3 schema', () => {
  it('defaults the port to 110, or 995 with tls', () => {
    expect(pop3Kind.defaultName(parse({ host: 'pop.invalid' }))).toBe('pop3:110');
    expect(pop3Kind.defaultName(parse({ host: 'pop.invalid', tls: true }))).toBe('pop3:995');
  });

  it.each([
    [{}],
    [{ host: '' }],
    [{ host: 'pop.invalid', port: 70000 }],
    [{ host: 'pop.invalid', password: 'only' }],
    [{ host: 'pop.invalid', username: 'bob\nDELE 1', password: 'x' }],
    [{ host: 'pop.invalid', tls: 'yes' }],
  ])('rejects %j', (raw) => {
    expect(pop3Kind.schema.safeParse(raw).success).toBe(false);
  });
});
