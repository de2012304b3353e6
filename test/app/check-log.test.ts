// The log lines of a check's state changes, from the status table the scheduler feeds, with the
// fake clock for the durations they name.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { checkTransitionLogger, humanDuration } from '../../src/app/check-log.js';
import type { CheckResult } from '../../src/domain/check.js';
import { CheckStatusTable } from '../../src/scheduler/check-status.js';
import { FakeClock } from '../../src/shared/clock.js';

const ok: CheckResult = { status: 'ok', message: 'fine', latencyMs: 4, values: {} };
const fail: CheckResult = { status: 'fail', message: 'no reply within 2 s', latencyMs: 2000, values: {} };
const cannot: CheckResult = { status: 'fail', message: 'ping missing', latencyMs: 0, values: {}, cannotRun: 'the ping program is not installed; install iputils-ping' };

function table(level: 'info' | 'debug' = 'info') {
  const out: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      out.push(chunk.toString('utf8'));
      done();
    },
  });
  const clock = new FakeClock(Date.UTC(2026, 5, 1, 8, 0));
  const t = new CheckStatusTable({ clock, transition: checkTransitionLogger(pino({ level }, sink)) });
  t.setChecks([{ targetId: 'ap-1', targetName: 'Lobby AP', checkName: 'ping', kind: 'icmp' }]);
  const lines = () =>
    out
      .join('')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { level: number; msg: string; [k: string]: unknown });
  return { t, clock, lines };
}

describe('check transition log lines', () => {
  it('says when a check goes down, comes back up and how long it was down, once per change', async () => {
    const { t, clock, lines } = table();
    t.record('ap-1', 'ping', ok);
    expect(lines()).toEqual([]); // the first success after start-up changes nothing for anyone
    await clock.advance(60_000);
    t.record('ap-1', 'ping', fail);
    await clock.advance(30_000);
    t.record('ap-1', 'ping', fail);
    await clock.advance(95_000);
    t.record('ap-1', 'ping', ok);
    t.record('ap-1', 'ping', ok);
    expect(lines().map((l) => [l.level, l.msg])).toEqual([
      [30, 'check ping of Lobby AP (ap-1, icmp) is down after 1m up: no reply within 2 s'],
      [30, 'check ping of Lobby AP (ap-1, icmp) is up again after 2m 5s down'],
    ]);
    expect(lines()[1]).toMatchObject({ event: 'check.up', target: 'ap-1', check: 'ping', kind: 'icmp', from: 'down', downForMs: 125_000 });
  });

  it('says when a check cannot run on this machine, and when it runs again', async () => {
    const { t, clock, lines } = table();
    t.record('ap-1', 'ping', cannot);
    await clock.advance(5000);
    t.record('ap-1', 'ping', ok);
    expect(lines().map((l) => l.msg)).toEqual([
      'check ping of Lobby AP (ap-1, icmp) cannot run on this machine: the ping program is not installed; install iputils-ping',
      'check ping of Lobby AP (ap-1, icmp) runs again after 5s unable to run',
    ]);
    expect(lines()[0]).toMatchObject({ event: 'check.cannot-run', why: 'the ping program is not installed; install iputils-ping' });
  });

  it('logs the first success at debug', () => {
    const { t, lines } = table('debug');
    t.record('ap-1', 'ping', ok);
    expect(lines()).toMatchObject([{ level: 20, msg: 'check ping of Lobby AP (ap-1, icmp) is up', event: 'check.up' }]);
  });

  it('writes durations for people', () => {
    expect([humanDuration(400), humanDuration(9_950), humanDuration(12_000), humanDuration(125_000), humanDuration(3 * 3_600_000 + 65_000), humanDuration(90_000_000)]).toEqual([
      '0.4s',
      '10s',
      '12s',
      '2m 5s',
      '3h 1m',
      '1d 1h',
    ]);
  });
});
