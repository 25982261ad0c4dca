// One-line failures for the CLI: what went wrong and what to do, never a stack trace.

/** A mistake in the command line or its input; exits with code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Prints `wva-metrics: <message>` on stderr and sets the exit code (2 for usage, 1 otherwise). */
export function reportCliError(err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`wva-metrics: ${message.split('\n')[0]}\n`);
  process.exitCode = err instanceof UsageError ? 2 : 1;
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
