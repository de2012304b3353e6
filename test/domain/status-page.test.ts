// The status page's decisions: a day's worst severity from when incidents were active, on calendar
// days of the tenant's zone (a DST day is 23 hours long), and the overall and service states.
import { describe, expect, it } from 'vitest';
import { dailyWorst, historyWindow, overallState, serviceState } from '../../src/domain/status-page.js';

const HOUR = 3_600_000;

describe('historyWindow and dailyWorst', () => {
  // 2026-03-30 10:00 in Berlin; the clocks went forward on Sunday 2026-03-29.
  const now = Date.UTC(2026, 2, 30, 8, 0);
  const window = historyWindow(now, 3, 'Europe/Berlin');

  it('ends today and starts each day at local midnight, DST included', () => {
    expect(window.dates).toEqual(['2026-03-28', '2026-03-29', '2026-03-30']);
    expect(window.bounds.map((b) => new Date(b).toISOString())).toEqual([
      '2026-03-27T23:00:00.000Z',
      '2026-03-28T23:00:00.000Z',
      '2026-03-29T22:00:00.000Z',
      '2026-03-30T22:00:00.000Z',
    ]);
  });

  it('colours every day an incident was active with its worst severity', () => {
    const days = dailyWorst(
      window,
      [
        // Across midnight of the DST night: both days.
        { severity: 'major', start: Date.UTC(2026, 2, 28, 22, 0), end: Date.UTC(2026, 2, 29, 1, 0) },
        { severity: 'minor', start: Date.UTC(2026, 2, 29, 5, 0), end: Date.UTC(2026, 2, 29, 6, 0) },
        // Still active: today.
        { severity: 'medium', start: now - 2 * HOUR, end: null },
        // Before the window.
        { severity: 'severe', start: Date.UTC(2026, 2, 20), end: Date.UTC(2026, 2, 21) },
      ],
      now,
    );
    expect(days).toEqual([
      { date: '2026-03-28', worst: 'major' },
      { date: '2026-03-29', worst: 'major' },
      { date: '2026-03-30', worst: 'medium' },
    ]);
  });

  it('does not colour the day that begins when an incident was resolved', () => {
    const midnight = window.bounds[2]!;
    const days = dailyWorst(window, [{ severity: 'severe', start: midnight - HOUR, end: midnight }], now);
    expect(days.map((d) => d.worst)).toEqual([null, 'severe', null]);
  });
});

describe('states', () => {
  it('a failing check is down, an incident without one disrupted, else up or unknown', () => {
    expect(serviceState(['up', 'down'], false)).toBe('down');
    expect(serviceState(['up'], true)).toBe('disrupted');
    expect(serviceState(['up', 'unknown'], false)).toBe('up');
    expect(serviceState([], false)).toBe('unknown');
    expect(serviceState(['cannot-run'], false)).toBe('unknown');
  });

  it('an outage when a service is down or a severe incident goes on; degraded for lesser trouble', () => {
    expect(overallState(['up', 'down'], [])).toBe('outage');
    expect(overallState(['up'], ['severe'])).toBe('outage');
    expect(overallState(['disrupted'], ['medium'])).toBe('degraded');
    expect(overallState(['up', 'unknown'], [])).toBe('operational');
  });
});
