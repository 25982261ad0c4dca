// What sizing reads from a metrics read: the load (arrivals, with the waiting queue's drain rate
// added, and tokens), or why it is unknown.
import { STATISTIC_SOURCES, type StatisticName } from '../collector/collect.js';
import { withBacklog } from '../optimizer/index.js';
import type { LoadProfile } from '../types.js';
import type { MetricsRead } from './decision-types.js';

/**
 * The load as sizing takes it, or why it is unknown. Sizing needs arrivals and tokens only, so a
 * read whose latency is unknown (MetricsIncomplete) still sizes; with no traffic tokens do not matter.
 */
export function sizingLoad(
  read: MetricsRead,
  backlogDrainMs: number,
): (LoadProfile & { completionRate?: number; measuredArrivalRate: number }) | string {
  const usable =
    read.availability.reason === 'MetricsFound' || read.availability.reason === 'MetricsIncomplete';
  if (!usable || !read.metrics) return read.availability.message;
  const l = read.metrics.load;
  const known = (n: number | undefined): n is number => typeof n === 'number' && Number.isFinite(n) && n >= 0;
  const busy = known(l.arrivalRate) && l.arrivalRate > 0;
  const needed: StatisticName[] = busy
    ? ['arrivalRate', 'avgInputTokens', 'avgOutputTokens']
    : ['arrivalRate'];
  const unknown = needed.filter((k) => !known(l[k as keyof typeof l]));
  if (unknown.length > 0 || !known(l.arrivalRate)) {
    return `unknown: ${unknown.map((k) => `${k} (${STATISTIC_SOURCES[k]})`).join(', ')}`;
  }
  return {
    arrivalRate: withBacklog(l.arrivalRate, read.metrics.saturation?.waiting, backlogDrainMs),
    measuredArrivalRate: l.arrivalRate,
    ...(known(l.completionRate) ? { completionRate: l.completionRate } : {}),
    avgInputTokens: busy ? (l.avgInputTokens as number) : 0,
    avgOutputTokens: busy ? Math.max(l.avgOutputTokens as number, 1) : 1,
  };
}
