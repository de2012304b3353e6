// `dedup_by` paths: which signal fields make "the same problem". Checked once at load, then each
// path becomes a small reader so fingerprinting a signal is a handful of property reads.
import { fingerprint } from '../domain/fingerprint.js';
import { DEFAULT_TENANT } from '../domain/principal.js';
import { tenantOf, type Signal } from '../domain/signal.js';
import { isMapField, mapReader, SIGNAL_FIELDS, stringReader } from './signal-fields.js';

/** Used when a rule lists no `dedup_by` (and always by the uncategorized default). */
export const DEFAULT_DEDUP_BY: readonly string[] = ['target.id', 'check.name', 'rule.id'];

// Read from the one table of signal fields (./signal-fields.ts), plus the rule's own id.
const FIXED: Record<string, (s: Signal, ruleId: string) => string> = {
  ...Object.fromEntries(
    SIGNAL_FIELDS.filter((f) => f.type === 'string' && !f.changing).map((f) => [f.name, stringReader(f)] as const),
  ),
  'rule.id': (_s, ruleId) => ruleId,
};

const MAPS: Record<string, (s: Signal) => Readonly<Record<string, string | number | boolean>>> = Object.fromEntries(
  SIGNAL_FIELDS.filter(isMapField).map((f) => [f.name, mapReader(f)] as const),
);

// Fields that change from one signal of the same problem to the next: using them would open a
// new incident on every signal.
const CHANGING = new Set(SIGNAL_FIELDS.filter((f) => f.changing).map((f) => f.name));

/** What dedup_by may name, for the message about an unknown path. */
const USABLE = [...Object.keys(FIXED), ...Object.keys(MAPS).map((m) => `${m}.<name>`)];

type Reader = (s: Signal, ruleId: string) => string;

// The same few series fail over and over and hashing dominates the cost of a match, so the hash
// of each distinct list of values is remembered: one cache for all rules, bounded, forgotten all
// at once when full (about 2 MB at most). Each compiled dedup has its own tree of Maps in it, one
// level per path, keyed by the values as read, so no key string is built per signal.
const CACHE_LIMIT = 10_000;
type CacheNode = Map<string, CacheNode | string>;
const cache = new Map<number, CacheNode>();
let cachedEntries = 0;
let nextDedupId = 0;

export interface CompiledDedup {
  readonly paths: readonly string[];
  fingerprint(signal: Signal, ruleId: string): string;
  parts(signal: Signal, ruleId: string): [string, string][];
}

export type CompileDedupResult = { ok: true; dedup: CompiledDedup } | { ok: false; messages: string[] };

export function compileDedup(paths: readonly string[]): CompileDedupResult {
  const effective = paths.length > 0 ? paths : DEFAULT_DEDUP_BY;
  const readers: Reader[] = [];
  const messages: string[] = [];
  const seen = new Set<string>();
  for (const path of effective) {
    if (seen.has(path)) {
      messages.push(`'${path}' is listed twice`);
      continue;
    }
    seen.add(path);
    const reader = readerFor(path);
    if (typeof reader === 'string') messages.push(reader);
    else readers.push(reader);
  }
  if (messages.length > 0) return { ok: false, messages };
  // The tenant is part of every fingerprint, so two customers' identical targets never share an
  // incident. Left out for the default tenant: fingerprints are stored, and an installation
  // without tenants must keep matching the incidents it already has.
  const parts = (signal: Signal, ruleId: string): [string, string][] => {
    const out: [string, string][] = effective.map((p, i) => [p, (readers[i] as Reader)(signal, ruleId)]);
    const tenant = tenantOf(signal.target);
    if (tenant !== DEFAULT_TENANT) out.unshift(['tenant', tenant]);
    return out;
  };
  const last = readers.length - 1;
  const id = nextDedupId++;
  return {
    ok: true,
    dedup: {
      paths: effective,
      parts,
      fingerprint(signal: Signal, ruleId: string): string {
        let root = cache.get(id);
        if (root === undefined) {
          root = new Map();
          cache.set(id, root);
        }
        // The first level is the tenant, then one level per path.
        const tenant = tenantOf(signal.target);
        let node = root.get(tenant) as CacheNode | undefined;
        if (node === undefined) {
          node = new Map();
          root.set(tenant, node);
          cachedEntries++;
        }
        // Inner levels hold Maps and the last level holds fingerprints: the depth is fixed per
        // compiled dedup, so a value never stands for both.
        for (let i = 0; i < last; i++) {
          const v = (readers[i] as Reader)(signal, ruleId);
          let next = node.get(v) as CacheNode | undefined;
          if (next === undefined) {
            next = new Map();
            node.set(v, next);
            cachedEntries++;
          }
          node = next;
        }
        const v = (readers[last] as Reader)(signal, ruleId);
        let fp = node.get(v) as string | undefined;
        if (fp === undefined) {
          fp = fingerprint(parts(signal, ruleId));
          if (cachedEntries >= CACHE_LIMIT) {
            // Forget everything, then go on with an empty tree (the inner Maps just made are
            // unreachable now, and the next call builds them again).
            cache.clear();
            cachedEntries = 0;
          } else {
            node.set(v, fp);
            cachedEntries++;
          }
        }
        return fp;
      },
    },
  };
}

/** A reader for the path, or a message saying why the path cannot be used. */
function readerFor(path: string): Reader | string {
  const fixed = FIXED[path];
  if (fixed) return fixed;
  if (CHANGING.has(path)) {
    return `'${path}' changes from one signal to the next and cannot identify a problem; use fields such as target.id, check.name or labels.<name>`;
  }
  for (const [prefix, mapOf] of Object.entries(MAPS)) {
    if (path.startsWith(`${prefix}.`)) {
      const key = path.slice(prefix.length + 1);
      if (key === '') break;
      return (s) => {
        const v = mapOf(s)[key];
        return v === undefined ? '' : String(v);
      };
    }
  }
  return `unknown dedup path '${path}'; use ${USABLE.slice(0, -1).join(', ')} or ${USABLE[USABLE.length - 1] ?? ''}`;
}
