// config/incidentd.yaml: parsed, validated and made into the DaemonConfig the daemon runs with.
// When a section is broken, the sections that did parse still go through the later checks (channel
// names, example secrets, the paths the file names), so one run reports every problem.
import { resolveChannelFiles, channelConfigSchema } from '../notify/registry.js';
import type { ConfigIssue } from '../shared/errors.js';
import { issueAt, readYaml, validateAt, type YamlSource } from '../config-core/yaml.js';
import { exampleSecretIssues } from './example-secrets.js';
import { knownTenantIds, tenantsSchema } from './tenants.js';
import { readText } from './files.js';
import type { IssueList } from './issues.js';
import { pathIssues, resolveFrom } from './paths.js';
import { channelReferenceIssues, daemonFileSchema, type DaemonFile } from './schemas.js';
import type { DaemonConfig } from './types.js';

export async function loadDaemonFile(
  file: string,
  env: NodeJS.ProcessEnv,
  issues: IssueList,
  files: string[],
  warnings: IssueList,
  /** Filled with the tenant ids references may name, when the tenants section parses (even if the rest does not). */
  tenantIds: { value: string[] | null } = { value: null },
): Promise<DaemonConfig | null> {
  const text = await readText(file, issues);
  if (text === null) return null;
  files.push(file);
  const src = readYaml(file, text, env);
  issues.add(...src.issues);
  if (src.doc.errors.length > 0) return null;
  const result = validateAt(src, daemonFileSchema, src.data);
  // Probe files are checked against the tenants even when another section of this file is broken.
  const rawTenants = tenantsSchema.safeParse((src.data as { tenants?: unknown } | null)?.tenants);
  tenantIds.value = rawTenants.success ? knownTenantIds(rawTenants.data) : null;
  if (!result.ok) {
    issues.add(...result.issues);
    // The configuration is refused; what did parse is still checked, for the same run's report.
    const partial = parseSections(src);
    if (partial) {
      const known = new Set(result.issues.map((i) => `${i.line}:${i.column}:${i.message}`));
      const later = await laterChecks(src, partial.file, partial.channelIndex, env);
      issues.addAll(later.errors.filter((i) => !known.has(`${i.line}:${i.column}:${i.message}`)));
      for (const r of channelReferenceIssues(partial.channelIds, partial.sections)) issues.add(issueAt(src, r.path, r.message));
    }
    return null;
  }
  const later = await laterChecks(src, result.value, result.value.channels.map((_, i) => i), env);
  issues.addAll(later.errors);
  warnings.addAll(later.warnings);
  if (src.issues.length > 0) return null;
  return toDaemonConfig(result.value, env, file, src.data);
}

/** The checks after the schema: example secrets on reachable listeners, the paths the file names. */
async function laterChecks(
  src: YamlSource,
  f: DaemonFile,
  channelIndex: readonly number[],
  env: NodeJS.ProcessEnv,
): Promise<{ errors: ConfigIssue[]; warnings: ConfigIssue[] }> {
  const config = toDaemonConfig(f, env, src.file, src.data);
  const secrets = exampleSecretIssues(src, config, f.api.tokens !== undefined);
  const paths = await pathIssues(src, f, channelIndex, env);
  return { errors: [...secrets.errors, ...paths], warnings: secrets.warnings };
}

type Sections = Parameters<typeof channelReferenceIssues>[1];

/**
 * The daemon file with each broken section replaced by its default and each broken channel left
 * out, for the checks that come after the schema; null when even that does not parse. The channel
 * references of escalation and communication are checked here against every channel id written,
 * broken entries included (a reference to a broken channel is not a second problem).
 */
function parseSections(
  src: YamlSource,
): { file: DaemonFile; channelIndex: number[]; channelIds: string[]; sections: Sections } | null {
  const raw = src.data;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return null;
  const shape = daemonFileSchema.in.shape;
  const data: Record<string, unknown> = {};
  const sections: Sections = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    if (!(key in shape) || key === 'channels') continue;
    const parsed = shape[key as keyof typeof shape].safeParse(value);
    if (!parsed.success) continue;
    // Escalation and communication name channels; their defaults ("*") fit whichever channels parse.
    if (key === 'escalation') sections.escalation = parsed.data as NonNullable<Sections['escalation']>;
    else if (key === 'communication') sections.communication = parsed.data as NonNullable<Sections['communication']>;
    else data[key] = value;
  }
  const channels = (raw as { channels?: unknown }).channels;
  const channelIndex: number[] = [];
  const channelIds: string[] = [];
  if (Array.isArray(channels)) {
    const good: unknown[] = [];
    channels.forEach((c, i) => {
      const id = (c as { id?: unknown } | null)?.id;
      if (typeof id === 'string') channelIds.push(id);
      if (!channelConfigSchema.safeParse(c).success || channelIds.indexOf(id as string) !== channelIds.length - 1) return;
      good.push(c);
      channelIndex.push(i);
    });
    data.channels = good;
  }
  const parsed = daemonFileSchema.safeParse(data);
  if (!parsed.success) return null;
  return { file: parsed.data, channelIndex, channelIds, sections };
}

/** The configuration of an empty config/incidentd.yaml: every default. */
export function defaultDaemonConfig(env: NodeJS.ProcessEnv = process.env): DaemonConfig {
  return toDaemonConfig(daemonFileSchema.parse({}), env, 'incidentd.yaml', {});
}

/**
 * The parsed daemon file (camelCase, milliseconds: the section schemas did that) and the two things
 * only the loader knows: the default API token comes from the environment, and every path the file
 * names is relative to the file's folder, not to wherever the daemon started. Defaults no file
 * names (store.path data/incidentd.db, the intake journal) stay relative to the working directory.
 */
export function toDaemonConfig(f: DaemonFile, env: NodeJS.ProcessEnv, file: string, raw: unknown): DaemonConfig {
  const resolve = (written: string) => resolveFrom(file, written);
  const storePathWritten = typeof (raw as { store?: { path?: unknown } } | null)?.store?.path === 'string';
  return {
    ...f,
    store: f.store.type === 'sqlite' && storePathWritten ? { ...f.store, path: resolve(f.store.path) } : f.store,
    ingest: { ...f.ingest, journalDir: f.ingest.journalDir === null ? null : resolve(f.ingest.journalDir) },
    api: { tokens: f.api.tokens ?? [{ name: 'admin', token: env.INCIDENTD_API_TOKEN || 'change-me' }] },
    channels: f.channels.map((c) => resolveChannelFiles(c, resolve)),
  };
}
