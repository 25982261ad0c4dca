// Timers a test fires by hand, for code that takes injected timers (the Prometheus client's
// request timeout, the scale-from-zero loop's ticks): what is scheduled, and for how long, is
// visible, and nothing runs until the test says so.

export interface ManualTimer {
  fn: () => void;
  ms: number;
}

export interface ManualTimers {
  /** Scheduled and neither fired nor cleared, oldest first. */
  readonly pending: ManualTimer[];
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** The time `now()` reports; fire() does not move it. */
  at: number;
  now(): number;
  /** Runs every pending timer (not those they schedule), oldest first. */
  fire(): void;
}

export function manualTimers(at = 0): ManualTimers {
  const pending: ManualTimer[] = [];
  const timers: ManualTimers = {
    pending,
    at,
    setTimeout(fn, ms) {
      const t = { fn, ms };
      pending.push(t);
      return t;
    },
    clearTimeout(handle) {
      const i = pending.indexOf(handle as ManualTimer);
      if (i >= 0) pending.splice(i, 1);
    },
    now: () => timers.at,
    fire() {
      for (const t of pending.splice(0)) t.fn();
    },
  };
  return timers;
}

/** Timers that never fire: whatever ends the work under test, it is not a timeout. */
export const neverTimers = {
  setTimeout: (_fn: () => void, _ms: number): unknown => undefined,
  clearTimeout: (_handle: unknown): void => {},
};
