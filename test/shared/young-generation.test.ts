// V8's young generation held at its initial size for a small inventory and let grow for a large
// one. Each case runs in a node process of its own (a V8 flag changes the whole process), which
// allocates short-lived objects with some survivors, as probe runs do, and reports the size of its
// new space.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { plainSharedModule, ROOT } from './plain-module.js';
import { SMALL_INVENTORY_CHECKS, userSizesYoungGeneration } from '../../src/shared/young-generation.js';

const MODULE = plainSharedModule('young-generation');
const MB = 1024 * 1024;

/** The new space's size (bytes) after `setup` ran and then a few hundred MB of allocation. */
async function newSpaceAfter(setup: string, nodeArgs: string[] = []): Promise<number> {
  const code = `
    import v8 from 'node:v8';
    import * as yg from ${JSON.stringify(MODULE)};
    ${setup}
    const keep = [];
    for (let r = 0; r < 3000; r++) {
      const a = [];
      for (let i = 0; i < 2000; i++) a.push({ i, s: 'x' + i + r });
      if (r % 10 === 0) keep.push(a.slice(0, 200));
      if (keep.length > 200) keep.shift();
    }
    const space = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    console.log(JSON.stringify({ size: space.space_size, held: yg.youngGenerationHeld() }));
  `;
  const { stdout } = await promisify(execFile)(process.execPath, [...nodeArgs, '--input-type=module', '-e', code], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '' },
  });
  const out = JSON.parse(stdout.trim().split('\n').at(-1)!) as { size: number; held: boolean };
  return out.held ? out.size : -out.size;
}

describe('young generation', { timeout: 60_000 }, () => {
  it('is held at its initial size (2 MB) for a small inventory, and grows past it otherwise', async () => {
    const [untouched, small, large, released] = await Promise.all([
      newSpaceAfter(''),
      newSpaceAfter(`yg.fitYoungGeneration(${SMALL_INVENTORY_CHECKS});`),
      newSpaceAfter(`yg.fitYoungGeneration(${SMALL_INVENTORY_CHECKS + 1});`),
      // Held first (src/cli.ts, a small probes folder), then the loaded checks turn out many.
      newSpaceAfter(`yg.holdYoungGeneration(true); yg.fitYoungGeneration(15000);`),
    ]);
    // A negative size: not held.
    expect(-untouched).toBeGreaterThan(2 * MB);
    expect(small).toBeGreaterThan(0);
    expect(small).toBeLessThanOrEqual(2 * MB);
    expect(-large).toBeGreaterThan(2 * MB);
    expect(-released).toBeGreaterThan(2 * MB);
  });

  it('is let grow while the heap is busy (a burst of alerts), small inventory or not', async () => {
    // Allocates as a burst of alerts does, turning the event loop between slices so that the
    // watcher's once-a-second look sees it.
    const code = `
      import v8 from 'node:v8';
      import * as yg from ${JSON.stringify(MODULE)};
      yg.fitYoungGeneration(10);
      const heldAtFirst = yg.youngGenerationHeld();
      const keep = [];
      let turns = 0;
      while (yg.youngGenerationHeld() && turns < 400) {
        for (let r = 0; r < 200; r++) {
          const a = [];
          for (let i = 0; i < 2000; i++) a.push({ i, s: 'x' + i + r });
          if (r % 10 === 0) keep.push(a.slice(0, 200));
          if (keep.length > 200) keep.shift();
        }
        turns++;
        await new Promise((r) => setTimeout(r, 5));
      }
      console.log(JSON.stringify({ heldAtFirst, heldAfter: yg.youngGenerationHeld() }));
      process.exit(0);
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT, env: { PATH: process.env.PATH ?? '' } });
    expect(JSON.parse(stdout.trim())).toEqual({ heldAtFirst: true, heldAfter: false });
  });

  it('is left alone when node was given a size for it', async () => {
    const size = await newSpaceAfter(`yg.fitYoungGeneration(10);`, ['--max-semi-space-size=4']);
    expect(size).toBeLessThan(0);
    expect(userSizesYoungGeneration(['--max-semi-space-size=4'], '')).toBe(true);
    expect(userSizesYoungGeneration([], '--max-old-space-size=512 --semi-space-growth-factor=3')).toBe(true);
    expect(userSizesYoungGeneration(['--max-old-space-size=512'], '--enable-source-maps')).toBe(false);
  });
});
