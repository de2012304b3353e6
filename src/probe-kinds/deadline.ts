// One deadline per probe run: the caller's abort signal (scheduler timeout or shutdown) combined
// with the run's own timeoutMs, so a kind called directly still gives up in time.
import { IncidentdError } from '../shared/errors.js';
import type { ProbeContext } from './types.js';
import { performance } from 'node:perf_hooks';
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

/** For the abort listeners of a run: one options object rather than one per run. */
export const ONCE = { once: true } as const;

/** Milliseconds since `started` (a performance.now()), to the microsecond: a run's latency. */
export function msSince(started: number): number {
  return Math.round((performance.now() - started) * 1000) / 1000;
}

/** The Deadline of a context whose signal already carries the timeout: nothing to clear. */
class CarriedDeadline implements Deadline {
  constructor(readonly signal: AbortSignal) {}
  dispose(): void {}
}

/**
 * A timer and controller of its own. The listener on the caller's signal is the object itself
 * (handleEvent) and the timer gets it as an argument: no closures per run.
 */
class OwnDeadline implements Deadline {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly ctx: ProbeContext) {
    // A real timer on purpose: this bounds real socket and process I/O, not scheduling logic.
    this.timer = setTimeout(abortOnTimeout, Math.max(0, ctx.timeoutMs), this);
    this.timer.unref();
    if (ctx.signal.aborted) this.handleEvent();
    else ctx.signal.addEventListener('abort', this, ONCE);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The caller's signal aborted. */
  handleEvent(): void {
    this.controller.abort(this.ctx.signal.reason);
  }

  timedOut(): void {
    this.controller.abort(new ProbeTimeoutError(this.ctx.timeoutMs));
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.ctx.signal.removeEventListener('abort', this);
  }
}

function abortOnTimeout(deadline: OwnDeadline): void {
  deadline.timedOut();
}

export function startDeadline(ctx: ProbeContext): Deadline {
  if (ctx.hasDeadline === true) return new CarriedDeadline(ctx.signal);
  return new OwnDeadline(ctx);
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
