// Loads config/incidentd.yaml, probes/*.yaml and rules/*.yaml into the validated shapes of
// ./types.ts. Every problem in every file is collected and thrown together as one ConfigError.
import { readdir, readFile, readlink, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import path from 'node:path';
import { isScalar } from 'yaml';
import { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../shared/errors.js';
import { formatDuration } from '../shared/duration.js';
import { ms } from '../config-core/fields.js';
import { probeKinds } from '../probe-kinds/registry.js';
import { resolveChannelFiles } from '../notify/registry.js';
import { compileRules } from '../rules/compile.js';
import { exampleSecretIssues } from './example-secrets.js';
import type { RuleEngine, RuleEngineHooks } from '../rules/types.js';
import { ruleTestFileSchema, type RuleTestFile } from '../rules/rule-tests.js';
import type { CheckConfig, TargetConfig } from '../config-core/types.js';
import { toRuleConfig, type RuleConfig } from '../rules/config.js';
import type { DaemonConfig } from './types.js';
import {
  checkCommonSchema,
  commonCheckFields,
  daemonFileSchema,
  DEFAULT_MAX_FILE_BYTES,
  ruleSchema,
  targetSchemaForLoading,
  type DaemonFile,
} from './schemas.js';
import {
  didYouMean,
  formatPosition,
  issueAt,
  nodeAt,
  positionOf,
  readYaml,
  validateAt,
  type ConfigPath,
  type YamlSource,
} from '../config-core/yaml.js';
import { readYamlFast } from './yaml-fast.js';

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
}

const DEFAULT_INTERVAL_MS = 30_000;
const DEFAULT_TIMEOUT_MS = 5_000;

/** Collects issues per file so they can be reported in file order, then line and column. */
class IssueList {
  private readonly fileOrder = new Map<string, number>();
  private readonly items: ConfigIssue[] = [];

  file(file: string): void {
    if (!this.fileOrder.has(file)) this.fileOrder.set(file, this.fileOrder.size);
  }

  add(...issues: ConfigIssue[]): void {
    this.addAll(issues);
  }

  /** Like add, for lists of any length (a spread of 100,000 issues would overflow the stack). */
  addAll(issues: readonly ConfigIssue[]): void {
    for (const i of issues) {
      this.file(i.file);
      this.items.push(i);
    }
  }

  get length(): number {
    return this.items.length;
  }

  /** Every file in the order first seen. */
  files(): string[] {
    return [...this.fileOrder.keys()];
  }

  sorted(): ConfigIssue[] {
    const order = (f: string) => this.fileOrder.get(f) ?? Number.MAX_SAFE_INTEGER;
    return [...this.items].sort((a, b) => order(a.file) - order(b.file) || a.line - b.line || a.column - b.column);
  }
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
  const daemon = await loadDaemonFile(paths.config, env, issues, files, warnings);

  const maxFileBytes = daemon?.config.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const probeFiles = await listYamlFiles(paths.probesDir, issues);
  const probes = await loadProbes(probeFiles, env, maxFileBytes);
  for (const file of probes.touched) issues.file(file);
  issues.addAll(probes.issues);
  files.push(...probes.files);
  const targets = probes.targets;

  const ruleFiles = await listYamlFiles(paths.rulesDir, issues);
  const uncategorized = (daemon ?? toDaemonConfig(daemonFileSchema.parse({}), env, '.')).incidents.uncategorized;
  const { rules, engine } = await loadRuleFiles(ruleFiles, env, uncategorized, issues, warnings, files, opts.ruleHooks ?? {}, maxFileBytes);

  if (issues.length > 0 || !daemon) throw new ConfigError(issues.sorted());
  return { daemon, targets, rules, engine, files, warnings: warnings.sorted() };
}

// ---------------------------------------------------------------------------------------------
// files

async function readText(file: string, issues: IssueList, maxBytes: number = DEFAULT_MAX_FILE_BYTES): Promise<string | null> {
  issues.file(file);
  try {
    // Checked before reading: a file far too large is refused without holding it in memory.
    const { size } = await stat(file);
    if (size > maxBytes) {
      issues.add({
        file,
        line: 1,
        column: 1,
        message: `file is ${megabytes(size)}, larger than config.max_file_bytes (${megabytes(maxBytes)}); split it into several files or raise the limit`,
      });
      return null;
    }
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file does not exist (create it, or pass the right path)' : `cannot read file: ${(err as Error).message}`;
    issues.add({ file, line: 1, column: 1, message: why });
    return null;
  }
}

function megabytes(bytes: number): string {
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}

/** Every *.yaml / *.yml file directly in `dir`, sorted by name. A missing directory is an issue. */
async function listYamlFiles(dir: string, issues?: IssueList): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const message =
      code === 'ENOENT' ? 'directory does not exist (create it, or pass the right path)' : `cannot read directory: ${(err as Error).message}`;
    if (!issues) throw new ConfigError([{ file: dir, line: 1, column: 1, message }]);
    issues.add({ file: dir, line: 1, column: 1, message });
    return [];
  }
  const out: string[] = [];
  for (const name of names.filter((n) => /\.ya?ml$/i.test(n)).sort()) {
    const file = path.join(dir, name);
    let isFile: boolean;
    try {
      isFile = (await stat(file)).isFile();
    } catch (err) {
      const message = await unreadableEntryMessage(file, err as NodeJS.ErrnoException);
      if (!issues) throw new ConfigError([{ file, line: 1, column: 1, message }]);
      issues.add({ file, line: 1, column: 1, message });
      continue;
    }
    if (isFile) out.push(file);
  }
  return out;
}

