// createApp, the daemon's composition root: configuration → intake journal → store → channels →
// outbox → escalator → manager → API → SNMP traps → probe scheduler → config watcher. Each is a named
// start-up step (startup.ts) that hands back its stop: a step that fails stops the ones before it,
// and stop() runs the same stops, last started first. Only this folder and main.ts construct
// implementations.
import { DEFAULT_TENANT } from '../domain/principal.js';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../api/server.js';
import { DEFAULT_PORTAL_ROOT, portalBuilt } from '../api/portal.js';
import type { StatusTenant } from '../api/status.js';
import type { TenantConfig } from '../config/tenants.js';
import type { SessionStarter } from '../api/oidc.js';
import { Accounts } from '../api/accounts.js';
import { BrowserSessions } from '../api/session.js';
import { sessionSecret } from './session-secret.js';
import { startSessionSweep } from './session-sweep.js';
import { createMetrics, type Metrics } from '../api/metrics.js';
import { finishConfigLoad, startConfigLoad, type ConfigPaths, type ConfigStart, type LoadedConfig } from '../config/load.js';
import type { StoreConfig } from '../config-core/types.js';
import type { OidcSettings } from '../config-core/oidc.js';
import { watchConfig } from '../config/watch.js';
import { IntakeJournal } from '../incidents/intake-journal.js';
import { IncidentManager, type ManagerDeps } from '../incidents/manager.js';
import { IngestAdmission } from '../incidents/admission.js';
import { evaluationErrorReporter } from '../rules/evaluation-errors.js';
import type { RuleEngineHooks } from '../rules/types.js';
import type { Clock } from '../shared/clock.js';
import { type ConfigError, formatIssue } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { IncidentStore } from '../store/types.js';
import { ProbeChecks, ProbeRuns, targetMap } from './checks.js';
import { CheckStatusTable } from '../scheduler/check-status.js';
import { CannotRunWarnings } from './cannot-run.js';
import { checkTransitionLogger } from './check-log.js';
import { buildChannels, escalationFollowing, reportCalendarFollowing, startEscalator, startOutbox, startReportMailer } from './delivery.js';
import { readiness, type ReadinessCheck } from './readiness.js';
import { reloader, removedWhere, type LiveConfig } from './reload.js';
import type { RestartNotice } from './restart-settings.js';
import { StartSteps } from './startup.js';
import { silenceChanged, startSilences } from './silences.js';
import { ProblemReports } from '../incidents/problem-reports.js';
import type { ActiveSilences } from '../incidents/silences.js';
import type { Escalator } from '../incidents/escalator.js';
import { expandChannels } from '../incidents/escalation.js';
import { defaultStore, openStore, storeConfigFrom } from './store-open.js';
import { startTraps, type TrapReceiver } from './traps.js';
import { IncidentEventHub } from '../api/events.js';
import { publishingStore } from './incident-changes.js';

export { defaultStore, storeConfigFrom } from './store-open.js';

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
  makeStore?: (cfg: StoreConfig) => IncidentStore | Promise<IncidentStore>;
  /** The built portal's folder (default dist/portal, DEFAULT_PORTAL_ROOT); tests build one elsewhere. */
  portalRoot?: string;
  /**
   * The configuration's load, already begun for `paths` and `env` (main.ts begins it before loading
   * the daemon's modules, so the probe files are read meanwhile); begun here when absent.
   */
  started?: ConfigStart;
  /**
   * Told the number of scheduled checks at start-up and after every reload (main.ts sizes V8's
   * young generation from it: src/shared/young-generation.ts).
   */
  onChecks?: (checks: number) => void;
}

export interface App {
  readonly store: IncidentStore;
  readonly manager: IncidentManager;
  readonly metrics: Metrics;
  readonly api: FastifyInstance;
  /** `http://host:port` once started. */
  readonly url: string;
  /** The configuration in force (restart-only settings as started, until the restart). */
  config(): LoadedConfig;
  /** Re-reads every file; on error keeps the running config and returns the error. */
  reload(): Promise<ConfigError | null>;
  /** Settings changed in the files since start-up that take effect at the next restart. */
  restartPending(): readonly RestartNotice[];
  stop(): Promise<void>;
}

/**
 * Loads config (throws ConfigError when invalid), opens the store, starts probing and serving. A
 * failure half-way stops what was started and throws the failure.
 */
