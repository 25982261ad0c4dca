// pino, JSON lines on stderr so stdout stays free for command output (tables, JSON).
import { pino } from 'pino';
import type { Logger } from '../types.js';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Paths pino blanks out wherever they appear in a log line: secrets never reach a log. */
export const REDACTED_PATHS = [
  'bearerToken',
  'token',
  'authorization',
  'clientKey',
  'headers.authorization',
  'headers.Authorization',
  '*.bearerToken',
  '*.token',
  '*.authorization',
  '*.Authorization',
  '*.clientKey',
  '*.headers.authorization',
  '*.headers.Authorization',
];

export interface LoggerOptions {
  level?: string;
  /** Where lines go; default stderr. Tests pass a stream to read what was logged. */
  destination?: NodeJS.WritableStream;
}

export function parseLogLevel(value: string | undefined): LogLevel {
  const level = (value ?? 'info').trim().toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(level)) return level as LogLevel;
  throw new Error(`LOG_LEVEL "${value}" is not one of ${LOG_LEVELS.join(', ')}`);
}

export function createLogger(options: LoggerOptions = {}): Logger & { level: string } {
  return pino(
    {
      name: 'wva-metrics',
      level: parseLogLevel(options.level ?? process.env.LOG_LEVEL),
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    (options.destination ?? pino.destination({ fd: 2, sync: false })) as pino.DestinationStream,
  );
}

/** A logger that drops everything: the default for library code that was given none. */
export const silentLogger: Logger = pino({ level: 'silent' });
