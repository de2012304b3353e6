// The first part of loading the configuration (./load.ts has the rest): the daemon file, then the
// probe files started (a worker thread for a large inventory) without waiting for them. Nothing
// here imports the rules (CEL) or the daemon's other parts, so `incidentd run` starts the probe
// loader before it loads the rest of its modules, and loads those and the rules while it runs.
import type { DaemonConfig } from './types.js';
import { DEFAULT_MAX_FILE_BYTES } from '../config-core/schemas.js';
import { loadDaemonFile } from './daemon-file.js';
import { listYamlFiles } from './files.js';
import { IssueList } from './issues.js';
import { loadProbes, type ProbeFilesResult } from './probe-files.js';
import { knownTenantIds } from './tenants.js';

export interface ConfigPaths {
  config: string;
  probesDir: string;
  rulesDir: string;
}

/** A configuration load under way: the daemon file read, the probe files being read. */
export interface ConfigStart {
  paths: ConfigPaths;
  env: NodeJS.ProcessEnv;
  issues: IssueList;
  warnings: IssueList;
  /** Files read so far, in order. */
  files: string[];
  /** null when the daemon file has errors (they are in `issues`). */
  daemon: DaemonConfig | null;
  maxFileBytes: number;
  /** Never rejects before it is awaited: a failure is thrown where the load awaits it. */
  probes: Promise<ProbeFilesResult>;
}

export async function startConfigLoad(paths: ConfigPaths, env: NodeJS.ProcessEnv = process.env): Promise<ConfigStart> {
  const issues = new IssueList();
  const warnings = new IssueList();
  const files: string[] = [];

  issues.file(paths.config);
  const tenantIds: { value: string[] | null } = { value: null };
  const daemon = await loadDaemonFile(paths.config, env, issues, files, warnings, tenantIds);

  const maxFileBytes = daemon?.config.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const probeFiles = await listYamlFiles(paths.probesDir, issues);
  const probes = loadProbes(probeFiles, env, maxFileBytes, daemon ? knownTenantIds(daemon.tenants) : tenantIds.value);
  // Awaited later, after the rules: a failure meanwhile must not count as unhandled.
  probes.catch(() => {});
  return { paths, env, issues, warnings, files, daemon, maxFileBytes, probes };
}
