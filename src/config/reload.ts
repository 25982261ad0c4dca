// Live reload, one path for every source: a ConfigReloader re-resolves its sources (file, ConfigMap
// data, environment, flags) whenever one of them changes, so precedence always holds and neither
// a file change nor a ConfigMap change undoes the other; a different valid Config is applied to the
// running parts, an invalid one is refused (and the old one kept). ConfigWatcher is the same
// reloader, woken by the file system.
import { EventEmitter } from 'node:events';
import { type FSWatcher, statSync, watch } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../types.js';
import { formatDuration } from './duration.js';
import { CONFIG_KEYS, type Config } from './keys.js';
import { ConfigError, type ConfigSources, diffConfig, logResolution, resolveConfig } from './load.js';

/** The running parts a reload reaches: the cache (TTLs), the collector (window, staleness), the root
 *  logger (level; its children follow), telemetry (counts reloads), and `onChange` for the changed
 *  keys that are not `live`, which returns those it applied (the rest are logged as needing a restart). */
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

const LIVE = new Set(CONFIG_KEYS.filter((k) => k.live).map((k) => k.key));

/** Applies `next` over `prev` to the running parts and counts the reload. Never throws. */
export function applyConfig(next: Config, prev: Config, parts: ConfigTargets): ApplyResult {
  const changed = diffConfig(next, prev);
  const has = (k: string) => changed.includes(k);
  const applied: string[] = [];
  let failed = false;
  const attempt = (keys: string[], target: unknown, fn: () => void) => {
    if (!target || keys.length === 0) return;
    try {
      fn();
      applied.push(...keys);
    } catch (err) {
      failed = true;
      parts.logger?.error({ err, keys }, 'could not apply configuration change');
    }
  };
  attempt(['WVA_CACHE_TTL', 'WVA_CACHE_FAILURE_TTL'].filter(has), parts.cache, () =>
    parts.cache?.setTtl(next.cache.ttlMs, next.cache.failureTtlMs),
  );
  attempt(['WVA_QUERY_WINDOW', 'WVA_STALE_AFTER'].filter(has), parts.collector, () =>
    parts.collector?.configure({ window: next.collector.window, staleAfterMs: next.collector.staleAfterMs }),
  );
  attempt(['LOG_LEVEL'].filter(has), parts.rootLogger, () => {
    if (parts.rootLogger) parts.rootLogger.level = next.logLevel;
  });
  const others = changed.filter((k) => !LIVE.has(k));
  if (parts.onChange && others.length > 0) {
    try {
      applied.push(...(parts.onChange(next, prev, others) ?? []).filter((k) => others.includes(k)));
    } catch (err) {
      failed = true;
      parts.logger?.error({ err, keys: others }, 'could not apply configuration change');
    }
  }
  const restartRequired = others.filter((k) => !applied.includes(k));
  if (changed.length > 0) {
    const { cache, collector, logLevel } = next;
    const [ttl, failureTtl] = [formatDuration(cache.ttlMs), formatDuration(cache.failureTtlMs)];
    parts.logger?.info(
      { changed, ttl, failureTtl, window: collector.window, logLevel },
      'configuration reloaded',
    );
  }
  if (restartRequired.length > 0) {
    parts.logger?.warn(
      { keys: restartRequired },
      'configuration changed; these keys take effect after a restart',
    );
  }
  parts.telemetry?.configReloaded(failed ? 'error' : 'success');
  return { changed, applied, restartRequired };
}

/** `change`: a valid, different configuration, applied; `error`: refused (once per distinct problem);
 *  `reloaded`: every re-read of the sources, whatever came of it. */
type Events = {
  change: [next: Config, prev: Config];
  error: [err: ConfigError, current: Config];
  reloaded: [outcome: 'changed' | 'unchanged' | 'error'];
};

export class ConfigReloader extends EventEmitter<Events> {
  #config: Config;
  #sources: ConfigSources;
  #lastError: string | undefined;
  /** Unknown keys already warned about, so each is warned once per process. */
  readonly #warned = new Set<string>();
  protected readonly targets: ConfigTargets;

  /** `current`: the configuration in force; `sources`: what it was resolved from (reload() re-reads them). */
  constructor(current: Config, targets: ConfigTargets = {}, sources: ConfigSources = {}) {
    super();
    this.#config = current;
    this.targets = targets;
    this.#sources = { ...sources, logger: undefined };
  }

  get current(): Config {
    return this.#config;
  }

