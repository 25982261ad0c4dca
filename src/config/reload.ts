// Live reload, one path for every source: a ConfigReloader re-resolves all its sources (file,
// ConfigMap data, environment, flags) whenever one changes (a new ConfigMap version, a file event,
// SIGHUP), so precedence always holds and neither a file change nor a ConfigMap change undoes the
// other. A different valid Config goes to the `apply` hook; an invalid one is refused and the old
// one kept.
import { EventEmitter } from 'node:events';
import { type FSWatcher, statSync, watch } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../types.js';
import type { Config } from './keys.js';
import { ConfigError, type ConfigSources, logResolution, resolveConfig } from './load.js';

/** What a reload reaches: `apply` puts a different valid configuration into effect (it must not
 *  throw); `telemetry` counts refusals; `logger` hears of refusals and of unknown keys. */
export interface ReloadHooks {
  apply?: (next: Config, prev: Config) => void;
  telemetry?: { configReloaded(outcome: 'success' | 'error'): void };
  logger?: Logger;
}

type Outcome = 'changed' | 'unchanged' | 'error';

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
  readonly #hooks: ReloadHooks;
  #fsWatcher: FSWatcher | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #poll: NodeJS.Timeout | undefined;

  /** `current`: the configuration in force (default: resolved from `sources`; throws ConfigError);
   *  `sources`: what reload() re-reads; `watch`: also reload when `sources.file` changes. */
  constructor(
    current: Config | undefined,
    hooks: ReloadHooks = {},
    sources: ConfigSources = {},
    watch?: WatchOptions,
  ) {
    super();
    this.#config = current ?? resolveConfig(sources).config;
    this.#hooks = hooks;
    this.#sources = sources;
    if (watch && sources.file !== undefined) this.#watch(sources.file, watch);
  }

  get current(): Config {
    return this.#config;
  }

  /** Re-reads every source now (also what SIGHUP should call); a different valid result is applied. */
  reload(): Outcome {
    let outcome: Outcome = 'error';
    try {
      const resolved = resolveConfig(this.#sources);
      if (this.#hooks.logger) logResolution(resolved, this.#hooks.logger, { warned: this.#warned });
      this.#lastError = undefined;
      const [next, prev] = [resolved.config, this.#config];
      const same = JSON.stringify(next) === JSON.stringify(prev);
      if (!same) {
        this.#config = next;
        this.#hooks.apply?.(next, prev);
        this.emit('change', next, prev);
      }
      outcome = same ? 'unchanged' : 'changed';
    } catch (err) {
      this.#refuse(err instanceof ConfigError ? err : new ConfigError([(err as Error).message]));
    }
    this.emit('reloaded', outcome);
    return outcome;
  }

  /** Replaces some sources (new ConfigMap data from a watch, say) and reloads at once. */
  updateSources(patch: Omit<Partial<ConfigSources>, 'file' | 'logger'>): Outcome {
    this.#sources = { ...this.#sources, ...patch };
    return this.reload();
  }

  /** Reports a refused configuration once per distinct problem; the one in force stays. */
  #refuse(err: ConfigError): void {
    const key = err.problems.join('\n');
    if (key === this.#lastError) return;
    this.#lastError = key;
    this.#hooks.telemetry?.configReloaded('error');
    if (this.listenerCount('error') > 0) this.emit('error', err, this.#config);
    else {
      const refused = 'configuration reload refused; previous configuration kept';
      this.#hooks.logger?.error({ problems: err.problems }, refused);
    }
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
    const logger = this.#hooks.logger;
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
