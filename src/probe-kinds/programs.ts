// Finding the programs a probe kind runs (today: ping), the way spawn() finds them, so a missing
// one is reported as a problem of this machine, not as a target that is down.
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';

/**
 * The full path of `name` as child_process.spawn would run it without a shell: the first
 * executable file of that name in one of PATH's folders (an absolute name is checked as is).
 * Null when there is none.
 */
export async function findProgram(name: string, path: string = process.env.PATH ?? ''): Promise<string | null> {
  const candidates = isAbsolute(name)
    ? [name]
    : path
        .split(delimiter)
        .filter((dir) => dir !== '')
        .map((dir) => join(dir, name));
  for (const file of candidates) {
    try {
      await access(file, constants.X_OK);
      if ((await stat(file)).isFile()) return file;
    } catch {
      // Not here (or not executable); try the next folder.
    }
  }
  return null;
}
