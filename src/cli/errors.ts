// One-line failures for the CLI: what went wrong and what to do, never a stack trace.
import { PrometheusConfigError } from '../prometheus/errors.js';
import { escapeControls } from '../safe-text.js';

/** A mistake in the command line or its input; exits with code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The longest error line printed: a message built from hostile input must not flood the terminal. */
const MAX_ERROR_LINE = 2000;

/** Prints `wva-metrics: <message>` on stderr and sets the exit code (2 for usage, 1 otherwise). */
export function reportCliError(err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  let line = escapeControls(message.split('\n')[0] ?? '');
  if (line.length > MAX_ERROR_LINE) line = `${line.slice(0, MAX_ERROR_LINE)}…`;
  process.stderr.write(`wva-metrics: ${line}\n`);
  // Unusable Prometheus settings (a CA file that is not PEM, say) are bad input, like a bad flag.
  process.exitCode = err instanceof UsageError || err instanceof PrometheusConfigError ? 2 : 1;
}

/** Wraps a commander action so that any rejection becomes one line on stderr and a non-zero exit. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void> | void) {
  return async (...args: A): Promise<void> => {
    try {
      await fn(...args);
    } catch (err) {
      reportCliError(err);
    }
  };
}
