// The CLI as the tests run it: src/ transpiled once with esbuild (file by file, no type check:
// `npm run lint` does that), so each spawned run loads plain JavaScript instead of tsx.
import { cpSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const ROOT = resolve(import.meta.dirname, '..');

/** Builds into a new temporary folder; `cli` is the entry to run, `dir` the folder to remove. */
export async function compileCli(name: string): Promise<{ cli: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), `incidentd-${name}-build-`));
  await build({
    entryPoints: [join(ROOT, 'src', '**', '*.ts')],
    outdir: join(dir, 'src'),
    outbase: join(ROOT, 'src'),
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'silent',
  });
  // The compiled files find their dependencies and package.json (type, version) as in dist/.
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  return { cli: join(dir, 'src', 'cli.js'), dir };
}