/** Why a directory entry cannot be read, in words: symbolic link loops and dangling links say so. */
async function unreadableEntryMessage(file: string, err: NodeJS.ErrnoException): Promise<string> {
  if (err.code === 'ELOOP') return 'symbolic link loop: the link leads back to itself; remove it or point it at a file';
  if (err.code === 'ENOENT') {
    try {
      const target = path.resolve(path.dirname(file), await readlink(file));
      return `dangling symbolic link: it points at ${target}, which does not exist; remove it or create the file`;
    } catch {
      return 'file disappeared while the folder was read; run again';
    }
  }
  return `cannot read file: ${err.message}`;
}

// ---------------------------------------------------------------------------------------------
// config/incidentd.yaml

async function loadDaemonFile(
  file: string,
  env: NodeJS.ProcessEnv,
  issues: IssueList,
  files: string[],
  warnings: IssueList,
): Promise<DaemonConfig | null> {
  const text = await readText(file, issues);
  if (text === null) return null;
  files.push(file);
  const src = readYaml(file, text, env);
  issues.add(...src.issues);
  if (src.doc.errors.length > 0) return null;
  const result = validateAt(src, daemonFileSchema, src.data);
  if (!result.ok) {
    issues.add(...result.issues);
    return null;
  }
  if (src.issues.length > 0) return null;
  const config = toDaemonConfig(result.value, env, path.dirname(path.resolve(file)));
  const secrets = exampleSecretIssues(src, config, result.value.api.tokens !== undefined);
  issues.add(...secrets.errors);
  warnings.add(...secrets.warnings);
  return config;
}

/** The configuration of an empty config/incidentd.yaml: every default. */
export function defaultDaemonConfig(env: NodeJS.ProcessEnv = process.env): DaemonConfig {
  return toDaemonConfig(daemonFileSchema.parse({}), env, '.');
}

/**
 * The parsed daemon file (camelCase, milliseconds: the section schemas did that) and the two things
 * only the loader knows: the default API token comes from the environment, and files a channel
 * names are relative to the config file, not to wherever the daemon started.
 */
function toDaemonConfig(f: DaemonFile, env: NodeJS.ProcessEnv, configDir: string): DaemonConfig {
  return {
    ...f,
    api: { tokens: f.api.tokens ?? [{ name: 'admin', token: env.INCIDENTD_API_TOKEN || 'change-me' }] },
    channels: f.channels.map((c) => resolveChannelFiles(c, (file) => path.resolve(configDir, file))),
  };
}

// ---------------------------------------------------------------------------------------------
// probes/*.yaml

/** Where a target was written, for cross-file messages. */
interface TargetSite {
  src: YamlSource;
  index: number;
}

