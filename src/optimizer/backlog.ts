// The requests already waiting when a cycle sizes. Arrivals alone size for the traffic coming in; a
// queue built up while new pods started would then drain only on whatever capacity is left over,
// and its requests miss the TTFT target all that time. Sizing for the arrivals plus the rate that
// serves the queue within a chosen time gets it served.

/**
 * Requests per minute to size for: `arrivalRate` plus the rate that serves `waiting` requests within
 * `drainMs`. Nothing is added with `drainMs` 0, an unknown or empty queue, or no arrivals (a queue
 * that nothing feeds and nothing drains is a stuck server, which more replicas do not mend).
 */
export function withBacklog(arrivalRate: number, waiting: number | undefined, drainMs: number): number {
  if (!(drainMs > 0) || !(arrivalRate > 0) || waiting === undefined || !Number.isFinite(waiting)) {
    return arrivalRate;
  }
  return waiting > 0 ? arrivalRate + waiting / (drainMs / 60_000) : arrivalRate;
}
