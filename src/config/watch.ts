// Watches the config file and the probe and rule directories, calling back once per burst of
// changes: editors save by writing a temp file and renaming it, which fires several events.
import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { SystemClock, type Clock, type TimerHandle } from '../shared/clock.js';
import { IncidentdError } from '../shared/errors.js';

/** A directory to watch does not exist or cannot be watched. */
export class ConfigWatchError extends IncidentdError {}

export interface WatchOptions {
  /** Quiet time after the last event before `onChange` fires. Default 200 ms. */
  debounceMs?: number;
  clock?: Clock;
  /** A watcher failed after starting (e.g. its directory was removed). Default: ignored. */
  onError?: (err: Error) => void;
}

const YAML_FILE = /\.ya?ml$/i;

export function watchConfig(
  paths: { config: string; probesDir: string; rulesDir: string },
  onChange: (changedFile: string) => void,
  opts: WatchOptions = {},
): { close(): void } {
  const debounceMs = opts.debounceMs ?? 200;
  const clock = opts.clock ?? new SystemClock();
  const configDir = path.dirname(path.resolve(paths.config));
  const configName = path.basename(paths.config);

  // One watcher per directory; the config file's directory only reports the config file itself.
  const dirs = new Map<string, { anyYaml: boolean; names: Set<string> }>();
  const want = (dir: string, anyYaml: boolean, name?: string) => {
    const key = path.resolve(dir);
    const entry = dirs.get(key) ?? { anyYaml: false, names: new Set<string>() };
    entry.anyYaml ||= anyYaml;
    if (name) entry.names.add(name);
    dirs.set(key, entry);
  };
  want(configDir, false, configName);
  want(paths.probesDir, true);
  want(paths.rulesDir, true);

  let timer: TimerHandle | null = null;
  let lastChanged = '';
  let closed = false;
  const watchers: FSWatcher[] = [];

  const fire = () => {
    timer = null;
    if (!closed) onChange(lastChanged);
  };

  const close = () => {
    closed = true;
    timer?.cancel();
    for (const w of watchers) w.close();
  };

  for (const [dir, filter] of dirs) {
    let watcher: FSWatcher;
    try {
      watcher = watch(dir, { persistent: false }, (_event, filename) => {
        if (closed || !filename) return;
        const name = filename.toString();
        if (!filter.names.has(name) && !(filter.anyYaml && YAML_FILE.test(name))) return;
        lastChanged = path.join(dir, name);
        timer?.cancel();
        timer = clock.setTimeout(fire, debounceMs);
      });
    } catch (err) {
      close();
      throw new ConfigWatchError(`cannot watch ${dir} for changes: ${(err as Error).message}; check that the directory exists`, {
        cause: err,
      });
    }
    watcher.on('error', (err) => opts.onError?.(err));
    watchers.push(watcher);
  }

  return { close };
}
