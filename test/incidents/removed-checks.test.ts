// Incidents of probe checks that leave the configuration, and the log lines of what commits do:
// the real manager over a real SQLite store, with the configured checks as the app passes them.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { ProbeCheckSet } from '../../src/incidents/planner.js';
import type { Logger } from '../../src/shared/logger.js';
import { active, harness, rule, sig, target, type Harness } from './harness.js';

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);

let h: Harness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

/** Checks as `target/check`; change `configured` to play a reload. */
function checks(...ids: string[]): { configured: Set<string>; set: () => ProbeCheckSet } {
  const configured = new Set(ids);
  return { configured, set: () => ({ has: (t, c) => configured.has(`${t}/${c}`) }) };
}

function capture(): { logger: Logger; lines: () => Array<Record<string, any>> } {
  const out: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      out.push(chunk.toString('utf8'));
      done();
    },
  });
  return {
    logger: pino({ level: 'info' }, sink),
    lines: () =>
      out
        .join('')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Record<string, any>),
  };
}

/** Where each target's checks were configured, as the app says it (src/app/reload.ts). */
const where = (targetId: string): string => (targetId === 'ap-1' ? 'probe file access-points.yaml' : 'probe files in probes/');

describe('incidents of removed checks', () => {
  it('a check still configured keeps an incident that a removed one also fired, and resolves it when it recovers', async () => {
    const a = target('ap-1');
    const b = target('ap-2');
    const c = checks('ap-1/icmp', 'ap-2/icmp');
    // One incident per site: both access points fire the same fingerprint.
    h = await harness({ rules: [rule({ id: 'site-down', when: 'true', dedupBy: ['target.site'] })], targets: [a, b], probeChecks: c.set });
    await h.manager.submitMany([sig(a, 'fail', T0), sig(b, 'fail', T0)]);
    expect(await active(h.store)).toHaveLength(1);

    c.configured.delete('ap-1/icmp');
    await h.manager.resolveRemovedChecks(where);
    expect(await active(h.store)).toHaveLength(1);
    // A late result of the removed check is dropped.
    await h.manager.submit(sig(a, 'fail', T0 + 1000));
    // ap-2 recovers: the removed series no longer holds the incident open.
    await h.manager.submit(sig(b, 'ok', T0 + 2000));
    expect(await active(h.store)).toHaveLength(0);
  });

  it('resolves an incident only removed checks fire, once, and a late failing result of the check does not reopen it', async () => {
    const a = target('ap-1');
    const c = checks('ap-1/icmp');
    const log = capture();
    h = await harness({ rules: [rule({ id: 'down', when: 'true' })], targets: [a], probeChecks: c.set, logger: log.logger });
    await h.manager.submit(sig(a, 'fail', T0));
    const [inc] = await active(h.store);

    c.configured.clear();
    await h.manager.resolveRemovedChecks(where);
    await h.manager.resolveRemovedChecks(where);
    const after = (await h.store.get(inc!.number))!;
    expect(after.status).toBe('resolved');
    expect(after.timeline.filter((e) => e.action === 'resolved')).toEqual([
      {
        at: expect.any(Number),
        actor: 'system',
        action: 'resolved',
        message: 'check icmp of target ap-1 was removed from the configuration (probe file access-points.yaml); nothing watches it any more',
      },
    ]);
    await h.manager.submit(sig(a, 'fail', T0 + 5000));
    expect((await h.store.get(inc!.number))!.status).toBe('resolved');
    expect(await active(h.store)).toHaveLength(0);
    expect(log.lines().filter((l) => l.event === 'incident.resolved')).toHaveLength(1);
  });

  it('resolves an incident that was recovering on the removed check', async () => {
    const a = target('ap-1');
    const c = checks('ap-1/icmp');
    h = await harness({ rules: [rule({ id: 'down', when: 'true', resolveAfter: 3 })], targets: [a], probeChecks: c.set });
    await h.manager.submitMany([sig(a, 'fail', T0), sig(a, 'ok', T0 + 1000)]);
    const [inc] = await active(h.store);
    c.configured.clear();
    await h.manager.resolveRemovedChecks(where);
    const after = (await h.store.get(inc!.number))!;
    expect(after.status).toBe('resolved');
    expect(after.timeline.at(-1)!.message).toBe(
      'check icmp of target ap-1 was removed from the configuration (probe file access-points.yaml); nothing watches it any more',
    );
  });

  it('never touches an alert incident on the same target', async () => {
    const a = target('ap-1');
    const c = checks();
    h = await harness({ rules: [rule({ id: 'down', when: 'true' })], targets: [a], probeChecks: c.set });
    await h.manager.submit({ ...sig(a, 'fail', T0, 'DiskFull'), source: 'http' });
    await h.manager.resolveRemovedChecks(where);
    expect(await active(h.store)).toHaveLength(1);
  });
});

describe('log lines of committed changes', () => {
  it('logs a raised severity with the severity before, and nothing for a plain repeat', async () => {
    const a = target('ap-1');
    const log = capture();
    h = await harness({
      rules: [
        rule({ id: 'lossy', when: 'values.loss > 50', classify: { category: 'net', severity: 'major', impact: 'site', tier: 'L2' }, dedupBy: ['target.id', 'check.name'] }),
        rule({ id: 'down', when: 'true', classify: { category: 'net', severity: 'medium', impact: 'site', tier: 'L1' }, dedupBy: ['target.id', 'check.name'] }),
      ],
      targets: [a],
      logger: log.logger,
    });
    await h.manager.submit({ ...sig(a, 'fail', T0), values: { loss: 10 } });
    await h.manager.submit({ ...sig(a, 'fail', T0 + 1), values: { loss: 20 } });
    await h.manager.submit({ ...sig(a, 'fail', T0 + 2), values: { loss: 90 } });
    const events = log.lines().filter((l) => typeof l.event === 'string');
    expect(events.map((l) => l.event)).toEqual(['incident.opened', 'incident.raised']);
    expect(events[1]).toMatchObject({ incident: 'INC-000001', from: 'medium', severity: 'major', target: 'ap-1', title: 'AP-1 fails icmp' });
    expect(events[1]!.msg).toBe('INC-000001 severity raised from medium to major: "AP-1 fails icmp" on AP-1 (ap-1)');
  });
});
