// The configuration: its shape and limits (zod), and the flat keys that set it. Keys are the
// upstream ConfigMap's (PROMETHEUS_*, GLOBAL_OPT_INTERVAL) plus ours (WVA_*, LOG_LEVEL); every key
// may come from the config file / ConfigMap, the environment or a CLI flag.
import { z } from 'zod';
import { LOG_LEVELS } from '../telemetry/logger.js';
import { parseListenAddress } from '../telemetry/server.js';
import { DURATION_HINT, formatDuration, parseDuration } from './duration.js';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** What node:http accepts in a header value: tab, visible ASCII, space, and Latin-1. */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

const durationMs = (min: number, max: number) =>
  z
    .number()
    .int()
    .min(min, { message: `must be at least ${formatDuration(min)}` })
    .max(max, { message: `must be at most ${formatDuration(max)}` });

const intRange = (min: number, max: number) =>
  z
    .number()
    .int({ message: 'must be a whole number' })
    .min(min, { message: `must be at least ${min}` })
    .max(max, { message: `must be at most ${max}` });

const filePath = z.string().min(1, { message: 'must not be empty' }).optional();

export const DAY_MS = 86_400_000;

/** metrics: publish wva_desired_replicas for an HPA or KEDA; scale: also patch the Deployment's scale. */
export const ACTUATOR_MODES = ['metrics', 'scale'] as const;

export const ConfigSchema = z
  .object({
    prometheus: z
      .object({
        url: z.string().refine(isHttpUrl, { message: 'must be an http:// or https:// URL' }),
        bearerToken: z.string().min(1).optional(),
        tokenPath: filePath,
        caCertPath: filePath,
        clientCertPath: filePath,
        clientKeyPath: filePath,
        serverName: z.string().min(1).optional(),
        insecureSkipVerify: z.boolean(),
        timeoutMs: durationMs(100, 600_000),
        headers: z.record(
          z.string().regex(HEADER_NAME, { message: 'header names are letters, digits and -_.' }),
          z.string(),
        ),
      })
      .strict(),
    cache: z
      .object({
        ttlMs: durationMs(100, DAY_MS),
        failureTtlMs: durationMs(100, DAY_MS),
        maxEntries: intRange(1, 10_000_000),
      })
      .strict(),
    collector: z
      .object({
        window: z.string().refine(isWindow, { message: 'must be a duration of at least 1s and at most 1d' }),
        staleAfterMs: durationMs(1000, 7 * DAY_MS),
      })
      .strict(),
    reconcile: z
      .object({
        intervalMs: durationMs(1000, DAY_MS),
        concurrency: intRange(1, 1024),
        stabilizationWindowMs: durationMs(0, DAY_MS),
        kvCacheThreshold: z.number().min(0).max(1),
        namespaces: z.array(
          z.string().regex(DNS_LABEL, { message: 'namespaces are DNS labels: a-z, 0-9 and -, at most 63' }),
        ),
      })
      .strict(),
    telemetry: z
      .object({
        address: z.string().refine(isListenAddress, { message: 'must be :port, host:port or [ipv6]:port' }),
      })
      .strict(),
    actuation: z.object({ mode: z.enum(ACTUATOR_MODES), scaleToZero: z.boolean() }).strict(),
    logLevel: z.enum(LOG_LEVELS),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    if (cfg.cache.failureTtlMs > cfg.cache.ttlMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['cache', 'failureTtlMs'],
        message: `must not be longer than the cache TTL (${formatDuration(cfg.cache.ttlMs)})`,
      });
    }
    const p = cfg.prometheus;
    if ((p.clientCertPath === undefined) !== (p.clientKeyPath === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['prometheus', p.clientCertPath === undefined ? 'clientCertPath' : 'clientKeyPath'],
        message: 'mutual TLS needs both PROMETHEUS_CLIENT_CERT_PATH and PROMETHEUS_CLIENT_KEY_PATH',
      });
    }
  });

export type Config = z.infer<typeof ConfigSchema>;

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

function isWindow(value: string): boolean {
  try {
    const ms = parseDuration(value);
    return ms >= 1000 && ms <= DAY_MS;
  } catch {
    return false;
  }
}

function isListenAddress(value: string): boolean {
  try {
    parseListenAddress(value);
    return true;
  } catch {
    return false;
  }
}

/** A value that does not have the key's form; the message says what is allowed. */
export class ValueProblem extends Error {}

export interface ConfigKey {
  /** UPPER_SNAKE name in the file, the ConfigMap and the environment. */
  key: string;
  /** Where the value goes in Config. */
  path: readonly [keyof Config] | readonly [keyof Config, string];
  /** Long CLI flag without dashes; none for secrets (a flag shows in `ps`). */
  flag?: string;
  /** Commander's argument placeholder, e.g. `<duration>`; none for boolean switches. */
  arg?: string;
  /** Value masked in error messages. */
  secret?: boolean;
  /** Turns a raw value (string from env/ConfigMap, or a YAML/JSON scalar, or a flag value) into the typed one. */
  parse: (raw: unknown) => unknown;
  /** Default, as documented ('derived' when computed). */
  default: string;
  description: string;
}

