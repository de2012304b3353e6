// Start-up step for the silences in force (src/incidents/silences.ts): read once the store is open,
// before the manager and the sweep plan anything, then kept current on a Clock timer.
import { ActiveSilences } from '../incidents/silences.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { SilenceStore } from '../store/types.js';
import type { Started } from './startup.js';
import type { Escalator } from '../incidents/escalator.js';
import type { Silence } from '../domain/silence.js';

/**
 * A silence was created or expired through this instance: the ones in force are read again, and
 * the incidents it matches (or held back) take the sweep's decision now, not at their next timer.
 * A store error in that second step is only logged: the silence is stored, and the sweep applies it
 * at the incidents' next timer.
 */
export async function silenceChanged(silences: ActiveSilences, escalator: Escalator | null, silence: Silence, logger: Logger): Promise<void> {
  await silences.refresh();
  await escalator?.applySilence(silence).catch((err: unknown) => logger.warn({ err, silence: silence.id }, 'could not apply a silence to its incidents at once; the sweep applies it later'));
}

export async function startSilences(deps: {
  store: SilenceStore;
  storeOpen: Promise<void> | null;
  clock: Clock;
  logger: Logger;
  /** Runs the escalation sweep; absent (undefined) while it is not running. */
  sweep: () => Promise<unknown> | undefined;
}): Promise<Started<ActiveSilences>> {
  const log = deps.logger.child({ stage: 'silences' });
  const silences = new ActiveSilences({
    store: deps.store,
    clock: deps.clock,
    logger: deps.logger,
    changed: () => void deps.sweep()?.catch((err: unknown) => log.error({ err }, 'escalation sweep after a silence change failed')),
  });
  let cancelled = false;
  if (deps.storeOpen === null) await silences.start();
  else {
    deps.storeOpen.then(
      () => (cancelled ? undefined : silences.start()),
      () => undefined,
    );
  }
  return {
    value: silences,
    stop: () => {
      cancelled = true;
      return silences.stop();
    },
  };
}
