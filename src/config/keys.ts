// The configuration as one table: each key once, with how its value is read (form and range), its
// default, its flag and its help; the Config type is derived from it. Keys are the upstream
// ConfigMap's (PROMETHEUS_*, GLOBAL_OPT_INTERVAL) plus ours (WVA_*, LOG_LEVEL); any key may come from
// the config file, the ConfigMap, the environment or a flag. To add a key: one entry here, one row in
// docs/configuration.md. The parts' own defaults are used where they have one, so each is written once.
import { DEFAULT_MAX_ENTRIES } from '../cache/model-metrics-cache.js';
import { DEFAULT_STALE_AFTER_MS } from '../collector/availability.js';
import { DURATION_HINT, formatDuration, parseDuration } from '../duration.js';
import { DEFAULT_MAX_REPLY_BYTES, DEFAULT_TIMEOUT_MS, headerProblem } from '../prometheus/client.js';
import { DEFAULT_WINDOW } from '../prometheus/promql.js';
import { LOG_LEVELS } from '../telemetry/logger.js';
import { parseListenAddress } from '../telemetry/server.js';

/** A value that does not have the key's form or range; the message says what is allowed. */
export class ValueProblem extends Error {}

export interface ConfigKey<V = unknown> {
  /** UPPER_SNAKE name in the file, the ConfigMap and the environment. */
  key: string;
  /** Where the value goes in Config (filled in from the table's layout). */
  path: readonly [string] | readonly [string, string];
  /** Long flag without dashes (none for secrets: flags show in `ps`), and its argument (`...>` repeats). */
  flag?: string;
  arg?: string;
  /** Masked in error messages. */
  secret?: boolean;
  /** Other names read for this key (upstream WVA's), below the key's own name in the same layer;
   *  `parse` when that name's values differ in form (upstream's `0` for "unbounded", say). */
  aliases?: ReadonlyArray<{ key: string; parse?: (raw: unknown) => V }>;
  /** Raw value (a string, or a YAML scalar) to the typed one; throws ValueProblem saying what is allowed. */
  parse: (raw: unknown) => V;
  /** When no source sets the key: a constant, or computed from the keys above it. */
  default?: V | ((c: Above) => V);
  /** The default as help shows it, when not the value itself. */
  defaultText?: string;
  help: string;
}

export const DAY_MS = 86_400_000;
/** The longest start-up a pod is taken to have; beyond it a pod is stuck, not starting. */
export const HOUR_MS = 3_600_000;
/** What derived defaults read: keys resolved above them in the table. */
type Above = { reconcile: { intervalMs: number }; cache: { ttlMs: number } };

function text(raw: unknown, what: string): string {
  if (typeof raw === 'string') return raw.trim();
  if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
  throw new ValueProblem(`must be ${what}, not ${Array.isArray(raw) ? 'a list' : typeof raw}`);
}

/** The one parser builder for a value written as text: `read` gives the value, or undefined for `message`. */
const form =
  <T>(what: string, message: string, read: (s: string) => T | undefined) =>
  (raw: unknown): T => {
    const value = read(text(raw, what));
    if (value === undefined) throw new ValueProblem(message);
    return value;
  };
/** `fn()`, or undefined when it throws. */
function attempt<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}
/** The text itself when `ok` (which may throw) accepts it. */
const when = (ok: (s: string) => boolean) => (s: string) => (attempt(() => ok(s)) ? s : undefined);
const anyText = (what: string) => (raw: unknown) => text(raw, what);

/** A parsed number kept within [min, max], shown in the message as `show` writes it. */
const range =
  (parse: (raw: unknown) => number, min: number, max: number, show: (n: number) => string = String) =>
  (raw: unknown) => {
    const n = parse(raw);
    if (n < min) throw new ValueProblem(`must be at least ${show(min)}`);
    if (n > max) throw new ValueProblem(`must be at most ${show(max)}`);
    return n;
  };

function ms(raw: unknown): number {
  if (typeof raw === 'number') throw new ValueProblem(`has no unit; use ${DURATION_HINT}`);
  const s = text(raw, DURATION_HINT);
  try {
    return parseDuration(s);
  } catch (err) {
    throw new ValueProblem(`${(err as Error).message}; use ${DURATION_HINT}`);
  }
}

