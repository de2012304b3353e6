import type { z } from 'zod';
import type { CheckResult } from '../domain/check.js';

export interface ProbeContext {
  /** Hard limit for this run; the kind must give up (and report fail) by then. */
  timeoutMs: number;
  /** Aborted at the timeout or at shutdown. */
  signal: AbortSignal;
  /**
   * True when `signal` already aborts at timeoutMs by a real timer (runProbe's deadline, or the
   * scheduler's with a SystemClock): startDeadline then uses it as is rather than starting a second
   * timer and AbortController for the same limit. Unset, as when a kind is called directly, a kind
   * starts its own.
   */
  hasDeadline?: boolean | undefined;
}

/**
 * One way of probing a target. Adding a kind is one file implementing this plus one line in
 * registry.ts. `schema` validates the kind's own check fields (the common ones, `type`, `name`,
 * `interval`, `timeout`, are handled by the config loader) and is exported into the JSON Schema.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each kind has its own spec type; the registry holds them all
export interface ProbeKind<S = any> {
  readonly type: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the shape differs per kind
  readonly schema: z.ZodObject<any>;
  /** A default check name when the admin gives none, e.g. `tcp:22`. */
  defaultName(spec: S): string;
  /** Never throws for a target that is down: that is a `fail` result. */
  run(spec: S, ctx: ProbeContext): Promise<CheckResult>;
  /**
   * Why this kind cannot run on this machine at all (e.g. its program is not installed), naming
   * what to install; null when it can. Asked at start-up and reload for each kind in use, before
   * its checks are scheduled: a kind also loads here what its runs need (http: axios).
   */
  prerequisites?(): Promise<string | null>;
  /**
   * Runs of this kind start on a grid of this many ms (the first run's jittered offset is rounded
   * up to it), so runs due together can share one process (icmp: one fping for many hosts).
   */
  readonly alignMs?: number;
}
