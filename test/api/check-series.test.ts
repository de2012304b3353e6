import { Gauge, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { checkSeries } from '../../src/api/metrics.js';
import type { CheckStatus } from '../../src/scheduler/check-status.js';

function gauges() {
  const registers = [new Registry()];
  const labelNames = ['target', 'check', 'kind'] as const;
  return {
    registry: registers[0]!,
    checkUp: new Gauge({ name: 'check_up', help: 'up', labelNames, registers }),
    checkDuration: new Gauge({ name: 'check_duration_seconds', help: 'duration', labelNames, registers }),
  };
}

describe('checkSeries', () => {
  it('follows a check through up, down, cannot-run and up again, and drops it when removed', async () => {
    const m = gauges();
    const observer = checkSeries(m);
    const status = { targetId: 'web-1', checkName: 'ssh', kind: 'tcp', state: 'up', latencyMs: 20 } as CheckStatus;
    const series = async () => (await m.registry.metrics()).split('\n').filter((l) => l.startsWith('check_'));
    const labels = '{target="web-1",check="ssh",kind="tcp"}';

    observer.changed(status);
    status.latencyMs = 30;
    observer.changed(status);
    expect(await series()).toEqual([`check_up${labels} 1`, `check_duration_seconds${labels} 0.03`]);

    status.state = 'down';
    status.latencyMs = 40;
    observer.changed(status);
    expect(await series()).toEqual([`check_up${labels} 0`, `check_duration_seconds${labels} 0.04`]);

    status.state = 'cannot-run';
    status.latencyMs = null;
    observer.changed(status);
    expect(await series()).toEqual([]);

    status.state = 'up';
    status.latencyMs = 10;
    observer.changed(status);
    expect(await series()).toEqual([`check_up${labels} 1`, `check_duration_seconds${labels} 0.01`]);

    observer.removed(status);
    expect(await series()).toEqual([]);
  });
});
