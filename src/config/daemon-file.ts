// config/incidentd.yaml: parsed, validated and made into the DaemonConfig the daemon runs with.
import path from 'node:path';
import { resolveChannelFiles } from '../notify/registry.js';
import { readYaml, validateAt } from '../config-core/yaml.js';
import { exampleSecretIssues } from './example-secrets.js';
import { readText } from './files.js';
import type { IssueList } from './issues.js';
import { daemonFileSchema, type DaemonFile } from './schemas.js';
import type { DaemonConfig } from './types.js';

export async function loadDaemonFile(
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
export function toDaemonConfig(f: DaemonFile, env: NodeJS.ProcessEnv, configDir: string): DaemonConfig {
  return {
    ...f,
    api: { tokens: f.api.tokens ?? [{ name: 'admin', token: env.INCIDENTD_API_TOKEN || 'change-me' }] },
    channels: f.channels.map((c) => resolveChannelFiles(c, (file) => path.resolve(configDir, file))),
  };
}
