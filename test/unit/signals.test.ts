// The shutdown signal handlers of `run`, on a stand-in for process: the first signal aborts and
// logs, a second one exits at once with 128 + the signal's number.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { type SignalHost, watchShutdownSignals } from '../../src/cli/signals.js';
import { captureLogger } from '../support/capture-logger.js';

function host() {
  const events = new EventEmitter();
  const exits: number[] = [];
  const h: SignalHost = {
    on: (e, l) => events.on(e, l),
    off: (e, l) => events.off(e, l),
    exit: (code) => exits.push(code),
  };
  return { h, events, exits };
}

function logger() {
  const { logger: l, lines: logged } = captureLogger();
  return { l, lines: () => logged.map((x) => `${x.level} ${x.msg}`) };
}

describe('shutdown signals', () => {
  it('the first SIGTERM aborts the signal, resolves, logs "shutting down"; a second exits 143 at once', async () => {
    const { h, events, exits } = host();
    const { l, lines } = logger();
    const s = watchShutdownSignals(h);
    s.useLogger(l);
    expect(s.signal.aborted).toBe(false);
    expect(s.exitCode).toBeUndefined();
    events.emit('SIGTERM');
    expect(s.signal.aborted).toBe(true);
    await expect(s.received).resolves.toBe('SIGTERM');
    expect(s.exitCode).toBe(143);
    expect(exits).toEqual([]);
    events.emit('SIGINT');
    expect(exits).toEqual([130]);
    expect(lines()).toEqual(['info shutting down', 'warn second signal: exiting now (code 130)']);
  });

  it('SIGINT first gives exit code 130; dispose removes the handlers', () => {
    const { h, events, exits } = host();
    const s = watchShutdownSignals(h);
    s.useLogger(logger().l);
    events.emit('SIGINT');
    expect(s.exitCode).toBe(130);
    s.dispose();
    expect(events.listenerCount('SIGINT') + events.listenerCount('SIGTERM')).toBe(0);
    events.emit('SIGINT');
    expect(exits).toEqual([]);
  });
});
