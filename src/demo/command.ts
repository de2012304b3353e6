// The `incidentd demo` command: runs the demo with the real clock until Ctrl-C (or SIGTERM), then
// stops the scenario, the daemon and the simulated devices.
import { SystemClock } from '../shared/clock.js';
import { IncidentdError } from '../shared/errors.js';
import { createLogger, parseLogFormat } from '../shared/logger.js';
import { runDemo } from './run.js';

export interface DemoCommandOptions {
  speed?: string;
  port?: string;
  dir?: string;
  /** --log-format (checked by the CLI before the command runs). */
  logFormat?: string;
}

/** Parses the command-line values; returns the exit code (0 after a clean stop). */
export async function demoCommand(o: DemoCommandOptions): Promise<number> {
  const speed = o.speed === undefined ? 1 : Number(o.speed);
  const port = o.port === undefined ? undefined : Number(o.port);
  if (!Number.isFinite(speed) || speed <= 0) {
    process.stderr.write(`incidentd demo: --speed must be a number above 0, e.g. 1 or 5, not "${o.speed}"\n`);
    return 2;
  }
  if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65535)) {
    process.stderr.write(`incidentd demo: --port must be a TCP port 1-65535, not "${o.port}"\n`);
    return 2;
  }
  // The daemon's JSON logs would drown the scenario lines: warnings and errors only, unless LOG_LEVEL says otherwise.
  const logger = createLogger({
    level: process.env.LOG_LEVEL ?? 'warn',
    format: parseLogFormat(o.logFormat, process.env.LOG_FORMAT, process.stdout.isTTY === true),
  });
  let demo;
  try {
    demo = await runDemo({ speed, port, dir: o.dir, clock: new SystemClock(), logger });
  } catch (err) {
    // Ours (DemoError, ConfigError) say what to do; anything else is logged with its stack.
    if (err instanceof IncidentdError) process.stderr.write(`incidentd demo: ${err.message}\n`);
    else logger.error({ err }, 'demo start-up failed');
    return 1;
  }

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      process.stdout.write('stopping the demo…\n');
      demo.stop().then(
        () => resolve(0),
        (err: unknown) => {
          logger.error({ err }, 'demo did not stop cleanly');
          resolve(1);
        },
      );
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
