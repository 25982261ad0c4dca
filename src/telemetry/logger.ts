// pino, JSON lines on stderr so stdout stays free for command output (tables, JSON).
// Secrets are scrubbed at any depth before a line is written: a key that names a secret
// (bearerToken, authorization, clientKey, ...) is blanked, and a `Bearer <token>` or `Basic <token>`
// inside any string (message, error text, header value) loses its token. What the scrubber cannot
// walk (a reference back into the object being walked, an object nested too deep) is replaced by
// a marker rather than written as it is.
import { pino } from 'pino';
import type { Logger } from '../types.js';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Object keys whose values never reach a log line, at any depth. Compared case-insensitively with
 * `_` and `-` ignored, so `PROMETHEUS_BEARER_TOKEN`, `bearer-token` and `bearerToken` all match.
 */
export const REDACTED_PATHS = [
  'bearerToken',
  'prometheusBearerToken',
  'token',
  'accessToken',
  'refreshToken',
  'idToken',
  'authorization',
  'proxyAuthorization',
  'cookie',
  'setCookie',
  'clientKey',
  'clientKeyData',
  'privateKey',
  'password',
  'secret',
  'clientSecret',
  'apiKey',
];

export const REDACTED = '[redacted]';
export const CIRCULAR = '[Circular]';
export const TOO_DEEP = '[too deep to log]';

const secretKeys = new Set(REDACTED_PATHS.map(normalizeKey));
const bearerPattern = /\b(bearer)\s+[A-Za-z0-9\-._~+/]+=*/gi;
// `Basic` + base64 of user:password; the token must look like base64 (8+ characters, a digit or
// +/=), so that prose such as "basic settings" stays as it is.
const basicPattern = /\b(Basic)\s+(?=[A-Za-z0-9+/]*[0-9+/=])[A-Za-z0-9+/]{8,}=*/g;
const MAX_DEPTH = 8;

function normalizeKey(key: string): string {
  return key.replace(/[-_]/g, '').toLowerCase();
}

export function isSecretKey(key: string): boolean {
  return secretKeys.has(normalizeKey(key));
}

// user:password@ in a URL.
const userinfoPattern = /(\/\/[^/@:\s]+:)[^/@\s]+@/g;

function scrubString(value: string): string {
  let out = value;
  bearerPattern.lastIndex = 0;
  if (bearerPattern.test(out)) out = out.replace(bearerPattern, `$1 ${REDACTED}`);
  basicPattern.lastIndex = 0;
  if (basicPattern.test(out)) out = out.replace(basicPattern, `$1 ${REDACTED}`);
  userinfoPattern.lastIndex = 0;
  if (userinfoPattern.test(out)) out = out.replace(userinfoPattern, `$1${REDACTED}@`);
  return out;
}

/**
 * A copy of `value` with secrets blanked; the same object when there was nothing to blank (log lines
 * without secrets, the common case, allocate nothing here).
 */
export function scrubSecrets<T>(value: T, depth = 0, seen: Set<object> = new Set()): T {
  if (typeof value === 'string') return scrubString(value) as T;
  if (value === null || typeof value !== 'object') return value;
  // Returned as is, either would be written by the serializer, unscrubbed, with what it holds.
  if (seen.has(value)) return CIRCULAR as T;
  if (depth > MAX_DEPTH) return TOO_DEEP as T;
  seen.add(value);
  try {
    if (value instanceof Error) return scrubError(value, depth, seen) as T;
    if (Array.isArray(value)) {
      let copy: unknown[] | undefined;
      value.forEach((item, i) => {
        const next = scrubSecrets(item, depth + 1, seen);
        if (next !== item) {
          copy ??= value.slice();
          copy[i] = next;
        }
      });
      return (copy ?? value) as T;
    }
    if (value instanceof Map) {
      return scrubSecrets(Object.fromEntries(value), depth, seen) as T;
    }
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return value; // Dates, Buffers, class instances
    let copy: Record<string, unknown> | undefined;
    for (const [key, item] of Object.entries(value)) {
      const next = isSecretKey(key) && item !== undefined ? REDACTED : scrubSecrets(item, depth + 1, seen);
      if (next !== item) {
        copy ??= { ...(value as Record<string, unknown>) };
        copy[key] = next;
      }
    }
    return (copy ?? value) as T;
  } finally {
    seen.delete(value);
  }
}

function hasSecretOwnKey(value: object): boolean {
  return Object.keys(value).some(isSecretKey);
}

/** An error is copied (same prototype, so pino still names its type) only when it holds a secret. */
function scrubError(err: Error, depth: number, seen: Set<object>): Error {
  const text = `${err.message}\n${err.stack ?? ''}`;
  const cause = (err as { cause?: unknown }).cause;
  const scrubbedCause = cause === undefined ? undefined : scrubSecrets(cause, depth + 1, seen);
  if (scrubString(text) === text && !hasSecretOwnKey(err) && scrubbedCause === cause) return err;
  const copy = Object.create(Object.getPrototypeOf(err)) as Error;
  for (const [key, item] of Object.entries(err)) {
    (copy as unknown as Record<string, unknown>)[key] = isSecretKey(key)
      ? REDACTED
      : scrubSecrets(item, depth + 1, seen);
  }
  copy.message = scrubString(err.message);
  if (err.stack !== undefined) copy.stack = scrubString(err.stack);
  if (Object.hasOwn(err, 'name')) copy.name = err.name;
  if (cause !== undefined) (copy as { cause?: unknown }).cause = scrubbedCause;
  return copy;
}

/** Top-level spellings for pino's own redaction, which also covers child bindings (the formatter cannot). */
function topLevelRedactPaths(): string[] {
  const paths = new Set<string>();
  for (const name of REDACTED_PATHS) {
    paths.add(name);
    paths.add(name.toLowerCase());
    paths.add(name[0]!.toUpperCase() + name.slice(1));
    paths.add(name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase());
  }
  return [...paths];
}

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

/** The root logger; `level` may be set later (live config reload) and children follow it. */
export type RootLogger = Logger & { level: string };

export function createLogger(options: LoggerOptions = {}): RootLogger {
  return pino(
    {
      name: 'wva-metrics',
      level: parseLogLevel(options.level ?? process.env.LOG_LEVEL),
      base: undefined,
      redact: { paths: topLevelRedactPaths(), censor: REDACTED },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        log: (obj) => scrubSecrets(obj),
        bindings: (bindings) => scrubSecrets(bindings),
      },
      hooks: {
        // Messages too: `Bearer <token>` pasted into a message string is blanked.
        logMethod(args, method) {
          for (let i = 0; i < args.length; i++) {
            if (typeof args[i] === 'string') args[i] = scrubString(args[i] as string);
          }
          method.apply(this, args as Parameters<typeof method>);
        },
      },
    },
    (options.destination ?? pino.destination({ fd: 2, sync: false })) as pino.DestinationStream,
  );
}

/** A logger that drops everything: the default for library code that was given none. */
export const silentLogger: Logger = pino({ level: 'silent' });
