// Browser sessions nobody comes back to (a closed laptop) would stay in the store for ever: each
// is ended when its cookie next arrives, so this sweep removes the ones past their idle or absolute
// limit every so often. Several instances sweeping the same store do no harm.
import type { SessionLimits } from '../domain/account.js';
import type { Clock, TimerHandle } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { SessionStore } from '../store/types.js';
import type { Started } from './startup.js';

export const SESSION_SWEEP_EVERY_MS = 3_600_000;

export function startSessionSweep(deps: { store: SessionStore; clock: Clock; logger: Logger; limits: () => SessionLimits }): Started<null> {
  const { store, clock, logger } = deps;
  let timer: TimerHandle | null = null;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();

  const sweep = (): void => {
    const now = clock.now();
    const limits = deps.limits();
    running = store
      .deleteEndedSessions(now - limits.idleMs, now - limits.absoluteMs)
      .then((n) => {
        if (n > 0) logger.debug({ sessions: n }, 'removed ended browser sessions');
      })
      .catch((err: unknown) => logger.warn({ err }, 'could not remove ended browser sessions; trying again later'))
      .finally(() => {
        if (!stopped) timer = clock.setTimeout(sweep, SESSION_SWEEP_EVERY_MS);
      });
  };
  timer = clock.setTimeout(sweep, SESSION_SWEEP_EVERY_MS);
  return {
    value: null,
    stop: async () => {
      stopped = true;
      timer?.cancel();
      await running;
    },
  };
}
