// Watches the config file and reloads. The directory is watched, not the file: editors replace files
// by rename, and Kubernetes updates a mounted ConfigMap by swapping the `..data` symlink, neither of
// which a watch on the old file inode would see. Events are debounced; every reload re-reads all
// sources (file, env, flags) so precedence holds, and only a different effective Config is a change.
import { EventEmitter } from 'node:events';
import { type FSWatcher, statSync, watch } from 'node:fs';
import { dirname } from 'node:path';
import { silentLogger } from '../telemetry/logger.js';
import type { Logger } from '../types.js';
import { type ApplyResult, applyConfig, type ConfigTargets, reportReloadError } from './apply.js';
import { ConfigError, type ConfigSources, loadConfig, resolveConfig } from './load.js';
import type { Config } from './schema.js';

export interface ConfigWatcherOptions {
  /** The same sources as at start; `file` is required (it is what is watched). */
  sources: ConfigSources & { file: string };
  /** The configuration in force; default: loaded now from `sources` (throws ConfigError). */
  current?: Config;
  /** Quiet time after the last file event before reloading. Default 200 ms. */
  debounceMs?: number;
  /** Also re-read on this period, in case a file system drops events; 0 = never. Default 30 s. */
  pollMs?: number;
  logger?: Logger;
}

type Events = {
  /** A valid, different configuration: `next` is now `current`. */
  change: [next: Config, prev: Config];
  /** The file changed to something invalid (or unreadable); `current` stays. Emitted once per distinct problem. */
  error: [err: ConfigError, current: Config];
};

export class ConfigWatcher extends EventEmitter<Events> {
  private config: Config;
  private sources: ConfigSources & { file: string };
  private readonly debounceMs: number;
  private readonly logger: Logger;
  private fsWatcher: FSWatcher | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;
  private lastError: string | undefined;
  private closed = false;

  constructor(options: ConfigWatcherOptions) {
    super();
    this.sources = options.sources;
    this.config = options.current ?? loadConfig({ ...options.sources, logger: undefined });
    this.debounceMs = options.debounceMs ?? 200;
    this.logger = options.logger ?? options.sources.logger ?? silentLogger;
    this.startWatch();
    const pollMs = options.pollMs ?? 30_000;
    if (pollMs > 0) {
      this.poll = setInterval(() => this.reload(), pollMs);
      this.poll.unref();
    }
  }

  get current(): Config {
    return this.config;
  }

  /**
   * Re-reads the sources now (also what SIGHUP should call). Emits 'change' or 'error' as due.
   * Returns what happened.
   */
  reload(): 'changed' | 'unchanged' | 'error' {
    if (this.closed) return 'unchanged';
    let next: Config;
    let derived: string[];
    try {
      ({ config: next, derived } = resolveConfig({ ...this.sources, logger: undefined }));
    } catch (err) {
      const error = err instanceof ConfigError ? err : new ConfigError([(err as Error).message]);
      const key = error.problems.join('\n');
      if (key === this.lastError) return 'error';
      this.lastError = key;
      if (this.listenerCount('error') > 0) this.emit('error', error, this.config);
      else
        this.logger.error(
          { problems: error.problems },
          'configuration reload refused; previous configuration kept',
        );
      return 'error';
    }
    this.lastError = undefined;
    if (JSON.stringify(next) === JSON.stringify(this.config)) return 'unchanged';
    const prev = this.config;
    this.config = next;
    if (derived.includes('WVA_CACHE_TTL')) {
      this.logger.info(
        { ttlMs: next.cache.ttlMs },
        'WVA_CACHE_TTL not set: derived from the reconcile interval',
      );
    }
    this.emit('change', next, prev);
    return 'changed';
  }

  /**
   * Replaces some of the non-file sources (e.g. new ConfigMap data from a Kubernetes watch) and reloads
   * at once, so the file and the ConfigMap feed one reload path and neither reverts the other.
   */
  updateSources(patch: Omit<Partial<ConfigSources>, 'file' | 'logger'>): 'changed' | 'unchanged' | 'error' {
    this.sources = { ...this.sources, ...patch };
    return this.reload();
  }

  /** Stops watching; releases the watch, the debounce and poll timers. */
  close(): void {
    this.closed = true;
    this.fsWatcher?.close();
    this.fsWatcher = undefined;
    clearTimeout(this.debounce);
    clearInterval(this.poll);
  }

  private startWatch(): void {
    const file = this.sources.file;
    let dir = dirname(file);
    try {
      if (statSync(file).isDirectory()) dir = file; // a mounted ConfigMap directory
    } catch {
      // Not there yet: watch its directory; it may appear.
    }
    try {
      this.fsWatcher = watch(dir, { persistent: false }, () => this.schedule());
      this.fsWatcher.on('error', (err) => {
        this.logger.warn({ err, dir }, 'config watch failed; relying on periodic re-reads');
        this.fsWatcher?.close();
        this.fsWatcher = undefined;
      });
    } catch (err) {
      this.logger.warn({ err, dir }, 'cannot watch the config directory; relying on periodic re-reads');
    }
  }

  private schedule(): void {
    if (this.closed) return;
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => this.reload(), this.debounceMs);
    this.debounce.unref();
  }
}

export interface WatchConfigOptions extends Omit<ConfigWatcherOptions, 'current'> {
  current: Config;
}

/**
 * The whole live-reload path for a config file: watch, apply each valid change to the running parts,
 * log and count refused ones (old config kept). `onApplied` sees every applied change.
 */
export function watchConfig(
  options: WatchConfigOptions,
  parts: ConfigTargets,
  onApplied?: (next: Config, result: ApplyResult) => void,
): ConfigWatcher {
  const watcher = new ConfigWatcher({ logger: parts.logger, ...options });
  watcher.on('change', (next, prev) => {
    const result = applyConfig(next, prev, parts);
    onApplied?.(next, result);
  });
  watcher.on('error', (err) => reportReloadError(err, parts));
  return watcher;
}

/**
 * The same path for ConfigMap data arriving from a Kubernetes watch: validates, applies or refuses.
 * Keep one per process; `current` is the configuration in force.
 */
export class ConfigReloader {
  private config: Config;
  constructor(
    current: Config,
    private readonly parts: ConfigTargets,
  ) {
    this.config = current;
  }

  get current(): Config {
    return this.config;
  }

  /** Offer a freshly loaded config (or the error loading it). Returns the config now in force. */
  offer(next: Config | ConfigError): Config {
    if (next instanceof ConfigError) {
      reportReloadError(next, this.parts);
      return this.config;
    }
    if (JSON.stringify(next) === JSON.stringify(this.config)) return this.config;
    const prev = this.config;
    this.config = next;
    applyConfig(next, prev, this.parts);
    return next;
  }
}
