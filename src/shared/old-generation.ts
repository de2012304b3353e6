// How far V8 lets its old generation grow before the next full collection. By default V8 picks a
// factor of the live size after each full GC, between 1.1 and 4, from how fast it collects against
// how fast the program allocates; for a daemon whose checks promote a steady trickle of short-lived
// objects (each run's result, signal and request objects outlive a scavenge or two) it picked a high
// one, and the garbage of minutes piled up between full GCs. bench:memory --timeline with 15,000
// checks: RSS climbed ~5 MB/s to 291 – 324 MB before the first full GC (~30 s) and sawed between
// ~206 and 261 MB after. A fixed factor of 1.5 holds it at 192 – 200 MB (peak 199 – 205 MB), CPU
// no different (13 – 15 % of a core either way). A burst of alerts pays nothing for it
// (bench:ingest, batches of 100, three alternated runs: 13.4 against 13.6 µs CPU per alert, peak
// RSS 151 – 156 against 234 – 250 MB); a factor of 1.2 would cost it 31 % (17.8 µs).
//
// Set at run time: V8 reads the flag at every full GC. A flag of the user's own is left alone.
// This module imports nothing but node's own modules: src/cli.ts calls it before the rest loads.
import v8 from 'node:v8';

/** The old generation may grow to live size × (1 + this / 100) before a full GC. */
export const HEAP_GROWING_PERCENT = 50;

const USER_FLAG = /--heap[-_]growing[-_]percent/;

/** Whether the process was started with its own `--heap-growing-percent`. */
export function userSetsHeapGrowth(execArgv: readonly string[] = process.execArgv, nodeOptions: string = process.env.NODE_OPTIONS ?? ''): boolean {
  return execArgv.some((a) => USER_FLAG.test(a)) || USER_FLAG.test(nodeOptions);
}

/** Fixes the old generation's growth factor for the daemon (`incidentd run`). */
export function limitOldGenerationGrowth(): void {
  if (userSetsHeapGrowth()) return;
  v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
