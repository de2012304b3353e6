// The tenant is part of every fingerprint: two customers' identical targets never share an
// incident, whatever the rule's dedup_by. The default tenant is left out, so an installation
// without tenants keeps the fingerprints of the incidents it already has.
import { describe, expect, it } from 'vitest';
import { fingerprint } from '../../src/domain/fingerprint.js';
import { compileRules } from '../../src/rules/compile.js';
import { rule, signal, UNCATEGORIZED } from './helpers.js';

function fingerprintOf(tenant: string | undefined, dedupBy: string[] = ['target.id', 'check.name', 'rule.id']): string {
  const { engine, issues } = compileRules([rule('server-down', 'target.kind == "server"', { dedupBy })], UNCATEGORIZED);
  expect(issues).toEqual([]);
  const s = signal(tenant === undefined ? {} : { target: { tenant } });
  const [m] = engine.classify(s);
  if (!m) throw new Error('no match');
  return m.fingerprint;
}

describe('fingerprints and tenants', () => {
  it('the same target, check and rule at two customers are two problems', () => {
    expect(fingerprintOf('acme')).not.toBe(fingerprintOf('globex'));
    expect(fingerprintOf('acme')).not.toBe(fingerprintOf(undefined));
    // Also for a rule that dedups by the site only: two customers' "hq" are different places.
    expect(fingerprintOf('acme', ['target.site'])).not.toBe(fingerprintOf('globex', ['target.site']));
  });

  it('the default tenant, named or not, keeps the fingerprint stored before tenants existed', () => {
    const before = fingerprint([['target.id', 'srv-01'], ['check.name', 'ping'], ['rule.id', 'server-down']]);
    expect(fingerprintOf(undefined)).toBe(before);
    expect(fingerprintOf('default')).toBe(before);
  });

  it('the cache of fingerprints keeps tenants apart in either order', () => {
    const a = fingerprintOf('acme');
    const b = fingerprintOf('globex');
    expect(fingerprintOf('acme')).toBe(a);
    expect(fingerprintOf('globex')).toBe(b);
    expect(a).toBe(fingerprint([['tenant', 'acme'], ['target.id', 'srv-01'], ['check.name', 'ping'], ['rule.id', 'server-down']]));
  });
});
