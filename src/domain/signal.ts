// The one normalised shape every input becomes before the rules engine sees it.
import { DEFAULT_TENANT } from './principal.js';

export type SignalStatus = 'ok' | 'fail';
export type Value = number | string | boolean;

export interface TargetRef {
  id: string;
  kind: string;
  name: string;
  site: string;
  labels: Record<string, string>;
  dependsOn: string[];
  /**
   * The tenant (customer) the target belongs to; absent: DEFAULT_TENANT. On the target rather than
   * the signal because it is the target's: a trap landing on a watched target, a probe run and an
   * alert of a tenant's source all carry it without each input setting it, and signals journaled
   * before tenants existed read as the default tenant.
   */
  tenant?: string;
}

/** The tenant of a signal's target. */
export function tenantOf(target: { tenant?: string }): string {
  return target.tenant ?? DEFAULT_TENANT;
}

export interface Signal {
  /** Where it came from: `probe`, `alertmanager`, `http`, `snmp-trap`… */
  source: string;
  target: TargetRef;
  /** The check (probe) or alert that produced it. `type` is the probe kind, or the source for alerts. */
  check: { name: string; type: string };
  status: SignalStatus;
  message: string;
  values: Record<string, Value>;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Epoch milliseconds. */
  at: number;
  /**
   * Identity of an alert within its source when target and check name are not enough (a PagerDuty
   * `dedup_key`, an Alertmanager fingerprint). Signals with the same key form one series.
   */
  dedupKey?: string;
  /**
   * The target id its series is known by, when that is not target.id: a PagerDuty trigger is about
   * the host it names, but its acknowledge and resolve events carry only the dedup_key, so the
   * series of all three is keyed by the source. Absent: target.id.
   */
  seriesTarget?: string;
  /**
   * The check could not read everything (the device did not answer, the run timed out or broke
   * off): the rules it matches still fire, but a condition it does not match is not thereby
   * cleared, since it was not observed. Absent: a full reading.
   */
  partial?: boolean;
  /** People to keep informed of the incident this signal opens or repeats (mail addresses). */
  subscribers?: string[];
}

/**
 * A series is one stream of observations: the same check of the same target from the same source
 * (and the same alert, for sources that name one).
 */
export function seriesKey(s: Signal): string {
  // join builds one flat string; a template literal would be a rope of pieces, kept per series.
  return [s.source, s.seriesTarget ?? s.target.id, s.check.name, s.dedupKey ?? ''].join('\u0000');
}
