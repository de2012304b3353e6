import { createHmac, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createChannel, type ChannelConfig } from '../../src/notify/registry.js';
import type { Channel } from '../../src/notify/types.js';
import { webhookChannelSchema } from '../../src/notify/webhook.js';
import { FakeClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { closedPort, httpServer, type Running } from '../probe-kinds/helpers.js';
import { event, incident, T0 } from './fixtures.js';

const SECRET = 'correct-horse-battery-staple';

interface Request {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  raw: string;
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((f) => f()));
});

/** A real HTTP server on 127.0.0.1 that records requests and answers with `answer`. */
async function receiver(answer: (res: http.ServerResponse) => void = (res) => res.writeHead(204).end()) {
  const requests: Request[] = [];
  const s: Running = await httpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, raw: Buffer.concat(chunks).toString('utf8') });
      answer(res);
    });
  });
  cleanup.push(() => s.close());
  return { port: s.port, requests };
}

function channel(port: number, extra: Record<string, unknown> = {}, clock = new FakeClock(T0 + 90_000)): Channel {
  const config: ChannelConfig = webhookChannelSchema.parse({
    id: 'ops-hook',
    type: 'webhook',
    url: `http://127.0.0.1:${port}/hooks/incidentd`,
    secret: SECRET,
    headers: { Authorization: 'Bearer receiver-token' },
    timeout: '2s',
    ...extra,
  });
  return createChannel(config, { clock, logger: silentLogger() });
}

const signal = () => new AbortController().signal;

