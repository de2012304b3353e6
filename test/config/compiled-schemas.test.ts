// Issue 19: the probe loader runs its schemas through z.compile (a generated fast path for input
// they accept; anything else goes to the schema's own parser). That is only right if the compiled
// schema accepts exactly what the schema accepts, builds exactly the same value and reports exactly
// the same issues. Checked here on real probe files, a generated inventory, and every target and
// check with one field replaced by each of a set of odd values.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { readYaml } from '../../src/config-core/yaml.js';
import { checkCommonSchema, targetSchemaForLoading } from '../../src/config/probe-schemas.js';
import { probeKinds } from '../../src/probe-kinds/registry.js';
import { inventoryYaml } from '../../bench/inventory.js';
import { FIXTURES, REPO } from './helpers.js';

/** The options validateAt (src/config-core/yaml.ts) parses with. */
const OPTIONS: z.core.ParseContext<z.core.$ZodIssue> = { reportInput: true, error: (iss) => `${iss.code}: ${iss.message ?? ''}` };

const ODD: unknown[] = [
  undefined, null, '', ' ', 'x', 'UPPER', 'a b', '-x', '9', '${X}', 0, -1, 1.5, 65536, NaN, Infinity, true, false, [], [''], ['a'], [1], [null],
  {}, { a: 1 }, { a: 'b' }, { a: true }, { a: null }, { a: [] }, { a: {} },
];

function probeFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) out.push(...probeFiles(file));
    else if (/probes/.test(file) && /\.ya?ml$/.test(name)) out.push(file);
  }
  return out;
}

/** Targets of the shipped probe file, the fixtures (many broken on purpose) and a generated inventory. */
function targetCorpus(): unknown[] {
  const texts = [...probeFiles(path.join(REPO, 'probes')), ...probeFiles(FIXTURES)].map((f) => readFileSync(f, 'utf8'));
  texts.push(inventoryYaml(120));
  const targets: unknown[] = [];
  for (const text of texts) {
    const data = readYaml('f.yaml', text, { SNMP_COMMUNITY: 'public' }).data as { targets?: unknown } | null;
    if (Array.isArray(data?.targets)) targets.push(...(data.targets as unknown[]));
  }
  return targets;
}

/** The value with one key replaced by each odd value (deleted for undefined), then an unknown key added. */
function variants(value: unknown): unknown[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [value];
  const out: unknown[] = [value];
  for (const key of Object.keys(value)) {
    for (const odd of ODD) {
      const v: Record<string, unknown> = structuredClone(value) as Record<string, unknown>;
      if (odd === undefined) delete v[key];
      else v[key] = structuredClone(odd);
      out.push(v);
    }
  }
  out.push({ ...value, nonsense: 1 });
  return out;
}

/** Both parse the same copy of the input (a parse may not change it, but nothing is assumed). */
function expectSameParse(schema: z.ZodType, compiled: z.ZodType, input: unknown): void {
  const a = schema.safeParse(structuredClone(input), OPTIONS);
  const b = compiled.safeParse(structuredClone(input), OPTIONS);
  expect(b.success, JSON.stringify(input)).toBe(a.success);
  // toStrictEqual tells a missing key from an undefined one, and NaN from a string.
  if (a.success && b.success) expect(b.data).toStrictEqual(a.data);
  else expect(b.error!.issues).toStrictEqual(a.error!.issues);
}

describe('compiled probe schemas', () => {
  const targets = targetCorpus();

  it('parse every target and every variant of it exactly as the target schema does', () => {
    const compiled = z.compile(targetSchemaForLoading);
    expect(targets.length).toBeGreaterThan(140);
    let accepted = 0;
    for (const target of targets) {
      for (const v of variants(target)) {
        expectSameParse(targetSchemaForLoading, compiled, v);
        if (targetSchemaForLoading.safeParse(structuredClone(v)).success) accepted++;
      }
    }
    // Both sides of the comparison were exercised.
    expect(accepted).toBeGreaterThan(1000);
  });

  it('parse every check and every variant of it exactly as the common and the kind schemas do', () => {
    const common = z.compile(checkCommonSchema);
    const checks = targets.flatMap((t) => {
      const list = (t as { checks?: unknown } | null)?.checks;
      return Array.isArray(list) ? (list as unknown[]) : [];
    });
    const byKind = new Map<string, number>();
    for (const check of checks) {
      for (const v of variants(check)) expectSameParse(checkCommonSchema, common, v);
      const type = (check as { type?: unknown } | null)?.type;
      const kind = typeof type === 'string' ? probeKinds.get(type) : undefined;
      if (!kind) continue;
      const compiled = z.compile(kind.schema);
      // The kind sees the check without the common fields, as loadCheck gives it.
      const own = Object.fromEntries(Object.entries(check as object).filter(([k]) => !['type', 'name', 'interval', 'timeout'].includes(k)));
      for (const v of variants(own)) expectSameParse(kind.schema, compiled, v);
      byKind.set(kind.type, (byKind.get(kind.type) ?? 0) + 1);
    }
    // The kinds the shipped files and the inventory use, at least.
    for (const type of ['tcp', 'http', 'icmp', 'snmp', 'printer']) expect(byKind.get(type) ?? 0, type).toBeGreaterThan(0);
  });
});
