// The daemon's one wiring point: real clock, real logger, config paths → createApp; signals → stop.
import type { App } from './app/app.js';
import { startConfigLoad, type ConfigPaths } from './config/load-start.js';
import { SystemClock } from './shared/clock.js';
import { fitOldGeneration } from './shared/old-generation.js';
import { fitYoungGeneration } from './shared/young-generation.js';
import { ConfigError, InstanceLockedError } from './shared/errors.js';
import { createLogger, InvalidLogFormatError, InvalidLogLevelError, parseLogFormat, type Logger } from './shared/logger.js';

/** V8's generations sized for the number of checks (at start-up and after every reload). */
function fitHeap(checks: number): void {
  fitYoungGeneration(checks);
  fitOldGeneration(checks);
}

/** Exit codes of `incidentd run`, for service managers (systemd's RestartPreventExitStatus). */
export const EXIT = { ok: 0, failed: 1, config: 2, locked: 3 } as const;

export interface RunOptions {
  /** --log-format; LOG_FORMAT and then the terminal decide when unset. */
  logFormat?: string | undefined;
}

export async function runDaemon(paths: ConfigPaths, env: NodeJS.ProcessEnv = process.env, opts: RunOptions = {}): Promise<number> {
  let logger: Logger;
  try {
    logger = createLogger({ level: env.LOG_LEVEL, format: parseLogFormat(opts.logFormat, env.LOG_FORMAT, process.stdout.isTTY === true) });
  } catch (err) {
    if (err instanceof InvalidLogLevelError || err instanceof InvalidLogFormatError) {
      process.stderr.write(`incidentd: ${err.message}\n`);
      return EXIT.config;
    }
    throw err;
  }

  // Installed before the start: SIGHUP's default action ends the process. One that arrives while
  // the daemon starts is applied once it runs.
  let app: App | null = null;
  let stopping = false;
  let hupPending = false;
  let hupQueued = false;
  let reloads: Promise<unknown> = Promise.resolve();
  const reloadOnHup = () => {
    if (stopping) return;
    if (!app) {
      hupPending = true;
      return;
    }
    const running = app;
    logger.info({ signal: 'SIGHUP' }, 'SIGHUP received: reloading the configuration');
    // Reloads never overlap; signals that arrive while one waits are covered by it.
    if (hupQueued) return;
    hupQueued = true;
    reloads = reloads
      .then(() => {
        hupQueued = false;
        return running.reload();
      })
      .catch((err: unknown) => logger.error({ err }, 'reload crashed'));
  };
  process.on('SIGHUP', reloadOnHup);
  // SIGTERM and SIGINT too: their default action ends the process at once, without closing the
  // store. One that arrives while the daemon starts stops it as soon as it runs.
  let stopRequested: string | null = null;
  let stopRunning: ((sig: string) => void) | null = null;
  const requestStop = (sig: string) => {
    if (stopRunning) stopRunning(sig);
    else stopRequested ??= sig;
  };
  const onTerm = () => requestStop('SIGTERM');
  const onInt = () => requestStop('SIGINT');
  process.once('SIGTERM', onTerm);
  process.once('SIGINT', onInt);

  try {
    // The probe files first (a worker thread reads a large inventory), then the rest of the daemon
    // loads while they are read: its modules (about a second of a busy machine) and the rules.
    const started = await startConfigLoad(paths, env);
    const { createApp } = await import('./app/app.js');
    app = await createApp({ paths, clock: new SystemClock(), logger, env, started, onChecks: fitHeap });
  } catch (err) {
    process.off('SIGHUP', reloadOnHup);
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
    if (err instanceof ConfigError) {
      process.stderr.write(`incidentd: ${err.message}\n`);
      return EXIT.config;
    }
    if (err instanceof InstanceLockedError) {
      // One line that says what to do; not a log record with a stack.
      process.stderr.write(`incidentd: ${err.message}\n`);
      return EXIT.locked;
    }
    const listen = listenProblem(err, paths.config);
    if (listen) {
      process.stderr.write(`incidentd: ${listen}\n`);
      return EXIT.failed;
    }
    logger.error({ err }, 'start-up failed');
    return EXIT.failed;
  }
  logger.info({ config: paths.config, probes: paths.probesDir, rules: paths.rulesDir }, 'incidentd running');
  if (hupPending) reloadOnHup();

  const running = app;
  return new Promise<number>((resolve) => {
    const stop = (sig: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal: sig }, 'stopping: finishing in-flight probes and signals');
      // A reload started by SIGHUP finishes first, so it cannot hand checks to a stopped scheduler.
      reloads
        .then(() => running.stop())
        .then(
          () => {
            process.off('SIGHUP', reloadOnHup);
            resolve(EXIT.ok);
          },
          (err: unknown) => {
            logger.error({ err }, 'stop failed');
            resolve(EXIT.failed);
          },
        );
    };
    stopRunning = stop;
    if (stopRequested !== null) stop(stopRequested);
  });
}

/** The API's address cannot be bound: one line naming the address and the setting that moves it. */
function listenProblem(err: unknown, configFile: string): string | null {
  if (!(err instanceof Error)) return null;
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  if (e.syscall !== 'listen' && e.syscall !== 'bind') return null;
  const port = String(e.port ?? '?');
  const where = e.address === undefined ? port : `${e.address.includes(':') ? `[${e.address}]` : e.address}:${port}`;
  switch (e.code) {
    case 'EADDRINUSE':
      return `port ${where} is in use by another program; set listen.port (or listen.host) in ${configFile} to a free one, or stop the other program`;
    case 'EACCES':
      return `port ${where} needs privileges this process lacks; use a port above 1023 in listen.port of ${configFile}`;
    case 'EADDRNOTAVAIL':
      return `cannot listen on ${where}: the address is not one of this machine's; set listen.host in ${configFile} (127.0.0.1, 0.0.0.0 or an address of this machine)`;
    default:
      return null;
  }
}