function text(raw: unknown, what: string): string {
  if (typeof raw === 'string') return raw.trim();
  if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
  throw new ValueProblem(`must be ${what}, not ${Array.isArray(raw) ? 'a list' : typeof raw}`);
}

const asString = (what: string) => (raw: unknown) => text(raw, what);

function asDuration(raw: unknown): number {
  if (typeof raw === 'number') throw new ValueProblem(`has no unit; use ${DURATION_HINT}`);
  const s = text(raw, DURATION_HINT);
  try {
    return parseDuration(s);
  } catch (err) {
    throw new ValueProblem(`${(err as Error).message}; use ${DURATION_HINT}`);
  }
}

function asWindow(raw: unknown): string {
  // Normalized so it is always valid PromQL range syntax (integers only): 1.5m -> 1m30s.
  return formatDuration(asDuration(raw));
}

function asInteger(raw: unknown): number {
  const s = text(raw, 'a whole number');
  if (!/^\d+$/.test(s)) throw new ValueProblem('must be a whole number, e.g. 10000');
  return Number(s);
}

function asFraction(raw: unknown): number {
  const s = text(raw, 'a number from 0 to 1');
  const n = Number(s);
  if (s === '' || !Number.isFinite(n) || n < 0 || n > 1)
    throw new ValueProblem('must be a number from 0 to 1, e.g. 0.9');
  return n;
}

function asBoolean(raw: unknown): boolean {
  if (typeof raw === 'boolean') return raw;
  const s = text(raw, 'true or false').toLowerCase();
  // strconv.ParseBool's spellings, as the Go original reads this key.
  if (['true', 't', '1'].includes(s)) return true;
  if (['false', 'f', '0'].includes(s)) return false;
  throw new ValueProblem('must be true or false');
}

function asUrl(raw: unknown): string {
  const s = text(raw, 'a URL');
  if (!isHttpUrl(s))
    throw new ValueProblem('must be an http:// or https:// URL, e.g. https://prometheus:9090');
  return s;
}

function asNamespaces(raw: unknown): string[] {
  const items = Array.isArray(raw)
    ? raw.map((v) => text(v, 'a namespace'))
    : text(raw, 'a list').split(/[\s,]+/);
  const names = [...new Set(items.map((s) => s.trim()).filter((s) => s !== ''))];
  const bad = names.filter((n) => !DNS_LABEL.test(n));
  if (bad.length > 0) {
    throw new ValueProblem(
      `${bad.map((b) => JSON.stringify(b)).join(', ')} ${bad.length === 1 ? 'is not a namespace name' : 'are not namespace names'}; use comma-separated DNS labels (a-z, 0-9, -), or empty for all`,
    );
  }
  return names;
}

function asLogLevel(raw: unknown): string {
  const s = text(raw, 'a log level').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(s))
    throw new ValueProblem(`must be one of ${LOG_LEVELS.join(', ')}`);
  return s;
}

function asAddress(raw: unknown): string {
  const s = text(raw, 'a listen address');
  try {
    parseListenAddress(s);
  } catch {
    throw new ValueProblem('must be :port, host:port or [ipv6]:port, e.g. :8080 or 127.0.0.1:9100');
  }
  return s;
}

function asToken(raw: unknown): string {
  const s = text(raw, 'a token');
  if (/\s/.test(s)) throw new ValueProblem('must be one token without spaces (no "Bearer " prefix)');
  return s;
}

const HEADERS_HINT = 'a JSON object of header names to string values, e.g. {"X-Scope-OrgID":"team-a"}';

/** `{"A":"b"}` (string or mapping), or a list of `Name: value` strings (repeated --prometheus-header). */
function asHeaders(raw: unknown): Record<string, string> {
  let value: unknown = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      throw new ValueProblem(`must be ${HEADERS_HINT}`);
    }
  }
  const out: Record<string, string> = {};
  if (Array.isArray(value)) {
    for (const item of value) {
      const m = typeof item === 'string' ? /^([^:]+):(.*)$/.exec(item) : null;
      if (!m) throw new ValueProblem('each header must be "Name: value"');
      out[m[1]!.trim()] = m[2]!.trim();
    }
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (typeof v !== 'string') throw new ValueProblem(`must be ${HEADERS_HINT}`);
      out[k] = v;
    }
  } else {
    throw new ValueProblem(`must be ${HEADERS_HINT}`);
  }
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

