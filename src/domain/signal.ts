// The one normalised shape every input becomes before the rules engine sees it.

export type SignalStatus = 'ok' | 'fail';
export type Value = number | string | boolean;

export interface TargetRef {
  id: string;
  kind: string;
  name: string;
  site: string;
  labels: Record<string, string>;
  dependsOn: string[];
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
}

/** A series is one stream of observations: the same check of the same target from the same source. */
export function seriesKey(s: Signal): string {
  // join builds one flat string; a template literal would be a rope of pieces, kept per series.
  return [s.source, s.target.id, s.check.name].join('\u0000');
}