describe('webhook channel against a real HTTP server', () => {
  it('POSTs the event as JSON with a signature the receiver can verify with the secret', async () => {
    const r = await receiver();
    const inc = incident({ status: 'acknowledged', acknowledgedAt: T0 + 80_000, acknowledgedBy: 'alice' });
    const ev = event('incident.acknowledged', inc, { actor: 'alice', message: 'on it' });
    const result = await channel(r.port).deliver(ev, signal());
    expect(result.outcome).toBe('ok');
    expect(r.requests).toHaveLength(1);
    const req = r.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/hooks/incidentd');
    expect(req.headers['content-type']).toMatch(/^application\/json/);
    expect(req.headers['idempotency-key']).toBe(ev.id);
    expect(req.headers['x-incidentd-event']).toBe('incident.acknowledged');
    expect(req.headers.authorization).toBe('Bearer receiver-token');

    // Verify as a receiver would: HMAC-SHA256 over "<timestamp>.<raw body>".
    const timestamp = String(req.headers['x-incidentd-timestamp']);
    expect(timestamp).toBe(String(Math.floor((T0 + 90_000) / 1000)));
    const expected = createHmac('sha256', SECRET).update(`${timestamp}.${req.raw}`).digest();
    const given = String(req.headers['x-incidentd-signature']);
    expect(given).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(timingSafeEqual(Buffer.from(given.slice('sha256='.length), 'hex'), expected)).toBe(true);
    // A different secret or a changed timestamp does not verify.
    expect(createHmac('sha256', 'another-secret-entirely').update(`${timestamp}.${req.raw}`).digest('hex')).not.toBe(given.slice(7));
    expect(createHmac('sha256', SECRET).update(`${Number(timestamp) + 1}.${req.raw}`).digest('hex')).not.toBe(given.slice(7));

    const body = JSON.parse(req.raw);
    expect(body).toMatchObject({
      id: ev.id,
      type: 'incident.acknowledged',
      at: new Date(ev.at).toISOString(),
      tier: null,
      actor: 'alice',
      message: 'on it',
    });
    expect(body.incident).toMatchObject({
      number: 'INC-000123',
      status: 'acknowledged',
      acknowledgedBy: 'alice',
      acknowledgedAt: new Date(T0 + 80_000).toISOString(),
      firstSeen: new Date(T0).toISOString(),
      priority: 'P2',
      target: { id: 'printer-3f', site: 'hq' },
      runbook: inc.runbook,
    });
    expect(body.incident.timeline).toEqual([
      { at: new Date(T0 + 60_000).toISOString(), actor: 'printer-down', action: 'opened', message: 'opened after 3 failures' },
    ]);
  });

  it('answers retryable on 500, with the receiver\'s answer in the error', async () => {
    const r = await receiver((res) => res.writeHead(500, { 'content-type': 'text/plain' }).end('database is down'));
    const result = await channel(r.port).deliver(event('incident.opened'), signal());
    expect(result).toEqual({ outcome: 'retryable', error: expect.stringMatching(/answered 500: database is down/) });
  });

  it('answers retryable on 429 and honours Retry-After in seconds and as a date', async () => {
    const seconds = await receiver((res) => res.writeHead(429, { 'retry-after': '120' }).end());
    const r1 = await channel(seconds.port).deliver(event('incident.opened'), signal());
    expect(r1).toMatchObject({ outcome: 'retryable', retryAfterMs: 120_000 });

    const clock = new FakeClock(T0);
    const date = await receiver((res) => res.writeHead(503, { 'retry-after': new Date(T0 + 30_000).toUTCString() }).end());
    const r2 = await channel(date.port, {}, clock).deliver(event('incident.opened'), signal());
    expect(r2).toMatchObject({ outcome: 'retryable', retryAfterMs: 30_000 });
  });

  it('answers permanent on 400 and on a redirect', async () => {
    const bad = await receiver((res) => res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"unknown field"}'));
    const r1 = await channel(bad.port).deliver(event('incident.opened'), signal());
    expect(r1).toEqual({ outcome: 'permanent', error: expect.stringMatching(/answered 400: \{"error":"unknown field"\}/) });

    const moved = await receiver((res) => res.writeHead(301, { location: 'https://hooks.example.invalid/new' }).end());
    const r2 = await channel(moved.port).deliver(event('incident.opened'), signal());
    expect(r2).toEqual({ outcome: 'permanent', error: expect.stringMatching(/redirected to https:\/\/hooks\.example\.invalid\/new/) });
  });

  it('answers retryable when the receiver does not answer in time', async () => {
    const r = await receiver(() => undefined); // never answers
    const result = await channel(r.port, { timeout: '300ms' }).deliver(event('incident.opened'), signal());
    expect(result).toEqual({ outcome: 'retryable', error: expect.stringMatching(/no answer within 300 ms/) });
    expect(r.requests).toHaveLength(1);
  });

  it('answers retryable when nothing listens, and when the caller aborts', async () => {
    const refused = await channel(await closedPort()).deliver(event('incident.opened'), signal());
    expect(refused).toEqual({ outcome: 'retryable', error: expect.stringMatching(/connection refused/) });

    const r = await receiver(() => undefined);
    const ac = new AbortController();
    const pending = channel(r.port).deliver(event('incident.opened'), ac.signal);
    while (r.requests.length === 0) await new Promise((res) => setTimeout(res, 5));
    ac.abort();
    expect(await pending).toEqual({ outcome: 'retryable', error: expect.stringMatching(/cancelled/) });
  });

  it('sends the same Idempotency-Key when the same event is delivered again', async () => {
    const r = await receiver();
    const ch = channel(r.port);
    const ev = event('incident.resolved');
    await ch.deliver(ev, signal());
    await ch.deliver(ev, signal());
    await ch.deliver(event('incident.resolved'), signal());
    const keys = r.requests.map((q) => q.headers['idempotency-key']);
    expect(keys[0]).toBe(keys[1]);
    expect(keys[2]).not.toBe(keys[0]);
  });
});

describe('webhookChannelSchema', () => {
  const base = { id: 'hook', type: 'webhook', url: 'https://hooks.example.invalid/x', secret: SECRET };
  it('accepts a minimal config and fills the timeout', () => {
    expect(webhookChannelSchema.parse(base)).toMatchObject({ timeout: '10s', headers: {} });
  });
  it('rejects a short secret, a reserved header, a non-http URL and misspelt keys', () => {
    expect(webhookChannelSchema.safeParse({ ...base, secret: '' }).success).toBe(false);
    expect(webhookChannelSchema.safeParse({ ...base, headers: { 'Idempotency-Key': 'x' } }).success).toBe(false);
    expect(webhookChannelSchema.safeParse({ ...base, url: 'ftp://hooks.example.invalid/' }).success).toBe(false);
    expect(webhookChannelSchema.safeParse({ ...base, timout: '5s' }).success).toBe(false);
  });
});
