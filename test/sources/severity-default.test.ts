// Without any rule, an alert still gets the severity class its sender's word names, and a title
// from where its format carries one: over real HTTP into the real manager and SQLite store.
import { afterEach, describe, expect, it } from 'vitest';
import { AM_TOKEN, GENERIC_TOKEN, ROUTING_KEY, alertServer, source, type AlertServer } from './harness.js';

let s: AlertServer | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

async function only(server: AlertServer) {
  const items = await server.active();
  expect(items).toHaveLength(1);
  return items[0]!;
}

describe('the uncategorized default for alerts', () => {
  it.each([
    ['critical', 'major', 'P3'],
    ['CRITICAL', 'major', 'P3'],
    ['P1', 'major', 'P3'],
    ['error', 'severe', 'P4'],
    ['P2', 'severe', 'P4'],
    ['warning', 'medium', 'P5'],
    ['info', 'minor', 'P5'],
    ['p5', 'minor', 'P5'],
  ])('a generic alert with severity %s is %s (%s with the default impact single-user)', async (word, severity, priority) => {
    s = await alertServer({ rules: [] });
    const r = await s.post('/api/v1/alerts', { alerts: [{ name: 'DiskFull', target: 'fileserver', status: 'firing', severity: word }] }, { token: GENERIC_TOKEN });
    expect(r.status).toBe(200);
    expect(await only(s)).toMatchObject({ ruleId: 'uncategorized', category: 'uncategorized', severity, priority, title: 'DiskFull on fileserver' });
  });

  it('keeps the configured severity for a word it does not know, or none', async () => {
    s = await alertServer({ rules: [] });
    await s.post(
      '/api/v1/alerts',
      {
        alerts: [
          { name: 'A', target: 't1', status: 'firing', severity: 'purple' },
          { name: 'B', target: 't2', status: 'firing' },
        ],
      },
      { token: GENERIC_TOKEN },
    );
    const items = await s.active();
    expect(items.map((i) => [i.title, i.severity]).sort()).toEqual([
      ['A on t1', 'medium'],
      ['B on t2', 'medium'],
    ]);
  });

  it('titles an Alertmanager alert by alertname and summary, on its instance, with the severity of its label', async () => {
    s = await alertServer({ rules: [] });
    const r = await s.post(
      '/api/v1/alertmanager',
      {
        version: '4',
        status: 'firing',
        alerts: [
          {
            status: 'firing',
            labels: { alertname: 'HighLatency', instance: 'api-1.example.org:9100', severity: 'critical' },
            annotations: { summary: 'p99 latency above 2 s' },
          },
        ],
      },
      { token: AM_TOKEN },
    );
    expect(r.status).toBe(200);
    expect(await only(s)).toMatchObject({ severity: 'major', title: 'HighLatency: p99 latency above 2 s', target: { id: 'api-1.example.org:9100' } });
  });

  it('takes the target of an Alertmanager alert without an instance label from its host label', async () => {
    s = await alertServer({ rules: [] });
    const alert = (labels: Record<string, string>) => ({ status: 'firing', labels: { alertname: 'BackupFailed', severity: 'error', ...labels } });
    const r = await s.post('/api/v1/alertmanager', { version: '4', alerts: [alert({ host: 'nas-1.example.org' }), alert({ job: 'backup' })] }, { token: AM_TOKEN });
    expect(r.status).toBe(200);
    const items = await s.active();
    expect(items.map((i) => [i.target.id, i.title, i.severity]).sort()).toEqual([
      ['nas-1.example.org', 'BackupFailed on nas-1.example.org', 'severe'],
      ['prom', 'BackupFailed on prom', 'severe'],
    ]);
  });

  it('titles a PagerDuty event by its summary and puts it on payload.source; a resolve without payload resolves it', async () => {
    s = await alertServer({ rules: [] });
    const trigger = {
      routing_key: ROUTING_KEY,
      event_action: 'trigger',
      dedup_key: 'disk-db-1',
      payload: { summary: 'Disk full on db-1', source: 'db-1.example.org', severity: 'error' },
    };
    expect((await s.post('/v2/enqueue', trigger)).status).toBe(202);
    const inc = await only(s);
    expect(inc).toMatchObject({ severity: 'severe', title: 'Disk full on db-1', target: { id: 'db-1.example.org' } });
    expect(inc.description).toContain('Disk full on db-1');
    expect((await s.post('/v2/enqueue', { routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: 'disk-db-1' })).status).toBe(202);
    expect(await s.active()).toEqual([]);
  });

  it('takes the target of a PagerDuty event from the label the source names (target.from_label)', async () => {
    s = await alertServer({
      rules: [],
      sources: [source({ id: 'zabbix', type: 'pagerduty', routingKeys: [ROUTING_KEY], target: { fromLabel: 'component', kind: 'service', siteLabel: null } })],
    });
    const payload = { summary: 'Replication broken', source: 'db-1.example.org', severity: 'critical', component: 'postgres' };
    await s.post('/v2/enqueue', { routing_key: ROUTING_KEY, event_action: 'trigger', dedup_key: 'repl', payload });
    expect((await only(s)).target).toMatchObject({ id: 'postgres' });
    // Without that label, payload.source.
    await s.post('/v2/enqueue', { routing_key: ROUTING_KEY, event_action: 'trigger', dedup_key: 'other', payload: { ...payload, component: undefined } });
    expect((await s.active()).map((i) => i.target.id).sort()).toEqual(['db-1.example.org', 'postgres']);
  });
});
