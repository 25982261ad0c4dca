// One validated Config from layered sources: defaults < config file < ConfigMap data < environment
// < CLI flags. Every problem is collected (not just the first) and reported one line each:
// the key as the user wrote it, the value (secrets masked), where it came from, what is allowed.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Logger } from '../types.js';
import { formatDuration } from './duration.js';
import {
  CONFIG_KEYS,
  type Config,
  type ConfigKey,
  ConfigSchema,
  DEFAULTS,
  derivedTtlMs,
  optionName,
  UPSTREAM_IGNORED_KEYS,
  ValueProblem,
} from './schema.js';

export interface ConfigSources {
  /**
   * A config file: YAML or JSON mapping of flat keys (`WVA_CACHE_TTL: 15s`), or a whole ConfigMap
   * manifest (its `data` is used), or a directory of one file per key (a mounted ConfigMap volume).
   */
  file?: string;
  /** ConfigMap `data`, e.g. from a Kubernetes watch. Above the file, below the environment. */
  configMapData?: Record<string, string>;
  /** Only the known keys are read. Default: none (pass process.env explicitly). */
  env?: NodeJS.ProcessEnv;
  /** Commander's parsed options (`cmd.opts()`); only the config flags are read. */
  flags?: Record<string, unknown>;
  /** Told about the derived TTL and unknown keys. */
  logger?: Logger;
}

/** Refused configuration: one line per problem (key, value, source, what is allowed). */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
    this.problems = problems;
  }
}

/** For the CLI: a heading and one indented line per problem. */
export function formatConfigError(err: ConfigError): string {
  const n = err.problems.length;
  return [
    `invalid configuration (${n} problem${n === 1 ? '' : 's'}):`,
    ...err.problems.map((p) => `  ${p}`),
  ].join('\n');
}

export interface ResolvedConfig {
  config: Config;
  /** Where each key's value came from ('default', 'derived', 'file <path>', 'ConfigMap', 'env', 'flag'). */
  origins: Record<string, string>;
  /** Keys computed from others because they were not set (WVA_CACHE_TTL, WVA_CACHE_FAILURE_TTL). */
  derived: string[];
  /** Keys in the file/ConfigMap that look like ours but are unknown (typos?). */
  unknownKeys: string[];
}

interface RawValue {
  raw: unknown;
  origin: string;
  /** The name the user wrote: the key, or `--flag`. */
  label: string;
}

const KNOWN = new Map(CONFIG_KEYS.map((k) => [k.key, k]));

/** Loads, validates and logs (derived TTL, unknown keys). Throws ConfigError. */
export function loadConfig(sources: ConfigSources = {}): Config {
  const resolved = resolveConfig(sources);
  logResolution(resolved, sources.logger);
  return resolved.config;
}

/** Like loadConfig but returns the error instead of throwing (live reloads). */
export function tryLoadConfig(sources: ConfigSources): Config | ConfigError {
  try {
    return loadConfig(sources);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    return new ConfigError([(err as Error).message]);
  }
}

/**
 * Raw ConfigMap `data` (from a Kubernetes watch) to a Config, with the same environment and flags on top
 * as at start. Returns the ConfigError instead of throwing.
 */
export function configFromData(
  data: Record<string, string>,
  base: Omit<ConfigSources, 'configMapData'> = {},
): Config | ConfigError {
  return tryLoadConfig({ ...base, configMapData: data });
}

function logResolution(resolved: ResolvedConfig, logger: Logger | undefined): void {
  if (!logger) return;
  const { config } = resolved;
  if (resolved.derived.includes('WVA_CACHE_TTL')) {
    logger.info(
      {
        ttl: formatDuration(config.cache.ttlMs),
        interval: formatDuration(config.reconcile.intervalMs),
      },
      'WVA_CACHE_TTL not set: cache TTL derived from the reconcile interval (half of it, at least 5s)',
    );
  }
  for (const key of resolved.unknownKeys) {
    logger.warn({ key }, 'unknown configuration key ignored (a typo?)');
  }
}

