// The SNMP trap receiver, when enabled: traps land on the target whose device sent them and take the
// alert endpoints' durable path (journaled, then answered).
import type { Metrics } from '../api/metrics.js';
import type { TargetRef } from '../domain/signal.js';
import type { IncidentManager } from '../incidents/manager.js';
import type { IngestAdmission } from '../incidents/admission.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import { SnmpTrapSource } from '../sources/snmp-trap.js';
import type { LiveConfig } from './reload.js';
import type { Started } from './startup.js';
import { TrapTargets } from './trap-targets.js';

export interface TrapReceiver {
  source: SnmpTrapSource;
  /** Which target a trap comes from: resolved once per (re)load, a map lookup per trap. */
  targets: TrapTargets;
}

export async function startTraps(deps: {
  live: LiveConfig;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  manager: IncidentManager;
  admission: IngestAdmission;
}): Promise<Started<TrapReceiver | null>> {
  const { live, clock, metrics, manager, admission } = deps;
  const config = live.cfg.daemon.snmpTraps;
  if (!config.enabled) return { value: null, stop: null };
  const logger = deps.logger.child({ stage: 'snmp-traps' });
  const index = new TrapTargets(logger);
  await index.update(live.cfg.targets);
  const source = new SnmpTrapSource({
    config,
    clock,
    logger,
    // A trap from a device that probes/ watches lands on that target (its trap_sources, or the
    // addresses its checks' hosts resolve to).
    targetByHost: (ip): TargetRef | undefined => {
      const id = index.targetFor(ip);
      return id === undefined ? undefined : live.targets.get(id);
    },
    // The durable path of the alert endpoints: resolves once journaled, and only then is an
    // inform answered. Past ingest.max_queue (where the endpoints answer 429) a trap is refused:
    // an inform goes unanswered, so its sender tries again later.
    emit: (signals) => {
      try {
        admission.check(signals.length);
      } catch (err) {
        metrics.signalsRefused.inc({ source: 'snmp-trap' });
        return Promise.reject(err);
      }
      for (const s of signals) metrics.signals.inc({ source: 'snmp-trap', status: s.status });
      return manager.accept(signals);
    },
  });
  // A port that cannot be bound closes the receiver's socket before the error comes back.
  const { port } = await source.start();
  deps.logger.info({ host: config.host, port }, 'SNMP trap receiver listening');
  return { value: { source, targets: index }, stop: () => source.stop() };
}
