// What the log holds at debug level never holds a secret: a token sent in a query string is logged
// as `[redacted]`, and a trap with a wrong community is logged without the community it carried.
import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { redactUrl } from '../../src/api/log-url.js';
import { createMetrics } from '../../src/api/metrics.js';
import { buildApi } from '../../src/api/server.js';
import { FakeClock, SystemClock } from '../../src/shared/clock.js';
import type { Logger } from '../../src/shared/logger.js';
import { SnmpTrapSource } from '../../src/sources/snmp-trap.js';
import { makeStore } from './store.js';

/** A real pino logger at debug that keeps every line it writes. */
function capturingLogger(): { logger: Logger; text: () => string } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), text: () => lines.join('') };
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('request URLs in the log', () => {
  it('redactUrl keeps the path and the parameter names and hides every value', () => {
    expect(redactUrl('/healthz')).toBe('/healthz');
    expect(redactUrl('/api/v1/incidents?token=s3cret&status=open')).toBe('/api/v1/incidents?token=[redacted]&status=[redacted]');
    expect(redactUrl('/x?flag&token=')).toBe('/x?flag&token=[redacted]');
    expect(redactUrl('/x?%74oken=s3cret#frag')).toBe('/x?%74oken=[redacted]');
  });

  it('logs a request with a ?token= at debug without the token, on open, API and failing routes', async () => {
    const log = capturingLogger();
    const store = await makeStore();
    const app = buildApi({
      store,
      commands: { acknowledge: () => Promise.reject(new Error('unused')), resolve: () => Promise.reject(new Error('unused')), comment: () => Promise.reject(new Error('unused')), subscribe: () => Promise.reject(new Error('unused')), escalate: () => Promise.reject(new Error('unused')), reclassify: () => Promise.reject(new Error('unused')), reopen: () => Promise.reject(new Error('unused')) },
      tokens: () => [{ name: 'ops', token: 'tok-ops-1234' }],
      ready: async () => ({ ready: true, checks: {} }),
      metrics: createMetrics({ countActive: () => store.countActive() }),
      logger: log.logger,
      clock: new FakeClock(),
    });
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    cleanups.push(async () => {
      await app.close();
      await store.close();
    });
    expect((await fetch(`${base}/healthz?token=s3cret-query-token`)).status).toBe(200);
    expect((await fetch(`${base}/api/v1/incidents?token=s3cret-query-token`)).status).toBe(401);
    expect((await fetch(`${base}/nowhere?token=s3cret-query-token`)).status).toBe(404);
    const text = log.text();
    expect(text).toContain('/healthz?token=[redacted]');
    expect(text).toContain('/api/v1/incidents?token=[redacted]');
    expect(text).not.toContain('s3cret-query-token');
  });
});

describe('SNMP traps with a wrong community', () => {
  it('logs that the community did not match, not the community', async () => {
    const log = capturingLogger();
    const source = new SnmpTrapSource({
      config: {
        enabled: true,
        host: '127.0.0.1',
        port: 0,
        communities: ['right-community'],
        users: [],
        target: { kind: 'device', siteLabel: null },
        labels: {},
      },
      emit: async () => undefined,
      clock: new SystemClock(),
      logger: log.logger,
    });
    const { port } = await source.start();
    cleanups.push(() => source.stop());

    const snmp = createRequire(import.meta.url)('net-snmp') as {
      Version2c: number;
      createSession(target: string, community: string, options: object): { trap(oid: string, vb: unknown[], cb: (err: Error | null) => void): void; close(): void; on(e: string, f: () => void): void };
    };
    const session = snmp.createSession('127.0.0.1', 'guessed-community-42', { trapPort: port, version: snmp.Version2c });
    session.on('error', () => undefined);
    cleanups.push(() => session.close());
    await new Promise<void>((resolve, reject) => session.trap('1.3.6.1.6.3.1.1.5.3', [], (err) => (err ? reject(err) : resolve())));
    for (let i = 0; i < 100 && source.stats().rejectedAuth === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(source.stats().rejectedAuth).toBe(1);

    const text = log.text();
    expect(text).toMatch(/community did not match/);
    expect(text).not.toContain('guessed-community-42');
    // Not a stray socket: the sender is still named.
    expect(text).toContain('127.0.0.1');
  });
});
