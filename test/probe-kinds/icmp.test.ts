import { describe, expect, it } from 'vitest';
import { icmpKind } from '../../src/probe-kinds/icmp.js';
import { runKind } from './helpers.js';
import { pingAvailable, warnIfNoPing } from './ping-available.js';

warnIfNoPing('test/probe-kinds/icmp.test.ts');

describe.skipIf(!pingAvailable)('icmp probe kind (real ping binary)', () => {
  it('is ok for 127.0.0.1 and reports rttMs and 0 % packet loss', async () => {
    const r = await runKind(icmpKind, { host: '127.0.0.1' });
    expect(r.status, r.message).toBe('ok');
    expect(typeof r.values.rttMs).toBe('number');
    expect(r.values.rttMs).toBeGreaterThanOrEqual(0);
    expect(r.values.packetLoss).toBe(0);
    expect(r.message).toContain('1/1 replies');
  });

  it('sends `count` echo requests', async () => {
    const r = await runKind(icmpKind, { host: '127.0.0.1', count: 3 }, 3000);
    expect(r.status, r.message).toBe('ok');
    expect(r.message).toContain('3/3 replies');
  });

  it('fails with a clear message for a host that does not resolve', async () => {
    const r = await runKind(icmpKind, { host: 'nohost.invalid' });
    expect(r.status).toBe('fail');
    expect(r.message).toContain('ping nohost.invalid: cannot resolve host name');
  });

  it('gives up when the caller aborts', async () => {
    const controller = new AbortController();
    controller.abort(new Error('shutting down'));
    const r = await icmpKind.run(icmpKind.schema.parse({ host: '127.0.0.1' }) as never, { timeoutMs: 2000, signal: controller.signal });
    expect(r.status).toBe('fail');
    expect(r.message).toContain('aborted: shutting down');
  });

});

// The schema needs no ping program.
describe('icmp probe kind: hosts', () => {
  it('refuses hosts that could be read as ping options', () => {
    expect(icmpKind.schema.safeParse({ host: '-f' }).success).toBe(false);
    expect(icmpKind.schema.safeParse({ host: '127.0.0.1 -f' }).success).toBe(false);
    expect(icmpKind.schema.safeParse({ host: 'ap-3.site-a.example.org' }).success).toBe(true);
    expect(icmpKind.schema.safeParse({ host: 'fe80::1%eth0' }).success).toBe(true);
    expect(icmpKind.schema.safeParse({ host: 'x', count: 0 }).success).toBe(false);
  });
});
