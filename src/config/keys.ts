// The configuration as one table: each key once, with how its value is read (form and range), its
// default, its flag and its help. Keys are the upstream ConfigMap's (PROMETHEUS_*,
// GLOBAL_OPT_INTERVAL) plus ours (WVA_*, LOG_LEVEL); any key may come from the config file, the
// ConfigMap, the environment or a flag. To add a key: one entry here, one field in Config, one row
// in docs/configuration.md.
// The parts' own defaults are used where they have one, so each default is written once.
import { DEFAULT_MAX_ENTRIES } from '../cache/model-metrics-cache.js';
import { DEFAULT_STALE_AFTER_MS } from '../collector/availability.js';
import { DEFAULT_MAX_REPLY_BYTES, DEFAULT_TIMEOUT_MS } from '../prometheus/client.js';
import { DEFAULT_WINDOW } from '../prometheus/promql.js';
import { LOG_LEVELS, type LogLevel } from '../telemetry/logger.js';
import { parseListenAddress } from '../telemetry/server.js';
import { DURATION_HINT, formatDuration, parseDuration } from './duration.js';

export interface Config {
  prometheus: {
    url: string;
    bearerToken?: string;
    tokenPath?: string;
    caCertPath?: string;
    clientCertPath?: string;
    clientKeyPath?: string;
    serverName?: string;
    insecureSkipVerify: boolean;
    timeoutMs: number;
    maxReplyBytes: number;
    headers: Record<string, string>;
  };
  cache: { ttlMs: number; failureTtlMs: number; maxEntries: number };
  collector: { window: string; staleAfterMs: number };
  reconcile: {
    intervalMs: number;
    concurrency: number;
    stabilizationWindowMs: number;
    kvCacheThreshold: number;
    namespaces: string[];
  };
  telemetry: { address: string };
  /** metrics: publish wva_desired_replicas for an HPA or KEDA; scale: also patch Deployments' scale. */
  actuation: { mode: ActuatorMode; scaleToZero: boolean };
  logLevel: LogLevel;
}

export const ACTUATOR_MODES = ['metrics', 'scale'] as const;
export type ActuatorMode = (typeof ACTUATOR_MODES)[number];

/** A value that does not have the key's form or range; the message says what is allowed. */
export class ValueProblem extends Error {}

export interface ConfigKey {
  /** UPPER_SNAKE name in the file, the ConfigMap and the environment. */
  key: string;
  /** Where the value goes in Config. */
  path: readonly [keyof Config] | readonly [keyof Config, string];
  /** Long flag without dashes (none for secrets: flags show in `ps`), and its argument (`...>` repeats). */
  flag?: string;
  arg?: string;
  /** Masked in error messages. */
  secret?: boolean;
  /** Raw value (a string, or a YAML scalar) to the typed one; throws ValueProblem saying what is allowed. */
  parse: (raw: unknown) => unknown;
  /** When no source sets the key: a constant, or computed from the keys above it. */
  default?: unknown;
  /** The default as help shows it, when not the value itself. */
  defaultText?: string;
  help: string;
}

export const DAY_MS = 86_400_000;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** What node:http accepts in a header value: tab, visible ASCII, space, and Latin-1. */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const HEADERS_HINT = 'a JSON object of header names to string values, e.g. {"X-Scope-OrgID":"team-a"}';

function text(raw: unknown, what: string): string {
  if (typeof raw === 'string') return raw.trim();
  if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
  throw new ValueProblem(`must be ${what}, not ${Array.isArray(raw) ? 'a list' : typeof raw}`);
}

const asString = (what: string) => (raw: unknown) => text(raw, what);

function ms(raw: unknown): number {
  if (typeof raw === 'number') throw new ValueProblem(`has no unit; use ${DURATION_HINT}`);
  const s = text(raw, DURATION_HINT);
  try {
    return parseDuration(s);
  } catch (err) {
    throw new ValueProblem(`${(err as Error).message}; use ${DURATION_HINT}`);
  }
}

function inRange(n: number, min: number, max: number, show: (n: number) => string): number {
  if (n < min) throw new ValueProblem(`must be at least ${show(min)}`);
  if (n > max) throw new ValueProblem(`must be at most ${show(max)}`);
  return n;
}

const duration = (min: number, max: number) => (raw: unknown) => inRange(ms(raw), min, max, formatDuration);

const integer = (min: number, max: number) => (raw: unknown) => {
  const s = text(raw, 'a whole number');
  if (!/^\d+$/.test(s)) throw new ValueProblem('must be a whole number, e.g. 10000');
  return inRange(Number(s), min, max, String);
};

function fraction(raw: unknown): number {
  const s = text(raw, 'a number from 0 to 1');
  const n = Number(s);
  if (s === '' || !Number.isFinite(n) || n < 0 || n > 1)
    throw new ValueProblem('must be a number from 0 to 1, e.g. 0.9');
  return n;
}

