import type { Value } from './signal.js';

/** The outcome of one probe run. A target that is down is a result, never an exception. */
export interface CheckResult {
  status: 'ok' | 'fail';
  message: string;
  latencyMs: number;
  values: Record<string, Value>;
}
