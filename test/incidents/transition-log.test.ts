// The info lines of a storm: a commit that opens or resolves many incidents logs the first ones of
// each kind line by line and counts the rest in one line; at debug level every one has its line.
// The real manager and SQLite store, a real pino logger writing into memory.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { BATCH_INFO_LINES } from '../../src/incidents/transition-log.js';
import type { Logger } from '../../src/shared/logger.js';
import { harness, rule, sig, target, type Harness } from './harness.js';

const T0 = Date.parse('2026-03-02T10:00:00Z');
const ping = rule({ id: 'ping-down', when: 'check.name == "icmp"' });

type Line = { level: number; msg: string; event?: string; incident?: string; more?: number; first?: string; last?: string; bySeverity?: Record<string, number> };

let h: Harness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

function capture(level: 'info' | 'debug'): { logger: Logger; lines: () => Line[] } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  const lines = () =>
    chunks
      .join('')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Line);
  return { logger: pino({ level }, sink), lines };
}

const INFO = 30;
const DEBUG = 20;
const storm = (n: number, status: 'fail' | 'ok', at: number) => Array.from({ length: n }, (_, i) => sig(target(`srv-${i}`), status, at));

describe('transition lines of a storm', () => {
  it('logs the first openings of a commit one by one and counts the rest in one line', async () => {
    const log = capture('info');
    h = await harness({ rules: [ping], logger: log.logger });
    await h.manager.submitMany(storm(BATCH_INFO_LINES + 5, 'fail', T0));
    const opened = log.lines().filter((l) => l.event === 'incident.opened');
    expect(opened.filter((l) => l.incident !== undefined)).toHaveLength(BATCH_INFO_LINES);
    const count = opened.find((l) => l.more !== undefined)!;
    expect(count).toMatchObject({ level: INFO, more: 5, first: 'INC-000021', last: 'INC-000025', bySeverity: { severe: 5 } });
    expect(count.msg).toBe('5 more incidents opened in the same commit (INC-000021 to INC-000025; 5 severe); each is logged at debug level');

    // A quiet commit still logs every line.
    await h.manager.submitMany(storm(3, 'ok', T0 + 60_000));
    expect(log.lines().filter((l) => l.event === 'incident.resolved')).toHaveLength(3);
  });

  it('at debug level every incident of the storm has its own line as well', async () => {
    const log = capture('debug');
    h = await harness({ rules: [ping], logger: log.logger });
    await h.manager.submitMany(storm(BATCH_INFO_LINES + 5, 'fail', T0));
    const each = log.lines().filter((l) => l.event === 'incident.opened' && l.incident !== undefined);
    expect(each.map((l) => l.incident)).toEqual(Array.from({ length: BATCH_INFO_LINES + 5 }, (_, i) => `INC-${String(i + 1).padStart(6, '0')}`));
    expect(each.filter((l) => l.level === DEBUG)).toHaveLength(5);
  });
});
