// Loads config/incidentd.yaml, probes/*.yaml and rules/*.yaml into the validated shapes of
// ./types.ts. Every problem in every file is collected and thrown together as one ConfigError.
// The steps live beside it: files.ts (reading), daemon-file.ts, probe-files.ts, probe-targets.ts,
// dependencies.ts (across probe files), rule-files.ts, rule-tests-load.ts.
import { ConfigError, type ConfigIssue } from '../shared/errors.js';
import type { RuleEngine, RuleEngineHooks } from '../rules/types.js';
import type { TargetConfig } from '../config-core/types.js';
import type { RuleConfig } from '../rules/config.js';
import type { DaemonConfig } from './types.js';
import { defaultDaemonConfig } from './daemon-file.js';
import { listYamlFiles } from './files.js';
import { IssueList } from './issues.js';
import { startConfigLoad, type ConfigPaths, type ConfigStart } from './load-start.js';
import { loadRuleFiles } from './rule-files.js';
import { readRuleTestFiles } from '../rules/rule-test-files.js';

export { defaultDaemonConfig } from './daemon-file.js';
export {
  loadProbeFilesHere,
  PROBE_WORKER_BATCH,
  PROBE_WORKER_THRESHOLD_BYTES,
  type ProbeFilesResult,
  type ProbeWorkerMessage,
} from './probe-files.js';
export { loadRuleTests } from './rule-tests-load.js';
export { startConfigLoad, type ConfigPaths, type ConfigStart } from './load-start.js';

export interface LoadedConfig {
  daemon: DaemonConfig;
  targets: TargetConfig[];
  rules: RuleConfig[];
  engine: RuleEngine;
  /** Every file read, in the order read. */
  files: string[];
  /** Problems that do not stop the configuration (a rule condition whose cost grows quadratically). */
  warnings: ConfigIssue[];
}

export interface LoadOptions {
  /** Given to the compiled rule engine: how it reports evaluation errors. */
  ruleHooks?: RuleEngineHooks;
  /** Also check <rules>/tests/*.yaml (validate, rules test); the daemon does not need them to run. */
  ruleTests?: boolean;
}

export async function loadConfig(
  paths: ConfigPaths,
  env: NodeJS.ProcessEnv = process.env,
  opts: LoadOptions = {},
): Promise<LoadedConfig> {
  return finishConfigLoad(await startConfigLoad(paths, env), opts);
}

/**
 * The rest of loadConfig once startConfigLoad has begun: the rules, read and compiled while the
 * probe files load, then the probe files' targets. Problems are reported in the same order as
 * ever: daemon file, probe files, rule files.
 */
export async function finishConfigLoad(start: ConfigStart, opts: LoadOptions = {}): Promise<LoadedConfig> {
  const { paths, env, issues, warnings, files, daemon, maxFileBytes } = start;

  const ruleIssues = new IssueList();
  const ruleFilesRead: string[] = [];
  const ruleFiles = await listYamlFiles(paths.rulesDir, ruleIssues);
  const uncategorized = (daemon ?? defaultDaemonConfig(env)).incidents.uncategorized;
  const ruleHooks: RuleEngineHooks = { ...opts.ruleHooks };
  const prefixes = new Map((daemon?.tenants ?? []).flatMap((t) => (t.titlePrefix === null ? [] : [[t.id, t.titlePrefix] as const])));
  if (prefixes.size > 0) ruleHooks.titlePrefix = (tenant) => prefixes.get(tenant) ?? null;
  const { rules, engine } = await loadRuleFiles(ruleFiles, env, uncategorized, ruleIssues, warnings, ruleFilesRead, ruleHooks, maxFileBytes);
  if (opts.ruleTests) {
    // Rule ids are only trusted when the rules loaded cleanly: a rule that failed is not "unknown".
    const ruleIds = ruleIssues.length === 0 ? rules.map((r) => r.id) : null;
    const tests = await readRuleTestFiles(paths.rulesDir, { env, ruleIds, maxFileBytes });
    ruleFilesRead.push(...tests.read);
    ruleIssues.addAll(tests.issues);
  }

  const probes = await start.probes;
  for (const file of probes.touched) issues.file(file);
  issues.addAll(probes.issues);
  files.push(...probes.files);
  const targets = probes.targets;
  issues.addAll(ruleIssues.sorted());
  files.push(...ruleFilesRead);

  if (issues.length > 0 || !daemon) throw new ConfigError(issues.sorted());
  return { daemon, targets, rules, engine, files, warnings: warnings.sorted() };
}
