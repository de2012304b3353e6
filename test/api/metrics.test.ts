import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/api/metrics.js';
import { CheckStatusTable } from '../../src/scheduler/check-status.js';
import { FakeClock } from '../../src/shared/clock.js';
import type { Severity } from '../../src/domain/classification.js';

const counts = (c: Partial<Record<Severity, number>>): Record<Severity, number> => ({
  minor: 0,
  medium: 0,
  severe: 0,
  major: 0,
  ...c,
});

describe('createMetrics', () => {
  it('registers every incidentd metric and the process metrics, prefixed', async () => {
    const m = createMetrics({ countActive: async () => counts({}) });
    const text = await m.registry.metrics();
    for (const name of [
      'incidentd_probe_runs_total',
      'incidentd_probe_duration_seconds',
      'incidentd_schedule_slip_seconds',
      'incidentd_probe_skipped_total',
      'incidentd_signals_total',
      'incidentd_incidents_opened_total',
      'incidentd_incidents_resolved_total',
      'incidentd_active_incidents',
      'incidentd_pipeline_commit_seconds',
      'incidentd_config_reloads_total',
      'incidentd_intake_journal_write_seconds',
      'incidentd_intake_journal_records_total',
      'incidentd_intake_journal_write_errors_total',
      'incidentd_process_cpu_user_seconds_total',
      'incidentd_nodejs_heap_size_used_bytes',
    ]) {
      expect(text, name).toContain(`# TYPE ${name} `);
    }
  });

  it('reads the intake journal files at every scrape (zero before it is open)', async () => {
    let disk: { segments: number; bytes: number } | null = null;
    const m = createMetrics({ countActive: async () => counts({}), journalDisk: () => disk });
    expect(await m.registry.metrics()).toMatch(/^incidentd_intake_journal_segments 0$/m);
    disk = { segments: 3, bytes: 4096 };
    const text = await m.registry.metrics();
    expect(text).toMatch(/^incidentd_intake_journal_segments 3$/m);
    expect(text).toMatch(/^incidentd_intake_journal_bytes 4096$/m);
  });

  it('keeps its own registry, so two instances do not collide or share counts', async () => {
    const a = createMetrics({ countActive: async () => counts({}) });
    const b = createMetrics({ countActive: async () => counts({}) });
    a.probeRuns.inc({ kind: 'icmp', result: 'fail' });
    a.probeRuns.inc({ kind: 'icmp', result: 'fail' });
    expect(await a.registry.metrics()).toContain('incidentd_probe_runs_total{kind="icmp",result="fail"} 2');
    expect(await b.registry.metrics()).not.toContain('kind="icmp"');
  });

  it('records observations with their labels', async () => {
    const m = createMetrics({ countActive: async () => counts({}) });
    m.probeLatency.observe({ kind: 'http' }, 0.2);
    m.incidentsOpened.inc({ severity: 'major' });
    m.configReloads.inc({ result: 'error' });
    m.pipelineLatency.observe(0.003);
    const text = await m.registry.metrics();
    expect(text).toContain('incidentd_probe_duration_seconds_bucket{le="0.25",kind="http"} 1');
    expect(text).toContain('incidentd_probe_duration_seconds_bucket{le="0.1",kind="http"} 0');
    expect(text).toContain('incidentd_incidents_opened_total{severity="major"} 1');
    // Known label values start at zero, so rate() works from the first scrape.
    expect(text).toContain('incidentd_incidents_opened_total{severity="minor"} 0');
    expect(text).toContain('incidentd_config_reloads_total{result="error"} 1');
    expect(text).toContain('incidentd_config_reloads_total{result="ok"} 0');
    expect(text).toContain('incidentd_pipeline_commit_seconds_count 1');
  });

  it('reads active incidents from the callback at every scrape', async () => {
    let current = counts({ major: 2, minor: 1 });
    const m = createMetrics({ countActive: async () => current });
    let text = await m.registry.metrics();
    expect(text).toContain('incidentd_active_incidents{severity="major"} 2');
    expect(text).toContain('incidentd_active_incidents{severity="minor"} 1');
    expect(text).toContain('incidentd_active_incidents{severity="severe"} 0');
    current = counts({ major: 0, severe: 3 });
    text = await m.registry.metrics();
    expect(text).toContain('incidentd_active_incidents{severity="major"} 0');
    expect(text).toContain('incidentd_active_incidents{severity="severe"} 3');
  });

  it('still answers a scrape when the store cannot count, leaving the gauge empty', async () => {
    let fail = false;
    const m = createMetrics({
      countActive: async () => {
        if (fail) throw new Error('store unreachable');
        return counts({ major: 4 });
      },
    });
    expect(await m.registry.metrics()).toContain('incidentd_active_incidents{severity="major"} 4');
    fail = true;
    const text = await m.registry.metrics();
    expect(text).toContain('incidentd_probe_runs_total');
    expect(text).not.toContain('incidentd_active_incidents{');
  });

  it('renders one check_up and one check_duration_seconds series per check that ran, label values escaped, after the registry', async () => {
    const table = new CheckStatusTable({ clock: new FakeClock() });
    const m = createMetrics({ countActive: async () => counts({}), eachCheck: (visit) => table.each(visit) });
    const ref = (targetId: string, checkName: string, kind: string) => ({ targetId, targetName: targetId, checkName, kind });
    table.setChecks([ref('core "sw"\\1', 'ping\nv6', 'icmp'), ref('web-1', 'healthz', 'http'), ref('web-1', 'never-ran', 'tcp'), ref('ap-9', 'ping', 'icmp')]);
    table.record('core "sw"\\1', 'ping\nv6', { status: 'fail', message: 'no reply', latencyMs: 1500, values: {} });
    table.record('web-1', 'healthz', { status: 'ok', message: 'ok', latencyMs: 12.5, values: {} });
    table.record('ap-9', 'ping', { status: 'fail', message: 'install iputils-ping', latencyMs: 0, values: {}, cannotRun: 'install iputils-ping' });
    const text = await m.render();
    const lines = text.split('\n');
    const series = lines.filter((l) => /^incidentd_check_(up|duration_seconds)\{/.test(l));
    expect(series).toEqual([
      'incidentd_check_up{target="core \\"sw\\"\\\\1",check="ping\\nv6",kind="icmp"} 0',
      'incidentd_check_up{target="web-1",check="healthz",kind="http"} 1',
      'incidentd_check_duration_seconds{target="core \\"sw\\"\\\\1",check="ping\\nv6",kind="icmp"} 1.5',
      'incidentd_check_duration_seconds{target="web-1",check="healthz",kind="http"} 0.0125',
    ]);
    // Each family has its HELP and TYPE once, before its series; the registry's families come first.
    expect(lines.filter((l) => l === '# TYPE incidentd_check_up gauge')).toHaveLength(1);
    expect(lines.indexOf('# TYPE incidentd_check_up gauge')).toBe(lines.indexOf(series[0]!) - 1);
    expect(lines.indexOf('# TYPE incidentd_probe_runs_total counter')).toBeLessThan(lines.indexOf('# TYPE incidentd_check_up gauge'));
    expect(text.endsWith('\n')).toBe(true);

    // A check removed by a reload has no series at the next scrape.
    table.setChecks([ref('web-1', 'healthz', 'http')]);
    expect((await m.render()).match(/^incidentd_check_up\{.*$/gm)).toEqual(['incidentd_check_up{target="web-1",check="healthz",kind="http"} 1']);
  });
});
