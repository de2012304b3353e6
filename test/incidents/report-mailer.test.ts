// The scheduled report mail end to end on real parts: a SQLite store with seeded incidents, the
// outbox, the email channel and a real SMTP server on loopback. The fake clock moves to the start
// of the next month in the tenant's zone; the mail arrives once with the figures of the month that
// ended and the CSV attached, and a restart (a new mailer on the same store) sends nothing again.
import type net from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emptyEscalation } from '../../src/domain/incident.js';
import { ReportMailer, type ReportMailTenant } from '../../src/incidents/report-mailer.js';
import { emailChannelSchema } from '../../src/notify/email.js';
import { Outbox } from '../../src/notify/outbox.js';
import { createChannel } from '../../src/notify/registry.js';
import type { Channel } from '../../src/notify/types.js';
import { FakeClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import type { IncidentDraft, IncidentStore, OpResult } from '../../src/store/types.js';
import { makeStore } from '../api/store.js';
import { parseMail, type ParsedMail } from '../notify/mime.js';

const MINUTE = 60_000;
const utc = (iso: string) => Date.parse(iso);

function draft(fp: string, tenant: string, severity: 'major' | 'minor', ackDue: number | null, at: number): IncidentDraft {
  return {
    escalation: { ...emptyEscalation(), startedAt: at, ackDueAt: ackDue === null ? null : at + ackDue, severity },
    fingerprint: fp,
    tenant,
    classification: { category: 'printer', severity, impact: 'site', tier: 'L1', priority: 'P2' },
    title: `${fp} down`,
    description: '',
    runbook: '',
    ruleId: 'down',
    source: 'probe',
    target: { id: `t-${fp}`, kind: 'printer', name: `Printer ${fp}`, site: 'hq', labels: {} },
    check: { name: 'ping', type: 'icmp' },
    labels: {},
    message: 'timeout',
  };
}

const numberOf = (r: OpResult | undefined) => {
  if (r?.kind !== 'fail') throw new Error(`expected a fail result, got ${JSON.stringify(r)}`);
  return r.number;
};

describe('scheduled report mail', () => {
  let store: IncidentStore;
  let clock: FakeClock;
  let received: ParsedMail[];
  let envelopes: string[][];
  let server: SMTPServer;
  let channel: Channel;
  const stops: (() => Promise<void>)[] = [];

  beforeEach(async () => {
    store = await makeStore();
    // Mar 20 2026, 12:00Z.
    clock = new FakeClock(utc('2026-03-20T12:00:00Z'));
    received = [];
    envelopes = [];
    server = new SMTPServer({
      logger: false,
      disableReverseLookup: true,
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          envelopes.push(session.envelope.rcptTo.map((r) => r.address));
          received.push(parseMail(Buffer.concat(chunks).toString('utf8')));
          callback();
        });
      },
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.server.address() as net.AddressInfo).port;
    channel = createChannel(
      emailChannelSchema.parse({
        id: 'mail',
        type: 'email',
        smtp: { host: '127.0.0.1', port, starttls: false },
        from: 'incidentd@example.org',
        to: ['helpdesk@example.org'],
        domain: 'incidentd.example.org',
        timeout: '5s',
      }),
      { clock, logger: silentLogger() },
    );

    // acme (Berlin) in March: two major (one acknowledged late: a breach), one minor; one in February.
    const open = async (fp: string, tenant: string, severity: 'major' | 'minor', at: number, ackDue: number | null) =>
      numberOf((await store.commit([{ kind: 'fail', at, count: 1, reopenWindowMs: MINUTE, draft: draft(fp, tenant, severity, ackDue, at) }]))[0]);
    const feb = await open('p0', 'acme', 'major', utc('2026-02-10T09:00:00Z'), null);
    await store.resolve(feb, 'alice', 'fixed', utc('2026-02-10T10:00:00Z'));
    const a = await open('p1', 'acme', 'major', utc('2026-03-02T09:00:00Z'), 15 * MINUTE);
    await store.acknowledge(a, 'alice', 'on it', utc('2026-03-02T09:10:00Z'));
    await store.resolve(a, 'alice', 'fixed', utc('2026-03-02T10:00:00Z'));
    const b = await open('p2', 'acme', 'major', utc('2026-03-05T09:00:00Z'), 15 * MINUTE);
    await store.acknowledge(b, 'alice', 'late', utc('2026-03-05T09:30:00Z'));
    await open('p3', 'acme', 'minor', utc('2026-03-06T09:00:00Z'), null);
    // globex's incident is in no mail of acme's.
    await open('g1', 'globex', 'major', utc('2026-03-07T09:00:00Z'), null);
  });

  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
    await channel.close?.();
    await new Promise<void>((r) => server.close(() => r()));
    await store.close();
  });

  const tenants: ReportMailTenant[] = [
    { id: 'acme', name: 'ACME Corp', timeZone: 'Europe/Berlin', reports: { schedule: 'monthly', to: ['it-lead@acme.example'], channel: 'mail' } },
    { id: 'globex', name: 'Globex', timeZone: null, reports: null },
  ];

  function start(): ReportMailer {
    const outbox = new Outbox({ store, channels: () => new Map([['mail', channel]]), clock, logger: silentLogger(), pollMs: 86_400_000 });
    outbox.start();
    const mailer = new ReportMailer({ store, clock, logger: silentLogger(), tenants: () => tenants, queued: () => void outbox.kick() });
    mailer.start();
    stops.push(() => outbox.stop(), () => mailer.stop());
    return mailer;
  }

  async function until(what: string, ok: () => boolean): Promise<void> {
    for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 25));
    if (!ok()) throw new Error(`timed out waiting for ${what}`);
  }

  it('mails the month that ended at midnight in the tenant zone, once, with the figures and the CSV', async () => {
    const mailer = start();
    // At start it catches up February (one incident, none before it).
    await until('the February report', () => received.length === 1);
    expect(received[0]!.headers.get('subject')).toBe('Incident report 2026-02: ACME Corp');

    // April 1, 00:00 in Berlin is March 31, 22:00Z: one minute before, nothing new.
    await clock.advance(utc('2026-03-31T21:59:00Z') - clock.now());
    await mailer.runOnce();
    await new Promise((r) => setTimeout(r, 100));
    expect(received).toHaveLength(1);
    await clock.advance(utc('2026-03-31T22:00:00Z') - clock.now());
    await until('the March report', () => received.length === 2);
    const mail = received[1]!;
    expect(envelopes[1]).toEqual(['it-lead@acme.example']);
    expect(mail.headers.get('subject')).toBe('Incident report 2026-03: ACME Corp');
    // Opened in March: 2 major (February: 1), 1 minor; p2 acknowledged 30 min after a 15-min SLA.
    expect(mail.html).toContain('<tr><td>major</td><td>2</td><td>1</td><td>100%</td></tr>');
    expect(mail.html).toContain('<tr><td>minor</td><td>1</td><td>0</td><td>n/a</td></tr>');
    expect(mail.html).toContain('<tr><td>total</td><td>3</td><td>1</td><td>200%</td></tr>');
    expect(mail.html).toContain('<tr><td>major</td><td>acknowledge</td><td>1</td><td>1</td><td>0</td></tr>');
    expect(mail.html).toContain('<td>INC-000003</td><td>major</td><td>acknowledge</td>');
    // Open at the end of March: p2 (acknowledged) and p3.
    expect(mail.html).toContain('Open at the end of the period: 2');
    expect(mail.html).not.toContain('g1');
    expect(mail.attachments).toHaveLength(1);
    const csv = mail.attachments[0]!;
    expect(csv.filename).toBe('incidents-acme-2026-03.csv');
    expect(csv.contentType).toMatch(/^text\/csv;/);
    const lines = csv.content.trimEnd().split(/\r?\n/);
    expect(lines[0]).toBe('section,key,measure,current,previous');
    expect(lines).toEqual(
      expect.arrayContaining([
        'incidents,major,opened,2,1',
        'incidents,minor,opened,1,0',
        'incidents,total,opened,3,1',
        // Acknowledged after 10 and 30 min: median the 1st, p90 the 2nd.
        `handling,major,acknowledge_median_ms,${10 * MINUTE},`,
        `handling,major,acknowledge_p90_ms,${30 * MINUTE},`,
        'sla,major,acknowledge_breached,1,',
        `breach,INC-000003,acknowledge,${new Date(utc('2026-03-05T09:15:00Z')).toISOString()},${new Date(utc('2026-03-05T09:30:00Z')).toISOString()}`,
        'backlog,open_at_end,incidents,2,',
      ]),
    );

    // A restart: a new mailer looks at once and finds March queued already.
    await mailer.stop();
    const again = new ReportMailer({ store, clock, logger: silentLogger(), tenants: () => tenants });
    await again.runOnce();
    await new Promise((r) => setTimeout(r, 100));
    expect(received).toHaveLength(2);
  });
});