/** The rate window, normalised to whole units so it is always valid PromQL range syntax (1.5m -> 1m30s). */
function asWindow(raw: unknown): string {
  const n = ms(raw);
  if (n < 1000 || n > DAY_MS) throw new ValueProblem('must be a duration of at least 1s and at most 1d');
  return formatDuration(n);
}

/** A string value (mapped by `map`) that must pass `ok`; else `message`. */
const checked =
  (what: string, ok: (s: string) => boolean, message: string, map = (s: string) => s) =>
  (raw: unknown) => {
    const s = map(text(raw, what));
    if (!ok(s)) throw new ValueProblem(message);
    return s;
  };

/** One of `values`, any case. */
const oneOf = <T extends string>(values: readonly T[], what: string, message: string) =>
  checked(
    what,
    (s) => (values as readonly string[]).includes(s),
    message,
    (s) => s.toLowerCase(),
  ) as (raw: unknown) => T;

function tryIt(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch {
    return false;
  }
}

// strconv.ParseBool's spellings, as the Go original reads this key.
const TRUE = ['true', 't', '1'];
const asFlagWord = oneOf([...TRUE, 'false', 'f', '0'], 'true or false', 'must be true or false');
const asBoolean = (raw: unknown) => (typeof raw === 'boolean' ? raw : TRUE.includes(asFlagWord(raw)));
const asUrl = checked(
  'a URL',
  (s) => URL.canParse(s) && /^https?:$/.test(new URL(s).protocol) && new URL(s).hostname !== '',
  'must be an http:// or https:// URL, e.g. https://prometheus:9090',
);
const asLogLevel = oneOf(LOG_LEVELS, 'a log level', `must be one of ${LOG_LEVELS.join(', ')}`);
const asAddress = checked(
  'a listen address',
  (s) => tryIt(() => parseListenAddress(s)),
  'must be :port, host:port or [ipv6]:port, e.g. :8080 or 127.0.0.1:9100',
);
const asToken = checked(
  'a token',
  (s) => !/\s/.test(s),
  'must be one token without spaces (no "Bearer " prefix)',
);
const asActuator = oneOf(
  ACTUATOR_MODES,
  'metrics or scale',
  'must be metrics (HPA/KEDA scale on wva_desired_replicas) or scale (patch Deployments)',
);

function asNamespaces(raw: unknown): string[] {
  const items = Array.isArray(raw)
    ? raw.map((v) => text(v, 'a namespace'))
    : text(raw, 'a list').split(/[\s,]+/);
  const names = [...new Set(items.map((s) => s.trim()).filter((s) => s !== ''))];
  const bad = names.filter((n) => !DNS_LABEL.test(n));
  if (bad.length === 0) return names;
  throw new ValueProblem(
    `${bad.map((b) => JSON.stringify(b)).join(', ')} ${bad.length === 1 ? 'is not a namespace name' : 'are not namespace names'}; use comma-separated DNS labels (a-z, 0-9, -), or empty for all`,
  );
}

/** `{"A":"b"}` (string or mapping), or a list of `Name: value` strings (repeated --prometheus-header). */
function asHeaders(raw: unknown): Record<string, string> {
  const bad = new ValueProblem(`must be ${HEADERS_HINT}`);
  let value: unknown = raw;
  if (typeof raw === 'string' && !tryIt(() => (value = JSON.parse(raw)))) throw bad;
  const out: Record<string, string> = {};
  if (Array.isArray(value)) {
    for (const item of value) {
      const m = typeof item === 'string' ? /^([^:]+):(.*)$/.exec(item) : null;
      if (!m) throw new ValueProblem('each header must be "Name: value"');
      out[m[1]!.trim()] = m[2]!.trim();
    }
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (typeof v !== 'string') throw bad;
      out[k] = v;
    }
  } else throw bad;
  for (const [name, v] of Object.entries(out)) {
    if (!HEADER_NAME.test(name)) throw new ValueProblem(`${JSON.stringify(name)} is not a header name`);
    // Node refuses such a value on every request (a TypeError per query), so refuse it here, at load.
    if (!HEADER_VALUE.test(v)) {
      throw new ValueProblem(
        `the value of ${JSON.stringify(name)} holds a character an HTTP header cannot carry (a control character such as a line break, or one above U+00FF)`,
      );
    }
  }
  return out;
}

/** Derived TTL: half the reconcile interval, at least 5 s (the upstream default 30 s at 60 s). */
export function derivedTtlMs(intervalMs: number): number {
  return Math.min(DAY_MS, Math.max(5000, Math.round(intervalMs / 2)));
}

