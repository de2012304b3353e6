import { pino, type DestinationStream } from 'pino';
import { createRequire } from 'node:module';
import type { PinoPretty as PinoPrettyFn } from 'pino-pretty';
import { IncidentdError } from './errors.js';

/** The subset of pino the daemon uses; tests can pass a silent or capturing logger. */
export interface Logger {
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
  debug(obj: object | string, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
  /** pino's; a logger without it is taken to log every level. */
  isLevelEnabled?(level: string): boolean;
}

/** pino's levels, most severe first, and `silent`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** `json`: one JSON object a line (for log collectors); `pretty`: one readable line per record. */
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** LOG_LEVEL (or another level setting) names no level; the CLI prints the message and exits 2. */
export class InvalidLogLevelError extends IncidentdError {
  constructor(readonly value: string) {
    super(`LOG_LEVEL "${value}" is not a log level; use one of ${LOG_LEVELS.join(', ')}`);
  }
}

/** --log-format or LOG_FORMAT names no format; the CLI prints the message and exits 2. */
export class InvalidLogFormatError extends IncidentdError {
  constructor(
    readonly value: string,
    readonly setting: string,
  ) {
    super(`${setting} "${value}" is not a log format; use one of ${LOG_FORMATS.join(', ')}`);
  }
}

/** Reads a level as people write it (`INFO`, ` debug `); unset or empty means `fallback`. */
export function parseLogLevel(value: string | undefined, fallback: LogLevel = 'info'): LogLevel {
  const v = value?.trim().toLowerCase();
  if (!v) return fallback;
  const level = LOG_LEVELS.find((l) => l === v);
  if (level === undefined) throw new InvalidLogLevelError(value ?? '');
  return level;
}

/**
 * The format asked for: the --log-format option first, then LOG_FORMAT; unset means pretty on a
 * terminal and JSON otherwise (a service manager, a pipe, a container log driver).
 */
export function parseLogFormat(option: string | undefined, env: string | undefined, isTty: boolean): LogFormat {
  const pick = (value: string | undefined, setting: string): LogFormat | null => {
    const v = value?.trim().toLowerCase();
    if (!v) return null;
    const format = LOG_FORMATS.find((f) => f === v);
    if (format === undefined) throw new InvalidLogFormatError(value ?? '', setting);
    return format;
  };
  return pick(option, '--log-format') ?? pick(env, 'LOG_FORMAT') ?? (isTty ? 'pretty' : 'json');
}

export interface LoggerOptions {
  level?: string | undefined;
  /** Default: pretty when stdout is a terminal, JSON otherwise. */
  format?: LogFormat;
  /** Where records go; default stdout. */
  destination?: NodeJS.WritableStream & { isTTY?: boolean };
}

/**
 * Pretty lines are formatted in this thread and written synchronously (not through a worker
 * transport), so the last lines before an exit are never lost. Colours only on a terminal.
 */
const TRANSITION_FIELDS = ['event', 'incident', 'title', 'target', 'targetName', 'severity', 'tier', 'by', 'why', 'from', 'fromTier', 'check', 'kind', 'latencyMs', 'downForMs'];

function prettyStream(destination: (NodeJS.WritableStream & { isTTY?: boolean }) | undefined): DestinationStream {
  // Loaded only for the pretty format: a daemon logging JSON does not carry the formatter.
  const { PinoPretty } = createRequire(import.meta.url)('pino-pretty') as { PinoPretty: typeof PinoPrettyFn };
  return PinoPretty({
    // Standard output by its file descriptor, written synchronously; a given stream as it is.
    destination: destination ?? 1,
    sync: true,
    colorize: (destination ?? process.stdout).isTTY === true,
    translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
    singleLine: true,
    // The fields of check and incident transitions are already spelled out in their message; JSON
    // keeps them for log collectors, a terminal shows the sentence alone.
    ignore: `pid,hostname,service,stage,${TRANSITION_FIELDS.join(',')}`,
    messageFormat: '{if stage}{stage}: {end}{msg}',
  });
}

/** Throws InvalidLogLevelError for a level pino does not know (pino itself would throw with a stack). */
export function createLogger(opts: LoggerOptions | string | undefined = {}): Logger {
  const o: LoggerOptions = typeof opts === 'object' ? opts : { level: opts };
  const level = parseLogLevel(o.level ?? process.env.LOG_LEVEL);
  const format = o.format ?? ((o.destination ?? process.stdout).isTTY === true ? 'pretty' : 'json');
  const options = { level, base: { service: 'incidentd' }, timestamp: pino.stdTimeFunctions.isoTime };
  if (format === 'pretty') return pino(options, prettyStream(o.destination));
  return o.destination === undefined ? pino(options) : pino(options, o.destination as DestinationStream);
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
