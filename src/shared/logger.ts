import { pino } from 'pino';
import { IncidentdError } from './errors.js';

/** The subset of pino the daemon uses; tests can pass a silent or capturing logger. */
export interface Logger {
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
  debug(obj: object | string, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

/** pino's levels, most severe first, and `silent`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** LOG_LEVEL (or another level setting) names no level; the CLI prints the message and exits 2. */
export class InvalidLogLevelError extends IncidentdError {
  constructor(readonly value: string) {
    super(`LOG_LEVEL "${value}" is not a log level; use one of ${LOG_LEVELS.join(', ')}`);
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

/** Throws InvalidLogLevelError for a level pino does not know (pino itself would throw with a stack). */
export function createLogger(level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ level: parseLogLevel(level), base: { service: 'incidentd' }, timestamp: pino.stdTimeFunctions.isoTime });
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
