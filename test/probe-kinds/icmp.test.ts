import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

  it('without ping on PATH, says the run cannot run on this machine and what to install', async () => {
    const saved = process.env.PATH;
    // The ping package spawns "ping" by name: PATH decides, as it does for the daemon.
    const empty = mkdtempSync(join(tmpdir(), 'no-ping-'));
    process.env.PATH = empty;
    try {
      const r = await runKind(icmpKind, { host: '127.0.0.1' });
      expect(r.status).toBe('fail');
      expect(r.cannotRun).toContain('apt-get install fping iputils-ping');
      expect(r.cannotRun).toContain(`"ping" is not on PATH (${empty})`);
      expect(await icmpKind.prerequisites!()).toBe(r.cannotRun);
    } finally {
      process.env.PATH = saved;
      rmSync(empty, { recursive: true, force: true });
    }
    expect(await icmpKind.prerequisites!()).toBeNull();
  });

  it('a ping that may not open its socket is cannot-run (a capability of this machine), not a host that is down', async () => {
    const saved = process.env.PATH;
    // A stand-in for ping without cap_net_raw: it answers as iputils does and exits.
    const bin = mkdtempSync(join(tmpdir(), 'ping-no-cap-'));
    writeFileSync(join(bin, 'ping'), '#!/bin/sh\necho "ping: socket: Operation not permitted" >&2\nexit 2\n', { mode: 0o755 });
    process.env.PATH = bin;
    try {
      const r = await runKind(icmpKind, { host: '127.0.0.1' });
      expect(r.status).toBe('fail');
      expect(r.cannotRun).toContain('ping may not open an ICMP socket (socket: Operation not permitted)');
      expect(r.cannotRun).toContain('setcap cap_net_raw+ep');
      expect(await icmpKind.prerequisites!()).toBeNull();
    } finally {
      process.env.PATH = saved;
      rmSync(bin, { recursive: true, force: true });
    }
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