const duration = (min: number, max: number) => range(ms, min, max, formatDuration);
const wholeNumber = form('a whole number', 'must be a whole number, e.g. 10000', (s) =>
  /^\d+$/.test(s) ? Number(s) : undefined,
);
const integer = (min: number, max: number) => range(wholeNumber, min, max);
const fraction = form('a number from 0 to 1', 'must be a number from 0 to 1, e.g. 0.9', (s) =>
  s !== '' && Number(s) >= 0 && Number(s) <= 1 ? Number(s) : undefined,
);
/** One of `values`, any case. */
const oneOf = <T extends string>(values: readonly T[], what: string, message: string) =>
  form(what, message, (s) => values.find((v) => v === s.toLowerCase()));
// strconv.ParseBool's spellings, as the Go original reads this key.
const BOOLEANS = new Map(Object.entries({ true: true, t: true, 1: true, false: false, f: false, 0: false }));
const flagWord = form('true or false', 'must be true or false', (s) => BOOLEANS.get(s.toLowerCase()));
const boolean = (raw: unknown) => (typeof raw === 'boolean' ? raw : flagWord(raw));
const url = form(
  'a URL',
  'must be an http:// or https:// URL, e.g. https://prometheus:9090',
  when((s) => /^https?:$/.test(new URL(s).protocol) && new URL(s).hostname !== ''),
);

