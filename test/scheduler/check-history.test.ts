import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/domain/check.js';
import { HISTORY_LENGTH } from '../../src/scheduler/check-history.js';
import { CheckStatusTable } from '../../src/scheduler/check-status.js';
import { FakeClock } from '../../src/shared/clock.js';

const ok = (latencyMs: number): CheckResult => ({ status: 'ok', message: 'fine', latencyMs, values: {} });
const fail = (latencyMs: number): CheckResult => ({ status: 'fail', message: 'connection refused', latencyMs, values: {} });
const cannot: CheckResult = { status: 'fail', message: '', latencyMs: 0, values: {}, cannotRun: 'install fping' };
const ref = (targetId: string, checkName: string, kind = 'tcp') => ({ targetId, targetName: targetId, checkName, kind });

describe('recent results per check (latency history)', () => {
  it('keeps the last results oldest first, with time, latency and outcome', async () => {
    const clock = new FakeClock(Date.UTC(2026, 5, 1, 8, 0));
    const t0 = clock.now();
    const table = new CheckStatusTable({ clock });
    table.setChecks([ref('ap-1', 'ping', 'icmp'), ref('ap-2', 'ping', 'icmp')]);
    expect(table.history('ap-1/ping')).toEqual({ at: [], latencyMs: [], outcome: [] });

    await clock.advance(30_000);
    table.record('ap-1', 'ping', ok(12.25));
    await clock.advance(30_000);
    table.record('ap-1', 'ping', fail(3000));
    await clock.advance(30_000);
    table.record('ap-1', 'ping', cannot);
    table.record('ap-2', 'ping', ok(1));

    expect(table.history('ap-1/ping')).toEqual({
      at: [t0 + 30_000, t0 + 60_000, t0 + 90_000],
      latencyMs: [12.25, 3000, null],
      outcome: ['ok', 'fail', 'cannot-run'],
    });
    // Each check has its own ring.
    expect(table.history('ap-2/ping')).toEqual({ at: [t0 + 90_000], latencyMs: [1], outcome: ['ok'] });
    expect(table.history('nope/ping')).toBeUndefined();
  });

  it('holds at most HISTORY_LENGTH results: the oldest go first', async () => {
    const clock = new FakeClock(Date.UTC(2026, 5, 1, 8, 0));
    const table = new CheckStatusTable({ clock });
    table.setChecks([ref('srv', 'web', 'http')]);
    for (let i = 1; i <= HISTORY_LENGTH + 5; i++) {
      await clock.advance(1000);
      table.record('srv', 'web', ok(i));
    }
    const h = table.history('srv/web')!;
    expect(h.latencyMs).toHaveLength(HISTORY_LENGTH);
    expect(h.latencyMs[0]).toBe(6);
    expect(h.latencyMs.at(-1)).toBe(HISTORY_LENGTH + 5);
    expect(h.at.every((t, i) => i === 0 || t > h.at[i - 1]!)).toBe(true);
  });

  it('a removed check takes its history along; a new check in its place starts empty', () => {
    const table = new CheckStatusTable({ clock: new FakeClock() });
    table.setChecks([ref('a', 'x'), ref('b', 'x')]);
    table.record('a', 'x', ok(5));
    table.record('b', 'x', ok(6));
    table.setChecks([ref('b', 'x'), ref('c', 'x')]);
    expect(table.history('a/x')).toBeUndefined();
    expect(table.history('c/x')).toEqual({ at: [], latencyMs: [], outcome: [] });
    expect(table.history('b/x')!.latencyMs).toEqual([6]);
    // A check whose kind changed is a new check: its old results do not describe it.
    table.setChecks([{ ...ref('b', 'x'), kind: 'http' }]);
    expect(table.history('b/x')!.latencyMs).toEqual([]);
  });

  it('costs a few hundred bytes per check at 15,000 checks, whatever the number of runs', () => {
    const clock = new FakeClock();
    const table = new CheckStatusTable({ clock });
    const refs = Array.from({ length: 15_000 }, (_, i) => ref(`t-${String(i)}`, 'ping', 'icmp'));
    table.setChecks(refs);
    const before = table.historyBytes();
    for (let round = 0; round < 3; round++) for (const r of refs) table.record(r.targetId, r.checkName, ok(round));
    // Results are written in place: no growth from runs.
    expect(table.historyBytes()).toBe(before);
    const perCheck = before / 15_000;
    // 60 × (4 B time + 4 B latency + 1 B outcome) + 2 B ring position = 542 B.
    expect(perCheck).toBeLessThanOrEqual(600);
    console.log(`history ring: ${String(perCheck)} bytes per check, ${(before / 1e6).toFixed(2)} MB for 15,000 checks`);
  });
});
