// Start-up as a sequence of named steps. Each step that leaves something running (a lock, a file, a
// socket, a timer) hands back how to stop it; the stops are kept on a stack. A step that fails makes
// the steps before it stop in reverse order, and the step's own error is what the caller sees: an
// error while rolling back is logged, never raised in its place. The running daemon stops through
// the same stack, so start and stop cannot drift apart.
import type { Logger } from '../shared/logger.js';

export type StopFn = () => void | Promise<void>;

/** What a step started: its result, and how to stop what it left running (null: nothing to stop). */
export interface Started<T> {
  value: T;
  stop: StopFn | null;
}

export class StartSteps {
  private readonly stack: { name: string; stop: StopFn }[] = [];
  private stopping: Promise<void> | null = null;

  constructor(private readonly logger: Logger) {}

  /**
   * Runs one step. When it throws, everything started before it is stopped (reverse order) and the
   * step's error is thrown again, naming the step in the log.
   */
  async run<T>(name: string, step: () => Started<T> | Promise<Started<T>>): Promise<T> {
    if (this.stopping) throw new Error(`start-up step "${name}" after stop`);
    let started: Started<T>;
    try {
      started = await step();
    } catch (err) {
      // The error itself is the caller's to report (main.ts prints some as one line); this says
      // what is being undone because of it.
      if (this.stack.length > 0) {
        this.logger.warn(
          { step: name, err: err instanceof Error ? err.message : String(err), stopping: this.running().reverse() },
          'start-up failed; stopping the steps started before it',
        );
      }
      await this.stopAll();
      throw err;
    }
    if (started.stop) this.stack.push({ name, stop: started.stop });
    return started.value;
  }

  /** Stops every started step, last first; each stop runs even if one before it failed (logged). */
  stopAll(): Promise<void> {
    this.stopping ??= this.unwind();
    return this.stopping;
  }

  /** The names of the steps running now, first started first. */
  running(): string[] {
    return this.stack.map((s) => s.name);
  }

  private async unwind(): Promise<void> {
    for (let s = this.stack.pop(); s !== undefined; s = this.stack.pop()) {
      try {
        await s.stop();
      } catch (err) {
        this.logger.error({ step: s.name, err }, 'stopping a start-up step failed; going on with the others');
      }
    }
  }
}
