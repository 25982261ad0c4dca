// One validated Config from layered sources: defaults < config file < ConfigMap data < environment
// < CLI flags. Each key is read once, by its entry in the table (keys.ts); every problem is reported
// (not just the first), one line each: the key as the user wrote it, the value (secrets masked),
// where it came from, what is allowed.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { closest, distance } from 'fastest-levenshtein';
import { parse as parseYaml } from 'yaml';
import { formatDuration } from '../duration.js';
import type { Logger } from '../types.js';
import {
  CONFIG_KEYS,
  type Config,
  type ConfigKey,
  crossCheck,
  optionName,
  slot,
  ValueProblem,
} from './keys.js';
import { expandHelmConfig, HELM_CONFIG_KEY, NOT_APPLIED, type NotApplied, notApplied } from './upstream.js';

/** Layers, lowest first. `file`: a YAML/JSON mapping of keys, a ConfigMap manifest, or a mounted
 *  ConfigMap directory; `env`: pass process.env explicitly; `flags`: commander's parsed options. */
export interface ConfigSources {
  file?: string;
  configMapData?: Record<string, string>;
  env?: NodeJS.ProcessEnv;
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

/** A key in the file (`origin`: `file <name>`) or ConfigMap that looks like ours; `nearest` is the known one. */
export type UnknownKey = { key: string; origin: string; nearest: string };

export interface ResolvedConfig {
  config: Config;
  /** Per key: 'default', 'derived', 'file <name>', 'ConfigMap', 'env' or 'flag'. */
  origins: Record<string, string>;
  /** Keys computed from others because no source set them. */
  derived: string[];
  unknown: UnknownKey[];
  /** Upstream keys set in a source that this controller does not apply, and why. */
  notApplied: NotApplied[];
}

/** A value as found; `label` is the name the user wrote (the key, an alias, or `--flag`); `parse`
 *  the form of that name. */
type RawValue = { raw: unknown; origin: string; label: string; parse: (raw: unknown) => unknown };

const KNOWN = new Map(CONFIG_KEYS.map((k) => [k.key, k]));
/** Every name read: keys, their aliases, and upstream's keys that are named rather than applied. */
const READ = new Set([
  ...KNOWN.keys(),
  ...CONFIG_KEYS.flatMap((k) => (k.aliases ?? []).map((a) => a.key)),
  ...Object.keys(NOT_APPLIED),
]);

/** Loads, validates and logs (derived TTL, unknown keys) to `sources.logger`. Throws ConfigError. */
export function loadConfig(sources: ConfigSources = {}): Config {
  const resolved = resolveConfig(sources);
  if (sources.logger) logResolution(resolved, sources.logger);
  return resolved.config;
}

/**
 * Logs what the user should know about a resolution: the derived TTL, and each unknown key with the
 * known one nearest to it. `warned` (kept by a reloader) makes that once per key per process;
 * `derivedTtl: false` leaves the TTL out (a one-shot command keeps no cache).
 */
export function logResolution(
  resolved: ResolvedConfig,
  logger: Logger,
  o: { warned?: Set<string>; derivedTtl?: boolean } = {},
): void {
  const { config } = resolved;
  if (o.derivedTtl !== false && resolved.derived.includes('WVA_CACHE_TTL')) {
    logger.info(
      { ttl: formatDuration(config.cache.ttlMs), interval: formatDuration(config.reconcile.intervalMs) },
      'WVA_CACHE_TTL not set: cache TTL derived from the reconcile interval (half of it, at least 5s)',
    );
  }
  for (const n of resolved.notApplied) {
    if (o.warned?.has(n.key)) continue;
    o.warned?.add(n.key);
    logger.warn(n, `configuration key ${n.key} in ${n.origin} is not applied: ${n.reason}`);
  }
  for (const u of resolved.unknown) {
    if (o.warned?.has(u.key)) continue;
    o.warned?.add(u.key);
    logger.warn(u, `unknown configuration key ${u.key} in ${u.origin} ignored; did you mean ${u.nearest}?`);
  }
}

// Empty strings count as unset, so `PROMETHEUS_BEARER_TOKEN=""` means no token, not a bad one.
const isSet = (raw: unknown) =>
  raw !== undefined &&
  raw !== null &&
  (typeof raw === 'string' ? raw.trim() !== '' : !Array.isArray(raw) || raw.length > 0);

/** The full resolution, with origins. Throws ConfigError. */
export function resolveConfig(sources: ConfigSources = {}): ResolvedConfig {
  const problems: string[] = [];
  const data: Array<[Record<string, unknown>, string]> = [];
  if (sources.file !== undefined) {
    try {
      data.push([readConfigFile(sources.file), `file ${basename(sources.file)}`]);
    } catch (err) {
      problems.push(`config file ${sources.file}: ${(err as Error).message}`);
    }
  }
  if (sources.configMapData) {
    try {
      data.push([expandHelmConfig(sources.configMapData), 'ConfigMap']);
    } catch (err) {
      problems.push(`ConfigMap: ${(err as Error).message}`);
    }
  }
  const { env, flags } = sources;
  /** The highest layer that sets the key (flags > env > ConfigMap > file); only its value is read. */
  const chosen = (spec: ConfigKey): RawValue | undefined => {
    const names = [{ key: spec.key, parse: spec.parse }, ...(spec.aliases ?? [])];
    /** In one layer: the key's own name first, then its aliases. */
    const inLayer = (d: Record<string, unknown> | undefined, origin: string): RawValue | undefined => {
      const name = names.find((n) => isSet(d?.[n.key]));
      return name && { raw: d?.[name.key], origin, label: name.key, parse: name.parse ?? spec.parse };
    };
    const flag = spec.flag && flags?.[optionName(spec.flag)];
    if (isSet(flag)) return { raw: flag, origin: 'flag', label: `--${spec.flag}`, parse: spec.parse };
    for (const [d, origin] of [[env, 'env'] as const, ...[...data].reverse()]) {
      const found = inLayer(d as Record<string, unknown> | undefined, origin);
      if (found) return found;
    }
    return undefined;
  };

  const config = Object.fromEntries(CONFIG_KEYS.map(({ path: [section] }) => [section, {}])) as Config;
  const origins: Record<string, string> = {};
  const values = new Map<string, RawValue>();
  for (const spec of CONFIG_KEYS) {
    const value = chosen(spec);
    const [at, field] = slot(config, spec);
    if (value) {
      values.set(spec.key, value);
      origins[spec.key] = value.origin;
      try {
        at[field] = value.parse(value.raw);
      } catch (err) {
        if (!(err instanceof ValueProblem)) throw err;
        problems.push(problemLine(spec, value, err.message));
      }
    } else if (typeof spec.default === 'function') {
      origins[spec.key] = 'derived';
      at[field] = spec.default(config);
    } else {
      origins[spec.key] = 'default';
      if (spec.default !== undefined) at[field] = structuredClone(spec.default);
    }
  }
  // Constraints between keys only once every value has its form: one report, no cascades.
  for (const [key, message] of problems.length === 0
    ? crossCheck(config, (k) => origins[k] === 'derived')
    : []) {
    const value = values.get(key);
    problems.push(value ? problemLine(KNOWN.get(key)!, value, message) : `${key} is not set: ${message}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  // Keys of another program sharing the ConfigMap are not ours to judge; ours, or near misses, are.
  const unknown: UnknownKey[] = [];
  for (const [d, origin] of data) {
    for (const key of Object.keys(d)) {
      if (READ.has(key) || unknown.some((u) => u.key === key)) continue;
      const nearest = closest(key, [...READ]);
      if (/^(WVA_|PROMETHEUS_|GLOBAL_|LOG_)/.test(key) || distance(key, nearest) <= 3) {
        unknown.push({ key, origin, nearest });
      }
    }
  }
  const derived = Object.keys(origins).filter((k) => origins[k] === 'derived');
  const layers: Array<[Record<string, unknown> | undefined, string]> = [[env, 'env'], ...data];
  return { config, origins, derived, unknown, notApplied: notApplied(layers) };
}

/** Every key at its default: the one place the defaults of the table are turned into a Config. */
export const DEFAULT_CONFIG: Readonly<Config> = Object.freeze(resolveConfig({}).config);

/** Reads a config file (YAML/JSON, flat mapping or ConfigMap manifest) or a mounted ConfigMap directory. */
function readConfigFile(path: string): Record<string, unknown> {
  let doc: unknown;
  try {
    if (statSync(path).isDirectory()) return readMountedConfigMap(path);
    doc = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error('no such file');
    if (code === 'EACCES') throw new Error('permission denied');
    throw new Error(`not valid YAML or JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new Error('must be a mapping of keys to values, e.g. "WVA_CACHE_TTL: 15s"');
  }
  const obj = doc as Record<string, unknown>;
  if (obj.kind !== 'ConfigMap') return obj;
  const data = obj.data ?? {};
  if (typeof data !== 'object' || Array.isArray(data)) throw new Error('ConfigMap data must be a mapping');
  return expandHelmConfig(data as Record<string, unknown>);
}

/** One file per key, next to `..data` and timestamped directories (skipped: dot names). */
function readMountedConfigMap(dir: string): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const name of readdirSync(dir)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && name !== HELM_CONFIG_KEY) continue;
    try {
      const f = join(dir, name);
      if (statSync(f).isFile()) data[name] = readFileSync(f, 'utf8').replace(/\s+$/, '');
    } catch {
      // Vanished between readdir and read (a ConfigMap swap in progress); the next reload sees it.
    }
  }
  return expandHelmConfig(data);
}

/** Keys (UPPER_SNAKE) whose effective value differs between the two configs. */
export function diffConfig(next: Config, prev: Config): string[] {
  const value = (c: Config, s: ConfigKey) => {
    const [at, field] = slot(c, s);
    return JSON.stringify(at[field]);
  };
  const differs = (s: ConfigKey) => value(next, s) !== value(prev, s);
  return CONFIG_KEYS.filter(differs).map((s) => s.key);
}

/** `label="value" (origin): message`, the value as the user wrote it; secrets (and passwords in URLs) masked. */
function problemLine(spec: ConfigKey, { raw, origin, label }: RawValue, message: string): string {
  const written = typeof raw === 'string' ? raw : JSON.stringify(raw);
  let shown = written.replace(/(:\/\/[^/@:\s]*:)[^/@\s]*@/, '$1[redacted]@');
  if (shown.length > 80) shown = `${shown.slice(0, 77)}...`;
  return `${label}=${spec.secret ? '"[redacted]"' : JSON.stringify(shown)} (${origin}): ${message}`;
}
