// A Logger that keeps every line, with the fields its children were bound with, for tests that
// check what was logged (or that a secret was not).
import type { Logger } from '../../src/types.js';

export interface LoggedLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  obj: Record<string, unknown>;
  msg?: string;
}

export function captureLogger(): { logger: Logger; lines: LoggedLine[] } {
  const lines: LoggedLine[] = [];
  const make = (bound: Record<string, unknown> = {}): Logger => ({
    debug: (obj, msg) => lines.push({ level: 'debug', obj: { ...bound, ...obj }, msg }),
    info: (obj, msg) => lines.push({ level: 'info', obj: { ...bound, ...obj }, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj: { ...bound, ...obj }, msg }),
    error: (obj, msg) => lines.push({ level: 'error', obj: { ...bound, ...obj }, msg }),
    child: (b) => make({ ...bound, ...b }),
  });
  return { logger: make(), lines };
}
