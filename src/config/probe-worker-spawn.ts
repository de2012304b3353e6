// The probe loader's worker thread (./probe-worker.ts): started when probe files are read, or once
// ahead of time. `incidentd run` starts one first thing when its probe files are large enough to be
// read in a worker (see src/cli.ts), so the worker loads its modules while the daemon loads its
// own, not after them. This module runs before the rest of the program is loaded: it imports
// nothing but node's own modules.
import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * Probe files together larger than this are parsed and validated in a worker thread, so that a
 * hot reload of a large inventory does not hold up probes, alerts and the API (parsing runs at
 * a few MB per second, all of it on one thread).
 */
export const PROBE_WORKER_THRESHOLD_BYTES = 256 * 1024;

/** URL of tsx's ESM API (tsx is a dev dependency: only runs from source use it). */
function tsxApi(): string {
  const pkg = createRequire(import.meta.url).resolve('tsx/package.json');
  return pathToFileURL(path.join(path.dirname(pkg), 'dist', 'esm', 'api', 'index.mjs')).href;
}

/** A new worker; it waits for its input (ProbeWorkerInput in ./probe-files.ts) as its first message. */
export function spawnProbeWorker(): Worker {
  // Run from source (tests, tsx), the worker is a .ts file: it registers tsx's loader first.
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(`./probe-worker.${fromSource ? 'ts' : 'js'}`, import.meta.url);
  return fromSource
    ? new Worker(`import(${JSON.stringify(tsxApi())}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`, { eval: true })
    : new Worker(entry);
}

let spare: Worker | null = null;

/** Starts a worker for the first load of the probe files, unless one waits already. */
export function prestartProbeWorker(): void {
  if (spare !== null) return;
  const worker = spawnProbeWorker();
  // Until it is taken it does not keep the process alive, and a failure only means it is not used.
  worker.unref();
  worker.on('error', () => {});
  worker.once('exit', () => {
    if (spare === worker) spare = null;
  });
  spare = worker;
}

/** The worker started ahead, once; null when there is none. */
export function takeProbeWorker(): Worker | null {
  const worker = spare;
  spare = null;
  worker?.ref();
  return worker;
}

/** Ends the worker started ahead when the probe files turn out small enough to read in place. */
export function dropProbeWorker(): void {
  void spare?.terminate();
  spare = null;
}

/** Whether the *.yaml / *.yml files directly in `dir` are together larger than the threshold. */
export function probeFilesNeedWorker(dir: string): boolean {
  let total = 0;
  try {
    for (const name of readdirSync(dir)) {
      // As listYamlFiles (./files.ts) names them, which this module cannot import this early.
      if (!/\.ya?ml$/i.test(name)) continue;
      total += statSync(path.join(dir, name)).size;
      if (total > PROBE_WORKER_THRESHOLD_BYTES) return true;
    }
  } catch {
    // Unreadable: the loader reports it.
  }
  return false;
}
