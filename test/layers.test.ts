// The folder layering of src/: every import goes to a folder in the same layer or a lower one, and
// the folders never import one another in a circle. Imports are read with the TypeScript compiler's
// own pre-processor (static imports, `export … from`, `import()` with a literal, `import type`).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src');

/**
 * The folders of src/, lowest first. A folder may import its own layer and the layers before it.
 * `entry` is the files directly in src/ (main.ts, cli.ts). docs/architecture.md describes the same order.
 */
export const LAYERS: readonly (readonly string[])[] = [
  ['shared'], // clock, errors, durations, logger: no knowledge of incidents
  ['domain'], // Signal, CheckResult, Incident, classification, event names, the incident's JSON shape
  ['config-core'], // YAML reading with positions, schema primitives, core config types
  ['probe-kinds', 'sources', 'rules', 'store', 'notify'], // the stages; each owns its config schema
  ['incidents', 'scheduler'], // the manager and escalator above rules/store; the probe scheduler
  ['api', 'config'], // HTTP endpoints; the loader that compiles every stage's configuration
  ['app'], // createApp: the one place that builds everything
  ['demo'], // the demo devices and daemon
  ['entry'], // src/main.ts, src/cli.ts
];

export interface FolderImport {
  from: string;
  to: string;
  /** One file import that makes the folder edge, for the message. */
  example: string;
}

/** The folder a file of src/ belongs to. */
function folderOf(rel: string): string {
  const parts = rel.split(path.sep);
  return parts.length === 1 ? 'entry' : parts[0]!;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(full));
    else if (/\.(ts|mts|cts)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

/** Every import between two different folders of src/, one example per folder pair. */
export function folderImports(srcDir: string): FolderImport[] {
  const edges = new Map<string, FolderImport>();
  for (const file of sourceFiles(srcDir)) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const from = folderOf(path.relative(srcDir, file));
    for (const imported of info.importedFiles) {
      if (!imported.fileName.startsWith('.')) continue; // packages and node: built-ins
      const target = path.resolve(path.dirname(file), imported.fileName);
      const rel = path.relative(srcDir, target);
      if (rel.startsWith('..')) continue;
      const to = folderOf(rel);
      if (to === from) continue;
      const key = `${from}\u0000${to}`;
      if (!edges.has(key)) edges.set(key, { from, to, example: `${path.relative(srcDir, file)} imports ${imported.fileName}` });
    }
  }
  return [...edges.values()];
}

/** What is wrong with these folder imports under `layers`: unknown folders, upward imports, cycles. */
export function layeringProblems(imports: readonly FolderImport[], layers: readonly (readonly string[])[]): string[] {
  const rank = new Map<string, number>();
  layers.forEach((folders, i) => folders.forEach((f) => rank.set(f, i)));
  const problems: string[] = [];
  const named = new Set<string>();
  for (const e of imports) {
    for (const f of [e.from, e.to]) {
      if (!rank.has(f) && !named.has(f)) {
        named.add(f);
        problems.push(`folder src/${f} is in no layer; add it to LAYERS in test/layers.test.ts (and docs/architecture.md)`);
      }
    }
    const a = rank.get(e.from);
    const b = rank.get(e.to);
    if (a !== undefined && b !== undefined && b > a) {
      problems.push(`${e.from} (layer ${a}) imports ${e.to} (layer ${b}), a higher layer: ${e.example}`);
    }
  }

  // Folder cycles (possible only among folders of one layer once the check above passes).
  const next = new Map<string, FolderImport[]>();
  for (const e of imports) next.set(e.from, [...(next.get(e.from) ?? []), e]);
  const state = new Map<string, 'active' | 'done'>();
  const trail: FolderImport[] = [];
  const reported = new Set<string>();
  const visit = (folder: string): void => {
    state.set(folder, 'active');
    for (const e of next.get(folder) ?? []) {
      const seen = state.get(e.to);
      if (seen === 'active') {
        const start = trail.findIndex((t) => t.from === e.to);
        const cycle = [...trail.slice(start === -1 ? trail.length : start), e];
        const key = cycle.map((c) => c.from).sort().join(',');
        if (!reported.has(key)) {
          reported.add(key);
          problems.push(`folder cycle ${[...cycle.map((c) => c.from), e.to].join(' -> ')}: ${cycle.map((c) => c.example).join('; ')}`);
        }
      } else if (seen === undefined) {
        trail.push(e);
        visit(e.to);
        trail.pop();
      }
    }
    state.set(folder, 'done');
  };
  for (const folder of [...next.keys()].sort()) if (!state.has(folder)) visit(folder);
  return problems;
}

describe('folder layering of src/', () => {
  it('imports only go to the same layer or a lower one, with no folder cycle', () => {
    const imports = folderImports(SRC);
    expect(imports.length).toBeGreaterThan(20);
    expect(layeringProblems(imports, LAYERS)).toEqual([]);
  });

  it('every folder of src/ has a layer', () => {
    const folders = readdirSync(SRC, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    const known = new Set(LAYERS.flat());
    expect(folders.filter((f) => !known.has(f))).toEqual([]);
  });

  it('reports an upward import, an unknown folder and a cycle within a layer', () => {
    const e = (from: string, to: string): FolderImport => ({ from, to, example: `${from}/x.ts imports ../${to}/y.js` });
    const problems = layeringProblems([e('notify', 'api'), e('store', 'notify'), e('notify', 'store'), e('extra', 'shared')], LAYERS);
    expect(problems).toEqual([
      'notify (layer 3) imports api (layer 5), a higher layer: notify/x.ts imports ../api/y.js',
      'folder src/extra is in no layer; add it to LAYERS in test/layers.test.ts (and docs/architecture.md)',
      'folder cycle notify -> store -> notify: notify/x.ts imports ../store/y.js; store/x.ts imports ../notify/y.js',
    ]);
  });
});
