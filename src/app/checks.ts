// The configured checks as scheduled probe runs: each run's result becomes a signal for the manager.
// Built and applied in slices, so a reload of tens of thousands of targets never holds the event
// loop (probes, the API, escalation) for long.
import { createHash } from 'node:crypto';
import type { Metrics } from '../api/metrics.js';
import type { CheckConfig } from '../config-core/types.js';
import type { LoadedConfig } from '../config/load.js';
import type { TargetRef } from '../domain/signal.js';
import type { IncidentManager } from '../incidents/manager.js';
import type { ProbeCheckSet } from '../incidents/planner.js';
import { QueueFullError } from '../incidents/signal-queue.js';
import { getProbeKind } from '../probe-kinds/registry.js';
import { runProbe } from '../probe-kinds/run.js';
import { Scheduler, type ScheduledCheck } from '../scheduler/scheduler.js';
import type { CheckStatusTable, CheckRef } from '../scheduler/check-status.js';
import { type CannotRunWarnings, checkPrerequisites } from './cannot-run.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import { signalFromCheck, targetRef } from './probe-signal.js';

/** Targets this many at a time between turns of the event loop. */
export const APPLY_SLICE = 2000;
export const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Target id → the reference signals carry; built in slices. */
export async function targetMap(cfg: LoadedConfig): Promise<ReadonlyMap<string, TargetRef>> {
  const out = new Map<string, TargetRef>();
  for (let i = 0; i < cfg.targets.length; i++) {
    const t = cfg.targets[i]!;
    out.set(t.id, targetRef(t));
    if ((i + 1) % APPLY_SLICE === 0) await nextTurn();
  }
  return out;
}

/** The configured probe checks (target id + check name), built in slices. */
export class ProbeChecks implements ProbeCheckSet {
  private constructor(private readonly keys: ReadonlySet<string>) {}

  static async of(cfg: LoadedConfig): Promise<ProbeChecks> {
    const keys = new Set<string>();
    for (let i = 0; i < cfg.targets.length; i++) {
      const t = cfg.targets[i]!;
      for (const c of t.checks) keys.add(`${t.id}\u0000${c.name}`);
      if ((i + 1) % APPLY_SLICE === 0) await nextTurn();
    }
    return new ProbeChecks(keys);
  }

  has(targetId: string, checkName: string): boolean {
    return this.keys.has(`${targetId}\u0000${checkName}`);
  }
}

export interface ProbeRunsDeps {
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  manager: IncidentManager;
  /** What each check last said (GET /api/v1/checks); its per-check series follow it. */
  checkStatus: CheckStatusTable;
  /** One warning per probe kind and reason when this machine cannot run a kind's probes. */
  cannotRun: CannotRunWarnings;
  /** scheduler.concurrency and scheduler.jitter, fixed for the life of the scheduler. */
  scheduler: { concurrency: number; jitter: number };
  /** Told the number of scheduled checks after each apply. */
  onChecks?: ((checks: number) => void) | undefined;
}

/**
 * A check's scheduler key: its probe type (read back for the skipped-runs metric), target id, check
 * name and a digest of its settings, so a check whose settings changed restarts and an unchanged
 * one keeps its phase. A digest rather than the settings themselves: one short string per check
 * stays in memory, not its whole spec as JSON.
 */
export function scheduleKey(targetId: string, check: Pick<CheckConfig, 'type' | 'name' | 'spec' | 'intervalMs' | 'timeoutMs'>): string {
  const digest = createHash('sha256').update(`${JSON.stringify(check.spec)}/${check.intervalMs}/${check.timeoutMs}`).digest('base64url').slice(0, 16);
  // join, not a template literal: one flat string rather than a chain of its pieces.
  return [check.type, `${targetId}/${check.name}`, digest].join(' ');
}

/** The probe type a scheduleKey begins with (types are single words). */
export function kindOfKey(key: string): string {
  return key.slice(0, key.indexOf(' '));
}

