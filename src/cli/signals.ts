// Shutdown on SIGTERM / SIGINT for `run`, installed before anything that can wait (the ConfigMap
// read, the warm-up query, a --once cycle), so a signal at any moment gets a shutdown line and a
// graceful stop: the first one aborts what is in flight and lets the command wind down; a second
// one exits at once with the shell's code for the signal (128 + its number: 130 for SIGINT, 143
// for SIGTERM).
import { createLogger } from '../telemetry/logger.js';
import type { Logger } from '../types.js';

export const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
export type ShutdownSignalName = keyof typeof SIGNAL_EXIT_CODES;

export interface ShutdownSignals {
  /** Aborted on the first signal: pass it to whatever waits. */
  readonly signal: AbortSignal;
  /** Resolves with the first signal's name. */
  readonly received: Promise<ShutdownSignalName>;
  /** 128 + the first signal's number, once one came; for a command that could not finish. */
  readonly exitCode: number | undefined;
  /** Where the shutdown lines go, once the configured logger exists. */
  useLogger(logger: Logger): void;
  /** Removes the handlers (a command that ended by itself). */
  dispose(): void;
}

export interface SignalHost {
  on(event: ShutdownSignalName, listener: () => void): unknown;
  off(event: ShutdownSignalName, listener: () => void): unknown;
  exit(code: number): void;
}

export function watchShutdownSignals(host: SignalHost = processHost()): ShutdownSignals {
  const controller = new AbortController();
  let logger: Logger | undefined;
  let first: ShutdownSignalName | undefined;
  let resolve!: (s: ShutdownSignalName) => void;
  const received = new Promise<ShutdownSignalName>((r) => {
    resolve = r;
  });
  // Before the configuration is read there is no configured logger: one at info level says it.
  const log = () => {
    logger ??= createLogger({ level: 'info' });
    return logger;
  };
  const handlers = (Object.keys(SIGNAL_EXIT_CODES) as ShutdownSignalName[]).map((name) => {
    const listener = () => {
      if (first !== undefined) {
        log().warn({ signal: name }, `second signal: exiting now (code ${SIGNAL_EXIT_CODES[name]})`);
        host.exit(SIGNAL_EXIT_CODES[name]);
        return;
      }
      first = name;
      log().info({ signal: name }, 'shutting down');
      controller.abort(new Error(`${name} received`));
      resolve(name);
    };
    host.on(name, listener);
    return { name, listener };
  });
  return {
    signal: controller.signal,
    received,
    get exitCode() {
      return first === undefined ? undefined : SIGNAL_EXIT_CODES[first];
    },
    useLogger(l) {
      logger = l;
    },
    dispose() {
      for (const h of handlers) host.off(h.name, h.listener);
    },
  };
}

function processHost(): SignalHost {
  return {
    on: (event, listener) => process.on(event, listener),
    off: (event, listener) => process.off(event, listener),
    exit: (code) => process.exit(code),
  };
}
