// values.answered and partial for the mail kinds, tcp and icmp (issue 13): a server that did not
// answer gives a partial reading with answered false; a server that answered but failed a later
// step answered, and its reading is partial only when a value rules read (certDaysLeft) could not
// be measured.
import type net from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/domain/check.js';
import { icmpKind } from '../../src/probe-kinds/icmp.js';
import { imapKind } from '../../src/probe-kinds/imap.js';
import { pop3Kind } from '../../src/probe-kinds/pop3.js';
import { runProbe } from '../../src/probe-kinds/run.js';
import { smtpKind } from '../../src/probe-kinds/smtp.js';
import { tcpKind } from '../../src/probe-kinds/tcp.js';
import { closedPort, runKind, tcpServer, type Running } from './helpers.js';
import { selfSignedCert, startImapServer, startPop3Server, type MailServer, type TlsKeyPair } from './mail-servers.js';
import { pingAvailable, warnIfNoPing } from './ping-available.js';

warnIfNoPing('test/probe-kinds/answered.test.ts');

const running: (Running | MailServer)[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => ('stop' in s ? s.stop() : s.close())));
});
async function track<T extends Running | MailServer>(p: Promise<T>): Promise<T> {
  const s = await p;
  running.push(s);
  return s;
}

/** A real SMTP server on 127.0.0.1 with STARTTLS; accepts carol / hunter2 only. */
async function smtpServer(cert: TlsKeyPair): Promise<Running> {
  const server = new SMTPServer({
    logger: false,
    disableReverseLookup: true,
    authOptional: true,
    key: cert.key,
    cert: cert.cert,
    onAuth(auth, _session, callback) {
      if (auth.username === 'carol' && auth.password === 'hunter2') return callback(null, { user: auth.username });
      return callback(Object.assign(new Error('5.7.8 authentication failed'), { responseCode: 535 }));
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return track(
    Promise.resolve({
      port: (server.server.address() as net.AddressInfo).port,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    }),
  );
}

function expectNoAnswer(r: CheckResult): void {
  expect(r.status).toBe('fail');
  expect(r.values.answered).toBe(false);
  expect(r.partial).toBe(true);
}

let cert: TlsKeyPair;
beforeAll(() => {
  cert = selfSignedCert();
});

describe('mail kinds: a server that does not answer', () => {
  for (const kind of [smtpKind, imapKind, pop3Kind]) {
    it(`${kind.type}: a refused port is a partial reading with answered false`, async () => {
      expectNoAnswer(await runKind(kind, { host: '127.0.0.1', port: await closedPort() }));
    });

    it(`${kind.type}: a name that does not resolve is a partial reading with answered false`, async () => {
      expectNoAnswer(await runKind(kind, { host: 'mail.incidentd-test.invalid', port: 25 }));
    });

    it(`${kind.type}: a server that accepts but never greets is a partial reading with answered false`, async () => {
      const s = await track(tcpServer(() => undefined));
      expectNoAnswer(await runKind(kind, { host: '127.0.0.1', port: s.port }, 300));
    });
  }
});

describe('mail kinds: a server that answered', () => {
  it('smtp: AUTH rejected after STARTTLS answered, and the reading is full (certDaysLeft measured)', async () => {
    const s = await smtpServer(cert);
    const r = await runKind(smtpKind, { host: '127.0.0.1', port: s.port, tls_skip_verify: true, username: 'carol', password: 'wrong' });
    expect(r.status).toBe('fail');
    expect(r.message).toContain('AUTH failed');
    expect(r.values.answered).toBe(true);
    expect(typeof r.values.certDaysLeft).toBe('number');
    expect(r.partial).toBeUndefined();
  });

  it('smtp: ok says answered true', async () => {
    const s = await smtpServer(cert);
    const r = await runKind(smtpKind, { host: '127.0.0.1', port: s.port, tls_skip_verify: true });
    expect(r.status).toBe('ok');
    expect(r.values.answered).toBe(true);
    expect(r.partial).toBeUndefined();
  });

  it('smtp: a refusal banner answered, but the certificate was not reached: partial', async () => {
    const s = await track(tcpServer((sock) => sock.end('554 5.3.2 service unavailable\r\n')));
    const r = await runKind(smtpKind, { host: '127.0.0.1', port: s.port });
    expect(r.status).toBe('fail');
    expect(r.values.answered).toBe(true);
    expect(r.partial).toBe(true);
  });

  it('smtp: a refusal banner with starttls: never is a full reading (no certificate to measure)', async () => {
    const s = await track(tcpServer((sock) => sock.end('554 5.3.2 service unavailable\r\n')));
    const r = await runKind(smtpKind, { host: '127.0.0.1', port: s.port, starttls: 'never' });
    expect(r.status).toBe('fail');
    expect(r.values.answered).toBe(true);
    expect(r.partial).toBeUndefined();
  });

  it('imap: LOGIN rejected answered, full reading when STARTTLS is not offered', async () => {
    const s = await track(startImapServer({ users: { alice: 'pw' } }));
    const r = await runKind(imapKind, { host: '127.0.0.1', port: s.port, username: 'alice', password: 'wrong', allow_insecure_auth: true });
    expect(r.status).toBe('fail');
    expect(r.message).toContain('LOGIN failed');
    expect(r.values.answered).toBe(true);
    expect(r.partial).toBeUndefined();
  });

  it('pop3: PASS rejected answered, full reading when STLS is not offered', async () => {
    const s = await track(startPop3Server({ users: { bob: 'pw' } }));
    const r = await runKind(pop3Kind, { host: '127.0.0.1', port: s.port, username: 'bob', password: 'wrong', allow_insecure_auth: true });
    expect(r.status).toBe('fail');
    expect(r.message).toContain('PASS rejected');
    expect(r.values.answered).toBe(true);
    expect(r.partial).toBeUndefined();
  });

  it('imap: STARTTLS required but not offered answered, and is a full reading', async () => {
    const s = await track(startImapServer());
    const r = await runKind(imapKind, { host: '127.0.0.1', port: s.port, starttls: 'required' });
    expect(r.status).toBe('fail');
    expect(r.values.answered).toBe(true);
    expect(r.partial).toBeUndefined();
  });
});

describe('through runProbe (as the scheduler runs them)', () => {
  it('a mail server that greeted and then hung answered: the kind\'s own result wins over the generic timeout', async () => {
    const s = await track(tcpServer((sock) => sock.write('220 mx.example.org ESMTP\r\n')));
    const spec = smtpKind.schema.parse({ host: '127.0.0.1', port: s.port });
    const r = await runProbe(smtpKind, spec, { timeoutMs: 300, signal: new AbortController().signal });
    expect(r.status).toBe('fail');
    expect(r.message).toContain('EHLO failed: timed out after 300 ms');
    expect(r.values.answered).toBe(true);
    // It stopped before STARTTLS: certDaysLeft was not measured.
    expect(r.partial).toBe(true);
  });

  it('a server that never greets still gives answered false', async () => {
    const s = await track(tcpServer(() => undefined));
    const spec = smtpKind.schema.parse({ host: '127.0.0.1', port: s.port });
    expectNoAnswer(await runProbe(smtpKind, spec, { timeoutMs: 300, signal: new AbortController().signal }));
  });
});

describe('tcp', () => {
  it('a refused port is a partial reading with answered false', async () => {
    expectNoAnswer(await runKind(tcpKind, { host: '127.0.0.1', port: await closedPort() }));
  });

  it('a name that does not resolve is a partial reading with answered false', async () => {
    expectNoAnswer(await runKind(tcpKind, { host: 'nohost.incidentd-test.invalid', port: 22 }));
  });

  it('an accepted connection answered', async () => {
    const s = await track(tcpServer(() => undefined));
    const r = await runKind(tcpKind, { host: '127.0.0.1', port: s.port });
    expect(r.status).toBe('ok');
    expect(r.values.answered).toBe(true);
  });

  it('a wrong banner answered, and is a full reading', async () => {
    const s = await track(tcpServer((sock) => sock.end('HELLO\r\n')));
    const r = await runKind(tcpKind, { host: '127.0.0.1', port: s.port, expect_banner: 'SSH-2.0' });
    expect(r.status).toBe('fail');
    expect(r.values.answered).toBe(true);
    expect(r.partial).toBeUndefined();
  });

  it('no banner at all within the timeout: answered false', async () => {
    const s = await track(tcpServer(() => undefined));
    expectNoAnswer(await runKind(tcpKind, { host: '127.0.0.1', port: s.port, expect_banner: 'SSH-2.0' }, 300));
  });
});

describe.skipIf(!pingAvailable)('icmp', () => {
  it('a reply answered', async () => {
    const r = await runKind(icmpKind, { host: '127.0.0.1' });
    expect(r.status, r.message).toBe('ok');
    expect(r.values.answered).toBe(true);
  });

  it('a name that does not resolve is a partial reading with answered false', async () => {
    expectNoAnswer(await runKind(icmpKind, { host: 'nohost.invalid' }));
  });
});
