// Why an incident is classified as it is (GET /api/v1/incidents/:number/explanation), with the
// rules as loaded now, and the related incidents on GET /api/v1/incidents/:number.
import { afterEach, describe, expect, it } from 'vitest';
import type { ApiExplanation } from '../../src/api/incident-explanation.js';
import type { ApiRelatedIncident } from '../../src/domain/serialize.js';
import { compileRules } from '../../src/rules/compile.js';
import type { RuleConfig } from '../../src/rules/config.js';
import type { RuleEngine } from '../../src/rules/types.js';
import { rule, UNCATEGORIZED } from '../rules/helpers.js';
import { json, seed, startApi, type Harness } from './harness.js';
import { makeStore } from './store.js';

// seed() opens incidents as rule device-down would: network, medium, site, tier L1, an icmp check.
const DEVICE_DOWN = rule('device-down', 'check.type == "icmp"', { classify: { category: 'network', severity: 'medium', impact: 'site', tier: 'L1' } });

function engineOf(rules: RuleConfig[]): RuleEngine {
  const { engine, issues } = compileRules(rules, UNCATEGORIZED);
  if (issues.length > 0) throw new Error(JSON.stringify(issues));
  return engine;
}

describe('GET /api/v1/incidents/:number/explanation', () => {
  let h: Harness;
  let rules: RuleEngine;
  afterEach(async () => {
    await h.close();
  });

  async function start(initial: RuleConfig[]): Promise<void> {
    rules = engineOf(initial);
    h = await startApi(await makeStore(), undefined, { rules: () => rules });
  }

  it('names the rule that classified the incident and says it still does', async () => {
    await start([rule('printer-jam', 'check.name == "PrinterJam"'), DEVICE_DOWN]);
    const number = await seed(h.store, h.clock, { targetId: 'ap-1' });
    const res = await h.call(`/api/v1/incidents/${number}/explanation`);
    expect(res.status).toBe(200);
    const ex = await json<ApiExplanation>(res);
    expect(ex.ruleId).toBe('device-down');
    expect(ex.sameRule).toBe(true);
    expect(ex.differences).toEqual([]);
    expect(ex.trace).toEqual([
      { ruleId: 'printer-jam', matched: false, reason: 'when was false' },
      expect.objectContaining({ ruleId: 'device-down', matched: true }),
    ]);
    expect(ex.signal).toMatchObject({ source: 'probe', target: { id: 'ap-1' }, check: { name: 'ping', type: 'icmp' }, message: '100% packet loss', labels: { team: 'network' } });
    expect(ex.notStored).toEqual(['values', 'annotations']);
  });

  it('says plainly when the rules changed since: another rule now, and where the classification differs', async () => {
    await start([DEVICE_DOWN]);
    const number = await seed(h.store, h.clock, { targetId: 'ap-1' });
    // A reload puts a new rule first that takes the signal over, with another severity.
    rules = engineOf([rule('ap-outage', 'target.kind == "wifi-ap"', { classify: { category: 'network', severity: 'major', impact: 'site', tier: 'L2' } }), DEVICE_DOWN]);
    const ex = await json<ApiExplanation>(await h.call(`/api/v1/incidents/${number}/explanation`));
    expect(ex.sameRule).toBe(false);
    expect(ex.now?.ruleId).toBe('ap-outage');
    expect(ex.shadowed).toEqual([{ ruleId: 'device-down', by: 'ap-outage' }]);
    expect(ex.differences).toEqual([
      { field: 'severity', incident: 'medium', now: 'major' },
      { field: 'priority', incident: 'P3', now: 'P1' },
      { field: 'tier', incident: 'L1', now: 'L2' },
    ]);
  });

  it('falls back to the uncategorized default when no rule matches any more', async () => {
    await start([]);
    const number = await seed(h.store, h.clock, { targetId: 'ap-1' });
    const ex = await json<ApiExplanation>(await h.call(`/api/v1/incidents/${number}/explanation`));
    expect(ex.usedDefault).toBe(true);
    expect(ex.sameRule).toBe(false);
    expect(ex.now?.classification.category).toBe('uncategorized');
  });

  it('answers 404 for a number that does not exist', async () => {
    await start([DEVICE_DOWN]);
    const res = await h.call('/api/v1/incidents/INC-999999/explanation');
    expect(res.status).toBe(404);
  });
});

describe('related incidents on GET /api/v1/incidents/:number', () => {
  let h: Harness;
  afterEach(async () => {
    await h.close();
  });

  it('lists the other incidents of the same target in the same tenant, not another tenant’s', async () => {
    h = await startApi(await makeStore());
    const ping = await seed(h.store, h.clock, { targetId: 'ap-1', check: 'ping' });
    await h.clock.advance(60_000);
    const http = await seed(h.store, h.clock, { targetId: 'ap-1', check: 'http', severity: 'major' });
    await seed(h.store, h.clock, { targetId: 'ap-1', check: 'ping', tenant: 'globex' });
    await seed(h.store, h.clock, { targetId: 'ap-2', check: 'ping' });
    const body = await json<{ relatedIncidents: ApiRelatedIncident[] }>(await h.call(`/api/v1/incidents/${ping}`));
    expect(body.relatedIncidents).toEqual([
      { number: http, title: 'ap-1 http failing', status: 'open', severity: 'major', firstSeen: new Date(h.clock.now()).toISOString(), relation: 'same-target' },
    ]);
    // Lists carry none.
    const list = await json<{ items: Record<string, unknown>[] }>(await h.call('/api/v1/incidents'));
    expect(list.items.every((i) => !('relatedIncidents' in i))).toBe(true);
  });
});
