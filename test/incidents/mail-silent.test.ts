// A mail server with an expiring certificate that then goes silent (issue 13): the real smtp kind
// against a real SMTP server on loopback, its results as probe signals, the shipped rules, the
// manager over a real SQLite store. No answer is no news about the certificate.
import { X509Certificate } from 'node:crypto';
import type net from 'node:net';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { signalFromCheck } from '../../src/app/probe-signal.js';
import { loadConfig } from '../../src/config/load.js';
import { createSmtpKind } from '../../src/probe-kinds/smtp.js';
import { FakeClock } from '../../src/shared/clock.js';
import { REPO } from '../config/helpers.js';
import { runKind } from '../probe-kinds/helpers.js';
import { selfSignedCert } from '../probe-kinds/mail-servers.js';
import { harness, type Harness } from './harness.js';

const DAY_MS = 86_400_000;
const MIN = 60_000;

let h: Harness | undefined;
let server: SMTPServer | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
  if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
  server = undefined;
});

describe('a mail server going silent (issue 13)', () => {
  it('keeps its open certificate-expiry incident; the server answering again with the certificate renewed resolves it', async () => {
    const cert = selfSignedCert();
    const validTo = Date.parse(new X509Certificate(cert.cert).validTo);
    const { rules } = await loadConfig(
      { config: path.join(REPO, 'config/incidentd.yaml'), probesDir: path.join(REPO, 'probes'), rulesDir: path.join(REPO, 'rules') },
      {},
    );
    h = await harness({ rules });

    // A real SMTP server that offers STARTTLS and rejects the probe's password.
    const srv = new SMTPServer({
      logger: false,
      disableReverseLookup: true,
      authOptional: true,
      key: cert.key,
      cert: cert.cert,
      onAuth: (_auth, _session, callback) => callback(Object.assign(new Error('5.7.8 authentication failed'), { responseCode: 535 })),
    });
    server = srv;
    srv.on('error', () => undefined);
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', () => resolve()));
    const port = (srv.server.address() as net.AddressInfo).port;

    const mx = { id: 'mx-1', kind: 'mail', name: 'MX 1', site: 'hq', labels: {}, dependsOn: [] };
    const check = { name: 'submission', type: 'smtp' };
    const spec = { host: '127.0.0.1', port, tls_skip_verify: true, username: 'probe', password: 'wrong', allow_insecure_auth: false };
    const kind = createSmtpKind(new FakeClock(validTo - 9.5 * DAY_MS));
    const probe = async (at: number) => h!.manager.submit(signalFromCheck(mx, check, await runKind(kind, spec), at));
    const byRule = async () => Object.fromEntries((await h!.store.list({}, 20)).items.map((i) => [i.ruleId, i.status]));

    const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
    // mail-service-down opens after 2 failures; the certificate incident at once.
    await probe(T0);
    await probe(T0 + MIN);
    expect(await byRule()).toEqual({ 'tls-cert-expiring': 'open', 'mail-service-down': 'open' });

    // The server stops: connection refused, no certificate read. The certificate incident stays.
    await new Promise<void>((resolve) => srv.close(() => resolve()));
    server = undefined;
    await probe(T0 + 2 * MIN);
    await probe(T0 + 3 * MIN);
    await probe(T0 + 4 * MIN);
    expect(await byRule()).toEqual({ 'tls-cert-expiring': 'open', 'mail-service-down': 'open' });
    const certInc = (await h.store.list({}, 20)).items.find((i) => i.ruleId === 'tls-cert-expiring')!;
    expect((await h.store.get(certInc.number))!.timeline.map((e) => e.action)).toEqual(['opened']);

    // Back on the same port with a renewed certificate (still rejecting the password): a full
    // reading on which the certificate rule did not fire resolves that incident only.
    const renewed = selfSignedCert({ notAfter: new Date(validTo + 60 * DAY_MS) });
    const again = new SMTPServer({
      logger: false,
      disableReverseLookup: true,
      authOptional: true,
      key: renewed.key,
      cert: renewed.cert,
      onAuth: (_auth, _session, callback) => callback(Object.assign(new Error('5.7.8 authentication failed'), { responseCode: 535 })),
    });
    server = again;
    again.on('error', () => undefined);
    await new Promise<void>((resolve) => again.listen(port, '127.0.0.1', () => resolve()));
    await probe(T0 + 5 * MIN);
    expect(await byRule()).toEqual({ 'tls-cert-expiring': 'resolved', 'mail-service-down': 'open' });
  });
});
