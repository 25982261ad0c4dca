// Live reload, one path for every source: a ConfigReloader re-resolves all its sources (file,
// ConfigMap data, environment, flags) whenever one changes (a new ConfigMap version, a file event,
// SIGHUP), so precedence always holds and neither a file change nor a ConfigMap change undoes the
// other. A different valid Config is applied to the running parts; an invalid one is refused and the
// old one kept.
import { EventEmitter } from 'node:events';
import { type FSWatcher, statSync, watch } from 'node:fs';
import { dirname } from 'node:path';
import { formatDuration } from '../duration.js';
import type { Logger } from '../types.js';
import type { Config } from './keys.js';
import { ConfigError, type ConfigSources, diffConfig, logResolution, resolveConfig } from './load.js';

/** The running parts a reload reaches: the cache (TTLs), the collector (window, staleness), the root
 *  logger (level; its children follow), telemetry (counts reloads), and `onChange` for the changed
 *  keys no part takes live (LIVE below), which returns those it applied (the rest are logged as needing a restart). */
export interface ConfigTargets {
  cache?: { setTtl(ttlMs: number, failureTtlMs?: number): void };
  collector?: { configure(o: { window?: string; staleAfterMs?: number }): void };
  rootLogger?: { level: string };
  telemetry?: { configReloaded(outcome: 'success' | 'error'): void };
  logger?: Logger;
  onChange?: (next: Config, prev: Config, keys: string[]) => string[] | undefined;
}

/** Keys whose value changed, those now in effect, and those that need a restart. */
export type ApplyResult = { changed: string[]; applied: string[]; restartRequired: string[] };
type Outcome = 'changed' | 'unchanged' | 'error';

/** The keys each running part takes on reload; the other changed keys go to onChange, or need a restart. */
const LIVE = {
  cache: ['WVA_CACHE_TTL', 'WVA_CACHE_FAILURE_TTL'],
  collector: ['WVA_QUERY_WINDOW', 'WVA_STALE_AFTER'],
  rootLogger: ['LOG_LEVEL'],
};
const LIVE_KEYS = Object.values(LIVE).flat();

/** Applies `next` over `prev` to the running parts and counts the reload. Never throws. */
export function applyConfig(next: Config, prev: Config, parts: ConfigTargets): ApplyResult {
  const changed = diffConfig(next, prev);
  const others = changed.filter((k) => !LIVE_KEYS.includes(k));
  const applied: string[] = [];
  let failed = false;
  /** Runs `fn` for the changed ones among `keys`; it returns the keys it applied (not a list: all). */
  const take = (keys: string[], fn: () => unknown) => {
    const mine = keys.filter((k) => changed.includes(k));
    if (mine.length === 0) return;
    try {
      const done = fn();
      applied.push(...(Array.isArray(done) ? done : mine).filter((k) => mine.includes(k)));
    } catch (err) {
      failed = true;
      parts.logger?.error({ err, keys: mine }, 'could not apply configuration change');
    }
  };
  const { cache, collector, rootLogger, onChange } = parts;
  if (cache) take(LIVE.cache, () => cache.setTtl(next.cache.ttlMs, next.cache.failureTtlMs));
  if (collector) take(LIVE.collector, () => collector.configure({ ...next.collector }));
  if (rootLogger) take(LIVE.rootLogger, () => Object.assign(rootLogger, { level: next.logLevel }));
  if (onChange) take(others, () => onChange(next, prev, others) ?? []);
  const restartRequired = others.filter((k) => !applied.includes(k));
  if (changed.length > 0) {
    const [ttl, failureTtl] = [formatDuration(next.cache.ttlMs), formatDuration(next.cache.failureTtlMs)];
    const now = { ttl, failureTtl, window: next.collector.window, logLevel: next.logLevel };
    parts.logger?.info({ changed, ...now }, 'configuration reloaded');
  }
  const later = 'configuration changed; these keys take effect after a restart';
  if (restartRequired.length > 0) parts.logger?.warn({ keys: restartRequired }, later);
  parts.telemetry?.configReloaded(failed ? 'error' : 'success');
  return { changed, applied, restartRequired };
}

/** `change`: a valid, different configuration, applied; `error`: refused (once per distinct problem);
 *  `reloaded`: every re-read of the sources, whatever came of it. */
