// The reload: re-reads every file; a broken one keeps the running config. A good one replaces rules,
// policy, targets and checks together; the settings that need a restart (restart-settings.ts) are
// named and keep their running values.
import { tokenChanges, type TokenChange } from './token-audit.js';
import path from 'node:path';
import type { Metrics } from '../api/metrics.js';
import type { TargetConfig } from '../config-core/types.js';
import { loadConfig, type ConfigPaths, type LoadedConfig } from '../config/load.js';
import type { TargetRef } from '../domain/signal.js';
import type { IncidentManager } from '../incidents/manager.js';
import type { RuleEngineHooks } from '../rules/types.js';
import { ConfigError, formatIssue } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { ProbeChecks, targetMap, type ProbeRuns } from './checks.js';
import { keepRestartSettings, type RestartNotice } from './restart-settings.js';
import type { TrapTargets } from './trap-targets.js';

/** The config in force, its target references and probe checks; swapped together by a reload. */
export interface LiveConfig {
  cfg: LoadedConfig;
  targets: ReadonlyMap<string, TargetRef>;
  probeChecks: ProbeChecks;
  /** Settings changed in the files that wait for a restart (empty: the files are all in force). */
  pending: RestartNotice[];
}

export interface ReloadDeps {
  live: LiveConfig;
  paths: ConfigPaths;
  env: NodeJS.ProcessEnv;
  ruleHooks: RuleEngineHooks;
  logger: Logger;
  metrics: Metrics;
  manager: IncidentManager;
  probes: ProbeRuns;
  trapTargets: TrapTargets | null;
  /** Records changed API tokens in the audit log once the reload put them in force. */
  tokensChanged?: (changes: TokenChange[]) => Promise<void>;
}

/**
 * Where a target's removed checks were configured, for the timeline entry of their resolved
 * incidents: its probe file, relative to the probes folder, as the first of `configs` that has the
 * target names it (the config before a reload, then the one in force). A target no config in hand
 * has (removed while the daemon was down) gets the folder.
 */
export function removedWhere(paths: ConfigPaths, ...configs: (readonly TargetConfig[])[]): (targetId: string) => string {
  let files: Map<string, string> | null = null;
  return (targetId) => {
    // Built at the first removed check only: most reloads remove none.
    if (files === null) {
      files = new Map();
      for (const targets of configs) for (const t of targets) if (!files.has(t.id)) files.set(t.id, t.file);
    }
    const file = files.get(targetId);
    return file === undefined ? `probe files in ${paths.probesDir}` : `probe file ${path.relative(paths.probesDir, file)}`;
  };
}

/** Re-reads every file; on a config error keeps the running config and returns the error. */
export function reloader(deps: ReloadDeps): () => Promise<ConfigError | null> {
  const { live, logger, metrics, manager } = deps;
  return async () => {
    try {
      const loaded = await loadConfig(deps.paths, deps.env, { ruleHooks: deps.ruleHooks });
      for (const w of loaded.warnings) logger.warn(`configuration warning: ${formatIssue(w)}`);
      const { effective: next, pending } = keepRestartSettings(live.cfg, loaded);
      for (const p of pending) logger.warn({ setting: p.setting }, `${p.setting} changed; it takes effect at the next restart: ${p.why}`);
      // The alert endpoints read max_queue and max_body_bytes from the config in force; the queue
      // behind them follows here.
      manager.setMaxQueue(next.daemon.ingest.maxQueue);
      metrics.signalQueueLimit.set(next.daemon.ingest.maxQueue);
      // Built before the swap, so rules, policy and targets change together.
      const nextTargets = await targetMap(next);
      const nextChecks = await ProbeChecks.of(next);
      const where = removedWhere(deps.paths, live.cfg.targets, next.targets);
      const tokens = tokenChanges(live.cfg.daemon.api.tokens, next.daemon.api.tokens);
      live.cfg = next;
      live.targets = nextTargets;
      live.probeChecks = nextChecks;
      live.pending = pending;
      await deps.probes.apply(next, nextTargets);
      // Incidents of checks the files no longer name are resolved once committed; not waited for
      // here: a store outage must not hold up the reload (the next start-up does it otherwise).
      manager.resolveRemovedChecks(where).catch((err: unknown) =>
        logger.error({ err }, 'could not resolve the incidents of removed checks; the next start does it'),
      );
      // Names resolve in the background; until then the old addresses of a name still match.
      if (deps.trapTargets) void deps.trapTargets.update(next.targets);
      if (tokens.length > 0 && deps.tokensChanged) {
        // Not waited for: a store outage must not hold up the reload; the log keeps the line.
        deps.tokensChanged(tokens).catch((err: unknown) => logger.error({ err, tokens: tokens.map((t) => `${t.type} ${t.subject}`) }, 'could not write the token changes to the audit log'));
      }
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
}
