import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FpingBatcher, parseFpingReport } from '../../src/probe-kinds/fping.js';
import { icmpKind } from '../../src/probe-kinds/icmp.js';
import { runKind } from './helpers.js';
import { fpingAvailable, pingAvailable, warnIfNoFping } from './ping-available.js';

warnIfNoFping('test/probe-kinds/fping.test.ts');

const never = () => new AbortController().signal;

/** Runs `fn` with PATH set to `dir` alone (the kind finds its programs the way spawn does). */
async function withPath<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const saved = process.env.PATH;
  process.env.PATH = dir;
  try {
    return await fn();
  } finally {
    process.env.PATH = saved;
  }
}

function which(program: string): string {
  return execFileSync('sh', ['-c', `command -v ${program}`], { env: { PATH: process.env.PATH ?? '' } }).toString().trim();
}

// A host that never answers, in a network namespace of our own: 198.51.100.0/24 is routed to the
// namespace's loopback, where nothing owns it, so echo requests vanish (no other network is touched).
const silentNamespace =
  fpingAvailable &&
  spawnSync('unshare', ['-rn', 'sh', '-c', 'ip link set lo up && ip route add 198.51.100.0/24 dev lo'], { stdio: 'ignore' }).status === 0;

describe.skipIf(!fpingAvailable)('fping: many hosts in one process (real fping)', () => {
  it('answers each host of a batch from one fping run: replies, and a name that does not resolve', async () => {
    const batcher = new FpingBatcher({ program: which('fping') });
    const ask = (host: string) => batcher.echo({ host, count: 1, timeoutMs: 2000, signal: never() });
    const [a, b, again, v6, unknown] = await Promise.all([ask('127.0.0.1'), ask('127.0.0.2'), ask('127.0.0.1'), ask('::1'), ask('nohost.invalid')]);
    expect(batcher.spawned).toBe(1);
    for (const answer of [a, b, again]) {
      expect(answer.kind).toBe('replies');
      if (answer.kind === 'replies') expect(answer.rtts).toEqual([expect.any(Number)]);
    }
    // IPv6 loopback may be off on a machine; when it answers, it answers like any other host.
    expect(['replies', 'error']).toContain(v6.kind);
    expect(unknown).toEqual({ kind: 'unresolved', complaint: expect.stringMatching(/not known|resolv/i) });
  });

  it('keeps requests with another count or timeout in their own run, each with its own budget', async () => {
    const batcher = new FpingBatcher({ program: which('fping') });
    const [three, one] = await Promise.all([
      batcher.echo({ host: '127.0.0.1', count: 3, timeoutMs: 3000, signal: never() }),
      batcher.echo({ host: '127.0.0.3', count: 1, timeoutMs: 2000, signal: never() }),
    ]);
    expect(batcher.spawned).toBe(2);
    expect(three.kind === 'replies' && three.rtts.length).toBe(3);
    expect(one.kind === 'replies' && one.rtts.length).toBe(1);
  });

  it('splits a batch at maxHosts distinct hosts', async () => {
    const batcher = new FpingBatcher({ program: which('fping'), maxHosts: 2 });
    const answers = await Promise.all(['127.0.0.1', '127.0.0.2', '127.0.0.3'].map((host) => batcher.echo({ host, count: 1, timeoutMs: 2000, signal: never() })));
    expect(answers.map((a) => a.kind)).toEqual(['replies', 'replies', 'replies']);
    expect(batcher.spawned).toBe(2);
  });

  it('answers aborted at once when the check gives up, and ends a run nobody waits for', async () => {
    const batcher = new FpingBatcher({ program: which('fping'), lingerMs: 0 });
    const controller = new AbortController();
    const pending = batcher.echo({ host: '127.0.0.1', count: 10, timeoutMs: 5000, signal: controller.signal });
    setTimeout(() => controller.abort(new Error('shutting down')), 50);
    const started = Date.now();
    expect(await pending).toEqual({ kind: 'aborted' });
    // Ten requests 0.2 s apart would take 1.8 s.
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('through the icmp kind: ok with rtt and loss, the same words as the ping path gives', async () => {
    const viaFping = await runKind(icmpKind, { host: '127.0.0.1', count: 2 }, 3000);
    expect(viaFping.status, viaFping.message).toBe('ok');
    expect(viaFping.values).toEqual({ answered: true, rttMs: expect.any(Number), packetLoss: 0 });
    expect(viaFping.message).toMatch(/^ping 127\.0\.0\.1: 2\/2 replies, avg rtt [\d.]+ ms$/);
    if (!pingAvailable) return;
    // PATH with ping alone: the kind falls back to one ping per check and says the same.
    const onlyPing = mkdtempSync(join(tmpdir(), 'only-ping-'));
    symlinkSync(which('ping'), join(onlyPing, 'ping'));
    try {
      const viaPing = await withPath(onlyPing, () => runKind(icmpKind, { host: '127.0.0.1', count: 2 }, 3000));
      expect(viaPing.status, viaPing.message).toBe('ok');
      expect(Object.keys(viaPing.values).sort()).toEqual(Object.keys(viaFping.values).sort());
      expect(viaPing.values.packetLoss).toBe(0);
      expect(viaPing.message).toMatch(/^ping 127\.0\.0\.1: 2\/2 replies, avg rtt [\d.]+ ms$/);
    } finally {
      rmSync(onlyPing, { recursive: true, force: true });
    }
  });

  it.skipIf(!silentNamespace)('a host that never answers is a fail with 100 % loss, within the check timeout', async () => {
    // An `fping` first on PATH that runs the real one inside the namespace with the silent network.
    const bin = mkdtempSync(join(tmpdir(), 'fping-netns-'));
    writeFileSync(
      join(bin, 'fping'),
      `#!/bin/sh\nexec unshare -rn sh -c 'ip link set lo up && ip route add 198.51.100.0/24 dev lo && exec "$0" "$@"' ${which('fping')} "$@"\n`,
      { mode: 0o755 },
    );
    try {
      const started = Date.now();
      const r = await withPath(`${bin}:/usr/sbin:/usr/bin:/sbin:/bin`, () => runKind(icmpKind, { host: '198.51.100.7', count: 2 }, 2000));
      expect(r.status).toBe('fail');
      expect(r.cannotRun).toBeUndefined();
      expect(r.values).toEqual({ answered: false, packetLoss: 100 });
      expect(r.message).toMatch(/^ping 198\.51\.100\.7: no reply to 2 echo requests within [\d.]+ s$/);
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });

  it('an fping that may not open its socket is cannot-run (a capability of this machine), not a host that is down', async () => {
    // A stand-in for fping without cap_net_raw: it answers as fping 5 does and exits.
    const bin = mkdtempSync(join(tmpdir(), 'fping-no-cap-'));
    writeFileSync(join(bin, 'fping'), `#!/bin/sh\necho "$0: can't create socket (must run as root?)" >&2\nexit 4\n`, { mode: 0o755 });
    try {
      const r = await withPath(bin, () => runKind(icmpKind, { host: '127.0.0.1' }));
      expect(r.status).toBe('fail');
      expect(r.cannotRun).toContain("fping may not open an ICMP socket (");
      expect(r.cannotRun).toContain('setcap cap_net_raw+ep');
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });
});

describe('fping report', () => {
  it('reads summary lines, complaints about asked hosts, and lines about the whole run', () => {
    const stderr = [
      'nohost.invalid: Name or service not known',
      '',
      '127.0.0.1    : 0.031 0.044 0.050',
      '198.51.100.7 : - 0.120 -',
      '::1          : 0.021',
      'ICMP Host Unreachable from 203.0.113.1 for ICMP Echo sent to 203.0.113.9',
      'fping: something about the run',
    ].join('\n');
    const report = parseFpingReport(stderr, ['127.0.0.1', '198.51.100.7', '::1', 'nohost.invalid']);
    expect(Object.fromEntries(report.replies)).toEqual({ '127.0.0.1': [0.031, 0.044, 0.05], '198.51.100.7': [null, 0.12, null], '::1': [0.021] });
    expect(Object.fromEntries(report.complaints)).toEqual({ 'nohost.invalid': 'Name or service not known' });
    expect(report.general).toEqual(['fping: something about the run']);
  });
});
