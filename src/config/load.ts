// Loads config/incidentd.yaml, probes/*.yaml and rules/*.yaml into the validated shapes of
// ./types.ts. Every problem in every file is collected and thrown together as one ConfigError.
// The steps live beside it: files.ts (reading), daemon-file.ts, probe-files.ts, probe-targets.ts,
// dependencies.ts (across probe files), rule-files.ts, rule-tests-load.ts.
import { ConfigError, type ConfigIssue } from '../shared/errors.js';
import type { RuleEngine, RuleEngineHooks } from '../rules/types.js';
import type { TargetConfig } from '../config-core/types.js';
import type { RuleConfig } from '../rules/config.js';
import type { DaemonConfig } from './types.js';
import { DEFAULT_MAX_FILE_BYTES } from './schemas.js';
import { defaultDaemonConfig, loadDaemonFile } from './daemon-file.js';
import { listYamlFiles } from './files.js';
import { IssueList } from './issues.js';
import { loadProbes } from './probe-files.js';
import { knownTenantIds } from './tenants.js';
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

export interface ConfigPaths {
  config: string;
  probesDir: string;
  rulesDir: string;
}

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
  const issues = new IssueList();
  const warnings = new IssueList();
  const files: string[] = [];

  issues.file(paths.config);
  const tenantIds: { value: string[] | null } = { value: null };
  const daemon = await loadDaemonFile(paths.config, env, issues, files, warnings, tenantIds);

  const maxFileBytes = daemon?.config.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const probeFiles = await listYamlFiles(paths.probesDir, issues);
  const probes = await loadProbes(probeFiles, env, maxFileBytes, daemon ? knownTenantIds(daemon.tenants) : tenantIds.value);
  for (const file of probes.touched) issues.file(file);
  issues.addAll(probes.issues);
  files.push(...probes.files);
  const targets = probes.targets;

  const ruleFiles = await listYamlFiles(paths.rulesDir, issues);
  const uncategorized = (daemon ?? defaultDaemonConfig(env)).incidents.uncategorized;
  const beforeRules = issues.length;
  const ruleHooks: RuleEngineHooks = { ...opts.ruleHooks };
  const prefixes = new Map((daemon?.tenants ?? []).flatMap((t) => (t.titlePrefix === null ? [] : [[t.id, t.titlePrefix] as const])));
  if (prefixes.size > 0) ruleHooks.titlePrefix = (tenant) => prefixes.get(tenant) ?? null;
  const { rules, engine } = await loadRuleFiles(ruleFiles, env, uncategorized, issues, warnings, files, ruleHooks, maxFileBytes);
  if (opts.ruleTests) {
    // Rule ids are only trusted when the rules loaded cleanly: a rule that failed is not "unknown".
    const ruleIds = issues.length === beforeRules ? rules.map((r) => r.id) : null;
    const tests = await readRuleTestFiles(paths.rulesDir, { env, ruleIds, maxFileBytes });
    files.push(...tests.read);
    issues.addAll(tests.issues);
  }

  if (issues.length > 0 || !daemon) throw new ConfigError(issues.sorted());
  return { daemon, targets, rules, engine, files, warnings: warnings.sorted() };
}
