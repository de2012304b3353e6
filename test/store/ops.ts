// The store op the on-disk and server tests open incidents with: a failing ping of its own target.
import type { IncidentDraft, StoreOp } from '../../src/store/types.js';

export function draft(fp: string): IncidentDraft {
  return {
    fingerprint: fp,
    classification: { category: 'network', severity: 'major', impact: 'site', tier: 'L1', priority: 'P1' },
    title: 'down',
    description: 'down',
    runbook: '',
    ruleId: 'r',
    source: 'probe',
    target: { id: `t-${fp}`, kind: 'server', name: fp, site: 'hq', labels: {} },
    check: { name: 'ping', type: 'icmp' },
    labels: {},
    message: 'timeout',
  };
}

/** A failure of `fp` at `at`: opens its incident, or repeats it. */
export function fail(fp: string, at: number): StoreOp {
  return { kind: 'fail', at, count: 1, reopenWindowMs: 60_000, draft: draft(fp) };
}