/** The full resolution, with origins. Throws ConfigError. */
export function resolveConfig(sources: ConfigSources = {}): ResolvedConfig {
  const problems: string[] = [];
  const unknownKeys: string[] = [];
  const layers: Array<Map<string, RawValue>> = [];

  if (sources.file !== undefined) {
    const origin = `file ${basename(sources.file)}`;
    try {
      layers.push(dataLayer(readConfigFile(sources.file), origin, unknownKeys));
    } catch (err) {
      problems.push(`config file ${sources.file}: ${(err as Error).message}`);
    }
  }
  if (sources.configMapData) layers.push(dataLayer(sources.configMapData, 'ConfigMap', unknownKeys));
  if (sources.env) {
    const env = new Map<string, RawValue>();
    for (const spec of CONFIG_KEYS) {
      const raw = sources.env[spec.key];
      if (isSet(raw)) env.set(spec.key, { raw, origin: 'env', label: spec.key });
    }
    layers.push(env);
  }
  if (sources.flags) {
    const flags = new Map<string, RawValue>();
    for (const spec of CONFIG_KEYS) {
      if (!spec.flag) continue;
      const raw = sources.flags[optionName(spec.flag)];
      if (isSet(raw)) flags.set(spec.key, { raw, origin: 'flag', label: `--${spec.flag}` });
    }
    layers.push(flags);
  }

  // The highest layer that sets a key wins; only the winning value is checked.
  const chosen = new Map<string, RawValue>();
  for (const layer of layers) for (const [key, value] of layer) chosen.set(key, value);

  const draft = structuredClone(DEFAULTS) as Record<string, unknown>;
  const origins: Record<string, string> = {};
  for (const spec of CONFIG_KEYS) {
    const value = chosen.get(spec.key);
    if (!value) {
      origins[spec.key] = 'default';
      continue;
    }
    origins[spec.key] = value.origin;
    try {
      setPath(draft, spec, spec.parse(value.raw));
    } catch (err) {
      if (!(err instanceof ValueProblem)) throw err;
      problems.push(problemLine(spec, value, err.message));
    }
  }

  const derived: string[] = [];
  const cache = draft.cache as Record<string, unknown>;
  const reconcile = draft.reconcile as Record<string, unknown>;
  if (cache.ttlMs === undefined && typeof reconcile.intervalMs === 'number') {
    cache.ttlMs = derivedTtlMs(reconcile.intervalMs);
    derived.push('WVA_CACHE_TTL');
    origins.WVA_CACHE_TTL = 'derived';
  }
  if (cache.failureTtlMs === undefined && cache.ttlMs !== undefined) {
    cache.failureTtlMs = cache.ttlMs;
    derived.push('WVA_CACHE_FAILURE_TTL');
    origins.WVA_CACHE_FAILURE_TTL = 'derived';
  }

  // Constraints (ranges, pairs) only once every value had the right form: one report, no cascades.
  if (problems.length === 0) {
    const result = ConfigSchema.safeParse(draft);
    if (result.success) return { config: result.data, origins, derived, unknownKeys };
    const issues = result.error.issues.map((issue) => ({ issue, spec: specForPath(issue.path) }));
    // A derived value (failure TTL = TTL) fails only because its source did: report the source alone.
    const primary = issues.filter(({ spec }) => !spec || origins[spec.key] !== 'derived');
    for (const { issue, spec } of primary.length > 0 ? primary : issues) {
      if (!spec) {
        problems.push(`${issue.path.join('.')}: ${issue.message}`);
        continue;
      }
      let message = issue.message;
      if (spec.key === 'WVA_CACHE_FAILURE_TTL' && origins.WVA_CACHE_TTL === 'derived') {
        message += ', derived from GLOBAL_OPT_INTERVAL; set WVA_CACHE_TTL or a shorter failure TTL';
      }
      const value = chosen.get(spec.key);
      const current = getPath(draft, spec);
      if (value) problems.push(problemLine(spec, value, message));
      else if (current === undefined) problems.push(`${spec.key} is not set: ${message}`);
      else {
        const origin = origins[spec.key] ?? 'default';
        problems.push(problemLine(spec, { raw: formatValue(current), origin, label: spec.key }, message));
      }
    }
  }
  throw new ConfigError(problems);
}

