// One deadline per probe run: the caller's abort signal (scheduler timeout or shutdown) combined
// with the run's own timeoutMs, so a kind called directly still gives up in time.
import { IncidentdError } from '../shared/errors.js';
import type { ProbeContext } from './types.js';
import { inspect } from 'node:util';

/** The abort reason when a run reached its timeout. */
export class ProbeTimeoutError extends IncidentdError {
  constructor(readonly timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms (raise the check's timeout if the target is only slow)`);
  }
}

/** The abort reason when the daemon is shutting down or the check was removed. */
export class ProbeAbortedError extends IncidentdError {
  constructor(why: string) {
    super(`aborted: ${why}`);
  }
}

export interface Deadline {
  /** Aborted at timeoutMs or when the caller's signal aborts, whichever comes first. */
  signal: AbortSignal;
  /** Clears the timer; call when the run has finished. */
  dispose(): void;
}

export function startDeadline(ctx: ProbeContext): Deadline {
  const controller = new AbortController();
  const onOuterAbort = () => controller.abort(ctx.signal.reason);
  // A real timer on purpose: this bounds real socket and process I/O, not scheduling logic.
  const timer = setTimeout(() => controller.abort(new ProbeTimeoutError(ctx.timeoutMs)), Math.max(0, ctx.timeoutMs));
  timer.unref();
  if (ctx.signal.aborted) onOuterAbort();
  else ctx.signal.addEventListener('abort', onOuterAbort, { once: true });
  return {
    signal: controller.signal,
    dispose: () => {
      clearTimeout(timer);
      ctx.signal.removeEventListener('abort', onOuterAbort);
    },
  };
}

/** A human sentence for why a run's signal aborted. */
export function abortMessage(signal: AbortSignal, timeoutMs: number): string {
  const reason: unknown = signal.reason;
  if (reason instanceof ProbeTimeoutError || reason instanceof ProbeAbortedError) return reason.message;
  if (reason instanceof Error && reason.name === 'TimeoutError') return new ProbeTimeoutError(timeoutMs).message;
  if (reason instanceof Error) return `aborted: ${reason.message}`;
  return `aborted${reason === undefined ? '' : `: ${typeof reason === 'string' ? reason : inspect(reason)}`}`;
}

/** The message of anything thrown, for fail results. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
