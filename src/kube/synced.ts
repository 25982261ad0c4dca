// Waiting for informers' first list.

/**
 * Resolves true once `synced()` holds, false after `timeoutMs` (polled: informers have no synced
 * event); rejects if `signal` aborts first. Durations on the monotonic clock.
 */
export async function whenSynced(
  synced: () => boolean,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!synced()) {
    signal?.throwIfAborted();
    if (performance.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}
