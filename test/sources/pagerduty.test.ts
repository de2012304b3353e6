// PagerDuty Events API v2 on POST /v2/enqueue: trigger, acknowledge, resolve with one dedup key,
// answered the way PagerDuty answers.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ROUTING_KEY, alertServer, type AlertServer } from './harness.js';

// PagerDuty's documented trigger example, with our routing key.
const TRIGGER = {
  payload: {
    summary: 'Example alert on host1.example.com',
    timestamp: '2015-07-17T08:42:58.315+0000',
    source: 'host1.example.com',
    severity: 'critical',
    component: 'postgres',
    group: 'prod-datapipe',
    class: 'deploy',
    custom_details: { 'ping time': '1500ms', 'load avg': 0.75, nested: { a: 1 } },
  },
  routing_key: ROUTING_KEY,
  dedup_key: 'db-primary-replication',
  images: [{ src: 'https://www.pagerduty.com/logo.png', href: 'https://example.com/', alt: 'Example text' }],
  links: [{ href: 'https://example.com/', text: 'Link text' }],
  event_action: 'trigger',
  client: 'Sample Monitoring Service',
  client_url: 'https://monitoring.example.com',
};

let s: AlertServer;
beforeEach(async () => {
  s = await alertServer();
});
afterEach(async () => s.close());

describe('POST /v2/enqueue', () => {
  it('trigger, acknowledge, resolve with one dedup_key: one incident, acknowledged, then resolved', async () => {
    const t = await s.post('/v2/enqueue', TRIGGER);
    expect(t.status).toBe(202);
    expect(t.body).toEqual({ status: 'success', message: 'Event processed', dedup_key: 'db-primary-replication' });
    // A repeated trigger is the same alert.
    expect((await s.post('/v2/enqueue', TRIGGER)).status).toBe(202);

    let open = await s.active();
    expect(open).toHaveLength(1);
    const inc = open[0]!;
    expect(inc).toMatchObject({ status: 'open', occurrences: 2, source: 'grafana', title: 'db-primary-replication on host1.example.com', lastMessage: 'Example alert on host1.example.com' });
    // The severity hint and payload fields reach the rules as labels: critical wins over the source rule.
    expect(inc.ruleId).toBe('critical-alert');
    expect(inc.labels).toMatchObject({ severity: 'critical', instance: 'host1.example.com', component: 'postgres', group: 'prod-datapipe', class: 'deploy' });
    // The incident is about the host in payload.source, so filtering by target finds it.
    expect(inc.target).toMatchObject({ id: 'host1.example.com', name: 'host1.example.com', kind: 'service' });
    expect((await s.h.store.list({ target: 'host1.example.com' }, 10)).items.map((i) => i.number)).toEqual([inc.number]);

    const ack = await s.post('/v2/enqueue', { routing_key: ROUTING_KEY, dedup_key: 'db-primary-replication', event_action: 'acknowledge' });
    expect(ack.status).toBe(202);
    expect(ack.body.dedup_key).toBe('db-primary-replication');
    open = await s.active();
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ number: inc.number, status: 'acknowledged', acknowledgedBy: 'pagerduty:grafana' });

    const res = await s.post('/v2/enqueue', { routing_key: ROUTING_KEY, dedup_key: 'db-primary-replication', event_action: 'resolve' });
    expect(res.status).toBe(202);
    expect(await s.active()).toHaveLength(0);
    expect((await s.h.store.get(inc.number))?.status).toBe('resolved');
    expect(await s.all()).toHaveLength(1);
  });

  it('gives a trigger without dedup_key a new key, which then resolves it', async () => {
    const { dedup_key: _d, ...noKey } = TRIGGER;
    const t = await s.post('/v2/enqueue', { ...noKey, payload: { ...TRIGGER.payload, severity: 'warning' } });
    expect(t.status).toBe(202);
    expect(t.body.dedup_key).toMatch(/^[0-9a-f-]{36}$/);
    const open = await s.active();
    expect(open).toHaveLength(1);
    expect(open[0]!.ruleId).toBe('pagerduty-alert');

    const r = await s.post('/v2/enqueue', { routing_key: ROUTING_KEY, dedup_key: t.body.dedup_key, event_action: 'resolve' });
    expect(r.status).toBe(202);
    expect(await s.active()).toHaveLength(0);
  });

  it('answers an invalid event with PagerDuty\'s 400 shape listing every problem, and stores nothing', async () => {
    const r = await s.post('/v2/enqueue', {
      routing_key: ROUTING_KEY,
      event_action: 'trigger',
      payload: { summary: '', source: 'host1', severity: 'fatal', timestamp: 'last tuesday' },
    });
    expect(r.status).toBe(400);
    expect(r.body.status).toBe('invalid event');
    expect(r.body.message).toBe('Event object is invalid');
    expect(r.body.errors).toEqual(
      expect.arrayContaining([
        'payload.summary: must not be blank',
        'payload.severity: must be one of critical, error, warning, info',
        expect.stringMatching(/^payload\.timestamp: must be an ISO 8601 date-time/),
      ]),
    );

    const missing = await s.post('/v2/enqueue', { routing_key: ROUTING_KEY, event_action: 'resolve' });
    expect(missing.status).toBe(400);
    expect(missing.body.errors).toEqual(['dedup_key: is required for resolve events']);
    const noPayload = await s.post('/v2/enqueue', { routing_key: ROUTING_KEY, event_action: 'trigger', dedup_key: 'x' });
    expect(noPayload.body.errors).toEqual(['payload: is required for trigger events']);
    const action = await s.post('/v2/enqueue', { ...TRIGGER, event_action: 'escalate' });
    expect(action.body.errors).toEqual(['event_action: must be one of trigger, acknowledge, resolve']);
    const json = await s.post('/v2/enqueue', undefined, { raw: '{"routing_key":' });
    expect(json.status).toBe(400);
    expect(json.body.errors[0]).toMatch(/^body: is not valid JSON/);
    expect(await s.all()).toHaveLength(0);
  });

  it('answers 400 "Invalid routing key" for a routing key no source has', async () => {
    const r = await s.post('/v2/enqueue', { ...TRIGGER, routing_key: 'R0000000000000000000000000000000' });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ status: 'invalid event', message: 'Event object is invalid', errors: ['Invalid routing key'] });
    expect(await s.all()).toHaveLength(0);
  });

  it('answers 415 for a body that is not JSON', async () => {
    const r = await s.post('/v2/enqueue', undefined, { contentType: 'text/plain', raw: 'trigger' });
    expect(r.status).toBe(415);
  });
});
