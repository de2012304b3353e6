// One probe file's targets and checks: each target and each check validated on its own, so one
// broken entry is reported and skipped while the rest are still checked (duplicate ids, timeouts).
import { z } from 'zod';
import { formatDuration } from '../shared/duration.js';
import { ms } from '../config-core/fields.js';
import type { CheckConfig, TargetConfig } from '../config-core/types.js';
import { didYouMean, formatPosition, issueAt, positionOf, validateAt, type ConfigPath, type YamlSource } from '../config-core/yaml.js';
import { probeKinds } from '../probe-kinds/registry.js';
import type { ProbeKind } from '../probe-kinds/types.js';
import type { IssueList } from './issues.js';
import { checkCommonSchema, commonCheckFields, targetSchemaForLoading } from './probe-schemas.js';
import { tenantRefField, unknownTenantMessage } from './tenant-refs.js';
import { DEFAULT_TENANT } from '../domain/principal.js';

const DEFAULT_INTERVAL_MS = 30_000;
const DEFAULT_TIMEOUT_MS = 5_000;

/** Where a target was written, for cross-file messages. */
export interface TargetSite {
  src: YamlSource;
  index: number;
}

const probesTopSchema = z.strictObject({ tenant: z.unknown().optional(), defaults: z.unknown().optional(), targets: z.array(z.unknown()) });

const probesDefaultsSchema = z.strictObject({ interval: commonCheckFields.interval, timeout: commonCheckFields.timeout });

/** Check defaults of one file; null when they are invalid (already reported). */
type FileDefaults = { intervalMs: number; timeoutMs: number } | null;

/**
 * The targets of one parsed probe file, and where each new target id is written; null when the
 * file has no list of targets. Problems go to `issues`; ids already in `sites` are duplicates. A
 * problem at the top level (an unknown key beside `targets`) does not stop the targets' checks.
 */
export function probeFileTargets(
  src: YamlSource,
  sites: ReadonlyMap<string, TargetSite>,
  issues: IssueList,
  opts: { release?: boolean; tenants?: readonly string[] | null } = {},
): { targets: TargetConfig[]; sites: Map<string, TargetSite> } | null {
  const top = validateAt(src, probesTopSchema, src.data);
  if (!top.ok) issues.add(...top.issues);
  const data = src.data as { tenant?: unknown; defaults?: unknown; targets?: unknown } | null;
  const rawTargets = data?.targets;
  if (!Array.isArray(rawTargets)) return null;
  const defaults = fileDefaults(src, data?.defaults, issues);
  const known = opts.tenants ?? null;
  const fileTenant = fileTenantOf(src, data?.tenant, known, issues);
  const targets: TargetConfig[] = [];
  const own = new Map<string, TargetSite>();
  (rawTargets as unknown[]).forEach((raw, index) => {
    const rawId = (raw as { id?: unknown } | null)?.id;
    let duplicate = false;
    if (typeof rawId === 'string') {
      const first = sites.get(rawId) ?? own.get(rawId);
      if (first) {
        issues.add(
          issueAt(src, ['targets', index, 'id'], `duplicate target id "${rawId}" (first defined at ${formatPosition(first.src, ['targets', first.index, 'id'])})`),
        );
        duplicate = true;
      } else {
        own.set(rawId, { src, index });
      }
    }
    // A duplicate is still checked (its own mistakes are reported in the same run), then left out.
    const target = loadTarget(src, raw, index, defaults, issues, fileTenant, known);
    if (target && !duplicate) targets.push(target);
    // On the fast way a file with any problem is read again, so its raw data is not needed for
    // messages: letting each raw target go once loaded keeps a large inventory's peak memory down.
    if (opts.release) rawTargets[index] = null;
  });
  return { targets, sites: own };
}

/**
 * The file's `tenant`, DEFAULT_TENANT when it names none; a wrong one is reported and its targets
 * fall back to DEFAULT_TENANT (the file is refused anyway). `known` null: the daemon file is
 * broken, so references cannot be judged and are not.
 */
function fileTenantOf(src: YamlSource, raw: unknown, known: readonly string[] | null, issues: IssueList): string {
  if (raw === undefined) return DEFAULT_TENANT;
  const result = validateAt(src, tenantRefField, raw, ['tenant']);
  if (!result.ok) {
    issues.add(...result.issues);
    return DEFAULT_TENANT;
  }
  const message = known === null ? null : unknownTenantMessage(result.value, known);
  if (message !== null) issues.add(issueAt(src, ['tenant'], message));
  return result.value;
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

// The schemas as loading runs them: z.compile adds a generated fast path for input they accept
// (the targets of a 15,000-target inventory in a fifth of the time); anything it does not accept
// goes to the schema's own parser, so every message stays as it was.
const targetSchema = z.compile(targetSchemaForLoading);
const checkCommon = z.compile(checkCommonSchema);
const kindSchemas = new Map<string, ProbeKind['schema']>();

function kindSchema(kind: ProbeKind): ProbeKind['schema'] {
  let schema = kindSchemas.get(kind.type);
  if (schema === undefined) {
    schema = z.compile(kind.schema);
    kindSchemas.set(kind.type, schema);
  }
  return schema;
}

const COMMON_CHECK_KEYS = Object.keys(commonCheckFields);
const COMMON_CHECK_KEY_SET = new Set(COMMON_CHECK_KEYS);

function loadTarget(
  src: YamlSource,
  raw: unknown,
  index: number,
  defaults: FileDefaults,
  issues: IssueList,
  fileTenant: string,
  knownTenants: readonly string[] | null,
): TargetConfig | null {
  const base: ConfigPath = ['targets', index];
  const result = validateAt(src, targetSchema, raw, base);
  if (!result.ok) {
    issues.add(...result.issues);
    return null;
  }
  const t = result.value;
  let ok = true;
  if (t.tenant !== undefined && knownTenants !== null) {
    const message = unknownTenantMessage(t.tenant, knownTenants);
    if (message !== null) {
      issues.add(issueAt(src, [...base, 'tenant'], message));
      ok = false;
    }
  }
  const checks: CheckConfig[] = [];
  const checkNames = new Map<string, number>();
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
    tenant: t.tenant ?? fileTenant,
    trapSources: t.trap_sources,
    checks,
    file: src.file,
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
  const common = validateAt(src, checkCommon, raw, checkPath);
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
  const result = validateAt(src, kindSchema(kind), own, checkPath, { extraKeys: COMMON_CHECK_KEYS });
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