function isSet(raw: unknown): boolean {
  // Empty strings count as unset, so `PROMETHEUS_BEARER_TOKEN=""` means no token, not a bad one.
  if (raw === undefined || raw === null) return false;
  if (typeof raw === 'string') return raw.trim() !== '';
  if (Array.isArray(raw)) return raw.length > 0;
  return true;
}

function dataLayer(
  data: Record<string, unknown>,
  origin: string,
  unknownKeys: string[],
): Map<string, RawValue> {
  const layer = new Map<string, RawValue>();
  for (const [key, raw] of Object.entries(data)) {
    if (KNOWN.has(key)) {
      if (isSet(raw)) layer.set(key, { raw, origin, label: key });
    } else if (!UPSTREAM_IGNORED_KEYS.includes(key) && /^(WVA_|PROMETHEUS_|GLOBAL_|LOG_)/.test(key)) {
      if (!unknownKeys.includes(key)) unknownKeys.push(key);
    }
  }
  return layer;
}

/** Reads a config file (YAML/JSON, flat mapping or ConfigMap manifest) or a mounted ConfigMap directory. */
export function readConfigFile(path: string): Record<string, unknown> {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (err) {
    throw new Error(describeFsError(err));
  }
  if (isDir) {
    const data: Record<string, unknown> = {};
    // A mounted ConfigMap: one file per key, next to `..data` and timestamped dirs (skipped: dot names).
    for (const name of readdirSync(path)) {
      if (name.startsWith('.') || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) continue;
      const file = join(path, name);
      try {
        if (statSync(file).isFile()) data[name] = readFileSync(file, 'utf8').replace(/\s+$/, '');
      } catch {
        // Vanished between readdir and read (a ConfigMap swap in progress); the watcher reloads again.
      }
    }
    return data;
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(describeFsError(err));
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new Error(`not valid YAML or JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new Error('must be a mapping of keys to values, e.g. "WVA_CACHE_TTL: 15s"');
  }
  const obj = doc as Record<string, unknown>;
  if (obj.kind === 'ConfigMap') {
    const data = obj.data ?? {};
    if (typeof data !== 'object' || data === null || Array.isArray(data))
      throw new Error('ConfigMap data must be a mapping');
    return data as Record<string, unknown>;
  }
  return obj;
}

function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  return (err as Error).message;
}

function setPath(draft: Record<string, unknown>, spec: ConfigKey, value: unknown): void {
  const [section, field] = spec.path;
  if (field === undefined) draft[section] = value;
  else (draft[section] as Record<string, unknown>)[field] = value;
}

function getPath(draft: Record<string, unknown>, spec: ConfigKey): unknown {
  const [section, field] = spec.path;
  return field === undefined ? draft[section] : (draft[section] as Record<string, unknown>)[field];
}

function specForPath(path: ReadonlyArray<PropertyKey>): ConfigKey | undefined {
  return CONFIG_KEYS.find((k) => k.path.every((p, i) => path[i] === p));
}

function formatValue(value: unknown): string {
  return typeof value === 'number' ? formatDuration(value) : String(value);
}

function problemLine(spec: ConfigKey, value: RawValue, message: string): string {
  return `${value.label}=${showValue(spec, value.raw)} (${value.origin}): ${message}`;
}

/** The value as the user wrote it; secrets (and passwords in URLs) masked. */
export function showValue(spec: Pick<ConfigKey, 'secret'>, raw: unknown): string {
  if (spec.secret) return '"[redacted]"';
  let shown = typeof raw === 'string' ? raw : JSON.stringify(raw);
  shown = shown.replace(/(:\/\/[^/@:\s]*:)[^/@\s]*@/, '$1[redacted]@');
  if (shown.length > 80) shown = `${shown.slice(0, 77)}...`;
  return JSON.stringify(shown);
}
