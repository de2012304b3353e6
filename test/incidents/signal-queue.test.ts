import { describe, expect, it } from 'vitest';
import { QueueFullError, SignalQueue } from '../../src/incidents/signal-queue.js';
import { sig, target } from './harness.js';

const web = target('web-1');
const db = target('db-1');

function settledFlags(promises: Promise<void>[]) {
  const flags = promises.map(() => false);
  promises.forEach((p, i) => void p.then(() => (flags[i] = true)));
  return flags;
}
const tick = () => new Promise((r) => setImmediate(r));

describe('SignalQueue', () => {
  it('hands out whole submissions in order, up to the batch size', async () => {
    const q = new SignalQueue(100);
    const p1 = q.push([sig(web, 'fail', 1), sig(web, 'fail', 2)]);
    const p2 = q.push([sig(db, 'fail', 3)]);
    const b = q.take(2)!;
    expect(b.signals.map((s) => s.at)).toEqual([1, 2]);
    expect(q.size()).toBe(1);
    b.committed();
    await p1;
    const b2 = q.take(10)!;
    expect(b2.signals.map((s) => s.at)).toEqual([3]);
    b2.committed();
    await p2;
    expect(q.take(10)).toBeNull();
  });

  it('when full, folds the oldest repeats of a series into its latest signal and refuses only what still does not fit', async () => {
    const q = new SignalQueue(4);
    const ps = [
      q.push([sig(web, 'fail', 1)]),
      q.push([sig(web, 'fail', 2)]),
      q.push([sig(db, 'fail', 3)]),
      q.push([sig(web, 'fail', 4)]),
    ];
    // Full: the next push coalesces web's three failures into the one at t=4 (weight 3).
    ps.push(q.push([sig(db, 'ok', 5)]));
    expect(q.size()).toBe(3);
    // Nothing left to fold (db fail then ok differ): a new series is refused.
    ps.push(q.push([sig(target('x'), 'fail', 6)]), q.push([sig(target('y'), 'fail', 7)]));
    await expect(ps[6]).rejects.toBeInstanceOf(QueueFullError);
    const flags = settledFlags(ps.slice(0, 6));

    const b = q.take(100)!;
    expect(b.signals.map((s) => [s.target.id, s.status, s.at])).toEqual([
      ['db-1', 'fail', 3],
      ['web-1', 'fail', 4],
      ['db-1', 'ok', 5],
      ['x', 'fail', 6],
    ]);
    expect(b.weights).toEqual([1, 3, 1, 1]);
    await tick();
    // Nobody is told "durable" before the commit, not even the submissions that were folded away.
    expect(flags).toEqual([false, false, false, false, false, false]);
    b.committed();
    await tick();
    expect(flags).toEqual([true, true, true, true, true, true]);
  });

  it('a folded submission waits for the later batch that carries its signal', async () => {
    const q = new SignalQueue(3);
    const first = q.push([sig(web, 'fail', 1), sig(db, 'fail', 2)]);
    const second = q.push([sig(web, 'fail', 3)]);
    const third = q.push([sig(db, 'ok', 4)]); // forces a fold: web@1 into web@3
    const flags = settledFlags([first, second, third]);
    const b1 = q.take(1)!; // the first submission alone (db@2 is all that is left of it)
    expect(b1.signals.map((s) => s.at)).toEqual([2]);
    b1.committed();
    await tick();
    expect(flags[0]).toBe(false); // its web@1 rides in web@3, not yet committed
    const b2 = q.take(10)!;
    expect(b2.signals.map((s) => s.at)).toEqual([3, 4]);
    expect(b2.weights).toEqual([2, 1]);
    b2.committed();
    await tick();
    expect(flags).toEqual([true, true, true]);
  });

  it('a journaled record that repeats waiting signals exactly folds into them: one signal per series, at its first time, one more weight per repeat', () => {
    const q = new SignalQueue(100);
    expect(q.pushJournaled([sig(web, 'fail', 1), sig(db, 'fail', 2)], 1)).toBe(true);
    q.pushJournaled([sig(web, 'fail', 3)], 2);
    q.pushJournaled([sig(db, 'fail', 4), sig(web, 'fail', 5)], 3);
    expect(q.size()).toBe(2);
    // The journal mark stays below the first record until the commit carrying its twins is taken.
    expect(q.minPendingLsn()).toBe(1);
    const b = q.take(100)!;
    expect(b.signals.map((s) => [s.target.id, s.at])).toEqual([
      ['web-1', 1],
      ['db-1', 2],
    ]);
    expect(b.weights).toEqual([3, 2]);
    expect(b.maxLsn).toBe(1);
    expect(q.minPendingLsn()).toBe(Infinity);
  });

  it('a journaled record folds only whole, and only into the same reading of its series', () => {
    const q = new SignalQueue(100);
    q.pushJournaled([sig(web, 'fail', 1)], 1);
    // Another message (the alert says something else now), another status, a series not waiting:
    // each is queued as it came, and so is the repeat of web-1 beside the new series.
    q.pushJournaled([{ ...sig(web, 'fail', 2), message: 'icmp failed: 80 % loss' }], 2);
    q.pushJournaled([sig(web, 'ok', 3)], 3);
    q.pushJournaled([sig(web, 'ok', 4), sig(db, 'fail', 5)], 4);
    q.pushJournaled([{ ...sig(db, 'fail', 6), labels: { severity: 'critical' } }], 5);
    expect(q.size()).toBe(6);
    const b = q.take(100)!;
    expect(b.signals.map((s) => s.at)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(b.weights).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('nothing folds into signals already taken, nor across a signal of the series that did not come through the journal', () => {
    const q = new SignalQueue(100);
    q.pushJournaled([sig(web, 'fail', 1)], 1);
    q.take(100)!.committed();
    q.pushJournaled([sig(web, 'fail', 2)], 2);
    void q.push([sig(web, 'fail', 3)]);
    q.pushJournaled([sig(web, 'fail', 4)], 3);
    expect(q.take(100)!.weights).toEqual([1, 1, 1]);
  });

  it('tells whether a journaled record may change an incident: not while each signal repeats a waiting one or what its series said when last taken', () => {
    const q = new SignalQueue(100);
    expect(q.pushJournaled([sig(web, 'fail', 1)], 1)).toBe(true);
    expect(q.pushJournaled([sig(web, 'fail', 2)], 2)).toBe(false); // folded
    q.take(100)!.committed();
    expect(q.hasUrgent()).toBe(false);
    expect(q.pushJournaled([sig(web, 'fail', 3)], 3)).toBe(false); // as it was when taken
    expect(q.hasUrgent()).toBe(false);
    expect(q.pushJournaled([sig(db, 'fail', 4)], 4)).toBe(true); // a series not seen
    expect(q.pushJournaled([sig(web, 'ok', 5)], 5)).toBe(true); // a change of status
    expect(q.hasUrgent()).toBe(true);
    q.take(100)!.committed();
    // db-1 was last taken a batch ago and is still known; web-1 now reads ok.
    q.pushJournaled([sig(target('x'), 'fail', 6)], 6);
    q.take(100)!.committed();
    expect(q.pushJournaled([sig(db, 'fail', 7)], 7)).toBe(false);
    expect(q.pushJournaled([sig(web, 'fail', 8)], 8)).toBe(true);
    // Probes' signals (no journal) are always committed at once.
    const p = new SignalQueue(100);
    void p.push([sig(web, 'fail', 1)]);
    expect(p.hasUrgent()).toBe(true);
  });

  it('forgets what a series said once 10,000 other series were taken since', () => {
    const q = new SignalQueue(1_000_000);
    q.pushJournaled([sig(web, 'fail', 1)], 1);
    q.take(10)!.committed();
    for (let i = 0; i < 5_000; i++) q.pushJournaled([sig(target(`t-${i}`), 'fail', 2)], 2 + i);
    q.take(1_000_000)!.committed();
    expect(q.pushJournaled([sig(web, 'fail', 3)], 6_000)).toBe(false); // within the older generation
    q.take(10)!.committed();
    for (let i = 0; i < 10_000; i++) q.pushJournaled([sig(target(`u-${i}`), 'fail', 4)], 7_000 + i);
    q.take(1_000_000)!.committed();
    expect(q.pushJournaled([sig(web, 'fail', 5)], 20_000)).toBe(true);
  });

  it('fails every waiting submission when its batch fails', async () => {
    const q = new SignalQueue(10);
    const p = q.push([sig(web, 'fail', 1)]);
    q.take(10)!.failed(new Error('store gone'));
    await expect(p).rejects.toThrow('store gone');
  });
});
