// Alertmanager's webhook as Alertmanager sends it: the documented version 4 example payloads.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AM_TOKEN, alertServer, type AlertServer } from './harness.js';

// The documented example payload (webhook_config, version 4), firing.
const FIRING = {
  receiver: 'sms',
  status: 'firing',
  alerts: [
    {
      status: 'firing',
      labels: {
        alertname: 'ProbeFailure',
        instance: 'https://server.example.org',
        job: 'http_checks',
        monitor: 'master',
        severity: 'critical',
        dc: 'eu-west-1',
      },
      annotations: {
        description: 'Instance https://server.example.org has been down for over 5m. Job: http_checks',
        summary: 'BlackBox Probe Failure: https://server.example.org',
      },
      startsAt: '2023-02-06T13:08:45.828Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus.example.org:9090/graph?g0.expr=probe_success+%3D%3D+0&g0.tab=1',
      fingerprint: '1a30ba71cca2921f',
    },
  ],
  groupLabels: { alertname: 'ProbeFailure' },
  commonLabels: { alertname: 'ProbeFailure', instance: 'https://server.example.org', job: 'http_checks', monitor: 'master', severity: 'critical' },
  commonAnnotations: { summary: 'BlackBox Probe Failure: https://server.example.org' },
  externalURL: 'http://prometheus.example.org:9093',
  version: '4',
  groupKey: '{}/{severity="critical"}:{alertname="ProbeFailure"}',
  truncatedAlerts: 0,
};

function resolved(payload: typeof FIRING) {
  return {
    ...payload,
    status: 'resolved',
    alerts: payload.alerts.map((a) => ({ ...a, status: 'resolved', endsAt: '2023-02-06T13:20:45.828Z' })),
  };
}

let s: AlertServer;
beforeEach(async () => {
  s = await alertServer();
});
afterEach(async () => s.close());

describe('POST /api/v1/alertmanager', () => {
  it('opens one incident for the documented firing payload, counts a repeat, and resolves it on the resolved payload', async () => {
    const first = await s.post('/api/v1/alertmanager', FIRING, { token: AM_TOKEN });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ status: 'success', accepted: 1 });

    let open = await s.active();
    expect(open).toHaveLength(1);
    const inc = open[0]!;
    // Classified by its labels, like a probe failure.
    expect(inc.ruleId).toBe('critical-alert');
    expect(inc.severity).toBe('major');
    expect(inc.source).toBe('prom');
    expect(inc.target).toMatchObject({ id: 'https://server.example.org', kind: 'server', site: 'eu-west-1' });
    expect(inc.title).toBe('ProbeFailure on https://server.example.org');
    expect(inc.labels).toMatchObject({ alertname: 'ProbeFailure', origin: 'prometheus', severity: 'critical' });

    // Alertmanager re-sends the group at its repeat_interval: the same incident, one more occurrence.
    expect((await s.post('/api/v1/alertmanager', FIRING, { token: AM_TOKEN })).status).toBe(200);
    open = await s.active();
    expect(open).toHaveLength(1);
    expect(open[0]!.occurrences).toBe(2);

    expect((await s.post('/api/v1/alertmanager', resolved(FIRING), { token: AM_TOKEN })).status).toBe(200);
    expect(await s.active()).toHaveLength(0);
    const after = await s.h.store.get(inc.number);
    expect(after?.status).toBe('resolved');
    expect(await s.all()).toHaveLength(1);
  });

  it('without fingerprints, identifies each alert by its labels: two alerts, two incidents, each resolved by its own', async () => {
    const strip = (p: typeof FIRING, instance: string) => ({
      ...p,
      alerts: p.alerts.map(({ fingerprint: _f, ...a }) => ({ ...a, labels: { ...a.labels, instance } })),
    });
    const a = strip(FIRING, 'db-1:9100');
    const b = strip(FIRING, 'db-2:9100');
    expect((await s.post('/api/v1/alertmanager', a, { token: AM_TOKEN })).status).toBe(200);
    expect((await s.post('/api/v1/alertmanager', b, { token: AM_TOKEN })).status).toBe(200);
    expect((await s.active()).map((i) => i.target.id).sort()).toEqual(['db-1:9100', 'db-2:9100']);

    expect((await s.post('/api/v1/alertmanager', resolved(a as typeof FIRING), { token: AM_TOKEN })).status).toBe(200);
    expect((await s.active()).map((i) => i.target.id)).toEqual(['db-2:9100']);
  });

  it('rejects a payload of another version or with invalid alerts, naming every field, and applies none of it', async () => {
    const bad = {
      ...FIRING,
      version: '3',
      alerts: [FIRING.alerts[0], { ...FIRING.alerts[0], status: 'burning', labels: { instance: 7 } }],
    };
    const r = await s.post('/api/v1/alertmanager', bad, { token: AM_TOKEN });
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('bad_request');
    const fields = r.body.issues.map((i: { field: string }) => i.field);
    expect(fields).toEqual(expect.arrayContaining(['version', 'alerts[1].status', 'alerts[1].labels.instance']));
    expect(r.body.issues.find((i: { field: string }) => i.field === 'alerts[1].labels.instance').message).toMatch(/must be a string, got number 7/);
    expect(await s.all()).toHaveLength(0);
  });
});
