import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/domain/check.js';
import { CheckStatusTable } from '../../src/scheduler/check-status.js';
import { FakeClock } from '../../src/shared/clock.js';

const ok = (latencyMs = 12): CheckResult => ({ status: 'ok', message: 'fine', latencyMs, values: {} });
const fail = (message = 'connection refused'): CheckResult => ({ status: 'fail', message, latencyMs: 3, values: {} });
const ref = (targetId: string, checkName: string, kind = 'tcp') => ({ targetId, targetName: targetId.toUpperCase(), checkName, kind });

describe('CheckStatusTable', () => {
  it('tracks state, since, last run, last error and failures in a row, with times from the clock', async () => {
    const clock = new FakeClock(Date.UTC(2026, 5, 1, 8, 0));
    const t0 = clock.now();
    const table = new CheckStatusTable({ clock });
    table.setChecks([ref('ap-1', 'ping', 'icmp')]);
    expect(table.get('ap-1', 'ping')).toMatchObject({ id: 'ap-1/ping', state: 'unknown', since: t0, lastRunAt: null, latencyMs: null });

    await clock.advance(1000);
    table.record('ap-1', 'ping', ok(7));
    expect(table.get('ap-1', 'ping')).toMatchObject({ state: 'up', since: t0 + 1000, lastRunAt: t0 + 1000, latencyMs: 7, consecutiveFailures: 0 });

    await clock.advance(1000);
    table.record('ap-1', 'ping', fail('no reply'));
    await clock.advance(1000);
    table.record('ap-1', 'ping', fail('no reply again'));
    expect(table.get('ap-1', 'ping')).toMatchObject({ state: 'down', since: t0 + 2000, lastRunAt: t0 + 3000, lastError: 'no reply again', lastErrorAt: t0 + 3000, consecutiveFailures: 2 });

    await clock.advance(1000);
    table.record('ap-1', 'ping', ok());
    // The last error stays visible after recovery; the streak does not.
    expect(table.get('ap-1', 'ping')).toMatchObject({ state: 'up', since: t0 + 4000, lastError: 'no reply again', consecutiveFailures: 0 });
    expect(table.counts()).toEqual({ up: 1, down: 0, unknown: 0, 'cannot-run': 0 });
  });

  it('a run that cannot run is cannot-run with its reason and breaks no failure streak into an outage', () => {
    const table = new CheckStatusTable({ clock: new FakeClock() });
    table.setChecks([ref('gw', 'ping', 'icmp'), ref('gw', 'web', 'http')]);
    table.markKindCannotRun('icmp', 'install iputils-ping');
    expect(table.get('gw', 'ping')).toMatchObject({ state: 'cannot-run', lastError: 'install iputils-ping' });
    expect(table.get('gw', 'web')!.state).toBe('unknown');
    table.record('gw', 'ping', { ...fail('ping gw: install iputils-ping'), cannotRun: 'install iputils-ping' });
    expect(table.get('gw', 'ping')).toMatchObject({ state: 'cannot-run', consecutiveFailures: 0, latencyMs: null });
    expect(table.counts()['cannot-run']).toBe(1);
  });

  it('lists in target/check order, filters, keeps state across a reload, forgets removed checks and their late results', () => {
    const table = new CheckStatusTable({ clock: new FakeClock() });
    const visited = () => {
      const out: string[] = [];
      table.each((s) => out.push(`${s.id}:${s.state}`));
      return out;
    };
    table.setChecks([ref('b', 'x'), ref('a', 'z'), ref('a', 'y'), ref('B', 'x')]);
    expect(table.list().map((s) => s.id)).toEqual(['B/x', 'a/y', 'a/z', 'b/x']);
    table.record('a', 'y', fail());
    table.record('b', 'x', ok());
    expect(table.list({ state: ['down'] }).map((s) => s.id)).toEqual(['a/y']);
    expect(table.list({ targetId: 'a' }).map((s) => s.id)).toEqual(['a/y', 'a/z']);
    // each() walks what list() returns, in the same order (the per-check metrics read it).
    expect(visited()).toEqual(['B/x:unknown', 'a/y:down', 'a/z:unknown', 'b/x:up']);

    // Reload: b/x kept (state too), a/y changes kind (starts over), a/z and B/x removed.
    table.setChecks([ref('b', 'x'), ref('a', 'y', 'http')]);
    expect(visited()).toEqual(['a/y:unknown', 'b/x:up']);
    expect(table.get('b', 'x')!.state).toBe('up');
    expect(table.get('a', 'y')).toMatchObject({ state: 'unknown', kind: 'http', consecutiveFailures: 0 });
    table.record('a', 'z', fail());
    expect(table.get('a', 'z')).toBeUndefined();
    expect(visited()).toEqual(['a/y:unknown', 'b/x:up']);
    expect(table.counts()).toEqual({ up: 1, down: 0, unknown: 1, 'cannot-run': 0 });
  });
});
