import type { IncidentPolicy } from '../../src/config-core/types.js';
import type { RuleConfig } from '../../src/rules/config.js';
import type { Signal } from '../../src/domain/signal.js';

export const UNCATEGORIZED: IncidentPolicy['uncategorized'] = {
  category: 'uncategorized',
  severity: 'minor',
  impact: 'single-user',
  tier: 'L1',
};

export function rule(id: string, when: string, extra: Partial<RuleConfig> = {}): RuleConfig {
  return {
    id,
    when,
    classify: { category: 'availability', severity: 'major', impact: 'site', tier: 'L2' },
    title: '{{target.name}} is down',
    description: '',
    runbook: '',
    dedupBy: ['target.id', 'check.name', 'rule.id'],
    openAfter: 1,
    resolveAfter: 1,
    continue: false,
    file: 'rules/test.yaml',
    ...extra,
  };
}

export function signal(extra: Partial<Omit<Signal, 'target'>> & { target?: Partial<Signal['target']> } = {}): Signal {
  const { target, ...rest } = extra;
  return {
    source: 'probe',
    target: { id: 'srv-01', kind: 'server', name: 'File server', site: 'hq', labels: {}, dependsOn: [], ...target },
    check: { name: 'ping', type: 'icmp' },
    status: 'fail',
    message: 'host unreachable',
    values: {},
    labels: {},
    annotations: {},
    at: 0,
    ...rest,
  };
}
