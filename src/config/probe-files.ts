// probes/*.yaml: every probe file read (in a worker thread for a large inventory), its targets
// built (./probe-targets.ts), then the checks across files (./dependencies.ts).
import { stat } from 'node:fs/promises';
import type { ConfigIssue } from '../shared/errors.js';
import type { TargetConfig } from '../config-core/types.js';
import { readYaml } from '../config-core/yaml.js';
import { checkDependencies } from './dependencies.js';
import { readText } from './files.js';
import { IssueList } from './issues.js';
import { probeFileTargets, type TargetSite } from './probe-targets.js';
import { dropProbeWorker, PROBE_WORKER_THRESHOLD_BYTES, spawnProbeWorker, takeProbeWorker } from './probe-worker-spawn.js';

export { PROBE_WORKER_THRESHOLD_BYTES } from './probe-worker-spawn.js';

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
 * `tenants`: the tenant ids targets may name (see knownTenantIds); null when the daemon file is
 * broken and they are not known, so tenant references are not judged.
 */
export async function loadProbes(
  probeFiles: string[],
  env: NodeJS.ProcessEnv,
  maxFileBytes: number,
  tenants: readonly string[] | null = null,
): Promise<ProbeFilesResult> {
  let total = 0;
  for (const file of probeFiles) total += await stat(file).then((s) => s.size, () => 0);
  if (total <= PROBE_WORKER_THRESHOLD_BYTES) {
    dropProbeWorker();
    return loadProbeFilesHere(probeFiles, env, maxFileBytes, tenants);
  }
  return runProbeWorker({ probeFiles, env, maxFileBytes, tenants });
}

/** Loads the probe files on the calling thread; the worker (./probe-worker.ts) runs this too. */
export async function loadProbeFilesHere(
  probeFiles: string[],
  env: NodeJS.ProcessEnv,
  maxFileBytes: number,
  tenants: readonly string[] | null = null,
): Promise<ProbeFilesResult> {
  const issues = new IssueList();
  const files: string[] = [];
  const targets = await loadProbeFiles(probeFiles, env, issues, files, maxFileBytes, tenants);
  return { targets, issues: issues.sorted(), files, touched: issues.files() };
}

/** Targets (or issues) per message from the probe worker: small enough to decode in a few ms. */
export const PROBE_WORKER_BATCH = 1000;

/** What the worker is to load: its first message. */
export interface ProbeWorkerInput {
  probeFiles: string[];
  env: NodeJS.ProcessEnv;
  maxFileBytes: number;
  tenants: readonly string[] | null;
}

export type ProbeWorkerMessage =
  | { targets: TargetConfig[] }
  | { issues: ConfigIssue[] }
  | { done: { files: string[]; touched: string[] } };

/**
 * Targets from the worker arrive with a copy of every string: the probe file's path, the kind,
 * tenant, site, label values and check settings once per target (at 15,000 targets, 15,000
 * copies of the same path). One copy of each is kept; a name equal to the id becomes the id itself.
 */
function shareStrings(t: TargetConfig, pool: Map<string, string>): TargetConfig {
  const one = (s: string): string => {
    const have = pool.get(s);
    if (have !== undefined) return have;
    pool.set(s, s);
    return s;
  };
  t.file = one(t.file);
  t.kind = one(t.kind);
  t.tenant = one(t.tenant);
  t.site = one(t.site);
  if (t.name === t.id) t.name = t.id;
  for (const k of Object.keys(t.labels)) t.labels[k] = one(t.labels[k]!);
  for (const c of t.checks) {
    c.type = one(c.type);
    // The settings' own strings too (hosts, methods): many checks name the same host.
    for (const k of Object.keys(c.spec)) {
      const v = c.spec[k];
      if (typeof v === 'string') c.spec[k] = one(v);
    }
  }
  return t;
}

async function runProbeWorker(input: ProbeWorkerInput): Promise<ProbeFilesResult> {
  // The one `incidentd run` started ahead (it has loaded its modules meanwhile), else a new one.
  const worker = takeProbeWorker() ?? spawnProbeWorker();
  worker.postMessage(input);
  try {
    return await new Promise<ProbeFilesResult>((resolve, reject) => {
      const pool = new Map<string, string>();
      const result: ProbeFilesResult = { targets: [], issues: [], files: [], touched: [] };
      // Each batch is asked for after the previous one was taken in, in a later turn of the loop.
      const more = () => setImmediate(() => worker.postMessage('more'));
      worker.on('message', (message: ProbeWorkerMessage) => {
        if ('targets' in message) {
          for (const t of message.targets) result.targets.push(shareStrings(t, pool));
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
  tenants: readonly string[] | null,
): Promise<TargetConfig[]> {
  const targets: TargetConfig[] = [];
  // Where each target id was first written, valid or not, so a typo in one target does not also
  // make every `depends_on` naming it an error.
  const sites = new Map<string, TargetSite>();
  let incomplete = false;
  // js-yaml (./yaml-fast.ts) loads where the files are read: when a worker thread reads them
  // (large inventories), the daemon's own thread never loads it (~0.35 MB of heap).
  const { readYamlFast } = await import('./yaml-fast.js');

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
      const loaded = probeFileTargets(fast, sites, found, { release: true, tenants });
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
    const loaded = probeFileTargets(src, sites, issues, { tenants });
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
