import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/api/metrics.js';
import { CheckStatusTable } from '../../src/scheduler/check-status.js';
import { FakeClock } from '../../src/shared/clock.js';
import type { CheckResult } from '../../src/domain/check.js';

describe('per-check series', () => {
  it('follow a check through up, down, cannot-run and up again, and are gone once it is removed', async () => {
    const table = new CheckStatusTable({ clock: new FakeClock() });
    const m = createMetrics({ countActive: async () => ({ minor: 0, medium: 0, severe: 0, major: 0 }), eachCheck: (visit) => table.each(visit) });
    const series = async () => (await m.render()).split('\n').filter((l) => l.startsWith('incidentd_check_'));
    const labels = '{target="web-1",check="ssh",kind="tcp"}';
    const run = (r: Partial<CheckResult>) => table.record('web-1', 'ssh', { status: 'ok', message: 'ok', latencyMs: 0, values: {}, ...r });
    table.setChecks([{ targetId: 'web-1', targetName: 'Web 1', checkName: 'ssh', kind: 'tcp' }]);
    expect(await series()).toEqual([]);

    run({ latencyMs: 20 });
    run({ latencyMs: 30 });
    expect(await series()).toEqual([`incidentd_check_up${labels} 1`, `incidentd_check_duration_seconds${labels} 0.03`]);

    run({ status: 'fail', message: 'refused', latencyMs: 40 });
    expect(await series()).toEqual([`incidentd_check_up${labels} 0`, `incidentd_check_duration_seconds${labels} 0.04`]);

    run({ status: 'fail', message: 'no nc here', cannotRun: 'install netcat' });
    expect(await series()).toEqual([]);

    run({ latencyMs: 10 });
    expect(await series()).toEqual([`incidentd_check_up${labels} 1`, `incidentd_check_duration_seconds${labels} 0.01`]);

    table.setChecks([]);
    expect(await series()).toEqual([]);
  });
});
