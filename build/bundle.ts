// Bundles the compiled daemon (dist/src, from tsc) into dist/bundle/: what `npm start`, the
// systemd unit and the Docker image run. One file per entry point plus shared chunks instead of
// ~550 ES modules: the idle daemon's old space holds ~20 instead of ~26 MB (module records,
// wrappers and per-module scopes; issue 19, the 1,000-check memory target). Whitespace and
// syntax are minified, identifiers are not, so stack traces keep function and class names; the
// source maps beside the files let `node --enable-source-maps` point at src/ when debugging.
//
// dist/bundle/ sits as deep as dist/src/, so what the code finds from import.meta.url (the
// package.json, dist/portal, the probe worker beside its spawner) comes out the same. Packages the
// code loads on first use through createRequire (luxon, nodemailer, net-snmp, axios, …) and native
// addons stay in node_modules.
//   npm run build:bundle
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

/** Bundles `<from>/cli.js` and `<from>/config/probe-worker.js` (tsc's output of src/) into `outdir`. */
export async function bundleDaemon(from: string, outdir: string): Promise<void> {
  rmSync(outdir, { recursive: true, force: true });
  await build({
    entryPoints: [join(from, 'cli.js'), join(from, 'config', 'probe-worker.js')],
    // Flat: the probe worker must be `./probe-worker.js` from the chunk that spawns it.
    entryNames: '[name]',
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.19',
    minifyWhitespace: true,
    minifySyntax: true,
    sourcemap: 'linked',
    external: [
      // Native addons cannot be bundled.
      'better-sqlite3',
      '@node-rs/argon2',
      // One copy: src/shared/otel.ts requires the CommonJS build that prom-client requires too.
      '@opentelemetry/api',
    ],
    // Bundled CommonJS packages call require(); an ES module has none of its own.
    banner: { js: "import { createRequire as __incidentdRequire } from 'node:module'; const require = __incidentdRequire(import.meta.url);" },
    logLevel: 'warning',
  });
}

if (process.argv[1] && pathToFileURL(resolve(process.argv[1])).href === import.meta.url) {
  const root = resolve(import.meta.dirname, '..');
  await bundleDaemon(join(root, 'dist', 'src'), join(root, 'dist', 'bundle'));
}
