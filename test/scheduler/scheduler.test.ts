import { describe, expect, it } from 'vitest';
import { ProbeTimeoutError } from '../../src/probe-kinds/deadline.js';
import type { ProbeContext } from '../../src/probe-kinds/types.js';
import { InvalidScheduleError, Scheduler, type RunInfo, type ScheduledCheck } from '../../src/scheduler/scheduler.js';
import { FakeClock, SystemClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';

const T0 = Date.UTC(2026, 0, 1);

/** Returns 0, 1/n, 2/n, … so n checks get evenly spread first runs. */
function steps(n: number): () => number {
  let i = 0;
  return () => (i++ % n) / n;
}

interface Recorder {
  starts: Array<{ key: string; at: number }>;
  signals: AbortSignal[];
  activeByKey: Map<string, number>;
  active: number;
  maxConcurrent: number;
  maxPerKey: number;
}

function recorder(): Recorder {
  return { starts: [], signals: [], activeByKey: new Map(), active: 0, maxConcurrent: 0, maxPerKey: 0 };
}

/** A check whose run takes `takesMs` of clock time (Infinity: never ends, ignoring its signal). */
function check(clock: FakeClock, rec: Recorder, key: string, intervalMs: number, takesMs = 0, timeoutMs = intervalMs): ScheduledCheck {
  return {
    key,
    intervalMs,
    timeoutMs,
    run: (ctx: ProbeContext) => {
      rec.starts.push({ key, at: clock.now() - T0 });
      rec.signals.push(ctx.signal);
      const n = (rec.activeByKey.get(key) ?? 0) + 1;
      rec.activeByKey.set(key, n);
      rec.active++;
      rec.maxPerKey = Math.max(rec.maxPerKey, n);
      rec.maxConcurrent = Math.max(rec.maxConcurrent, rec.active);
      if (takesMs === Infinity) return new Promise<void>(() => undefined);
      return new Promise<void>((resolve) => {
        clock.setTimeout(() => {
          rec.activeByKey.set(key, (rec.activeByKey.get(key) ?? 1) - 1);
          rec.active--;
          resolve();
        }, takesMs);
      });
    },
  };
}

function make(clock: FakeClock, opts: { concurrency?: number; jitter?: number; random?: () => number; runs?: RunInfo[] } = {}) {
  return new Scheduler({
    clock,
    logger: silentLogger(),
    concurrency: opts.concurrency ?? 10,
    jitter: opts.jitter,
    random: opts.random ?? (() => 0),
    onRun: opts.runs ? (i) => opts.runs!.push(i) : undefined,
  });
}

describe('Scheduler', () => {
  it('spreads first runs over the interval by jitter, then keeps each check on its phase', async () => {
    const clock = new FakeClock(T0);
    const rec = recorder();
    const s = make(clock, { random: steps(4) });
    s.setChecks(['a', 'b', 'c', 'd'].map((k) => check(clock, rec, k, 60_000, 5000)));
    s.start();
    await clock.advance(60_000 * 2 - 1);
    const byKey = (k: string) => rec.starts.filter((x) => x.key === k).map((x) => x.at);
    expect(byKey('a')).toEqual([0, 60_000]);
    expect(byKey('b')).toEqual([15_000, 75_000]);
    expect(byKey('c')).toEqual([30_000, 90_000]);
    expect(byKey('d')).toEqual([45_000, 105_000]);
  });

  it('with jitter 0.5 spreads first runs over half the interval only', async () => {
    const clock = new FakeClock(T0);
    const rec = recorder();
    const s = make(clock, { jitter: 0.5, random: steps(2) });
    s.setChecks([check(clock, rec, 'a', 10_000), check(clock, rec, 'b', 10_000)]);
    s.start();
    await clock.advance(9_999);
    expect(rec.starts.map((x) => x.at)).toEqual([0, 2_500]);
  });

  it('never runs more than `concurrency` at once; the rest wait in a queue and report their slip', async () => {
    const clock = new FakeClock(T0);
    const rec = recorder();
    const runs: RunInfo[] = [];
    const s = make(clock, { concurrency: 2, runs });
    s.setChecks(['a', 'b', 'c', 'd', 'e'].map((k) => check(clock, rec, k, 60_000, 1000)));
    s.start();
    await clock.advance(0);
    expect(s.stats()).toMatchObject({ running: 2, queued: 3 });
    await clock.advance(5000);
    expect(rec.starts.map((x) => x.at)).toEqual([0, 0, 1000, 1000, 2000]);
    expect(rec.maxConcurrent).toBe(2);
    expect(runs.map((r) => r.slipMs)).toEqual([0, 0, 1000, 1000, 2000]);
    expect(runs.every((r) => r.durationMs === 1000 && !r.timedOut)).toBe(true);
    expect(s.stats()).toMatchObject({ running: 0, queued: 0 });
  });

  it('never overlaps two runs of one key: a run still going when the next is due is skipped and counted', async () => {
    const clock = new FakeClock(T0);
    const rec = recorder();
    const s = make(clock);
    // Due every 1 s, each run takes 2.5 s.
    s.setChecks([check(clock, rec, 'slow', 1000, 2500, 10_000)]);
    s.start();
    await clock.advance(9_500);
    expect(rec.maxPerKey).toBe(1);
    // Runs start only on due times (phase kept): 0, 3000, 6000, 9000.
    expect(rec.starts.map((x) => x.at)).toEqual([0, 3000, 6000, 9000]);
    expect(s.stats().skipped).toBe(6);
  });

  it('aborts a hung run at its timeout, frees its slot and runs the check again on its next due time', async () => {
    const clock = new FakeClock(T0);
    const rec = recorder();
    const runs: RunInfo[] = [];
    const s = make(clock, { concurrency: 1, runs });
    s.setChecks([check(clock, rec, 'hung', 10_000, Infinity, 2000), check(clock, rec, 'next', 60_000, 0)]);
    s.start();
    await clock.advance(1999);
    expect(rec.signals[0]!.aborted).toBe(false);
    expect(rec.starts.map((x) => x.key)).toEqual(['hung']);
    await clock.advance(1);
    expect(rec.signals[0]!.aborted).toBe(true);
    expect(rec.signals[0]!.reason).toBeInstanceOf(ProbeTimeoutError);
    expect(runs[0]).toMatchObject({ key: 'hung', timedOut: true, durationMs: 2000 });
    // The queued check got the freed slot.
    expect(rec.starts.map((x) => x.key)).toEqual(['hung', 'next']);
    await clock.advance(8000);
    expect(rec.starts.filter((x) => x.key === 'hung').map((x) => x.at)).toEqual([0, 10_000]);
    expect(s.stats().timedOut).toBe(1);
  });

  it('setChecks keeps the phase of unchanged keys, stops removed ones and starts new ones jittered', async () => {
    const clock = new FakeClock(T0);
    const rec = recorder();
    let r = 0.3;
    const s = make(clock, { random: () => r });
    s.setChecks([check(clock, rec, 'keep', 10_000), check(clock, rec, 'drop', 10_000)]);
    s.start();
    await clock.advance(15_000); // keep and drop at 3000, 13000
    r = 0.5;
    s.setChecks([check(clock, rec, 'keep', 10_000), check(clock, rec, 'new', 10_000)]);
    await clock.advance(30_000); // until 45000
    const byKey = (k: string) => rec.starts.filter((x) => x.key === k).map((x) => x.at);
    expect(byKey('keep')).toEqual([3000, 13_000, 23_000, 33_000, 43_000]);
    expect(byKey('drop')).toEqual([3000, 13_000]);
    expect(byKey('new')).toEqual([20_000, 30_000, 40_000]);
    expect(s.stats().checks).toBe(2);
  });

  it('a key whose interval changed is rescheduled with a fresh jittered start', async () => {
    const clock = new FakeClock(T0);
    const rec = recorder();
    const s = make(clock, { random: () => 0.5 });
    s.setChecks([check(clock, rec, 'k', 10_000)]);
    s.start();
    await clock.advance(6000); // ran at 5000
    s.setChecks([check(clock, rec, 'k', 4000)]);
    await clock.advance(10_000); // first new run at 6000 + 2000, then every 4 s
    expect(rec.starts.map((x) => x.at)).toEqual([5000, 8000, 12_000, 16_000]);
  });

  it('stop() waits for runs in flight and starts no new ones', async () => {
    const clock = new FakeClock(T0);
    const rec = recorder();
    const s = make(clock, { concurrency: 1 });
    s.setChecks([check(clock, rec, 'a', 10_000, 5000, 8000), check(clock, rec, 'b', 10_000, 5000, 8000)]);
    s.start();
    await clock.advance(1000);
    let stopped = false;
    const stopping = s.stop().then(() => (stopped = true));
    await clock.advance(3999);
    expect(stopped).toBe(false);
    await clock.advance(1);
    await stopping;
    expect(stopped).toBe(true);
    await clock.advance(60_000);
    expect(rec.starts.map((x) => x.key)).toEqual(['a']);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('starts runs due close together in one batch, reporting how late each started', async () => {
    const clock = new FakeClock(T0);
    const rec = recorder();
    const runs: RunInfo[] = [];
    // First-run offsets 0, 10, 40 and 90 ms: the first fires at once, the rest wait for one batch.
    const offsets = [0, 0.001, 0.004, 0.009];
    let i = 0;
    const s = make(clock, { random: () => offsets[i++]!, runs });
    s.setChecks(['a', 'b', 'c', 'd'].map((k) => check(clock, rec, k, 10_000)));
    s.start();
    await clock.advance(150);
    expect(rec.starts.map((x) => x.at)).toEqual([0, 100, 100, 100]);
    expect(runs.map((r) => r.slipMs)).toEqual([0, 90, 60, 10]);
  });

  it('with batchMs 0 starts every run exactly on its due time', async () => {
    const clock = new FakeClock(T0);
    const rec = recorder();
    const offsets = [0, 0.001, 0.004];
    let i = 0;
    const s = new Scheduler({ clock, logger: silentLogger(), concurrency: 5, batchMs: 0, random: () => offsets[i++]! });
    s.setChecks(['a', 'b', 'c'].map((k) => check(clock, rec, k, 10_000)));
    s.start();
    await clock.advance(150);
    expect(rec.starts.map((x) => x.at)).toEqual([0, 10, 40]);
  });

  it('refuses duplicate keys and nonsense intervals', () => {
    const clock = new FakeClock(T0);
    const rec = recorder();
    const s = make(clock);
    expect(() => s.setChecks([check(clock, rec, 'a', 1000), check(clock, rec, 'a', 1000)])).toThrow(InvalidScheduleError);
    expect(() => s.setChecks([check(clock, rec, 'a', 0)])).toThrow(/interval must be a positive/);
    expect(() => new Scheduler({ clock, logger: silentLogger(), concurrency: 0 })).toThrow(/concurrency/);
  });

  it('tells runs their signal carries the timeout only when its timers are real (SystemClock)', async () => {
    for (const [clock, expected] of [[new SystemClock(), true], [new FakeClock(T0), false]] as const) {
      const seen: ProbeContext[] = [];
      let ran!: () => void;
      const done = new Promise<void>((resolve) => (ran = resolve));
      const s = new Scheduler({ clock, logger: silentLogger(), concurrency: 1, jitter: 0 });
      const run = async (ctx: ProbeContext) => {
        seen.push(ctx);
        ran();
      };
      s.setChecks([{ key: 'a', intervalMs: 60_000, timeoutMs: 1000, run }]);
      s.start();
      if (clock instanceof FakeClock) await clock.advance(0);
      await done;
      await s.stop();
      expect(seen[0]!.hasDeadline).toBe(expected);
    }
  });
});
