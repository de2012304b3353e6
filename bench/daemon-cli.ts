import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The daemon's entry as it ships, the bundle of build/bundle.ts (what `npm start`, the systemd unit
 * and the Docker image run), or tsc's dist/src/cli.js with `unbundled`. A missing build ends the
 * benchmark with one line saying how to make it.
 */
export function daemonCli(root: string, bench: string, unbundled: boolean): string {
  const cli = join(root, 'dist', unbundled ? 'src' : 'bundle', 'cli.js');
  if (!existsSync(cli)) {
    console.error(`${bench}: ${cli} is missing; build it with npm run ${unbundled ? 'build:all' : 'build:all && npm run build:bundle'} (npm run ${bench} does both)`);
    process.exit(2);
  }
  return cli;
}