/** One table entry: `flag` is the flag and its argument (`cache-ttl <duration>`), `path` a dotted path. */
function key(
  name: string,
  path: string,
  flag: string | undefined,
  parse: (raw: unknown) => unknown,
  value: ConfigKey['default'],
  help: string,
  more: Partial<ConfigKey> = {},
): ConfigKey {
  const [f, ...arg] = flag?.split(' ') ?? [];
  return {
    key: name,
    path: path.split('.') as unknown as ConfigKey['path'],
    parse,
    help,
    ...(f ? { flag: f } : {}),
    ...(arg.length > 0 ? { arg: arg.join(' ') } : {}),
    ...(value !== undefined ? { default: value } : {}),
    ...more,
  };
}
const NONE = { defaultText: 'none' };
const aFile = asString('a file path');

// biome-ignore format: the table reads best one key per entry
export const CONFIG_KEYS: readonly ConfigKey[] = [
  key('PROMETHEUS_BASE_URL', 'prometheus.url', 'prometheus-url <url>', asUrl, 'http://localhost:9090',
    'Prometheus (or Thanos querier) base URL, http:// or https://; a path prefix is kept.'),
  key('PROMETHEUS_TLS_INSECURE_SKIP_VERIFY', 'prometheus.insecureSkipVerify', 'insecure-skip-verify', asBoolean,
    false, "Skip verification of Prometheus' TLS certificate (development only)."),
  key('PROMETHEUS_CA_CERT_PATH', 'prometheus.caCertPath', 'prometheus-ca-cert <file>', aFile, undefined,
    "PEM file of the CA that signed Prometheus' certificate.", { defaultText: 'system CAs' }),
  key('PROMETHEUS_CLIENT_CERT_PATH', 'prometheus.clientCertPath', 'prometheus-client-cert <file>', aFile,
    undefined, 'Client certificate (PEM) for mutual TLS; needs PROMETHEUS_CLIENT_KEY_PATH.', NONE),
  key('PROMETHEUS_CLIENT_KEY_PATH', 'prometheus.clientKeyPath', 'prometheus-client-key <file>', aFile,
    undefined, 'Client private key (PEM) for mutual TLS; needs PROMETHEUS_CLIENT_CERT_PATH.', NONE),
  key('PROMETHEUS_SERVER_NAME', 'prometheus.serverName', 'prometheus-server-name <name>', asString('a host name'),
    undefined, 'Server name expected in the certificate (SNI).', { defaultText: 'host of the URL' }),
  key('PROMETHEUS_BEARER_TOKEN', 'prometheus.bearerToken', undefined, asToken, undefined,
    'Bearer token sent to Prometheus. Takes precedence over PROMETHEUS_TOKEN_PATH. No CLI flag (flags show in ps).',
    { ...NONE, secret: true }),
  key('PROMETHEUS_TOKEN_PATH', 'prometheus.tokenPath', 'prometheus-token-path <file>', aFile, undefined,
    'File holding the bearer token (e.g. a mounted service-account token); re-read when it changes.', NONE),
  key('WVA_PROMETHEUS_HEADERS', 'prometheus.headers', 'prometheus-header <name: value...>', asHeaders, {},
    'Extra HTTP headers for Prometheus, as a JSON object (flag: repeat `--prometheus-header "Name: value"`).',
    { ...NONE, secret: true }),
  key('WVA_PROMETHEUS_TIMEOUT', 'prometheus.timeoutMs', 'prometheus-timeout <duration>', duration(100, 600_000),
    DEFAULT_TIMEOUT_MS, 'Timeout of one Prometheus query (100ms to 10m).'),
  key('WVA_PROMETHEUS_MAX_REPLY_BYTES', 'prometheus.maxReplyBytes', 'prometheus-max-reply-bytes <bytes>',
    integer(64 * 1024, 1024 * 1024 * 1024), DEFAULT_MAX_REPLY_BYTES,
    'Largest Prometheus reply read (65536 to 1073741824 bytes); a larger one is refused. Each MiB of reply costs about 10 MiB of memory at its peak: raise the memory limit with it.'),
  key('GLOBAL_OPT_INTERVAL', 'reconcile.intervalMs', 'interval <duration>', duration(1000, DAY_MS), 60_000,
    'Reconcile interval (1s to 1d), as upstream.'),
  key('WVA_CACHE_TTL', 'cache.ttlMs', 'cache-ttl <duration>', duration(100, DAY_MS),
    (c: Config) => derivedTtlMs(c.reconcile.intervalMs),
    'How long collected metrics stay fresh (100ms to 1d). Applies to entries already cached on reload.',
    { defaultText: 'derived: half of GLOBAL_OPT_INTERVAL, at least 5s (30s for 60s)' }),
  key('WVA_CACHE_FAILURE_TTL', 'cache.failureTtlMs', 'cache-failure-ttl <duration>', duration(100, DAY_MS),
    (c: Config) => c.cache.ttlMs,
    'How long a failed collection is remembered (no new query before it ends); at most the cache TTL.',
    { defaultText: 'the cache TTL' }),
  key('WVA_CACHE_MAX_ENTRIES', 'cache.maxEntries', 'cache-max-entries <n>', integer(1, 10_000_000), DEFAULT_MAX_ENTRIES,
    'Cache capacity in model/namespace pairs (1 to 10000000); least recently used evicted beyond.'),
  key('WVA_QUERY_WINDOW', 'collector.window', 'window <duration>', asWindow, DEFAULT_WINDOW,
    'PromQL rate() window (1s to 1d). Keep it at least 4 scrape intervals.'),
  key('WVA_STALE_AFTER', 'collector.staleAfterMs', 'stale-after <duration>', duration(1000, 7 * DAY_MS), DEFAULT_STALE_AFTER_MS,
    'Metrics older than this are reported as MetricsStale (1s to 7d).'),
  key('WVA_RECONCILE_CONCURRENCY', 'reconcile.concurrency', 'concurrency <n>', integer(1, 1024), 4,
    'VariantAutoscalings reconciled at once (1 to 1024).'),
  key('WVA_STABILIZATION_WINDOW', 'reconcile.stabilizationWindowMs', 'stabilization-window <duration>',
    duration(0, DAY_MS), 300_000,
    'A scale-down is published only after the lower count was recommended for this long (0: at once); scale-up is immediate.'),
  key('WVA_KV_CACHE_THRESHOLD', 'reconcile.kvCacheThreshold', 'kv-cache-threshold <fraction>', fraction, 0.9,
    'No scale-down while KV-cache usage (0 to 1) is above this.'),
  key('WVA_WATCH_NAMESPACES', 'reconcile.namespaces', 'namespaces <list>', asNamespaces, [],
    'Comma-separated namespaces to watch; empty for all.', { defaultText: 'all namespaces' }),
  key('WVA_METRICS_ADDR', 'telemetry.address', 'metrics-addr <addr>', asAddress, ':8080',
    'Listen address of /metrics, /healthz, /readyz: `:8080`, `host:port`, `[::1]:port`.'),
  key('WVA_ACTUATOR', 'actuation.mode', 'actuator <mode>', asActuator, 'metrics',
    "metrics: publish wva_desired_replicas for an HPA or KEDA; scale: also patch each Deployment's scale subresource (never one an HPA targets). Needs a restart."),
  key('WVA_SCALE_TO_ZERO', 'actuation.scaleToZero', 'scale-to-zero', asBoolean, false,
    'Allow 0 replicas for models idle a whole retention period (per model: the model-scale-to-zero-config ConfigMap).'),
  key('LOG_LEVEL', 'logLevel', 'log-level <level>', asLogLevel, 'info',
    'debug, info, warn or error. At debug, one line per Prometheus query and per cached lookup of the library calls.'),
];

