// createApp builds the running daemon from loaded configuration: store → manager → scheduler →
// API, and the reloader that swaps probes and rules when files change. Only this folder and
// main.ts construct implementations.
import type { FastifyInstance } from 'fastify';
import type { TargetRef } from '../domain/signal.js';
import { buildApi } from '../api/server.js';
import { checkSeries, createMetrics, type Metrics } from '../api/metrics.js';
import { loadConfig, type ConfigPaths, type LoadedConfig } from '../config/load.js';
import type { StoreConfig } from '../config/types.js';
import { watchConfig } from '../config/watch.js';
import { IntakeJournal } from '../incidents/intake-journal.js';
import { IncidentManager, type ManagerDeps } from '../incidents/manager.js';
import { QueueFullError } from '../incidents/signal-queue.js';
import { escalationContext, type EscalationContext } from '../incidents/escalation.js';
import { Calendars } from '../incidents/calendar.js';
import { MaintenanceWindows } from '../incidents/maintenance.js';
import { Escalator } from '../incidents/escalator.js';
import { getProbeKind } from '../probe-kinds/registry.js';
import { SnmpTrapSource } from '../sources/snmp-trap.js';
import { Outbox } from '../notify/outbox.js';
import { createChannel } from '../notify/registry.js';
import type { Channel } from '../notify/types.js';
import { runProbe } from '../probe-kinds/run.js';
import { evaluationErrorReporter } from '../rules/evaluation-errors.js';
import type { RuleEngineHooks } from '../rules/types.js';
import { Scheduler, type ScheduledCheck } from '../scheduler/scheduler.js';
import { CheckStatusTable, type CheckRef } from '../scheduler/check-status.js';
import type { Clock } from '../shared/clock.js';
import { ConfigError, formatIssue, StoreUnavailableError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { MongoStore } from '../store/mongo/store.js';
import { SqliteStore } from '../store/sqlite/store.js';
import type { IncidentStore } from '../store/types.js';
import { signalFromCheck, targetRef } from './probe-signal.js';
import { TrapTargets } from './trap-targets.js';
import { CannotRunWarnings, checkPrerequisites } from './cannot-run.js';

export interface AppOptions {
  paths: ConfigPaths;
  clock: Clock;
  logger: Logger;
  env?: NodeJS.ProcessEnv;
  /** Overrides the configured listen port (tests use 0). */
  port?: number;
  /** Watch the config files and reload on change (default true). */
  watch?: boolean;
  /** Build the store from its config; tests and benchmarks may inject one. */
  makeStore?: (cfg: StoreConfig) => IncidentStore;
}

export interface App {
  readonly store: IncidentStore;
  readonly manager: IncidentManager;
  readonly metrics: Metrics;
  readonly api: FastifyInstance;
  /** `http://host:port` once started. */
  readonly url: string;
  config(): LoadedConfig;
  /** Re-reads every file; on error keeps the running config and returns the error. */
  reload(): Promise<ConfigError | null>;
  stop(): Promise<void>;
}

export function defaultStore(cfg: StoreConfig): IncidentStore {
  // Exclusive: the embedded store serves one daemon; a second one on the file is refused.
  if (cfg.type === 'sqlite') return new SqliteStore({ path: cfg.path, exclusive: true });
  return new MongoStore({ uri: cfg.uri, database: cfg.database });
}

/** `MONGODB_URI` in the environment selects MongoDB even when the file names the SQLite default. */
export function storeConfigFrom(cfg: StoreConfig, env: NodeJS.ProcessEnv): StoreConfig {
  const uri = env.MONGODB_URI?.trim();
  if (cfg.type === 'sqlite' && uri) return { type: 'mongodb', uri, database: env.MONGODB_DATABASE?.trim() || 'incidentd' };
  return cfg;
}

/** Loads config (throws ConfigError when invalid), opens the store, starts probing and serving. */
export async function createApp(opts: AppOptions): Promise<App> {
  const { clock, logger } = opts;
  const env = opts.env ?? process.env;
  // Rule evaluation errors are counted once the metrics exist (below) and logged once per rule and reason.
  let ruleErrorCount = (_rule: string, _reason: string): void => {};
  const ruleHooks: RuleEngineHooks = {
    evaluationError: evaluationErrorReporter(logger.child({ stage: 'rules' }), (rule, reason) => ruleErrorCount(rule, reason)),
  };
  let cfg = await loadConfig(opts.paths, env, { ruleHooks });
  for (const w of cfg.warnings) logger.warn(`configuration warning: ${formatIssue(w)}`);
  let targets = await targetMap(cfg);

  const storeCfg = storeConfigFrom(cfg.daemon.store, env);
  // The manager is built after the metrics it reports to; the queue gauge reads it once it exists.
  let queued = (): number => 0;
  let traps: SnmpTrapSource | null = null;
  const metrics = createMetrics({
    journalDisk: () => journal.disk(),
    countActive: () => store.countActive(),
    queued: () => queued(),
    trapStats: () => traps?.stats() ?? null,
    countDeliveries: () => store.countDeliveries(),
    checkCounts: () => checkStatus.counts(),
  });
  // What each check last said (GET /api/v1/checks); its per-check series follow it.
  const checkStatus = new CheckStatusTable({ clock, observer: checkSeries(metrics) });
  const cannotRun = new CannotRunWarnings(logger.child({ stage: 'scheduler' }));
  ruleErrorCount = (rule, reason) => metrics.ruleEvaluationErrors.inc({ rule, reason });

  // Alerts are answered once in this journal; it belongs to this instance, next to its SQLite file.
  // Opened first: its lock names the daemon already using this directory (by default the one on
  // the SQLite file next to it) before anything else is touched.
  const journal = await IntakeJournal.open({
    dir: cfg.daemon.ingest.journalDir ?? (storeCfg.type === 'sqlite' ? `${storeCfg.path}-intake` : 'data/intake'),
    logger: logger.child({ stage: 'intake' }),
    hooks: {
      written: (records, seconds) => {
        metrics.journalWrite.observe(seconds);
        metrics.journalRecords.inc(records);
      },
      failed: (records) => metrics.journalErrors.inc(records),
    },
  });
  const store = (opts.makeStore ?? defaultStore)(storeCfg);
  const opened = storeOpenedMessage(storeCfg.type, cfg.daemon.store.type);
  // A database that is down at start-up is waited for: probes run, signals queue, /readyz says
  // so. The embedded SQLite file has no such excuse: failing to open it stops the start.
  let storeRetry: { stop(): void } | null = null;
  let storeOpen: Promise<void> | null = null;
  try {
    await store.open();
    logger.info({ store: store.describe() }, opened);
  } catch (err) {
    if (storeCfg.type === 'sqlite' || !(err instanceof StoreUnavailableError)) {
      await journal.close();
      throw err;
    }
    logger.error({ store: store.describe(), err: err.message }, 'store unreachable at start-up; retrying in the background');
    const retry = retryOpen(store, clock, logger, opened);
    storeRetry = retry;
    storeOpen = retry.opened;
  }

  // Channels are built once (a broken template or CA file stops the start, like any config
  // error); every incident event goes to every channel through the outbox.
  const channels = new Map<string, Channel>(
    cfg.daemon.channels.map((c) => [c.id, createChannel(c, { clock, logger: logger.child({ channel: c.id }) })]),
  );
  let outbox: Outbox | null = null;
  // Follows the config in force, so a reload changes tiers, SLAs, business hours and maintenance
  // windows at once; compiled once per loaded config (calendars cache their days).
  let escalationFor: { cfg: LoadedConfig; ctx: EscalationContext } | null = null;
  const escalation = (): EscalationContext => {
    if (escalationFor?.cfg !== cfg) {
      const calendars = new Calendars(cfg.daemon.businessHours);
      const windows = new MaintenanceWindows(cfg.daemon.maintenance);
      escalationFor = {
        cfg,
        ctx: escalationContext(cfg.daemon.escalation, [...channels.keys()], {
          communication: cfg.daemon.communication.channels,
          calendarFor: (site) => calendars.forSite(site),
          maintenance: (target, at) => windows.active(target, at),
        }),
      };
    }
    return escalationFor.ctx;
  };
  metrics.signalQueueLimit.set(cfg.daemon.ingest.maxQueue);
  const managerDeps: ManagerDeps = {
    store,
    clock,
    logger: logger.child({ stage: 'incidents' }),
    current: () => ({ engine: cfg.engine, policy: cfg.daemon.incidents, targets }),
    hooks: {
      opened: (severity) => metrics.incidentsOpened.inc({ severity }),
      resolved: (severity) => metrics.incidentsResolved.inc({ severity }),
      committed: (seconds) => metrics.pipelineLatency.observe(seconds),
      notified: () => void outbox?.kick(),
    },
    escalation: () => escalation(),
    // One queue for probes and alerts; the alert endpoints answer 429 when it is full.
    maxQueue: cfg.daemon.ingest.maxQueue,
    journal,
  };
  const manager =
    storeOpen === null
      ? await IncidentManager.create(managerDeps)
      : IncidentManager.whenStoreOpens(managerDeps, storeOpen);
  queued = () => manager.queued();

  if (channels.size > 0) {
    outbox = new Outbox({
      store,
      channels: () => channels,
      clock,
      logger: logger.child({ stage: 'outbox' }),
      // The journal directory belongs to this one instance and keeps its id across restarts, so a
      // restart after a crash takes back the deliveries its predecessor had claimed at once.
      owner: `instance-${journal.id}`,
      onDelivered: (channel) => metrics.notificationsDelivered.inc({ channel }),
      onRetry: (channel) => metrics.notificationRetries.inc({ channel }),
      onDead: (channel) => metrics.notificationsDead.inc({ channel }),
    });
    const startOutbox = () => {
      outbox!.start();
      logger.info({ channels: [...channels.keys()] }, 'outbox delivering');
    };
    if (storeOpen === null) startOutbox();
    else storeOpen.then(startOutbox, () => undefined);
  }

  // Timers are in the store: the sweep runs whether or not channels exist, so SLA breaches are
  // recorded and counted either way.
  const escalator = new Escalator({
    store,
    clock,
    logger: logger.child({ stage: 'escalation' }),
    context: escalation,
    closeAfterMs: () => cfg.daemon.incidents.closeAfterMs,
    onClosed: (numbers) => logger.info({ closed: numbers.length }, 'closed resolved incidents'),
    hooks: {
      escalated: (tier, severity) => metrics.escalations.inc({ tier, severity }),
      breached: (sla, severity) => metrics.slaBreaches.inc({ sla, severity }),
      notified: () => void outbox?.kick(),
    },
  });
  if (storeOpen === null) escalator.start();
  else storeOpen.then(() => escalator.start(), () => undefined);

  const scheduler = new Scheduler({
    clock,
    logger: logger.child({ stage: 'scheduler' }),
    concurrency: cfg.daemon.scheduler.concurrency,
    jitter: cfg.daemon.scheduler.jitter,
    onRun: ({ slipMs }) => metrics.scheduleSlip.observe(slipMs / 1000),
    onSkip: ({ key }) => metrics.probeSkipped.inc({ kind: kindOfKey.get(key) ?? 'unknown' }),
  });
  /** Scheduler keys → probe type, for the skipped-runs metric. */
  let kindOfKey = new Map<string, string>();

  /** The scheduled checks of a config, and their probe types by key; built in slices. */
  const checksOf = async (loaded: LoadedConfig, refs: ReadonlyMap<string, TargetRef>): Promise<{ checks: ScheduledCheck[]; kinds: Map<string, string>; statusRefs: CheckRef[] }> => {
    const out: ScheduledCheck[] = [];
    const kinds = new Map<string, string>();
    const statusRefs: CheckRef[] = [];
    for (let i = 0; i < loaded.targets.length; i++) {
      if (i > 0 && i % APPLY_SLICE === 0) await nextTurn();
      const t = loaded.targets[i]!;
      const ref = refs.get(t.id)!;
      for (const check of t.checks) {
        const kind = getProbeKind(check.type); // the loader already rejected unknown types
        // Spec in the key: a check whose settings changed restarts, an unchanged one keeps its phase.
        const key = `${t.id}/${check.name}/${JSON.stringify(check.spec)}/${check.intervalMs}/${check.timeoutMs}`;
        kinds.set(key, check.type);
        statusRefs.push({ targetId: t.id, targetName: t.name, checkName: check.name, kind: check.type });
        out.push({
          key,
          intervalMs: check.intervalMs,
          timeoutMs: check.timeoutMs,
          run: async (ctx) => {
            const result = await runProbe(kind, check.spec, ctx, { targetId: t.id, checkName: check.name });
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
  };
  /** Replaces the scheduled checks, a slice per turn of the event loop. */
  const applyChecks = async (loaded: LoadedConfig, refs: ReadonlyMap<string, TargetRef>): Promise<void> => {
    const { checks, kinds, statusRefs } = await checksOf(loaded, refs);
    kindOfKey = kinds;
    checkStatus.setChecks(statusRefs);
    await checkPrerequisites(kinds.values(), checkStatus, cannotRun);
    await scheduler.setChecksInSlices(checks, APPLY_SLICE, nextTurn);
  };

  const api = buildApi({
    store,
    commands: manager,
    tokens: () => cfg.daemon.api.tokens,
    // Not ready while alerts cannot be journaled or the store's commits keep failing: a load
    // balancer sends them to an instance that can take them.
    ready: async () => {
      const ok = await store.ping().catch(() => false);
      const journalProblem = await journal.check();
      const commitProblem = manager.commitHealth();
      return {
        ready: ok && journalProblem === null && commitProblem === null,
        checks: { store: ok ? 'ok' : 'unreachable', journal: journalProblem ?? 'ok', commits: commitProblem ?? 'ok' },
      };
    },
    metrics,
    logger: logger.child({ stage: 'api' }),
    clock,
    checks: checkStatus,
    alerts: {
      ingest: manager.alertIngest(),
      sources: () => cfg.daemon.sources,
      apiTokens: () => cfg.daemon.api.tokens,
      limits: () => cfg.daemon.ingest,
      clock,
      logger: logger.child({ stage: 'alerts' }),
      accepted: (source, signals) => {
        for (const s of signals) metrics.signals.inc({ source: source.type, status: s.status });
      },
    },
  });
  const host = cfg.daemon.listen.host;
  const port = opts.port ?? cfg.daemon.listen.port;
  await api.listen({ host, port });
  const addr = api.server.address();
  const boundPort = typeof addr === 'object' && addr ? addr.port : port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}`;
  logger.info({ url, probes: cfg.targets.length, rules: cfg.engine.ruleCount }, 'API listening');

  // Which target a trap comes from: resolved once per (re)load, a map lookup per trap.
  let trapTargets: TrapTargets | null = null;
  if (cfg.daemon.snmpTraps.enabled) {
    const index = new TrapTargets(logger.child({ stage: 'snmp-traps' }));
    trapTargets = index;
    await index.update(cfg.targets);
    traps = new SnmpTrapSource({
      config: cfg.daemon.snmpTraps,
      clock,
      logger: logger.child({ stage: 'snmp-traps' }),
      // A trap from a device that probes/ watches lands on that target (its trap_sources, or the
      // addresses its checks' hosts resolve to).
      targetByHost: (ip) => {
        const id = index.targetFor(ip);
        return id === undefined ? undefined : targets.get(id);
      },
      // The durable path of the alert endpoints: resolves once journaled, and only then is an
      // inform answered. Past ingest.max_queue (where the endpoints answer 429) a trap is refused:
      // an inform goes unanswered, so its sender tries again later.
      emit: (signals) => {
        const { maxQueue } = cfg.daemon.ingest;
        if (manager.queued() + signals.length > maxQueue) {
          metrics.signalsRefused.inc({ source: 'snmp-trap' });
          return Promise.reject(new QueueFullError(maxQueue));
        }
        for (const s of signals) metrics.signals.inc({ source: 'snmp-trap', status: s.status });
        return manager.accept(signals);
      },
    });
    const { port: trapPort } = await traps.start();
    logger.info({ host: cfg.daemon.snmpTraps.host, port: trapPort }, 'SNMP trap receiver listening');
  }

  await applyChecks(cfg, targets);
  scheduler.start();

  const reload = async (): Promise<ConfigError | null> => {
    try {
      const next = await loadConfig(opts.paths, env, { ruleHooks });
      for (const w of next.warnings) logger.warn(`configuration warning: ${formatIssue(w)}`);
      if (JSON.stringify(next.daemon.store) !== JSON.stringify(cfg.daemon.store)) {
        logger.warn('store settings changed; they take effect at the next restart');
      }
      if (JSON.stringify(next.daemon.listen) !== JSON.stringify(cfg.daemon.listen)) {
        logger.warn('listen address changed; it takes effect at the next restart');
      }
      if (JSON.stringify(next.daemon.channels) !== JSON.stringify(cfg.daemon.channels)) {
        logger.warn('channels changed; they take effect at the next restart');
      }
      if (JSON.stringify(next.daemon.snmpTraps) !== JSON.stringify(cfg.daemon.snmpTraps)) {
        logger.warn('snmp_traps settings changed; they take effect at the next restart');
      }
      if (next.daemon.ingest.journalDir !== cfg.daemon.ingest.journalDir) {
        // A clean stop commits everything journaled, so the old directory then holds nothing unstored.
        logger.warn('ingest.journal_dir changed; it takes effect at the next restart, which must follow a clean stop (not a crash) so the old journal holds nothing the store lacks');
      }
      // The alert endpoints read max_queue and max_body_bytes from the config in force; the queue
      // behind them follows here.
      manager.setMaxQueue(next.daemon.ingest.maxQueue);
      metrics.signalQueueLimit.set(next.daemon.ingest.maxQueue);
      // Built before the swap, so rules, policy and targets change together.
      const nextTargets = await targetMap(next);
      cfg = next;
      targets = nextTargets;
      await applyChecks(next, targets);
      // Names resolve in the background; until then the old addresses of a name still match.
      if (trapTargets) void trapTargets.update(next.targets);
      metrics.configReloads.inc({ result: 'ok' });
      logger.info({ targets: next.targets.length, rules: next.engine.ruleCount }, 'configuration reloaded');
      return null;
    } catch (err) {
      metrics.configReloads.inc({ result: 'error' });
      if (err instanceof ConfigError) {
        logger.error({ issues: err.issues }, `reload failed, keeping the last good configuration:\n${err.message}`);
        return err;
      }
      throw err;
    }
  };

  // Editors write in bursts; the watcher debounces, and reloads never overlap.
  let reloading: Promise<unknown> = Promise.resolve();
  const watcher =
    opts.watch === false
      ? null
      : watchConfig(opts.paths, (file) => {
          logger.info({ file }, 'configuration file changed');
          reloading = reloading.then(reload).catch((err) => logger.error({ err }, 'reload crashed'));
        });

  let stopped = false;
  return {
    store,
    manager,
    metrics,
    api,
    url,
    config: () => cfg,
    reload,
    async stop() {
      if (stopped) return;
      stopped = true;
      // Reverse order of start: no new work in, finish what is in flight, then close the store.
      watcher?.close();
      await reloading;
      await scheduler.stop();
      await api.close();
      await traps?.stop();
      storeRetry?.stop();
      await manager.stop();
      await escalator.stop();
      await outbox?.stop();
      for (const c of [...channels.values()].reverse()) await c.close?.();
      await store.close();
      logger.info('stopped');
    },
  };
}

function storeOpenedMessage(type: StoreConfig['type'], fileType: StoreConfig['type']): string {
  if (type === 'sqlite') return 'store opened (embedded SQLite; set MONGODB_URI or store.type: mongodb for MongoDB)';
  return fileType === 'sqlite' ? 'store opened (MongoDB, selected by MONGODB_URI)' : 'store opened (MongoDB)';
}

/** Opens the store again and again (1 s doubling to 30 s) until it answers or stop() is called. */
function retryOpen(store: IncidentStore, clock: Clock, logger: Logger, openedMessage: string) {
  let stopped = false;
  let timer: { cancel(): void } | null = null;
  let giveUp: (err: unknown) => void = () => undefined;
  const opened = new Promise<void>((resolve, reject) => {
    giveUp = reject;
    let delay = 1000;
    const attempt = () => {
      timer = null;
      store.open().then(
        () => {
          logger.info({ store: store.describe() }, openedMessage);
          resolve();
        },
        (err: unknown) => {
          if (stopped) return;
          logger.warn({ err: err instanceof Error ? err.message : String(err), retryInMs: delay }, 'store still unreachable');
          timer = clock.setTimeout(attempt, delay);
          delay = Math.min(delay * 2, 30_000);
        },
      );
    };
    timer = clock.setTimeout(attempt, delay);
  });
  opened.catch(() => undefined);
  return {
    opened,
    stop() {
      stopped = true;
      timer?.cancel();
      giveUp(new StoreUnavailableError('stopped before the store became reachable'));
    },
  };
}

/**
 * Targets this many at a time between turns of the event loop: applying a reloaded inventory of
 * tens of thousands of targets must not hold probes, the API and escalation up meanwhile.
 */
const APPLY_SLICE = 2000;
const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

async function targetMap(cfg: LoadedConfig): Promise<ReadonlyMap<string, TargetRef>> {
  const out = new Map<string, TargetRef>();
  for (let i = 0; i < cfg.targets.length; i++) {
    const t = cfg.targets[i]!;
    out.set(t.id, targetRef(t));
    if ((i + 1) % APPLY_SLICE === 0) await nextTurn();
  }
  return out;
}
