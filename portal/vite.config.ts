// Builds the portal into dist/portal/ (npm run build), which the daemon serves (src/api/portal.ts).
// Paths are relative to the repository root, where npm runs the build. After the bundle is
// written, each text file also gets .br and .gz copies, which the daemon sends to browsers
// that accept them: compressed once at build time instead of on every request.
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import preact from '@preact/preset-vite';
import { defineConfig, type Plugin } from 'vite';

const COMPRESSIBLE = /\.(html|js|css|svg|json|txt)$/;

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

function precompress(): Plugin {
  let outDir = '';
  return {
    name: 'incidentd-precompress',
    apply: 'build',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    closeBundle() {
      for (const file of filesUnder(outDir)) {
        if (!COMPRESSIBLE.test(file)) continue;
        const data = readFileSync(file);
        writeFileSync(`${file}.br`, brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
        writeFileSync(`${file}.gz`, gzipSync(data, { level: 9 }));
      }
    },
  };
}

export default defineConfig({
  // This folder, wherever the build is started from (npm run build, a test building into a temp dir).
  root: import.meta.dirname,
  // Relative to root.
  build: { outDir: '../dist/portal', emptyOutDir: true, target: 'es2022', sourcemap: false },
  plugins: [preact(), precompress()],
  logLevel: 'warn',
});
