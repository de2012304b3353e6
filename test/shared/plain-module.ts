// A module of src/shared compiled to plain JavaScript in a temporary folder, for a child
// `node -e` case that must load nothing else (a loader would grow V8's heap before the case
// begins). The folder goes with the test file's afterAll.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { transformSync } from 'esbuild';
import { afterAll } from 'vitest';

export const ROOT = resolve(import.meta.dirname, '..', '..');

/** The file URL of src/shared/<name>.ts as an ES module of its own (it may import node's modules only). */
export function plainSharedModule(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `incidentd-${name}-`));
  const file = join(dir, `${name}.mjs`);
  writeFileSync(file, transformSync(readFileSync(join(ROOT, 'src', 'shared', `${name}.ts`), 'utf8'), { loader: 'ts', format: 'esm' }).code);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return pathToFileURL(file).href;
}