type Events = {
  change: [next: Config, prev: Config];
  error: [err: ConfigError, current: Config];
  reloaded: [outcome: Outcome];
};

/** Watching the config file: a re-read after `debounceMs` (default 200) of quiet following a file event,
 *  and every `pollMs` (default 30 s, 0 = never) in case a file system drops events. */
export type WatchOptions = { debounceMs?: number; pollMs?: number };

export class ConfigReloader extends EventEmitter<Events> {
  #config: Config;
  #sources: ConfigSources;
  #lastError: string | undefined;
  /** Unknown keys already warned about, so each is warned once per process. */
  readonly #warned = new Set<string>();
  readonly #targets: ConfigTargets;
  #fsWatcher: FSWatcher | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #poll: NodeJS.Timeout | undefined;

  /** `current`: the configuration in force (default: resolved from `sources`; throws ConfigError);
   *  `sources`: what reload() re-reads; `watch`: also reload when `sources.file` changes. */
  constructor(
    current: Config | undefined,
    targets: ConfigTargets = {},
    sources: ConfigSources = {},
    watch?: WatchOptions,
  ) {
    super();
    this.#config = current ?? resolveConfig(sources).config;
    this.#targets = targets;
    this.#sources = sources;
    if (watch && sources.file !== undefined) this.#watch(sources.file, watch);
  }

  get current(): Config {
    return this.#config;
  }

  /** Re-reads every source now (also what SIGHUP should call). */
  reload(): Outcome {
    let outcome: Outcome = 'error';
    try {
      const resolved = resolveConfig(this.#sources);
      if (this.#targets.logger) logResolution(resolved, this.#targets.logger, { warned: this.#warned });
      const before = this.#config;
      outcome = this.offer(resolved.config) === before ? 'unchanged' : 'changed';
    } catch (err) {
      this.offer(ConfigError.from(err));
    }
    this.emit('reloaded', outcome);
    return outcome;
  }

  /** Replaces some sources (new ConfigMap data from a watch, say) and reloads at once. */
  updateSources(patch: Omit<Partial<ConfigSources>, 'file' | 'logger'>): Outcome {
    this.#sources = { ...this.#sources, ...patch };
    return this.reload();
  }

  /** Offers a configuration already loaded (or the error loading it). Returns the one now in force. */
  offer(next: Config | ConfigError): Config {
    if (next instanceof ConfigError) {
      const key = next.problems.join('\n');
      if (key === this.#lastError) return this.#config;
      this.#lastError = key;
      this.#targets.telemetry?.configReloaded('error');
      if (this.listenerCount('error') > 0) this.emit('error', next, this.#config);
      else {
        const refused = 'configuration reload refused; previous configuration kept';
        this.#targets.logger?.error({ problems: next.problems }, refused);
      }
      return this.#config;
    }
    this.#lastError = undefined;
    if (JSON.stringify(next) === JSON.stringify(this.#config)) return this.#config;
    const prev = this.#config;
    this.#config = next;
    applyConfig(next, prev, this.#targets);
    this.emit('change', next, prev);
    return next;
  }

  /** Stops watching: releases the watch, the debounce and poll timers. */
  close(): void {
    this.#fsWatcher?.close();
    clearTimeout(this.#debounce);
    clearInterval(this.#poll);
  }

  // The directory is watched, not the file: editors replace files by rename, and Kubernetes updates a
  // mounted ConfigMap by swapping the `..data` symlink, neither of which a watch on the old inode sees.
  #watch(file: string, o: WatchOptions): void {
    const logger = this.#targets.logger;
    const dir = statSync(file, { throwIfNoEntry: false })?.isDirectory() ? file : dirname(file);
    const relying = 'relying on periodic re-reads';
    try {
      this.#fsWatcher = watch(dir, { persistent: false }, () => {
        clearTimeout(this.#debounce);
        this.#debounce = setTimeout(() => this.reload(), o.debounceMs ?? 200).unref();
      });
      this.#fsWatcher.on('error', (err) => {
        logger?.warn({ err, dir }, `config watch failed; ${relying}`);
        this.#fsWatcher?.close();
      });
    } catch (err) {
      logger?.warn({ err, dir }, `cannot watch the config directory; ${relying}`);
    }
    const pollMs = o.pollMs ?? 30_000;
    if (pollMs > 0) this.#poll = setInterval(() => this.reload(), pollMs).unref();
  }
}