/** The rate window, normalised to whole units so it is always valid PromQL range syntax (1.5m -> 1m30s). */
function window(raw: unknown): string {
  const n = ms(raw);
  if (n < 1000 || n > DAY_MS) throw new ValueProblem('must be a duration of at least 1s and at most 1d');
  return formatDuration(n);
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
/** A list (YAML sequence, or comma/space separated), without repeats or empties, each `item` passing `ok`. */
const list = (item: string, ok: RegExp, problem: (bad: string[]) => string) => (raw: unknown) => {
  const items = Array.isArray(raw) ? raw.map((v) => text(v, item)) : text(raw, 'a list').split(/[\s,]+/);
  const names = [...new Set(items.map((s) => s.trim()).filter((s) => s !== ''))];
  const bad = names.filter((n) => !ok.test(n));
  if (bad.length > 0) throw new ValueProblem(problem(bad));
  return names;
};

const HEADERS_HINT = 'a JSON object of header names to string values, e.g. {"X-Scope-OrgID":"team-a"}';

/** `{"A":"b"}` (string or mapping), or a list of `Name: value` strings (repeated --prometheus-header). */
function headers(raw: unknown): Record<string, string> {
  const value: unknown = typeof raw === 'string' ? attempt(() => JSON.parse(raw)) : raw;
  if (value === null || typeof value !== 'object') throw new ValueProblem(`must be ${HEADERS_HINT}`);
  const entries = Array.isArray(value)
    ? value.map((item) => {
        const m = typeof item === 'string' ? /^([^:]+):(.*)$/.exec(item) : null;
        if (!m) throw new ValueProblem('each header must be "Name: value"');
        return [m[1]!.trim(), m[2]!.trim()];
      })
    : Object.entries(value);
  for (const [name, v] of entries) {
    if (typeof v !== 'string') throw new ValueProblem(`must be ${HEADERS_HINT}`);
    // Refused here, at load, rather than by the client at start-up.
    const problem = headerProblem(name, v);
    if (problem) throw new ValueProblem(problem);
  }
  return Object.fromEntries(entries);
}

/** Upstream's cache size, where 0 means unbounded: here the default bound (memory stays bounded). */
function maxSize(raw: unknown): number {
  const n = range(wholeNumber, 0, 10_000_000)(raw);
  return n === 0 ? DEFAULT_MAX_ENTRIES : n;
}

/** Derived TTL: half the reconcile interval, at least 5 s (the upstream default 30 s at 60 s). */
export function derivedTtlMs(intervalMs: number): number {
  return Math.min(DAY_MS, Math.max(5000, Math.round(intervalMs / 2)));
}

/** One table entry: `flag` is the flag and its argument (`cache-ttl <duration>`); no default: optional. */
function key<V, D extends V | ((c: Above) => V) | undefined>(
  name: string,
  flag: string | undefined,
  parse: (raw: unknown) => V,
  value: D,
  help: string,
  more: Partial<ConfigKey> = {},
): ConfigKey<Optional<V, D>> {
  const [f, ...arg] = flag?.split(' ') ?? [];
  const spec = { key: name, path: [''], parse, help, flag: f, arg: arg.join(' ') || undefined, ...more };
  return (value === undefined ? spec : { ...spec, default: value }) as ConfigKey<Optional<V, D>>;
}
type Optional<V, D> = D extends undefined ? V | undefined : V;
const NONE = { defaultText: 'none' };
const aFile = anyText('a file path');

// Sections and keys in the order they are resolved (a derived default reads keys above it) and reported.
// biome-ignore format: the table reads best one key per entry
const TABLE = {
  prometheus: {
    url: key('PROMETHEUS_BASE_URL', 'prometheus-url <url>', url, 'http://localhost:9090',
      'Prometheus (or Thanos querier) base URL, http:// or https://; a path prefix is kept.'),
    insecureSkipVerify: key('PROMETHEUS_TLS_INSECURE_SKIP_VERIFY', 'insecure-skip-verify', boolean, false,
      "Skip verification of Prometheus' TLS certificate (development only)."),
    caCertPath: key('PROMETHEUS_CA_CERT_PATH', 'prometheus-ca-cert <file>', aFile, undefined,
      "PEM file of the CA that signed Prometheus' certificate.", { defaultText: 'system CAs' }),
    clientCertPath: key('PROMETHEUS_CLIENT_CERT_PATH', 'prometheus-client-cert <file>', aFile, undefined,
      'Client certificate (PEM) for mutual TLS; needs PROMETHEUS_CLIENT_KEY_PATH.', NONE),
    clientKeyPath: key('PROMETHEUS_CLIENT_KEY_PATH', 'prometheus-client-key <file>', aFile, undefined,
      'Client private key (PEM) for mutual TLS; needs PROMETHEUS_CLIENT_CERT_PATH.', NONE),
    serverName: key('PROMETHEUS_SERVER_NAME', 'prometheus-server-name <name>', anyText('a host name'), undefined,
      'Server name expected in the certificate (SNI).', { defaultText: 'host of the URL' }),
    bearerToken: key('PROMETHEUS_BEARER_TOKEN', undefined,
      form('a token', 'must be one token without spaces (no "Bearer " prefix)', when((s) => !/\s/.test(s))),
      undefined, 'Bearer token sent to Prometheus. Takes precedence over PROMETHEUS_TOKEN_PATH. No CLI flag (flags show in ps).',
      { ...NONE, secret: true }),
    tokenPath: key('PROMETHEUS_TOKEN_PATH', 'prometheus-token-path <file>', aFile, undefined,
      'File holding the bearer token (e.g. a mounted service-account token); re-read when it changes.', NONE),
    headers: key('WVA_PROMETHEUS_HEADERS', 'prometheus-header <name: value...>', headers, {},
      'Extra HTTP headers for Prometheus, as a JSON object (flag: repeat `--prometheus-header "Name: value"`).',
      { ...NONE, secret: true }),
    timeoutMs: key('WVA_PROMETHEUS_TIMEOUT', 'prometheus-timeout <duration>', duration(100, 600_000),
      DEFAULT_TIMEOUT_MS, 'Timeout of one Prometheus query (100ms to 10m).'),
    maxReplyBytes: key('WVA_PROMETHEUS_MAX_REPLY_BYTES', 'prometheus-max-reply-bytes <bytes>',
      integer(64 * 1024, 1024 * 1024 * 1024), DEFAULT_MAX_REPLY_BYTES,
      'Largest Prometheus reply read (65536 to 1073741824 bytes); a larger one is refused. Each MiB of reply costs about 10 MiB of memory at its peak: raise the memory limit with it.'),
  },
  reconcile: {
    intervalMs: key('GLOBAL_OPT_INTERVAL', 'interval <duration>', duration(1000, DAY_MS), 60_000,
      'Reconcile interval (1s to 1d), as upstream.'),
    concurrency: key('WVA_RECONCILE_CONCURRENCY', 'concurrency <n>', integer(1, 1024), 4,
      'VariantAutoscalings reconciled at once (1 to 1024).'),
    stabilizationWindowMs: key('WVA_STABILIZATION_WINDOW', 'stabilization-window <duration>', duration(0, DAY_MS),
      300_000, 'A scale-down is published only after the lower count was recommended for this long (0: at once); scale-up is immediate.'),
    backlogDrainMs: key('WVA_BACKLOG_DRAIN_TIME', 'backlog-drain-time <duration>', duration(0, DAY_MS), 120_000,
      'Size for the arrivals plus the rate that serves the requests already waiting (vLLM num_requests_waiting) within this time (0: arrivals only).'),
    podStartupMs: key('WVA_POD_STARTUP', 'pod-startup <duration>', duration(0, HOUR_MS), 120_000,
      "A new pod's time from creation to Ready (0 to 1h) where none of the variant's has been measured yet; the SLO engine sizes the backlog expected when the pods it asks for serve (0: the backlog now, never ahead)."),
    kvCacheThreshold: key('WVA_KV_CACHE_THRESHOLD', 'kv-cache-threshold <fraction>', fraction, 0.9,
      'No scale-down while KV-cache usage (0 to 1) is above this.'),
    namespaces: key('WVA_WATCH_NAMESPACES', 'namespaces <list>',
      list('a namespace', DNS_LABEL, (bad) => `${bad.map((b) => JSON.stringify(b)).join(', ')} ${bad.length === 1 ? 'is not a namespace name' : 'are not namespace names'}; use comma-separated DNS labels (a-z, 0-9, -), or empty for all`),
      [], 'Comma-separated namespaces to watch; empty for all.', { defaultText: 'all namespaces', aliases: [{ key: 'WATCH_NAMESPACE' }] }),
    controllerInstance: key('CONTROLLER_INSTANCE', 'controller-instance <id>',
      form('a label value', 'must be a label value: at most 63 letters, digits, -, _ or ., starting and ending with a letter or digit', (s) => (LABEL_VALUE.test(s) ? s : undefined)),
      undefined, 'This controller\'s instance: it reconciles only VariantAutoscalings labelled wva.llmd.ai/controller-instance with this value, and labels its metrics controller_instance (as upstream).',
      { defaultText: 'none: every VariantAutoscaling' }),
  },
  cache: {
    ttlMs: key('WVA_CACHE_TTL', 'cache-ttl <duration>', duration(100, DAY_MS),
      (c: Above) => derivedTtlMs(c.reconcile.intervalMs),
      'How long collected metrics stay fresh (100ms to 1d). Applies to entries already cached on reload.',
      { defaultText: 'derived: half of GLOBAL_OPT_INTERVAL, at least 5s (30s for 60s)', aliases: [{ key: 'PROMETHEUS_METRICS_CACHE_TTL' }] }),
    failureTtlMs: key('WVA_CACHE_FAILURE_TTL', 'cache-failure-ttl <duration>', duration(100, DAY_MS),
      (c: Above) => c.cache.ttlMs,
      'How long a failed collection is remembered (no new query before it ends); at most the cache TTL.',
      { defaultText: 'the cache TTL' }),
    maxEntries: key('WVA_CACHE_MAX_ENTRIES', 'cache-max-entries <n>', integer(1, 10_000_000), DEFAULT_MAX_ENTRIES,
      'Cache capacity in model/namespace pairs (1 to 10000000); least recently used evicted beyond.',
      { aliases: [{ key: 'PROMETHEUS_METRICS_CACHE_MAX_SIZE', parse: maxSize }] }),
    cleanupIntervalMs: key('WVA_CACHE_CLEANUP_INTERVAL', 'cache-cleanup-interval <duration>', duration(1000, DAY_MS),
      undefined, 'How often expired cache entries are removed in the background (1s to 1d).',
      { defaultText: 'the cache TTL', aliases: [{ key: 'PROMETHEUS_METRICS_CACHE_CLEANUP_INTERVAL' }] }),
  },
  collector: {
    window: key('WVA_QUERY_WINDOW', 'window <duration>', window, DEFAULT_WINDOW,
      'PromQL rate() window (1s to 1d). Keep it at least 4 scrape intervals.'),
    staleAfterMs: key('WVA_STALE_AFTER', 'stale-after <duration>', duration(1000, 7 * DAY_MS), DEFAULT_STALE_AFTER_MS,
      'Metrics older than this are reported as MetricsStale (1s to 7d).',
      { aliases: [{ key: 'PROMETHEUS_METRICS_CACHE_UNAVAILABLE_THRESHOLD' }] }),
  },
  telemetry: {
    address: key('WVA_METRICS_ADDR', 'metrics-addr <addr>',
      form('a listen address', 'must be :port, host:port or [ipv6]:port, e.g. :8080 or 127.0.0.1:9100',
        when((s) => parseListenAddress(s) !== undefined)),
      ':8080', 'Listen address of /metrics, /healthz, /readyz: `:8080`, `host:port`, `[::1]:port`.'),
  },
  /** metrics: publish wva_desired_replicas for an HPA or KEDA; scale: also patch Deployments' scale. */
  actuation: {
    mode: key('WVA_ACTUATOR', 'actuator <mode>',
      oneOf(['metrics', 'scale', 'advisory'] as const, 'metrics, scale or advisory', 'must be metrics (HPA/KEDA scale on wva_desired_replicas), scale (patch Deployments) or advisory (publish wva_advisory_desired_replicas, scale nothing)'),
      'metrics', "metrics: publish wva_desired_replicas for an HPA or KEDA; scale: also patch each target's scale subresource (never one an HPA targets); advisory: status and logs as usual, the decision published as wva_advisory_desired_replicas (no HPA selects it), nothing scaled. Needs a restart."),
    scaleToZero: key('WVA_SCALE_TO_ZERO', 'scale-to-zero', boolean, false,
      'Allow 0 replicas for models idle a whole retention period (per model: the model-scale-to-zero-config ConfigMap).'),
  },
  logLevel: key('LOG_LEVEL', 'log-level <level>', oneOf(LOG_LEVELS, 'a log level', `must be one of ${LOG_LEVELS.join(', ')}`),
    'info', 'debug, info, warn or error. At debug, one line per Prometheus query and per cached lookup of the library calls.'),
};

type Table = typeof TABLE;
type ValueOf<K> = K extends ConfigKey<infer V> ? V : never;
/** A section's fields: a key without a default is an optional field. */
type Section<S> = { [F in keyof S as undefined extends ValueOf<S[F]> ? never : F]: ValueOf<S[F]> } & {
  [F in keyof S as undefined extends ValueOf<S[F]> ? F : never]?: Exclude<ValueOf<S[F]>, undefined>;
};
export type Config = {
  [S in keyof Table]: Table[S] extends ConfigKey ? ValueOf<Table[S]> : Section<Table[S]>;
};

/** Every key, in table order, with its path in Config. */
export const CONFIG_KEYS: readonly ConfigKey[] = Object.entries(TABLE).flatMap(
  ([section, group]): ConfigKey[] =>
    'key' in group
      ? [{ ...(group as ConfigKey), path: [section] }]
      : Object.entries(group as Record<string, ConfigKey>).map(([field, k]) => ({
          ...k,
          path: [section, field],
        })),
);

/** Constraints between keys, checked once every value has its form: [key to blame, problem] pairs.
 *  `derived` says whether a key took its computed default. */
export function crossCheck(c: Config, derived: (key: string) => boolean): Array<[string, string]> {
  const problems: Array<[string, string]> = [];
  if (c.cache.failureTtlMs > c.cache.ttlMs) {
    const ttl = `the cache TTL (${formatDuration(c.cache.ttlMs)})`;
    const why = derived('WVA_CACHE_TTL')
      ? ', derived from GLOBAL_OPT_INTERVAL; set WVA_CACHE_TTL or a shorter failure TTL'
      : '';
    problems.push(['WVA_CACHE_FAILURE_TTL', `must not be longer than ${ttl}${why}`]);
  }
  const [cert, key] = ['PROMETHEUS_CLIENT_CERT_PATH', 'PROMETHEUS_CLIENT_KEY_PATH'];
  if ((c.prometheus.clientCertPath === undefined) !== (c.prometheus.clientKeyPath === undefined)) {
    const missing = c.prometheus.clientCertPath === undefined ? cert : key;
    problems.push([missing, `mutual TLS needs both ${cert} and ${key}`]);
  }
  return problems;
}

/** Commander's attribute name for a flag (the flags layer's keys): `cache-ttl` -> `cacheTtl`. */
export function optionName(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Where the key's value sits in a Config: the object holding it and the field there. */
export function slot(config: object, spec: ConfigKey): [Record<string, unknown>, string] {
  const [section, field] = spec.path;
  const top = config as Record<string, Record<string, unknown>>;
  return field === undefined ? [top, section] : [top[section]!, field];
}
