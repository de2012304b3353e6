import type { CheckResult } from '../domain/check.js';
import type { Signal, TargetRef } from '../domain/signal.js';
import type { CheckConfig, TargetConfig } from '../config-core/types.js';

export function targetRef(t: TargetConfig): TargetRef {
  return { id: t.id, kind: t.kind, name: t.name, site: t.site, labels: t.labels, dependsOn: t.dependsOn, tenant: t.tenant };
}

/** A probe run becomes a signal like any alert; the target's labels travel with it for the rules. */
export function signalFromCheck(target: TargetRef, check: Pick<CheckConfig, 'name' | 'type'>, result: CheckResult, at: number): Signal {
  const signal: Signal = {
    source: 'probe',
    target,
    check: { name: check.name, type: check.type },
    status: result.status,
    message: result.message,
    values: { ...result.values, latencyMs: result.latencyMs },
    labels: target.labels,
    annotations: {},
    at,
  };
  if (result.partial === true) signal.partial = true;
  return signal;
}