  /** Re-reads every source now (also what SIGHUP should call). */
  reload(): 'changed' | 'unchanged' | 'error' {
    try {
      const resolved = resolveConfig(this.#sources);
      if (this.targets.logger) logResolution(resolved, this.targets.logger, { warned: this.#warned });
      const before = this.#config;
      return this.#reloaded(this.offer(resolved.config) === before ? 'unchanged' : 'changed');
    } catch (err) {
      this.offer(err instanceof ConfigError ? err : new ConfigError([(err as Error).message]));
      return this.#reloaded('error');
    }
  }

  #reloaded<T extends 'changed' | 'unchanged' | 'error'>(outcome: T): T {
    this.emit('reloaded', outcome);
    return outcome;
  }

  /** Replaces some sources (new ConfigMap data from a watch, say) and reloads at once. */
  updateSources(patch: Omit<Partial<ConfigSources>, 'file' | 'logger'>): 'changed' | 'unchanged' | 'error' {
    this.#sources = { ...this.#sources, ...patch };
    return this.reload();
  }

  /** Offers a configuration already loaded (or the error loading it). Returns the one now in force. */
  offer(next: Config | ConfigError): Config {
    if (next instanceof ConfigError) {
      const key = next.problems.join('\n');
      if (key !== this.#lastError) {
        this.#lastError = key;
        this.#refused(next);
      }
      return this.#config;
    }
    this.#lastError = undefined;
    if (JSON.stringify(next) === JSON.stringify(this.#config)) return this.#config;
    const prev = this.#config;
    this.#config = next;
    applyConfig(next, prev, this.targets);
    this.emit('change', next, prev);
    return next;
  }

  #refused(err: ConfigError): void {
    this.targets.telemetry?.configReloaded('error');
    if (this.listenerCount('error') > 0) this.emit('error', err, this.#config);
    else
      this.targets.logger?.error(
        { problems: err.problems },
        'configuration reload refused; previous configuration kept',
      );
  }
}

/** `current` defaults to a load of `sources` (throws ConfigError); `debounceMs` (default 200) is the
 *  quiet time after a file event; `pollMs` (default 30 s, 0 = never) re-reads in case a file system
 *  drops events. */
export interface ConfigWatcherOptions {
  sources: ConfigSources & { file: string };
  current?: Config;
  debounceMs?: number;
  pollMs?: number;
  logger?: Logger;
}

/**
 * A ConfigReloader woken by changes to the config file. The directory is watched, not the file:
 * editors replace files by rename, and Kubernetes updates a mounted ConfigMap by swapping the `..data`
 * symlink, neither of which a watch on the old inode would see.
 */
export class ConfigWatcher extends ConfigReloader {
  #fsWatcher: FSWatcher | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #poll: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: ConfigWatcherOptions, targets: ConfigTargets = {}) {
    const logger = targets.logger ?? options.logger ?? options.sources.logger;
    const current = options.current ?? resolveConfig({ ...options.sources, logger: undefined }).config;
    super(current, { ...targets, logger }, options.sources);
    const debounceMs = options.debounceMs ?? 200;
    const file = options.sources.file;
    let dir = dirname(file);
    try {
      if (statSync(file).isDirectory()) dir = file; // a mounted ConfigMap directory
    } catch {
      // Not there yet: watch its directory; it may appear.
    }
    const onEvent = () => {
      if (this.#closed) return;
      clearTimeout(this.#debounce);
      this.#debounce = setTimeout(() => this.reload(), debounceMs).unref();
    };
    try {
      this.#fsWatcher = watch(dir, { persistent: false }, onEvent);
      this.#fsWatcher.on('error', (err) => {
        logger?.warn({ err, dir }, 'config watch failed; relying on periodic re-reads');
        this.#fsWatcher?.close();
      });
    } catch (err) {
      logger?.warn({ err, dir }, 'cannot watch the config directory; relying on periodic re-reads');
    }
    const pollMs = options.pollMs ?? 30_000;
    if (pollMs > 0) this.#poll = setInterval(() => this.reload(), pollMs).unref();
  }

  override reload(): 'changed' | 'unchanged' | 'error' {
    return this.#closed ? 'unchanged' : super.reload();
  }

  /** Stops watching; releases the watch, the debounce and poll timers. */
  close(): void {
    this.#closed = true;
    this.#fsWatcher?.close();
    clearTimeout(this.#debounce);
    clearInterval(this.#poll);
  }
}

/** The whole live-reload path for a config file; `onApplied` sees every applied change. */
export function watchConfig(
  options: ConfigWatcherOptions & { current: Config },
  parts: ConfigTargets,
  onApplied?: (next: Config) => void,
): ConfigWatcher {
  const watcher = new ConfigWatcher(options, parts);
  if (onApplied) watcher.on('change', (next) => onApplied(next));
  return watcher;
}
