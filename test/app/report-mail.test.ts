// The scheduled report mail in the daemon as it runs: a tenant with `reports:` in incidentd.yaml
// and an email channel to a real SMTP server on loopback. When the tenant's month ends (fake clock),
// the daemon mails the report of the month that ended to the configured address.
import type net from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app/app.js';
import { FakeClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { parseMail, type ParsedMail } from '../notify/mime.js';

describe('the daemon mails a tenant’s scheduled report', () => {
  let dir: string;
  let server: SMTPServer;
  let port: number;
  let app: App | null = null;
  const received: { to: string[]; mail: ParsedMail }[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'incidentd-report-mail-'));
    mkdirSync(join(dir, 'probes'));
    mkdirSync(join(dir, 'rules'));
    writeFileSync(join(dir, 'probes', 'none.yaml'), 'targets: []\n');
    writeFileSync(join(dir, 'rules', 'none.yaml'), 'rules: []\n');
    received.length = 0;
    server = new SMTPServer({
      logger: false,
      disableReverseLookup: true,
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          received.push({ to: session.envelope.rcptTo.map((r) => r.address), mail: parseMail(Buffer.concat(chunks).toString('utf8')) });
          callback();
        });
      },
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.server.address() as net.AddressInfo).port;
  });

  afterEach(async () => {
    await app?.stop();
    app = null;
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  async function until(what: string, ok: () => boolean): Promise<void> {
    for (let i = 0; i < 400 && !ok(); i++) await new Promise((r) => setTimeout(r, 25));
    if (!ok()) throw new Error(`timed out waiting for ${what}`);
  }

  it('sends the month that ended at midnight in the tenant’s zone to the configured address', async () => {
    writeFileSync(
      join(dir, 'incidentd.yaml'),
      `store: { type: sqlite, path: ${join(dir, 'incidentd.db')} }
channels:
  - id: ops-mail
    type: email
    smtp: { host: 127.0.0.1, port: ${port}, starttls: false }
    from: incidentd@msp.invalid
    to: [helpdesk@msp.invalid]
    domain: incidentd.msp.invalid
tenants:
  - id: acme
    name: ACME Corp
    time_zone: Europe/Berlin
    reports: { schedule: monthly, to: [it-lead@acme.invalid], channel: ops-mail }
`,
    );
    // March 31, 21:30Z is 23:30 in Berlin: the March report is due at 22:00Z.
    const clock = new FakeClock(Date.parse('2026-03-31T21:30:00Z'));
    app = await createApp({
      paths: { config: join(dir, 'incidentd.yaml'), probesDir: join(dir, 'probes'), rulesDir: join(dir, 'rules') },
      clock,
      logger: silentLogger(),
      env: { PATH: process.env.PATH ?? '' },
      watch: false,
      port: 0,
    });
    const march = () => received.filter((m) => m.mail.headers.get('subject') === 'Incident report 2026-03: ACME Corp');
    // Started before the month ended: the February report may come (catching up), March's not yet.
    await new Promise((r) => setTimeout(r, 300));
    expect(march()).toHaveLength(0);

    await clock.advance(31 * 60_000);
    await until('the March report', () => march().length === 1);
    expect(march()[0]!.to).toEqual(['it-lead@acme.invalid']);
  }, 30_000);
});
