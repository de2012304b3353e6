// Bodies shaped to hurt, over real HTTP: nesting thousands deep and `__proto__` keys get a 400 that
// names where, on every alert endpoint, and nothing of them is stored.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AM_TOKEN, GENERIC_TOKEN, ROUTING_KEY, alertServer, type AlertServer } from './harness.js';

let s: AlertServer;
beforeEach(async () => {
  s = await alertServer();
});
afterEach(async () => s.close());

/** `{"a":{"a":…{"a":1}…}}`, `depth` objects deep, as raw JSON text. */
function nested(depth: number): string {
  return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

function pdTrigger(customDetails: string): string {
  return `{"routing_key":"${ROUTING_KEY}","event_action":"trigger","dedup_key":"deep","payload":{"summary":"s","source":"h","severity":"critical","custom_details":${customDetails}}}`;
}

describe('nesting', () => {
  it('PagerDuty custom_details nested 5,000 deep: 400 naming the path, not a 500', async () => {
    const r = await s.post('/v2/enqueue', undefined, { raw: pdTrigger(nested(5_000)) });
    expect(r.status).toBe(400);
    expect(r.body.status).toBe('invalid event');
    expect(r.body.errors).toHaveLength(1);
    expect(r.body.errors[0]).toMatch(/^payload\.custom_details\.a\.a\.a.*: nested deeper than 32 levels$/);
    expect(r.body.errors[0].length).toBeLessThan(200);
    expect(await s.all()).toHaveLength(0);
  });

  it('arrays count as levels too; 32 levels are fine', async () => {
    const deepArray = await s.post('/v2/enqueue', undefined, { raw: pdTrigger(`{"x":${'['.repeat(100)}${']'.repeat(100)}}`) });
    expect(deepArray.status).toBe(400);
    expect(deepArray.body.errors[0]).toMatch(/^payload\.custom_details\.x\[0\]\[0\].*: nested deeper than 32 levels$/);
    // The event object, payload and custom_details are three levels: 29 more fit.
    const ok = await s.post('/v2/enqueue', undefined, { raw: pdTrigger(nested(30)) });
    expect(ok.status).toBe(202);
  });

  it('generic alerts nested deep: 400 with the path in issues', async () => {
    const raw = `{"alerts":[{"name":"x","target":"srv-1","status":"firing","values":${nested(1_000)}}]}`;
    const r = await s.post('/api/v1/alerts', undefined, { token: GENERIC_TOKEN, raw });
    expect(r.status).toBe(400);
    expect(r.body.issues).toEqual([{ field: expect.stringMatching(/^alerts\[0\]\.values\.a\.a/), message: 'nested deeper than 32 levels' }]);
  });
});

describe('__proto__ keys', () => {
  it('generic alerts: in labels, annotations and values, a 400 names the key', async () => {
    for (const [field, raw] of [
      ['alerts[0].labels.__proto__', '{"alerts":[{"name":"x","target":"srv-1","status":"firing","labels":{"__proto__":{"severity":"critical"}}}]}'],
      ['alerts[0].annotations.__proto__', '{"alerts":[{"name":"x","target":"srv-1","status":"firing","annotations":{"__proto__":"x"}}]}'],
      ['alerts[0].values.__proto__', '{"alerts":[{"name":"x","target":"srv-1","status":"firing","values":{"__proto__":{"a":1}}}]}'],
      ['alerts[0].__proto__', '{"alerts":[{"name":"x","target":"srv-1","status":"firing","__proto__":{"dedup_key":"k"}}]}'],
    ] as const) {
      const r = await s.post('/api/v1/alerts', undefined, { token: GENERIC_TOKEN, raw });
      expect(r.status, raw).toBe(400);
      expect(r.body.issues).toEqual([{ field, message: 'key not allowed' }]);
    }
    expect(await s.all()).toHaveLength(0);
  });

  it('Alertmanager labels and PagerDuty custom_details: a 400 names the key', async () => {
    const am = await s.post('/api/v1/alertmanager', undefined, {
      token: AM_TOKEN,
      raw: '{"version":"4","alerts":[{"status":"firing","labels":{"alertname":"x","__proto__":{"instance":"y"}}}]}',
    });
    expect(am.status).toBe(400);
    expect(am.body.issues).toEqual([{ field: 'alerts[0].labels.__proto__', message: 'key not allowed' }]);

    const pd = await s.post('/v2/enqueue', undefined, { raw: pdTrigger('{"ok":1,"__proto__":{"polluted":true}}') });
    expect(pd.status).toBe(400);
    expect(pd.body.errors).toEqual(['payload.custom_details.__proto__: key not allowed']);
    expect(await s.all()).toHaveLength(0);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