export async function createApp(opts: AppOptions): Promise<App> {
  const { clock, logger } = opts;
  const env = opts.env ?? process.env;
  // Rule evaluation errors are counted once the metrics exist (below) and logged once per rule and reason.
  let ruleErrorCount = (_rule: string, _reason: string): void => {};
  const ruleHooks: RuleEngineHooks = {
    evaluationError: evaluationErrorReporter(logger.child({ stage: 'rules' }), (rule, reason) => ruleErrorCount(rule, reason)),
  };
  const first = await finishConfigLoad(opts.started ?? (await startConfigLoad(opts.paths, env)), { ruleHooks });
  for (const w of first.warnings) logger.warn(`configuration warning: ${formatIssue(w)}`);
  const live: LiveConfig = { cfg: first, targets: await targetMap(first), probeChecks: await ProbeChecks.of(first), pending: [] };
  const storeCfg = storeConfigFrom(first.daemon.store, env);

  // The metrics read parts built below; a scrape only happens once the API listens, after them all.
  let journal: IntakeJournal | null = null;
  let store: IncidentStore | null = null;
  let manager: IncidentManager | null = null;
  let traps: TrapReceiver | null = null;
  let activeSilences: ActiveSilences | null = null;
  const metrics = createMetrics({
    journalDisk: () => journal!.disk(),
    countActive: () => store!.countActive(),
    queued: () => manager?.queued() ?? 0,
    trapStats: () => traps?.source.stats() ?? null,
    countDeliveries: () => store!.countDeliveries(),
    checkCounts: () => checkStatus.counts(),
    eachCheck: (visit) => checkStatus.each(visit),
    silenceCounts: () => activeSilences?.counts(clock.now()) ?? null,
  });
  // What each check last said (GET /api/v1/checks, and the per-check series of /metrics).
  const checkStatus = new CheckStatusTable({
    clock,
    transition: checkTransitionLogger(logger.child({ stage: 'checks' })),
  });
  const cannotRun = new CannotRunWarnings(logger.child({ stage: 'scheduler' }));
  ruleErrorCount = (rule, reason) => metrics.ruleEvaluationErrors.inc({ rule, reason });
  metrics.signalQueueLimit.set(first.daemon.ingest.maxQueue);

  const steps = new StartSteps(logger);

  // Alerts are answered once in this journal; it belongs to this instance, next to its SQLite file.
  // Opened first: its lock names the daemon already using this directory (by default the one on
  // the SQLite file next to it) before anything else is touched.
  journal = await steps.run('intake journal', async () => {
    const j = await IntakeJournal.open({
      dir: first.daemon.ingest.journalDir ?? (storeCfg.type === 'sqlite' ? `${storeCfg.path}-intake` : 'data/intake'),
      logger: logger.child({ stage: 'intake' }),
      hooks: {
        written: (records, seconds) => {
          metrics.journalWrite.observe(seconds);
          metrics.journalRecords.inc(records);
        },
        failed: (records) => metrics.journalErrors.inc(records),
      },
    });
    return { value: j, stop: () => j.close() };
  });

  // A database that is down at start-up is waited for: probes run, signals queue, /readyz says so.
  const opened = await steps.run('store', () => openStore(storeCfg, first.daemon.store.type, { make: opts.makeStore ?? defaultStore, clock, logger }));
  const { storeOpen } = opened;
  // Every committed change of an incident goes to the live event streams (GET /api/v1/events).
  const events = new IncidentEventHub({ clock });
  store = publishingStore(opened.store, events, clock, logger.child({ stage: 'events' }));
  const theStore = store;

  const channels = await steps.run('channels', () => buildChannels(first, clock, logger));
  // The silences in force, in memory; a change (or one ending) sweeps at once, so what it held
  // back is announced without waiting for the next sweep.
  let escalator: Escalator | null = null;
  const silences = await steps.run('silences', () => startSilences({ store: theStore, storeOpen, clock, logger, sweep: () => escalator?.sweep() }));
  activeSilences = silences;
  const escalation = escalationFollowing(live, [...channels.keys()], silences);
  const delivery = { store: theStore, storeOpen, clock, logger, metrics };
  // Started before the manager, stopped after it: the manager's last commits at stop still reach
  // a running outbox and escalator.
  const outbox = await steps.run('outbox', () => startOutbox({ ...delivery, channels, instanceId: journal.id }));
  await steps.run('report mail', () => startReportMailer({ ...delivery, live, outbox }));
  escalator = await steps.run('escalator', async () => {
    const started = startEscalator({ ...delivery, live, escalation, outbox });
    return {
      value: started.value,
      stop: () => {
        escalator = null;
        return started.stop?.();
      },
    };
  });

  manager = await steps.run('incident manager', async () => {
    const deps: ManagerDeps = {
      store: theStore,
      clock,
      logger: logger.child({ stage: 'incidents' }),
      current: () => ({ engine: live.cfg.engine, policy: live.cfg.daemon.incidents, targets: live.targets, probeChecks: live.probeChecks }),
      hooks: {
        opened: (severity) => metrics.incidentsOpened.inc({ severity }),
        resolved: (severity) => metrics.incidentsResolved.inc({ severity }),
        escalated: (tier, severity) => metrics.escalations.inc({ tier, severity }),
        handled: (measure, severity, ms) => (measure === 'acknowledge' ? metrics.timeToAcknowledge : metrics.timeToResolve).observe({ severity }, ms / 1000),
        committed: (seconds) => metrics.pipelineLatency.observe(seconds),
        notified: () => void outbox?.kick(),
      },
      escalation,
      // One queue for probes and alerts; the alert endpoints answer 429 when it is full.
      maxQueue: first.daemon.ingest.maxQueue,
      journal,
    };
    const m = storeOpen === null ? await IncidentManager.create(deps) : IncidentManager.whenStoreOpens(deps, storeOpen);
    // Checks removed from the files while the daemon was down: their incidents are resolved once
    // the store is open and the state loaded, between batches. Not waited for: a failing store
    // must not hold up the start.
    m.resolveRemovedChecks(removedWhere(opts.paths, first.targets)).catch((err: unknown) =>
      logger.error({ err }, 'could not resolve the incidents of checks removed from the configuration'),
    );
    return {
      value: m,
      // A store still being waited for is given up first: nothing queued can reach it now.
      stop: () => {
        opened.stopWaiting();
        return m.stop();
      },
    };
  });
  const theManager = manager;
  // ingest.max_queue, checked the same way for the alert endpoints and SNMP traps.
  const admission = new IngestAdmission(() => theManager.queued(), () => live.cfg.daemon.ingest.maxQueue);

  // Not ready while the store is away, alerts cannot be journaled or the store's commits keep
  // failing: a load balancer sends them to an instance that can take them.
  const readyChecks: ReadinessCheck[] = [
    { name: 'store', problem: async () => ((await theStore.ping().catch(() => false)) ? null : 'unreachable') },
    { name: 'journal', problem: () => journal.check() },
    // Not ready until what the journal held at start is committed: nobody counts incidents early.
    { name: 'commits', problem: () => theManager.commitHealth() ?? theManager.startupHealth() },
  ];

  // Local accounts and browser sessions; the session cookie is one more way the guard signs a request in.
  const secret = await steps.run('session secret', async () => ({
    value: await sessionSecret(first.daemon.auth.sessionSecret, env, storeCfg, logger),
    stop: null,
  }));
  const accounts = new Accounts(theStore, clock);
  const sessions = new BrowserSessions({
    store: theStore,
    accounts,
    clock,
    secret,
    cookieSecure: first.daemon.auth.cookieSecure,
    limits: () => live.cfg.daemon.auth.sessions,
  });

  // The tenants a silence or a report may be for, as the config says now (a reload changes them).
  const configuredTenants = () => [DEFAULT_TENANT, ...live.cfg.daemon.tenants.map((t) => t.id)];
  const api = await steps.run('HTTP API', () => {
    const built = buildApi({
      authenticators: [sessions],
      accounts: { sessions, accounts, store: theStore },
      store: theStore,
      commands: theManager,
      tokens: () => live.cfg.daemon.api.tokens,
      ready: () => readiness(readyChecks),
      metrics,
      logger: logger.child({ stage: 'api' }),
      clock,
      checks: checkStatus,
      rules: () => live.cfg.engine,
      ticketLink: (channelId, reference) => channels.get(channelId)?.ticketLink?.(reference) ?? null,
      checkContext: {
        targets: () => live.targets,
        maintenance: (target, at) => escalation().maintenance(target, at),
        silenced: (subject, at) => silences.match(subject, at),
        clock,
      },
      silences: {
        store: theStore,
        clock,
        changed: (silence) => silenceChanged(silences, escalator, silence, logger),
        tenants: configuredTenants,
      },
      tenantZone: (tenant) => live.cfg.daemon.tenants.find((t) => t.id === tenant)?.timeZone ?? null,
      reportCalendar: reportCalendarFollowing(live),
      reportTenants: configuredTenants,
      status: { store: theStore, checks: checkStatus, targets: () => live.targets, tenants: () => statusTenants(live.cfg.daemon.tenants), clock },
      problemReports: {
        clock,
        reports: new ProblemReports({
          store: theStore,
          manager: theManager,
          clock,
          logger: logger.child({ stage: 'reports' }),
          current: () => ({
            engine: live.cfg.engine,
            targets: live.targets,
            tenants: live.cfg.daemon.tenants.map((t) => ({ id: t.id, name: t.name })),
            maxSubscribers: live.cfg.daemon.incidents.maxSubscribers,
            receiptChannels: expandChannels(live.cfg.daemon.communication.channels, [...channels.keys()]),
          }),
        }),
      },
      ...portalDeps(opts.portalRoot ?? DEFAULT_PORTAL_ROOT, logger),
      events,
      ...oidcDeps(first.daemon.auth.oidc, sessions, clock, logger),
      alerts: {
        ingest: theManager.alertIngest(),
        sources: () => live.cfg.daemon.sources,
        apiTokens: () => live.cfg.daemon.api.tokens,
        limits: () => live.cfg.daemon.ingest,
        admission,
        clock,
        logger: logger.child({ stage: 'alerts' }),
        accepted: (source, signals) => {
          for (const s of signals) metrics.signals.inc({ source: source.type, status: s.status });
        },
      },
    });
    return { value: built, stop: () => built.close() };
  });
  const url = await steps.run('HTTP listen', async () => {
    const host = first.daemon.listen.host;
    const port = opts.port ?? first.daemon.listen.port;
    await api.listen({ host, port });
    const addr = api.server.address();
    const boundPort = typeof addr === 'object' && addr ? addr.port : port;
    const at = `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}`;
    logger.info({ url: at, probes: first.targets.length, rules: first.engine.ruleCount }, 'API listening');
    // Closed by the API step's stop.
    return { value: at, stop: null };
  });

  await steps.run('session sweep', () =>
    startSessionSweep({ store: theStore, clock, logger: logger.child({ stage: 'sessions' }), limits: () => live.cfg.daemon.auth.sessions }),
  );

  traps = await steps.run('SNMP traps', () => startTraps({ live, clock, logger, metrics, manager: theManager, admission }));

  const probes = await steps.run('probe scheduler', async () => {
    const p = new ProbeRuns({ clock, logger, metrics, manager: theManager, checkStatus, cannotRun, scheduler: first.daemon.scheduler, onChecks: opts.onChecks });
    await p.apply(first, live.targets);
    p.scheduler.start();
    return { value: p, stop: () => p.scheduler.stop() };
  });

  const reload = reloader({ live, paths: opts.paths, env, ruleHooks, logger, metrics, manager: theManager, probes, trapTargets: traps?.targets ?? null,
    tokensChanged: async (changes) => {
      for (const c of changes) await accounts.audit(c.type, { name: 'configuration reload', address: '' }, c.subject, c.detail);
    },
  });

  // Editors write in bursts; the watcher debounces, and reloads never overlap.
  await steps.run('config watcher', () => {
    if (opts.watch === false) return { value: null, stop: null };
    let reloading: Promise<unknown> = Promise.resolve();
    const watcher = watchConfig(opts.paths, (file) => {
      logger.info({ file }, 'configuration file changed');
      reloading = reloading.then(reload).catch((err: unknown) => logger.error({ err }, 'reload crashed'));
    });
    return {
      value: watcher,
      stop: async () => {
        watcher.close();
        await reloading;
      },
    };
  });

  let stopped: Promise<void> | null = null;
  return {
    store: theStore,
    manager: theManager,
    metrics,
    api,
    url,
    config: () => live.cfg,
    reload,
    restartPending: () => live.pending,
    stop() {
      // Reverse order of start: no new work in, finish what is in flight, then close the store.
      stopped ??= steps.stopAll().then(() => logger.info('stopped'));
      return stopped;
    },
  };
}

/** The portal's files when they were built (npm run build); without them the API runs alone. */
function portalDeps(root: string, logger: Logger): { portal?: { root: string } } {
  if (portalBuilt(root)) return { portal: { root } };
  logger.info({ root }, 'the web portal is not built (no index.html): / answers 404; run npm run build');
  return {};
}

/**
 * The tenants with a status page: the configured ones, and the default tenant, private unless
 * `tenants` lists it (with `status_page: public` to publish it).
 */
function statusTenants(tenants: readonly TenantConfig[]): StatusTenant[] {
  const out: StatusTenant[] = tenants.map((t) => ({ id: t.id, name: t.name, timeZone: t.timeZone, statusPage: t.statusPage }));
  if (!out.some((t) => t.id === DEFAULT_TENANT)) out.push({ id: DEFAULT_TENANT, name: DEFAULT_TENANT, timeZone: null, statusPage: 'private' });
  return out;
}

/** The single sign-on routes' dependencies when auth.oidc is configured. */
function oidcDeps(settings: OidcSettings | null, sessions: SessionStarter, clock: Clock, logger: Logger) {
  if (settings === null) return {};
  return { oidc: { settings, sessions, clock, logger: logger.child({ stage: 'oidc' }) } };
}
