import type { Value } from './signal.js';

/** The outcome of one probe run. A target that is down is a result, never an exception. */
export interface CheckResult {
  status: 'ok' | 'fail';
  message: string;
  latencyMs: number;
  values: Record<string, Value>;
  /**
   * The run could not read everything it reads on success (no answer, a timeout, a reply cut
   * short): conditions it did not see are unknown, not cleared. Device kinds also say in
   * `values.answered` whether the device answered at all.
   */
  partial?: boolean;
  /**
   * The probe could not run on this machine (its program is missing, or lacks a privilege): why,
   * and what to install or change. Says nothing about the target: such a run updates the check's
   * state (`cannot-run`) and never becomes a signal or an incident.
   */
  cannotRun?: string;
}