const probesTopSchema = z.strictObject({ defaults: z.unknown().optional(), targets: z.array(z.unknown()) });

const probesDefaultsSchema = z.strictObject({ interval: commonCheckFields.interval, timeout: commonCheckFields.timeout });

/** Check defaults of one file; null when they are invalid (already reported). */
type FileDefaults = { intervalMs: number; timeoutMs: number } | null;

/** What loading the probe files gave, as plain data (it may come from a worker thread). */
export interface ProbeFilesResult {
  targets: TargetConfig[];
  issues: ConfigIssue[];
  /** Files read, in order. */
  files: string[];
  /** Files named by an issue or read, in order: the order issues are reported in. */
  touched: string[];
}

/**
 * Probe files together larger than this are parsed and validated in a worker thread, so that a
 * hot reload of a large inventory does not hold up probes, alerts and the API (parsing runs at
 * a few MB per second, all of it on one thread).
 */
export const PROBE_WORKER_THRESHOLD_BYTES = 256 * 1024;

async function loadProbes(probeFiles: string[], env: NodeJS.ProcessEnv, maxFileBytes: number): Promise<ProbeFilesResult> {
  let total = 0;
  for (const file of probeFiles) total += await stat(file).then((s) => s.size, () => 0);
  if (total <= PROBE_WORKER_THRESHOLD_BYTES) return loadProbeFilesHere(probeFiles, env, maxFileBytes);
  return runProbeWorker({ probeFiles, env, maxFileBytes });
}

/** Loads the probe files on the calling thread; the worker (./probe-worker.ts) runs this too. */
export async function loadProbeFilesHere(probeFiles: string[], env: NodeJS.ProcessEnv, maxFileBytes: number): Promise<ProbeFilesResult> {
  const issues = new IssueList();
  const files: string[] = [];
  const targets = await loadProbeFiles(probeFiles, env, issues, files, maxFileBytes);
  return { targets, issues: issues.sorted(), files, touched: issues.files() };
}

/** Targets (or issues) per message from the probe worker: small enough to decode in a few ms. */
export const PROBE_WORKER_BATCH = 1000;

export type ProbeWorkerMessage =
  | { targets: TargetConfig[] }
  | { issues: ConfigIssue[] }
  | { done: { files: string[]; touched: string[] } };

/** URL of tsx's ESM API (tsx is a dev dependency: only runs from source use it). */
function tsxApi(): string {
  const pkg = createRequire(import.meta.url).resolve('tsx/package.json');
  return pathToFileURL(path.join(path.dirname(pkg), 'dist', 'esm', 'api', 'index.mjs')).href;
}