/** The scheduler and the checks it runs; `apply` replaces the checks (start-up and every reload). */
export class ProbeRuns {
  readonly scheduler: Scheduler;

  constructor(private readonly deps: ProbeRunsDeps) {
    const { clock, logger, metrics } = deps;
    this.scheduler = new Scheduler({
      clock,
      logger: logger.child({ stage: 'scheduler' }),
      concurrency: deps.scheduler.concurrency,
      jitter: deps.scheduler.jitter,
      onRun: ({ slipMs }) => metrics.scheduleSlip.observe(slipMs / 1000),
      onSkip: ({ key }) => metrics.probeSkipped.inc({ kind: kindOfKey(key) }),
    });
  }

  /** Replaces the scheduled checks, a slice per turn of the event loop. */
  async apply(loaded: LoadedConfig, refs: ReadonlyMap<string, TargetRef>): Promise<void> {
    const { checks, kinds, statusRefs } = await this.checksOf(loaded, refs);
    this.deps.checkStatus.setChecks(statusRefs);
    await checkPrerequisites(kinds.values(), this.deps.checkStatus, this.deps.cannotRun);
    await this.scheduler.setChecksInSlices(checks, APPLY_SLICE, nextTurn);
    this.deps.onChecks?.(checks.length);
  }

  /** The scheduled checks of a config, and their probe types by key; built in slices. */
  private async checksOf(loaded: LoadedConfig, refs: ReadonlyMap<string, TargetRef>): Promise<{ checks: ScheduledCheck[]; kinds: Set<string>; statusRefs: CheckRef[] }> {
    const { clock, logger, metrics, manager, checkStatus, cannotRun } = this.deps;
    const out: ScheduledCheck[] = [];
    const kinds = new Set<string>();
    const statusRefs: CheckRef[] = [];
    for (let i = 0; i < loaded.targets.length; i++) {
      if (i > 0 && i % APPLY_SLICE === 0) await nextTurn();
      const t = loaded.targets[i]!;
      const ref = refs.get(t.id)!;
      for (const check of t.checks) {
        const kind = getProbeKind(check.type); // the loader already rejected unknown types
        const key = scheduleKey(t.id, check);
        kinds.add(check.type);
        statusRefs.push({ targetId: t.id, targetName: t.name, checkName: check.name, kind: check.type, tenant: t.tenant });
        // Once per check, not per run.
        const labels = { targetId: t.id, checkName: check.name };
        out.push({
          key,
          intervalMs: check.intervalMs,
          timeoutMs: check.timeoutMs,
          alignMs: kind.alignMs,
          run: async (ctx) => {
            const result = await runProbe(kind, check.spec, ctx, labels);
            checkStatus.record(t.id, check.name, result);
            // This machine cannot run the probe: nothing is known about the target, no signal.
            if (result.cannotRun !== undefined) {
              cannotRun.warn(check.type, result.cannotRun);
              return;
            }
            metrics.probeRuns.inc({ kind: check.type, result: result.status });
            metrics.probeLatency.observe({ kind: check.type }, result.latencyMs / 1000);
            const signal = signalFromCheck(ref, check, result, clock.now());
            metrics.signals.inc({ source: 'probe', status: signal.status });
            // Not awaited: a probe run ends when the probe does. While the store is away results
            // wait in the manager's queue; stop() flushes it.
            manager.submit(signal).catch((err: unknown) => {
              if (err instanceof QueueFullError) {
                // The next run of the check reports again.
                metrics.signalsRefused.inc({ source: 'probe' });
                logger.warn({ target: t.id, check: check.name, err: err.message }, 'probe result dropped');
              } else {
                logger.error({ err, target: t.id, check: check.name }, 'probe result not stored');
              }
            });
          },
        });
      }
    }
    return { checks: out, kinds, statusRefs };
  }
}
