// How far V8 lets its old generation grow before the next full collection. By default V8 picks a
// factor of the live size after each full GC, between 1.1 and 4, from how fast it collects against
// how fast the program allocates. With a large inventory, whose runs promote a steady stream of
// short-lived objects (results, signals and requests in flight outlive a scavenge or two), it
// picked a high one and the garbage of minutes piled up between full GCs: bench:memory --timeline
// with 15,000 checks climbed ~5 MB/s to 291 – 324 MB before the first full GC (~30 s) and sawed
// between ~206 and 261 MB after. A fixed factor of 1.5 holds it at 192 – 200 MB (peak 199 –
// 205 MB), CPU no different (13 – 15 % of a core either way). A burst of alerts pays nothing for it
// (bench:ingest, batches of 100, three alternated runs: 13.4 against 13.6 µs CPU per alert, peak
// RSS 151 – 156 against 234 – 250 MB); a factor of 1.2 would cost it 31 % (17.8 µs).
// A small inventory is left to V8: there its own factor is lower (old space 27 → 35 MB between
// full GCs at 1,000 checks), and the fixed 1.5 made RSS 101 – 107 against 98 – 99 MB.
//
// Set at run time: V8 reads the flag at every full GC. A flag of the user's own is left alone.
// This module imports nothing but node's own modules: src/cli.ts calls it before the rest loads.
import v8 from 'node:v8';

/** With a large inventory the old generation may grow to live size × (1 + this / 100) before a full GC. */
export const HEAP_GROWING_PERCENT = 50;
/** Above this many checks the growth is fixed (the young generation's line, ./young-generation.ts). */
export const LARGE_INVENTORY_CHECKS = 2_000;

let current = 0;

const USER_FLAG = /--heap[-_]growing[-_]percent/;

/** Whether the process was started with its own `--heap-growing-percent`. */
export function userSetsHeapGrowth(execArgv: readonly string[] = process.execArgv, nodeOptions: string = process.env.NODE_OPTIONS ?? ''): boolean {
  return execArgv.some((a) => USER_FLAG.test(a)) || USER_FLAG.test(nodeOptions);
}

/** Fixes the old generation's growth factor (`incidentd run` with a large probes folder, from the start). */
export function limitOldGenerationGrowth(): void {
  setGrowth(HEAP_GROWING_PERCENT);
}

/** Fixes the growth for a large inventory, leaves it to V8 for a small one (at start-up and after every reload). */
export function fitOldGeneration(checks: number): void {
  setGrowth(checks > LARGE_INVENTORY_CHECKS ? HEAP_GROWING_PERCENT : 0);
}

/** The growth percent in force; 0: V8's own factor. */
export function oldGenerationGrowth(): number {
  return current;
}

function setGrowth(percent: number): void {
  if (percent === current || userSetsHeapGrowth()) return;
  // 0 is V8's default: it then computes the factor itself again.
  v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
  current = percent;
}
