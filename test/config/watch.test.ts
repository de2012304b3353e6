import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigWatchError, watchConfig } from '../../src/config/watch.js';

let dir: string;
let paths: { config: string; probesDir: string; rulesDir: string };

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'incidentd-watch-'));
  paths = { config: path.join(dir, 'config', 'incidentd.yaml'), probesDir: path.join(dir, 'probes'), rulesDir: path.join(dir, 'rules') };
  await mkdir(path.dirname(paths.config));
  await mkdir(paths.probesDir);
  await mkdir(paths.rulesDir);
  await writeFile(paths.config, 'listen: {}\n');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves with the next call of the callback. */
function recorder() {
  const calls: string[] = [];
  let wake: (() => void) | null = null;
  return {
    calls,
    onChange: (file: string) => {
      calls.push(file);
      wake?.();
    },
    next: () => new Promise<void>((r) => (wake = r)),
  };
}

describe('watchConfig', () => {
  it('fires once for a burst of writes and renames, naming a changed file', async () => {
    const rec = recorder();
    const w = watchConfig(paths, rec.onChange, { debounceMs: 150 });
    try {
      const fired = rec.next();
      const file = path.join(paths.probesDir, 'a.yaml');
      // What editors do: write, write again, then save via a temporary file and a rename.
      await writeFile(file, 'targets: []\n');
      await writeFile(file, 'targets: [ ]\n');
      await writeFile(path.join(paths.probesDir, 'a.yaml.tmp'), 'targets: []\n');
      await rename(path.join(paths.probesDir, 'a.yaml.tmp'), file);
      await fired;
      // Well past the quiet period, no second call follows.
      await sleep(400);
      expect(rec.calls).toEqual([file]);
    } finally {
      w.close();
    }
  });

  it('ignores files that are not YAML, and YAML files beside the config file other than itself', async () => {
    const rec = recorder();
    const w = watchConfig(paths, rec.onChange, { debounceMs: 50 });
    try {
      await writeFile(path.join(paths.probesDir, 'notes.txt'), 'x');
      await writeFile(path.join(paths.rulesDir, '.network.yaml.swp'), 'x');
      await writeFile(path.join(path.dirname(paths.config), 'other.yaml'), 'x');
      await mkdir(path.join(path.dirname(paths.config), 'schemas'));
      await writeFile(path.join(path.dirname(paths.config), 'schemas', 'probes.schema.json'), '{}');
      await sleep(400);
      expect(rec.calls).toEqual([]);

      // The watcher is alive: the config file itself and a rule file do count.
      const fired = rec.next();
      await writeFile(paths.config, 'listen: { port: 9741 }\n');
      await fired;
      expect(rec.calls).toEqual([paths.config]);
      const again = rec.next();
      await writeFile(path.join(paths.rulesDir, 'x.yml'), 'rules: []\n');
      await again;
      expect(rec.calls).toEqual([paths.config, path.join(paths.rulesDir, 'x.yml')]);
    } finally {
      w.close();
    }
  });

  it('does not fire after close', async () => {
    const rec = recorder();
    const w = watchConfig(paths, rec.onChange, { debounceMs: 100 });
    await writeFile(path.join(paths.probesDir, 'a.yaml'), 'targets: []\n');
    w.close();
    await sleep(300);
    expect(rec.calls).toEqual([]);
  });

  it('a missing directory is a clear error', () => {
    expect(() => watchConfig({ ...paths, rulesDir: path.join(dir, 'nope') }, () => {})).toThrow(ConfigWatchError);
    expect(() => watchConfig({ ...paths, rulesDir: path.join(dir, 'nope') }, () => {})).toThrow(/cannot watch .*nope/);
  });
});
