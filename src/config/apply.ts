// Live reload: push a new Config into the running parts. TTLs, window, staleness and log level apply
// at once; everything else is handed to `onChange` (the controller may apply more) or logged as
// needing a restart.
import { silentLogger } from '../telemetry/logger.js';
import type { Logger } from '../types.js';
import { formatDuration } from './duration.js';
import type { ConfigError } from './load.js';
import { CONFIG_KEYS, type Config } from './schema.js';

export interface ConfigTargets {
  /** ModelMetricsCache: a new TTL applies to entries already cached. */
  cache?: { setTtl(ttlMs: number, failureTtlMs?: number): void };
  /** FleetCollector. */
  collector?: { configure(o: { window?: string; staleAfterMs?: number }): void };
  /** The root logger (createLogger's); its children follow a level change. */
  rootLogger?: { level: string };
  /** Counts wva_config_reloads_total{outcome}. */
  telemetry?: { configReloaded(outcome: 'success' | 'error'): void };
  /** Where reloads are logged. */
  logger?: Logger;
  /**
   * Changed keys this function does not apply itself (Prometheus connection, interval, namespaces,
   * listen address, cache capacity). Return the keys you applied; the rest are logged as needing a restart.
   */
  onChange?: (next: Config, prev: Config, keys: string[]) => string[] | undefined;
}

export interface ApplyResult {
  /** Keys (UPPER_SNAKE) whose value changed. */
  changed: string[];
  /** Changed keys now in effect. */
  applied: string[];
  /** Changed keys that take effect only after a restart. */
  restartRequired: string[];
}

const LIVE = new Set([
  'WVA_CACHE_TTL',
  'WVA_CACHE_FAILURE_TTL',
  'WVA_QUERY_WINDOW',
  'WVA_STALE_AFTER',
  'LOG_LEVEL',
]);

/** Keys (UPPER_SNAKE) whose effective value differs between the two configs. */
export function diffConfig(next: Config, prev: Config): string[] {
  return CONFIG_KEYS.filter((spec) => {
    const [section, field] = spec.path;
    const a = field === undefined ? next[section] : (next[section] as Record<string, unknown>)[field];
    const b = field === undefined ? prev[section] : (prev[section] as Record<string, unknown>)[field];
    return JSON.stringify(a) !== JSON.stringify(b);
  }).map((spec) => spec.key);
}

/** Applies `next` over `prev` to the running parts and counts the reload. Never throws. */
export function applyConfig(next: Config, prev: Config, parts: ConfigTargets): ApplyResult {
  const logger = parts.logger ?? silentLogger;
  const changed = diffConfig(next, prev);
  const applied: string[] = [];
  let failed = false;
  const attempt = (keys: string[], fn: () => void) => {
    try {
      fn();
      applied.push(...keys);
    } catch (err) {
      failed = true;
      logger.error({ err, keys }, 'could not apply configuration change');
    }
  };

  const has = (k: string) => changed.includes(k);
  if (parts.cache && (has('WVA_CACHE_TTL') || has('WVA_CACHE_FAILURE_TTL'))) {
    const cache = parts.cache;
    attempt(['WVA_CACHE_TTL', 'WVA_CACHE_FAILURE_TTL'].filter(has), () =>
      cache.setTtl(next.cache.ttlMs, next.cache.failureTtlMs),
    );
  }
  if (parts.collector && (has('WVA_QUERY_WINDOW') || has('WVA_STALE_AFTER'))) {
    const collector = parts.collector;
    attempt(['WVA_QUERY_WINDOW', 'WVA_STALE_AFTER'].filter(has), () =>
      collector.configure({ window: next.collector.window, staleAfterMs: next.collector.staleAfterMs }),
    );
  }
  if (parts.rootLogger && has('LOG_LEVEL')) {
    const root = parts.rootLogger;
    attempt(['LOG_LEVEL'], () => {
      root.level = next.logLevel;
    });
  }
  const others = changed.filter((k) => !LIVE.has(k));
  if (parts.onChange && others.length > 0) {
    const onChange = parts.onChange;
    let done: string[] = [];
    attempt([], () => {
      done = onChange(next, prev, others) ?? [];
    });
    applied.push(...done.filter((k) => others.includes(k)));
  }
  const restartRequired = others.filter((k) => !applied.includes(k));

  if (changed.length > 0) {
    logger.info(
      {
        changed,
        ttl: formatDuration(next.cache.ttlMs),
        failureTtl: formatDuration(next.cache.failureTtlMs),
        window: next.collector.window,
        logLevel: next.logLevel,
      },
      'configuration reloaded',
    );
  }
  if (restartRequired.length > 0) {
    logger.warn({ keys: restartRequired }, 'configuration changed; these keys take effect after a restart');
  }
  parts.telemetry?.configReloaded(failed ? 'error' : 'success');
  return { changed, applied, restartRequired };
}

/** A refused reload: logged one problem per line, counted; the previous configuration stays. */
export function reportReloadError(
  err: ConfigError,
  parts: Pick<ConfigTargets, 'logger' | 'telemetry'>,
): void {
  (parts.logger ?? silentLogger).error(
    { problems: err.problems },
    'configuration reload refused; previous configuration kept',
  );
  parts.telemetry?.configReloaded('error');
}