/** Constraints between keys, checked once every value has its form: [key to blame, problem or undefined]. */
export const CROSS_CHECKS: ReadonlyArray<(c: Config) => [string, string] | undefined> = [
  (c) =>
    c.cache.failureTtlMs > c.cache.ttlMs
      ? ['WVA_CACHE_FAILURE_TTL', `must not be longer than the cache TTL (${formatDuration(c.cache.ttlMs)})`]
      : undefined,
  ({ prometheus: p }) =>
    (p.clientCertPath === undefined) !== (p.clientKeyPath === undefined)
      ? [
          p.clientCertPath === undefined ? 'PROMETHEUS_CLIENT_CERT_PATH' : 'PROMETHEUS_CLIENT_KEY_PATH',
          'mutual TLS needs both PROMETHEUS_CLIENT_CERT_PATH and PROMETHEUS_CLIENT_KEY_PATH',
        ]
      : undefined,
];

/** Commander's attribute name for a flag: `cache-ttl` -> `cacheTtl`. */
export function optionName(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** The help's default: the text given, else the value as a user would write it. */
export function defaultShown(spec: ConfigKey): string {
  if (spec.defaultText !== undefined) return spec.defaultText;
  const d = spec.default;
  if (typeof d === 'number' && spec.arg === '<duration>') return formatDuration(d);
  return String(d);
}

export function getPath(config: object, spec: ConfigKey): unknown {
  const [section, field] = spec.path;
  const top = (config as Record<string, unknown>)[section];
  return field === undefined ? top : (top as Record<string, unknown>)[field];
}

export function setPath(config: object, spec: ConfigKey, value: unknown): void {
  const [section, field] = spec.path;
  if (field === undefined) (config as Record<string, unknown>)[section] = value;
  else ((config as Record<string, unknown>)[section] as Record<string, unknown>)[field] = value;
}
