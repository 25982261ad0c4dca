/** Polls `cond` every 10 ms until it holds; throws `timed out waiting for <what>` after `ms`. */
export async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * `until` for a condition that has to be fetched (a query to a real Prometheus): polls every
 * `everyMs` so the poll does not flood the process it asks; the last answer goes into the error.
 */
export async function untilAsync<T>(
  fetch: () => Promise<T>,
  holds: (v: T) => boolean,
  what: string,
  ms: number,
  everyMs = 250,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fetch();
    if (holds(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(v)})`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

// Captured when this module loads, before any test fakes the timers.
const realSetTimeout = setTimeout;

/**
 * `until` on real timers, for I/O to settle while a test runs fake time: polls every 10 ms; the
 * poll count only guards against a hang (it proves nothing about time).
 */
export async function untilIo(cond: () => boolean, what: string, polls = 1000): Promise<void> {
  for (let i = 0; i < polls; i++) {
    if (cond()) return;
    await new Promise((r) => realSetTimeout(r, 10));
  }
  throw new Error(`gave up waiting for ${what}`);
}