async function runProbeWorker(input: { probeFiles: string[]; env: NodeJS.ProcessEnv; maxFileBytes: number }): Promise<ProbeFilesResult> {
  // Run from source (tests, tsx), the worker is a .ts file: it registers tsx's loader first.
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(`./probe-worker.${fromSource ? 'ts' : 'js'}`, import.meta.url);
  const worker = fromSource
    ? new Worker(
        `import(${JSON.stringify(tsxApi())})` +
          `.then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`,
        { eval: true, workerData: input },
      )
    : new Worker(entry, { workerData: input });
  try {
    return await new Promise<ProbeFilesResult>((resolve, reject) => {
      const result: ProbeFilesResult = { targets: [], issues: [], files: [], touched: [] };
      // Each batch is asked for after the previous one was taken in, in a later turn of the loop.
      const more = () => setImmediate(() => worker.postMessage('more'));
      worker.on('message', (message: ProbeWorkerMessage) => {
        if ('targets' in message) {
          for (const t of message.targets) result.targets.push(t);
          more();
        } else if ('issues' in message) {
          for (const i of message.issues) result.issues.push(i);
          more();
        } else {
          resolve({ ...result, files: message.done.files, touched: message.done.touched });
        }
      });
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the probe file loader stopped with exit code ${code} before it answered`)));
    });
  } finally {
    void worker.terminate();
  }
}

async function loadProbeFiles(
  probeFiles: string[],
  env: NodeJS.ProcessEnv,
  issues: IssueList,
  files: string[],
  maxFileBytes: number,
): Promise<TargetConfig[]> {
  const targets: TargetConfig[] = [];
  // Where each target id was first written, valid or not, so a typo in one target does not also
  // make every `depends_on` naming it an error.
  const sites = new Map<string, TargetSite>();
  let incomplete = false;

  for (const file of probeFiles) {
    const text = await readText(file, issues, maxFileBytes);
    if (text === null) {
      incomplete = true;
      continue;
    }
    files.push(file);
    // The fast way first; a file with any problem at all is read again the precise way, which
    // reports each problem at its line and column exactly as before.
    const fast = readYamlFast(file, text, env);
    if (fast) {
      const found = new IssueList();
      const loaded = probeFileTargets(fast, sites, found, { release: true });
      if (found.length === 0 && loaded) {
        // The targets are built: the raw data (hundreds of MB for a large inventory) can go.
        // Messages that still point into this file take positions from its text.
        fast.data = null;
        for (const t of loaded.targets) targets.push(t);
        for (const [id, site] of loaded.sites) sites.set(id, site);
        continue;
      }
    }
    const src = readYaml(file, text, env);
    issues.addAll(src.issues);
    if (src.doc.errors.length > 0) {
      incomplete = true;
      continue;
    }
    const loaded = probeFileTargets(src, sites, issues);
    if (!loaded) {
      incomplete = true;
      continue;
    }
    for (const t of loaded.targets) targets.push(t);
    for (const [id, site] of loaded.sites) sites.set(id, site);
  }

  checkDependencies(targets, sites, incomplete, issues);
  return targets;
}

/**
 * The targets of one parsed probe file, and where each new target id is written; null when the
 * file's top level is invalid. Problems go to `issues`; ids already in `sites` are duplicates.
 */
function probeFileTargets(
  src: YamlSource,
  sites: ReadonlyMap<string, TargetSite>,
  issues: IssueList,
  opts: { release?: boolean } = {},
): { targets: TargetConfig[]; sites: Map<string, TargetSite> } | null {
  const top = validateAt(src, probesTopSchema, src.data);
  if (!top.ok) {
    issues.add(...top.issues);
    return null;
  }
  const defaults = fileDefaults(src, top.value.defaults, issues);
  const rawTargets = (src.data as { targets: unknown[] }).targets;
  const targets: TargetConfig[] = [];
  const own = new Map<string, TargetSite>();
  top.value.targets.forEach((raw, index) => {
    const rawId = (raw as { id?: unknown } | null)?.id;
    if (typeof rawId === 'string') {
      const first = sites.get(rawId) ?? own.get(rawId);
      if (first) {
        issues.add(
          issueAt(src, ['targets', index, 'id'], `duplicate target id "${rawId}" (first defined at ${formatPosition(first.src, ['targets', first.index, 'id'])})`),
        );
        return;
      }
      own.set(rawId, { src, index });
    }
    const target = loadTarget(src, raw, index, defaults, issues);
    if (target) targets.push(target);
    // On the fast way a file with any problem is read again, so its raw data is not needed for
    // messages: letting each raw target go once loaded keeps a large inventory's peak memory down.
    if (opts.release) rawTargets[index] = top.value.targets[index] = null;
  });
  return { targets, sites: own };
}

function fileDefaults(src: YamlSource, raw: unknown, issues: IssueList): FileDefaults {
  const result = validateAt(src, probesDefaultsSchema.optional(), raw, ['defaults']);
  if (!result.ok) {
    issues.add(...result.issues);
    return null;
  }
  const defaults = result.value;
  const intervalMs = defaults?.interval !== undefined ? ms(defaults.interval) : DEFAULT_INTERVAL_MS;
  const timeoutMs = defaults?.timeout !== undefined ? ms(defaults.timeout) : DEFAULT_TIMEOUT_MS;
  if (timeoutMs >= intervalMs) {
    const at: ConfigPath = defaults?.timeout !== undefined ? ['defaults', 'timeout'] : ['defaults', 'interval'];
    issues.add(issueAt(src, at, timeoutMessage(timeoutMs, intervalMs)));
    return null;
  }
  return { intervalMs, timeoutMs };
}

function timeoutMessage(timeoutMs: number, intervalMs: number): string {
  return `timeout ${formatDuration(timeoutMs)} must be shorter than the interval ${formatDuration(intervalMs)}`;
}

const COMMON_CHECK_KEYS = Object.keys(commonCheckFields);
const COMMON_CHECK_KEY_SET = new Set(COMMON_CHECK_KEYS);

function loadTarget(
  src: YamlSource,
  raw: unknown,
  index: number,
  defaults: FileDefaults,
  issues: IssueList,
): TargetConfig | null {
  const base: ConfigPath = ['targets', index];
  const result = validateAt(src, targetSchemaForLoading, raw, base);
  if (!result.ok) {
    issues.add(...result.issues);
    return null;
  }
  const t = result.value;
  const checks: CheckConfig[] = [];
  const checkNames = new Map<string, number>();
  let ok = true;
  t.checks.forEach((raw, j) => {
    const checkPath: ConfigPath = [...base, 'checks', j];
    const loaded = loadCheck(src, raw, checkPath, defaults, issues);
    if (!loaded) {
      ok = false;
      return;
    }
    const firstIndex = checkNames.get(loaded.name);
    if (firstIndex !== undefined) {
      const named = (raw as { name?: unknown }).name !== undefined;
      issues.add(
        issueAt(
          src,
          named ? [...checkPath, 'name'] : [...checkPath, 'type'],
          `duplicate check name "${loaded.name}" in target "${t.id}" (first at line ${positionOf(src, [...base, 'checks', firstIndex]).line}); give each check a distinct name`,
        ),
      );
      ok = false;
      return;
    }
    checkNames.set(loaded.name, j);
    checks.push(loaded);
  });
  if (!ok) return null;
  return {
    id: t.id,
    kind: t.kind,
    name: t.name ?? t.id,
    site: t.site,
    labels: t.labels,
    dependsOn: t.depends_on,
    trapSources: t.trap_sources,
    checks,
  };
}

function unknownTypeMessage(type: string): string {
  const known = [...probeKinds.keys()];
  const suggestion = didYouMean(type, known);
  return `unknown probe type "${type}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}; known types: ${known.join(', ')}`;
}

function loadCheck(
  src: YamlSource,
  raw: unknown,
  checkPath: ConfigPath,
  defaults: FileDefaults,
  issues: IssueList,
): CheckConfig | null {
  const common = validateAt(src, checkCommonSchema, raw, checkPath);
  if (!common.ok) issues.add(...common.issues);
  const type = (raw as { type?: unknown } | null)?.type;
  if (typeof type !== 'string') return null;
  const kind = probeKinds.get(type);
  if (!kind) {
    issues.add(issueAt(src, [...checkPath, 'type'], unknownTypeMessage(type)));
    return null;
  }
  // The kind validates only its own fields; the common ones are checked above. Both run so that
  // every problem of the check is reported at once.
  const own: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) if (!COMMON_CHECK_KEY_SET.has(k)) own[k] = v;
  const result = validateAt(src, kind.schema, own, checkPath, { extraKeys: COMMON_CHECK_KEYS });
  if (!result.ok) issues.add(...result.issues);
  if (!common.ok || !result.ok) return null;

  const check = common.value;
  const spec = result.value;
  // Invalid file defaults were reported once at the defaults; fall back to the built-in ones.
  const intervalMs = check.interval !== undefined ? ms(check.interval) : (defaults?.intervalMs ?? DEFAULT_INTERVAL_MS);
  const timeoutMs = check.timeout !== undefined ? ms(check.timeout) : (defaults?.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const judgeable = defaults !== null || (check.interval !== undefined && check.timeout !== undefined);
  if (timeoutMs >= intervalMs && judgeable && (check.interval !== undefined || check.timeout !== undefined)) {
    const at: ConfigPath = check.timeout !== undefined ? [...checkPath, 'timeout'] : [...checkPath, 'interval'];
    issues.add(issueAt(src, at, timeoutMessage(timeoutMs, intervalMs)));
    return null;
  }
  return {
    name: check.name ?? kind.defaultName(spec),
    type: kind.type,
    intervalMs,
    timeoutMs,
    spec,
  };
}

function checkDependencies(
  targets: TargetConfig[],
  sites: Map<string, TargetSite>,
  incomplete: boolean,
  issues: IssueList,
): void {
  const byId = new Map(targets.map((t) => [t.id, t]));
  const depPath = (t: TargetConfig, k: number): ConfigPath => ['targets', sites.get(t.id)!.index, 'depends_on', k];

  // A did-you-mean compares with every id: fine for a few unknown names, not for thousands of them
  // in an inventory of thousands, so only the first ones get a suggestion.
  const ids = [...sites.keys()];
  let suggestionsLeft = Math.max(1, Math.floor(200_000 / Math.max(1, ids.length)));
  for (const t of targets) {
    const src = sites.get(t.id)!.src;
    t.dependsOn.forEach((dep, k) => {
      if (dep === t.id) {
        issues.add(issueAt(src, depPath(t, k), `target "${t.id}" depends on itself; remove it from depends_on`));
      } else if (!sites.has(dep) && !incomplete) {
        const suggestion = suggestionsLeft-- > 0 ? didYouMean(dep, ids) : null;
        issues.add(
          issueAt(src, depPath(t, k), `depends_on names unknown target "${dep}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`),
        );
      }
    });
  }

  // Cycles among distinct targets: depth-first search, reporting each cycle once. The search keeps
  // its own stack: a chain of thousands of targets must not exhaust the call stack.
  const state = new Map<string, 'active' | 'done'>();
  const trail: string[] = [];
  const position = new Map<string, number>();
  const reported = new Set<string>();
  const reportCycle = (dep: string): void => {
    const cycle = trail.slice(position.get(dep));
    const key = [...cycle].sort().join('\u0000');
    if (reported.has(key)) return;
    reported.add(key);
    // Report at the depends_on entry of the cycle member written first.
    const first = [...cycle].sort((a, b) => compareSites(sites.get(a)!, sites.get(b)!))[0]!;
    const start = cycle.indexOf(first);
    const ordered = [...cycle.slice(start), ...cycle.slice(0, start)];
    const next = ordered[1] ?? first;
    const firstTarget = byId.get(first)!;
    const k = firstTarget.dependsOn.indexOf(next);
    issues.add(
      issueAt(
        sites.get(first)!.src,
        depPath(firstTarget, k),
        `dependency cycle: ${[...ordered, first].join(' -> ')}; a target cannot (indirectly) depend on itself`,
      ),
    );
  };
  for (const root of targets) {
    if (state.has(root.id)) continue;
    // Each frame: a target on the current path and the index of its next dependency to look at.
    const frames: { id: string; next: number }[] = [{ id: root.id, next: 0 }];
    state.set(root.id, 'active');
    position.set(root.id, trail.length);
    trail.push(root.id);
    while (frames.length > 0) {
      const frame = frames[frames.length - 1]!;
      const deps = byId.get(frame.id)!.dependsOn;
      if (frame.next >= deps.length) {
        frames.pop();
        trail.pop();
        position.delete(frame.id);
        state.set(frame.id, 'done');
        continue;
      }
      const dep = deps[frame.next++]!;
      if (dep === frame.id || !byId.has(dep)) continue;
      const seen = state.get(dep);
      if (seen === 'active') {
        reportCycle(dep);
      } else if (seen === undefined) {
        state.set(dep, 'active');
        position.set(dep, trail.length);
        trail.push(dep);
        frames.push({ id: dep, next: 0 });
      }
    }
  }
}

function compareSites(a: TargetSite, b: TargetSite): number {
  if (a.src.file !== b.src.file) return a.src.file < b.src.file ? -1 : 1;
  return a.index - b.index;
}

// ---------------------------------------------------------------------------------------------
// rules/*.yaml

const rulesTopSchema = z.strictObject({ rules: z.array(z.unknown()) });

async function loadRuleFiles(
  ruleFiles: string[],
  env: NodeJS.ProcessEnv,
  uncategorized: DaemonConfig['incidents']['uncategorized'],
  issues: IssueList,
  warnings: IssueList,
  files: string[],
  hooks: RuleEngineHooks,
  maxFileBytes: number,
): Promise<{ rules: RuleConfig[]; engine: RuleEngine }> {
  const rules: RuleConfig[] = [];
  const where: { src: YamlSource; index: number }[] = [];
  const firstById = new Map<string, { src: YamlSource; index: number }>();

  for (const file of ruleFiles) {
    const text = await readText(file, issues, maxFileBytes);
    if (text === null) continue;
    files.push(file);
    const src = readYaml(file, text, env);
    issues.add(...src.issues);
    if (src.doc.errors.length > 0) continue;
    const top = validateAt(src, rulesTopSchema, src.data);
    if (!top.ok) {
      issues.add(...top.issues);
      continue;
    }
    top.value.rules.forEach((raw, index) => {
      const rawId = (raw as { id?: unknown } | null)?.id;
      if (typeof rawId === 'string') {
        const first = firstById.get(rawId);
        if (first) {
          issues.add(
            issueAt(src, ['rules', index, 'id'], `duplicate rule id "${rawId}" (first defined at ${formatPosition(first.src, ['rules', first.index, 'id'])})`),
          );
          return;
        }
        firstById.set(rawId, { src, index });
      }
      const result = validateAt(src, ruleSchema, raw, ['rules', index]);
      if (!result.ok) {
        issues.add(...result.issues);
        return;
      }
      rules.push(toRuleConfig(result.value, file));
      where.push({ src, index });
    });
  }

  const compiled = compileRules(rules, uncategorized, hooks);
  for (const issue of compiled.issues) {
    const at = where[issue.index];
    if (!at) continue;
    issues.add(ruleIssueAt(at.src, ['rules', at.index, issue.field], issue.message));
  }
  for (const warning of compiled.warnings) {
    const at = where[warning.index];
    if (at) warnings.add(ruleIssueAt(at.src, ['rules', at.index, warning.field], warning.message));
  }
  return { rules, engine: compiled.engine };
}

// CEL problems come as "column 12: message" relative to the expression.
const CEL_COLUMN = /^column (\d+): /;

/**
 * Points a compile problem at its exact column when the expression is written on one line as is
 * (plain or quoted without escapes), so the admin sees the caret where the problem is.
 */
function ruleIssueAt(src: YamlSource, path: ConfigPath, message: string): ConfigIssue {
  const m = CEL_COLUMN.exec(message);
  const node = nodeAt(src, path);
  if (m && isScalar(node) && node.range && typeof node.value === 'string' && !node.value.includes('\n')) {
    const raw = src.text.slice(node.range[0], node.range[1]);
    const quote = raw === node.value ? 0 : raw === `"${node.value}"` || raw === `'${node.value}'` ? 1 : -1;
    if (quote >= 0) {
      const { line, col } = src.lineCounter.linePos(node.range[0] + quote + Number(m[1]) - 1);
      return { file: src.file, line, column: col, message: `${String(path[path.length - 1])}: ${message.slice(m[0].length)}` };
    }
  }
  return issueAt(src, path, `${String(path[path.length - 1])}: ${message}`);
}

// ---------------------------------------------------------------------------------------------
// rules/tests/*.yaml

/** Reads every rulesDir/tests/*.yaml rule test file; throws ConfigError listing every problem. */
export async function loadRuleTests(
  rulesDir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ file: string; tests: RuleTestFile['tests'] }[]> {
  const issues = new IssueList();
  const out: { file: string; tests: RuleTestFile['tests'] }[] = [];
  const testFiles = await listYamlFiles(path.join(rulesDir, 'tests'), issues);
  for (const file of testFiles) {
    const text = await readText(file, issues);
    if (text === null) continue;
    const src = readYaml(file, text, env);
    issues.add(...src.issues);
    if (src.doc.errors.length > 0) continue;
    const result = validateAt(src, ruleTestFileSchema, src.data);
    if (!result.ok) issues.add(...result.issues);
    else if (src.issues.length === 0) out.push({ file, tests: result.value.tests });
  }
  if (issues.length > 0) throw new ConfigError(issues.sorted());
  return out;
}
