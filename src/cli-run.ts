// `incidentd run` with plain options, read without commander: the daemon then loads neither
// commander nor the other commands' modules (about 0.5 MB of heap for commander alone, which a
// server would keep for its whole life). Anything else (--help, an unknown or malformed option,
// an argument) goes to the full command line (./cli-commands.ts), which answers as always.
import { parseArgs } from 'node:util';
import { EXIT, runDaemon } from './main.js';
import { InvalidLogFormatError, InvalidLogLevelError, parseLogFormat, parseLogLevel } from './shared/logger.js';

/** The default paths of --config, --probes and --rules (every command's). */
export const DEFAULT_PATHS = { config: 'config/incidentd.yaml', probes: 'probes', rules: 'rules' } as const;

export interface RunOptions {
  config: string;
  probes: string;
  rules: string;
  logFormat?: string | undefined;
}

/** The options of `run` (the arguments after it), or null when they are not only plain options. */
export function plainRunOptions(args: readonly string[]): RunOptions | null {
  try {
    const { values } = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: { config: { type: 'string' }, probes: { type: 'string' }, rules: { type: 'string' }, 'log-format': { type: 'string' } },
    });
    return {
      config: values.config ?? DEFAULT_PATHS.config,
      probes: values.probes ?? DEFAULT_PATHS.probes,
      rules: values.rules ?? DEFAULT_PATHS.rules,
      logFormat: values['log-format'],
    };
  } catch {
    return null;
  }
}

/** LOG_LEVEL and the log format, checked before anything starts: one line, exit 2, no stack. */
export function checkLogSettingsOrExit(logFormat: string | undefined): void {
  try {
    parseLogLevel(process.env.LOG_LEVEL);
    parseLogFormat(logFormat, process.env.LOG_FORMAT, process.stdout.isTTY === true);
  } catch (err) {
    if (!(err instanceof InvalidLogLevelError || err instanceof InvalidLogFormatError)) throw err;
    process.stderr.write(`incidentd: ${err.message}\n`);
    process.exit(EXIT.config);
  }
}

/** `incidentd run`: the daemon until it stops. */
export async function runCommand(o: RunOptions): Promise<void> {
  const code = await runDaemon({ config: o.config, probesDir: o.probes, rulesDir: o.rules }, process.env, { logFormat: o.logFormat });
  // A failed start may leave half-opened parts behind (a store, a journal): do not wait for them.
  if (code !== EXIT.ok) process.exit(code);
}
