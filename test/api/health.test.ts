import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { json, seed, startApi, type Harness } from './harness.js';
import { makeStore } from './store.js';

describe('health, readiness and metrics endpoints', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await startApi(await makeStore());
  });
  afterEach(async () => {
    await h.close();
  });

  it('GET /healthz says ok without a token', async () => {
    const res = await fetch(`${h.base}/healthz`);
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ status: 'ok' });
  });

  it('GET /readyz is 200 with the checks when ready', async () => {
    const res = await fetch(`${h.base}/readyz`);
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ status: 'ready', checks: { store: 'ok' } });
  });

  it('GET /readyz is 503 with the checks when not ready', async () => {
    h.ready = async () => ({ ready: false, checks: { store: 'unreachable: database is locked' } });
    const res = await fetch(`${h.base}/readyz`);
    expect(res.status).toBe(503);
    expect(await json(res)).toEqual({
      status: 'not_ready',
      checks: { store: 'unreachable: database is locked' },
    });
  });

  it('GET /readyz is 503 when the readiness check itself fails', async () => {
    h.ready = async () => {
      throw new Error('store ping timed out');
    };
    const res = await fetch(`${h.base}/readyz`);
    expect(res.status).toBe(503);
    expect(await json(res)).toEqual({
      status: 'not_ready',
      checks: { readiness: 'check failed: store ping timed out' },
    });
  });

  it('GET /metrics serves the Prometheus text format with the incidentd metrics', async () => {
    h.metrics.signals.inc({ source: 'alertmanager', status: 'fail' });
    const res = await fetch(`${h.base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(h.metrics.registry.contentType);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toContain('incidentd_probe_runs_total');
    expect(text).toContain('incidentd_schedule_slip_seconds');
    expect(text).toContain('incidentd_signals_total{source="alertmanager",status="fail"} 1');
    expect(text).toContain('incidentd_process_resident_memory_bytes');
  });

  it('GET /metrics counts active incidents from the store', async () => {
    await seed(h.store, h.clock, { targetId: 'ap-lobby', severity: 'major' });
    await seed(h.store, h.clock, { targetId: 'ap-hall', severity: 'major' });
    const printer = await seed(h.store, h.clock, { targetId: 'printer-3', severity: 'minor' });
    await h.store.resolve(printer, 'ops-team', 'toner replaced', h.clock.now());
    const text = await (await fetch(`${h.base}/metrics`)).text();
    expect(text).toContain('incidentd_active_incidents{severity="major"} 2');
    expect(text).toContain('incidentd_active_incidents{severity="minor"} 0');
  });
});
