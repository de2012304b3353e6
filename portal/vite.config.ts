// Builds the portal into dist/portal/ (npm run build), which the daemon serves (src/api/portal.ts).
// Paths are relative to the repository root, where npm runs the build. After the bundle is
// written, each text file also gets .br and .gz copies, which @fastify/static sends to browsers
// that accept them: compressed once at build time instead of on every request.
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import preact from '@preact/preset-vite';
import { defineConfig, type Plugin } from 'vite';

const OUT_DIR = 'dist/portal';
const COMPRESSIBLE = /\.(html|js|css|svg|json|txt)$/;

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

function precompress(): Plugin {
  return {
    name: 'incidentd-precompress',
    apply: 'build',
    closeBundle() {
      for (const file of filesUnder(OUT_DIR)) {
        if (!COMPRESSIBLE.test(file)) continue;
        const data = readFileSync(file);
        writeFileSync(`${file}.br`, brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
        writeFileSync(`${file}.gz`, gzipSync(data, { level: 9 }));
      }
    },
  };
}

export default defineConfig({
  root: 'portal',
  // Relative to root.
  build: { outDir: '../dist/portal', emptyOutDir: true, target: 'es2022', sourcemap: false },
  plugins: [preact(), precompress()],
  logLevel: 'warn',
});
