// The daemon's one wiring point: real clock, real logger, config paths → createApp; signals → stop.
import { createApp } from './app/app.js';
import type { ConfigPaths } from './config/load.js';
import { SystemClock } from './shared/clock.js';
import { ConfigError, InstanceLockedError } from './shared/errors.js';
import { createLogger } from './shared/logger.js';

export async function runDaemon(paths: ConfigPaths): Promise<number> {
  const logger = createLogger();
  let app;
  try {
    app = await createApp({ paths, clock: new SystemClock(), logger });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`incidentd: ${err.message}\n`);
      return 2;
    }
    if (err instanceof InstanceLockedError) {
      // One line that says what to do; not a log record with a stack.
      process.stderr.write(`incidentd: ${err.message}\n`);
      return 3;
    }
    logger.error({ err }, 'start-up failed');
    return 1;
  }
  logger.info({ config: paths.config, probes: paths.probesDir, rules: paths.rulesDir }, 'incidentd running');

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (sig: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal: sig }, 'stopping: finishing in-flight probes and signals');
      app.stop().then(
        () => resolve(0),
        (err) => {
          logger.error({ err }, 'stop failed');
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
