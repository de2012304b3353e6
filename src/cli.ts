#!/usr/bin/env node
// The program's entry. For `incidentd run` with a large inventory it starts the probe loader's
// worker thread before anything else loads, so the worker loads its modules while the command line
// and the daemon load theirs; with a small one it keeps V8's young generation small
// (./shared/young-generation.ts), with a large one it fixes how far the old generation grows
// between full GCs (./shared/old-generation.ts). Then it runs the daemon (./cli-run.ts), or for anything
// else loads the commands (./cli-commands.ts).
import { prestartProbeWorker, probeFilesNeedWorker } from './config/probe-worker-spawn.js';
import { limitOldGenerationGrowth } from './shared/old-generation.js';
import { holdYoungGeneration } from './shared/young-generation.js';

/**
 * The probe folder `run` will read: --probes <dir> or --probes=<dir>, else `probes`. Read here
 * ahead of the command line parser; should it ever read another, the worker started for this one
 * is just not used.
 */
function runProbesDir(args: readonly string[]): string | null {
  if (args[0] !== 'run') return null;
  let dir = 'probes';
  for (let i = 1; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--probes' && i + 1 < args.length) dir = args[++i]!;
    else if (a.startsWith('--probes=')) dir = a.slice('--probes='.length);
  }
  return dir;
}

const probesDir = runProbesDir(process.argv.slice(2));
if (probesDir !== null) {
  // A large inventory: its worker starts now. A small one (under about 2,000 checks): V8's young
  // generation is held at its initial size from the start, as V8 would otherwise grow it to its
  // largest while the daemon loads; once the checks are loaded, main.ts sizes it from their number.
  // The old generation's growth is fixed for a large one from the start (./shared/old-generation.ts).
  if (probeFilesNeedWorker(probesDir)) {
    prestartProbeWorker();
    limitOldGenerationGrowth();
  } else {
    holdYoungGeneration(true);
  }
}

// `run` with plain options starts the daemon without the command line parser (./cli-run.ts).
const run = probesDir !== null ? await import('./cli-run.js') : null;
const plain = run?.plainRunOptions(process.argv.slice(3)) ?? null;
if (run && plain) {
  run.checkLogSettingsOrExit(plain.logFormat);
  await run.runCommand(plain);
} else {
  await import('./cli-commands.js');
}