export const CONFIG_KEYS: readonly ConfigKey[] = [
  {
    key: 'PROMETHEUS_BASE_URL',
    path: ['prometheus', 'url'],
    flag: 'prometheus-url',
    arg: '<url>',
    parse: asUrl,
    default: 'http://localhost:9090',
    description: 'Prometheus (or Thanos querier) base URL, http:// or https://; a path prefix is kept.',
  },
  {
    key: 'PROMETHEUS_TLS_INSECURE_SKIP_VERIFY',
    path: ['prometheus', 'insecureSkipVerify'],
    flag: 'insecure-skip-verify',
    parse: asBoolean,
    default: 'false',
    description: "Skip verification of Prometheus' TLS certificate (development only).",
  },
  {
    key: 'PROMETHEUS_CA_CERT_PATH',
    path: ['prometheus', 'caCertPath'],
    flag: 'prometheus-ca-cert',
    arg: '<file>',
    parse: asString('a file path'),
    default: 'system CAs',
    description: "PEM file of the CA that signed Prometheus' certificate.",
  },
  {
    key: 'PROMETHEUS_CLIENT_CERT_PATH',
    path: ['prometheus', 'clientCertPath'],
    flag: 'prometheus-client-cert',
    arg: '<file>',
    parse: asString('a file path'),
    default: 'none',
    description: 'Client certificate (PEM) for mutual TLS; needs PROMETHEUS_CLIENT_KEY_PATH.',
  },
  {
    key: 'PROMETHEUS_CLIENT_KEY_PATH',
    path: ['prometheus', 'clientKeyPath'],
    flag: 'prometheus-client-key',
    arg: '<file>',
    parse: asString('a file path'),
    default: 'none',
    description: 'Client private key (PEM) for mutual TLS; needs PROMETHEUS_CLIENT_CERT_PATH.',
  },
  {
    key: 'PROMETHEUS_SERVER_NAME',
    path: ['prometheus', 'serverName'],
    flag: 'prometheus-server-name',
    arg: '<name>',
    parse: asString('a host name'),
    default: 'host of the URL',
    description: 'Server name expected in the certificate (SNI).',
  },
  {
    key: 'PROMETHEUS_BEARER_TOKEN',
    path: ['prometheus', 'bearerToken'],
    secret: true,
    parse: asToken,
    default: 'none',
    description:
      'Bearer token sent to Prometheus. Takes precedence over PROMETHEUS_TOKEN_PATH. No CLI flag (flags show in ps).',
  },
  {
    key: 'PROMETHEUS_TOKEN_PATH',
    path: ['prometheus', 'tokenPath'],
    flag: 'prometheus-token-path',
    arg: '<file>',
    parse: asString('a file path'),
    default: 'none',
    description:
      'File holding the bearer token (e.g. a mounted service-account token); re-read when it changes.',
  },
  {
    key: 'WVA_PROMETHEUS_HEADERS',
    path: ['prometheus', 'headers'],
    flag: 'prometheus-header',
    arg: '<name: value...>',
    secret: true,
    parse: asHeaders,
    default: 'none',
    description:
      'Extra HTTP headers for Prometheus, as a JSON object (flag: repeat `--prometheus-header "Name: value"`).',
  },
  {
    key: 'WVA_PROMETHEUS_TIMEOUT',
    path: ['prometheus', 'timeoutMs'],
    flag: 'prometheus-timeout',
    arg: '<duration>',
    parse: asDuration,
    default: '10s',
    description: 'Timeout of one Prometheus query (100ms to 10m).',
  },
  {
    key: 'GLOBAL_OPT_INTERVAL',
    path: ['reconcile', 'intervalMs'],
    flag: 'interval',
    arg: '<duration>',
    parse: asDuration,
    default: '60s',
    description: 'Reconcile interval (1s to 1d), as upstream.',
  },
  {
    key: 'WVA_CACHE_TTL',
    path: ['cache', 'ttlMs'],
    flag: 'cache-ttl',
    arg: '<duration>',
    parse: asDuration,
    default: 'derived: half of GLOBAL_OPT_INTERVAL, at least 5s (30s for 60s)',
    description:
      'How long collected metrics stay fresh (100ms to 1d). Applies to entries already cached on reload.',
  },
  {
    key: 'WVA_CACHE_FAILURE_TTL',
    path: ['cache', 'failureTtlMs'],
    flag: 'cache-failure-ttl',
    arg: '<duration>',
    parse: asDuration,
    default: 'the cache TTL',
    description:
      'How long a failed collection is remembered (no new query before it ends); at most the cache TTL.',
  },
  {
    key: 'WVA_CACHE_MAX_ENTRIES',
    path: ['cache', 'maxEntries'],
    flag: 'cache-max-entries',
    arg: '<n>',
    parse: asInteger,
    default: '10000',
    description:
      'Cache capacity in model/namespace pairs (1 to 10000000); least recently used evicted beyond.',
  },
  {
    key: 'WVA_QUERY_WINDOW',
    path: ['collector', 'window'],
    flag: 'window',
    arg: '<duration>',
    parse: asWindow,
    default: '1m',
    description: 'PromQL rate() window (1s to 1d). Keep it at least 4 scrape intervals.',
  },
  {
    key: 'WVA_STALE_AFTER',
    path: ['collector', 'staleAfterMs'],
    flag: 'stale-after',
    arg: '<duration>',
    parse: asDuration,
    default: '5m',
    description: 'Metrics older than this are reported as MetricsStale (1s to 7d).',
  },
  {
    key: 'WVA_RECONCILE_CONCURRENCY',
    path: ['reconcile', 'concurrency'],
    flag: 'concurrency',
    arg: '<n>',
    parse: asInteger,
    default: '4',
    description: 'VariantAutoscalings reconciled at once (1 to 1024).',
  },
  {
    key: 'WVA_STABILIZATION_WINDOW',
    path: ['reconcile', 'stabilizationWindowMs'],
    flag: 'stabilization-window',
    arg: '<duration>',
    parse: asDuration,
    default: '5m',
    description:
      'A scale-down is published only after the lower count was recommended for this long (0: at once); scale-up is immediate.',
  },
  {
    key: 'WVA_KV_CACHE_THRESHOLD',
    path: ['reconcile', 'kvCacheThreshold'],
    flag: 'kv-cache-threshold',
    arg: '<fraction>',
    parse: asFraction,
    default: '0.9',
    description: 'No scale-down while KV-cache usage (0 to 1) is above this.',
  },
  {
    key: 'WVA_WATCH_NAMESPACES',
    path: ['reconcile', 'namespaces'],
    flag: 'namespaces',
    arg: '<list>',
    parse: asNamespaces,
    default: 'all namespaces',
    description: 'Comma-separated namespaces to watch; empty for all.',
  },
  {
    key: 'WVA_METRICS_ADDR',
    path: ['telemetry', 'address'],
    flag: 'metrics-addr',
    arg: '<addr>',
    parse: asAddress,
    default: ':8080',
    description: 'Listen address of /metrics, /healthz, /readyz: `:8080`, `host:port`, `[::1]:port`.',
  },
  {
    key: 'WVA_ACTUATOR',
    path: ['actuation', 'mode'],
    flag: 'actuator',
    arg: '<mode>',
    parse: (raw) => {
      const s = text(raw, 'metrics or scale').toLowerCase();
      if (!(ACTUATOR_MODES as readonly string[]).includes(s))
        throw new ValueProblem(
          'must be metrics (HPA/KEDA scale on wva_desired_replicas) or scale (patch Deployments)',
        );
      return s;
    },
    default: 'metrics',
    description:
      "metrics: publish wva_desired_replicas for an HPA or KEDA; scale: also patch each Deployment's scale subresource (never one an HPA targets). Needs a restart.",
  },
  {
    key: 'WVA_SCALE_TO_ZERO',
    path: ['actuation', 'scaleToZero'],
    flag: 'scale-to-zero',
    parse: asBoolean,
    default: 'false',
    description:
      'Allow 0 replicas for models idle a whole retention period (per model: the model-scale-to-zero-config ConfigMap).',
  },
  {
    key: 'LOG_LEVEL',
    path: ['logLevel'],
    flag: 'log-level',
    arg: '<level>',
    parse: asLogLevel,
    default: 'info',
    description:
      'debug, info, warn or error. At debug, one line per Prometheus query and per cached lookup of the library calls.',
  },
];

/** Keys of the upstream ConfigMap this program does not use; accepted and ignored without a warning. */
export const UPSTREAM_IGNORED_KEYS: readonly string[] = [];

export const DEFAULTS = {
  prometheus: { url: 'http://localhost:9090', insecureSkipVerify: false, timeoutMs: 10_000, headers: {} },
  cache: { maxEntries: 10_000 },
  collector: { window: '1m', staleAfterMs: 300_000 },
  reconcile: {
    intervalMs: 60_000,
    concurrency: 4,
    stabilizationWindowMs: 300_000,
    kvCacheThreshold: 0.9,
    namespaces: [] as string[],
  },
  telemetry: { address: ':8080' },
  actuation: { mode: 'metrics' as Config['actuation']['mode'], scaleToZero: false },
  logLevel: 'info' as Config['logLevel'],
};

/** Derived TTL: half the reconcile interval, at least 5 s (the upstream default 30 s at 60 s). */
export function derivedTtlMs(intervalMs: number): number {
  return Math.min(DAY_MS, Math.max(5000, Math.round(intervalMs / 2)));
}

/** Commander's attribute name for a flag: `cache-ttl` -> `cacheTtl`. */
export function optionName(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}
