// The digest of a presented credential is remembered per config object (src/shared/secret-digest.ts):
// what a request is answered must not change with what earlier requests presented.
import { describe, expect, it } from 'vitest';
import { authenticate } from '../../src/api/auth.js';
import type { ApiToken } from '../../src/config-core/types.js';
import { authenticateSource, sourceForRoutingKey } from '../../src/sources/auth.js';
import { source } from './harness.js';

const T = 'tok-webhook-4c1d9e';
const AM = 'tok-prom-77a0b3';
const KEY = 'R00000000000000000000000000000ab';

function config() {
  return [
    source({ id: 'webhook', type: 'generic', tokens: [T] }),
    source({ id: 'prom', type: 'alertmanager', tokens: [AM] }),
    source({ id: 'grafana', type: 'pagerduty', routingKeys: [KEY] }),
  ];
}

describe('source tokens after a right one was remembered', () => {
  it('still refuses wrong tokens and tokens of the wrong scope', () => {
    const sources = config();
    const api: ApiToken[] = [{ name: 'ops', token: 'tok-api-0e2f' }];
    for (let i = 0; i < 3; i++) expect(authenticateSource(`Bearer ${T}`, 'generic', sources, api)).toMatchObject({ ok: true, source: { id: 'webhook' } });
    expect(authenticateSource(`Bearer ${T}x`, 'generic', sources, api)).toMatchObject({ ok: false, status: 401, reason: 'invalid' });
    expect(authenticateSource(`Bearer ${T.slice(0, -1)}`, 'generic', sources, api)).toMatchObject({ ok: false, status: 401, reason: 'invalid' });
    expect(authenticateSource(`Basic ${T}`, 'generic', sources, api)).toMatchObject({ ok: false, status: 401, reason: 'malformed' });
    // The same header at the other endpoint is known, but not for it.
    expect(authenticateSource(`Bearer ${T}`, 'alertmanager', sources, api)).toMatchObject({ ok: false, status: 403, reason: 'scope' });
    expect(authenticateSource('Bearer tok-api-0e2f', 'generic', sources, api)).toMatchObject({ ok: false, status: 403 });
    expect(authenticateSource('Bearer tok-api-0e2f', 'generic', sources, [])).toMatchObject({ ok: false, status: 401, reason: 'invalid' });
  });

  it('stops taking a token that a reload removed, and follows one that moved to another source', () => {
    const before = config();
    expect(authenticateSource(`Bearer ${T}`, 'generic', before, [])).toMatchObject({ ok: true });
    expect(authenticateSource(`Bearer ${T}`, 'generic', before, [])).toMatchObject({ ok: true });

    const removed = config().map((s) => (s.id === 'webhook' ? { ...s, tokens: ['tok-webhook-rotated'] } : s));
    expect(authenticateSource(`Bearer ${T}`, 'generic', removed, [])).toMatchObject({ ok: false, status: 401, reason: 'invalid' });
    expect(authenticateSource('Bearer tok-webhook-rotated', 'generic', removed, [])).toMatchObject({ ok: true, source: { id: 'webhook' } });

    const moved = [...config().filter((s) => s.id !== 'webhook'), source({ id: 'zabbix', type: 'generic', tokens: [T] })];
    expect(authenticateSource(`Bearer ${T}`, 'generic', moved, [])).toMatchObject({ ok: true, source: { id: 'zabbix' } });
  });

  it('does the same for PagerDuty routing keys', () => {
    const before = config();
    expect(sourceForRoutingKey(KEY, before)?.id).toBe('grafana');
    expect(sourceForRoutingKey(KEY, before)?.id).toBe('grafana');
    expect(sourceForRoutingKey(`${KEY}0`, before)).toBeNull();
    // A routing key is never taken for a bearer token, nor the other way round.
    expect(authenticateSource(`Bearer ${KEY}`, 'generic', before, [])).toMatchObject({ ok: false, status: 401 });
    expect(sourceForRoutingKey(`Bearer ${T}`, before)).toBeNull();
    const removed = config().map((s) => (s.type === 'pagerduty' ? { ...s, routingKeys: [] } : s));
    expect(sourceForRoutingKey(KEY, removed)).toBeNull();
  });
});

describe('API tokens after a right one was remembered', () => {
  it('still refuses wrong ones, and a removed one after a reload', () => {
    const before: ApiToken[] = [{ name: 'ops', token: 'tok-ops-51c2' }];
    expect(authenticate('Bearer tok-ops-51c2', before)).toMatchObject({ ok: true, name: 'ops' });
    expect(authenticate('Bearer tok-ops-51c2', before)).toMatchObject({ ok: true, name: 'ops' });
    expect(authenticate('Bearer tok-ops-51c3', before)).toMatchObject({ ok: false, reason: 'invalid' });

    const after: ApiToken[] = [{ name: 'ops', token: 'tok-ops-rotated' }];
    expect(authenticate('Bearer tok-ops-51c2', after)).toMatchObject({ ok: false, reason: 'invalid' });
    // Emptied: no token configured any more, whatever was presented before.
    expect(authenticate('Bearer tok-ops-51c2', [{ name: 'ops', token: '' }])).toMatchObject({ ok: false, reason: 'none-configured' });
    // Renamed: the answer names the token as the config does now.
    expect(authenticate('Bearer tok-ops-51c2', [{ name: 'ops-renamed', token: 'tok-ops-51c2' }])).toMatchObject({ ok: true, name: 'ops-renamed' });
  });
});
