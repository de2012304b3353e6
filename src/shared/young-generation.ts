// The size of V8's young generation (the two semi-spaces new objects are allocated in), chosen
// from the number of checks. V8 starts it at 1 MB per semi-space and doubles it, up to 16 MB, each
// time enough survives a scavenge; it does so during start-up alone, so a daemon of 1,000 checks
// held 32 MB of young generation for 3 – 6 MB of short-lived objects: a quarter of its RSS. A small
// inventory keeps the young generation at its initial size (measured with bench:memory at 1,000
// checks: RSS 114 against 131 – 139 MB, CPU no different), a large one lets V8 grow it: with 15,000
// checks a small young generation promotes the garbage of the runs into the old generation, which
// then grows more than it saves (`--max-semi-space-size=2`: 337 against 248 – 275 MB). Whatever
// the checks, a busy heap (a burst of alerts) lets it grow while the burst lasts.
//
// The lever is V8's growth factor, set at run time: `--max-semi-space-size` is only read when the
// heap is set up, before the daemon knows its checks; the growth factor is read at every growth.
// Changing a V8 flag also changes the flags' hash, so node's code cache of its own modules is
// not used while the factor differs from V8's default: those modules compile from source, which
// the start-up of a small inventory does not notice (bench:memory --startup-only).
// This module imports nothing but node's own modules: src/cli.ts calls it before the rest loads.
import { constants, PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';

/** Up to this many checks the young generation is held at its initial size. */
export const SMALL_INVENTORY_CHECKS = 2_000;

/** V8's default `--semi-space-growth-factor`. */
const V8_GROWTH_FACTOR = 2;

/** The node/V8 flags that size the young generation: when given, the daemon leaves it alone. */
const USER_FLAGS = /--(max|min)[-_]semi[-_]space[-_]size|--semi[-_]space[-_]growth[-_]factor/;

let held = false;

/** Whether the young generation is held at its initial size now. */
export function youngGenerationHeld(): boolean {
  return held;
}

/** Whether the process was started with a flag of its own for the young generation. */
export function userSizesYoungGeneration(execArgv: readonly string[] = process.execArgv, nodeOptions: string = process.env.NODE_OPTIONS ?? ''): boolean {
  return execArgv.some((a) => USER_FLAGS.test(a)) || USER_FLAGS.test(nodeOptions);
}

/** Holds the young generation at its current size (`true`) or lets V8 grow it again (`false`). */
export function holdYoungGeneration(hold: boolean): void {
  if (hold === held || userSizesYoungGeneration()) return;
  v8.setFlagsFromString(`--semi-space-growth-factor=${hold ? 1 : V8_GROWTH_FACTOR}`);
  held = hold;
}

/**
 * Allocation (MB/s, estimated as scavenges × the semi-space size) above which the young generation
 * is let grow whatever the number of checks: a burst of alerts allocates hundreds of MB/s, and a
 * held young generation then promoted enough of it to cost 15 – 30 % more CPU per alert
 * (bench:ingest, batches of 100). 1,000 checks allocate about 2 MB/s.
 */
export const BUSY_MB_PER_S = 16;
/** Below this the young generation is held again (a gap, so that it does not flap). */
export const QUIET_MB_PER_S = 6;
const WINDOW_MS = 1_000;

let small = false;
let busy = false;
let watching = false;

/** Sizes the young generation for this many checks (at start-up and after every reload). */
export function fitYoungGeneration(checks: number): void {
  small = checks <= SMALL_INVENTORY_CHECKS;
  if (small) watchAllocation();
  holdYoungGeneration(small && !busy);
}

/** How busy the heap is: scavenges counted per window; a busy window lets the young generation grow. */
function watchAllocation(): void {
  if (watching) return;
  watching = true;
  let scavenges = 0;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if ((e as unknown as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) scavenges++;
  });
  observer.observe({ entryTypes: ['gc'] });
  setInterval(() => {
    const newSpace = v8.getHeapSpaceStatistics().find((sp) => sp.space_name === 'new_space');
    // The new space holds two semi-spaces; a scavenge happens each time one fills.
    const mbPerS = (scavenges * ((newSpace?.space_size ?? 0) / 2)) / (1024 * 1024) / (WINDOW_MS / 1000);
    scavenges = 0;
    if (!busy && mbPerS > BUSY_MB_PER_S) busy = true;
    else if (busy && mbPerS < QUIET_MB_PER_S) busy = false;
    holdYoungGeneration(small && !busy);
  }, WINDOW_MS).unref();
}
