// The icmp kind runs the system `ping` program (the `ping` package spawns `ping` from PATH). On a
// machine without it the icmp tests are skipped with one loud line and the rest of the suite runs;
// .ci/run installs iputils-ping, so CI always runs them.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

function onPath(program: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, program), constants.X_OK);
      return true;
    } catch {
      // not in this folder
    }
  }
  return false;
}

export const pingAvailable = onPath('ping');
/** fping pings many hosts per process; the icmp kind uses it when installed. .ci/run installs it. */
export const fpingAvailable = onPath('fping');

/** Call at the top of a test file with fping tests: prints the line when they are skipped. */
export function warnIfNoFping(file: string): void {
  if (fpingAvailable) return;
  process.stderr.write(
    `\n*** SKIPPED the fping tests of ${file}: no "fping" program on PATH; install it (Debian/Ubuntu: apt-get install fping) to run them ***\n\n`,
  );
}

/** Call at the top of a test file with icmp tests: prints the line when they are skipped. */
export function warnIfNoPing(file: string): void {
  if (pingAvailable) return;
  process.stderr.write(
    `\n*** SKIPPED the icmp tests of ${file}: no "ping" program on PATH; install it (Debian/Ubuntu: apt-get install iputils-ping) to run them ***\n\n`,
  );
}
