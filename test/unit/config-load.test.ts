import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { addConfigOptions, configSourcesFromOptions } from '../../src/cli/config-flags.js';
import {
  CONFIG_KEYS,
  ConfigError,
  ConfigReloader,
  type ConfigSources,
  loadConfig,
  resolveConfig,
} from '../../src/config/index.js';

const dir = mkdtempSync(join(tmpdir(), 'wva-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(content: string, ext = 'yaml'): string {
  const path = join(dir, `c${n++}.${ext}`);
  writeFileSync(path, content);
  return path;
}

/** The problems of a refused configuration. */
function problems(sources: ConfigSources): string[] {
  try {
    loadConfig(sources);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('configuration was accepted');
}

const upstream = new URL('../fixtures/upstream/upstream-configmap.yaml', import.meta.url).pathname;

describe('loadConfig: defaults', () => {
  it('has a complete default configuration', () => {
    expect(loadConfig({})).toEqual({
      prometheus: {
        url: 'http://localhost:9090',
        insecureSkipVerify: false,
        timeoutMs: 10_000,
        maxReplyBytes: 8 * 1024 * 1024,
        headers: {},
      },
      cache: { ttlMs: 30_000, failureTtlMs: 30_000, maxEntries: 10_000 },
      collector: { window: '1m', staleAfterMs: 300_000 },
      reconcile: {
        intervalMs: 60_000,
        concurrency: 4,
        stabilizationWindowMs: 300_000,
        backlogDrainMs: 120_000,
        podStartupMs: 120_000,
        kvCacheThreshold: 0.9,
        namespaces: [],
      },
      telemetry: { address: ':8080' },
      actuation: { mode: 'metrics', scaleToZero: false },
      logLevel: 'info',
    });
  });

  it('derives the TTL from the reconcile interval: half, at least 5s, and logs it', () => {
    const cases: Array<[string, number]> = [
      ['60s', 30_000],
      ['2m', 60_000],
      ['8s', 5000],
      ['1s', 5000],
      ['11s', 5500],
    ];
    for (const [interval, ttl] of cases) {
      const r = resolveConfig({ env: { GLOBAL_OPT_INTERVAL: interval } });
      expect(r.config.cache.ttlMs, interval).toBe(ttl);
      expect(r.config.cache.failureTtlMs, interval).toBe(ttl);
      expect(r.derived).toEqual(['WVA_CACHE_TTL', 'WVA_CACHE_FAILURE_TTL']);
    }
    const logged: Array<[object, string | undefined]> = [];
    const logger = {
      debug() {},
      info: (o: object, m?: string) => logged.push([o, m]),
      warn() {},
      error() {},
      child() {
        return logger;
      },
    };
    loadConfig({ env: { GLOBAL_OPT_INTERVAL: '20s' }, logger });
    expect(logged).toHaveLength(1);
    expect(logged[0]![0]).toEqual({ ttl: '10s', interval: '20s' });
    expect(logged[0]![1]).toMatch(/derived from the reconcile interval/);
  });

  it('does not derive a TTL that was set; failure TTL follows the set TTL', () => {
    const r = resolveConfig({ env: { WVA_CACHE_TTL: '12s', GLOBAL_OPT_INTERVAL: '10m' } });
    expect(r.config.cache).toMatchObject({ ttlMs: 12_000, failureTtlMs: 12_000 });
    expect(r.derived).toEqual(['WVA_CACHE_FAILURE_TTL']);
    expect(r.origins.WVA_CACHE_TTL).toBe('env');
  });
});

describe('loadConfig: precedence defaults < file < ConfigMap < env < flags', () => {
  const keys = {
    PROMETHEUS_BASE_URL: ['https://file:9090', 'https://cm:9090', 'https://env:9090', 'https://flag:9090'],
    WVA_CACHE_TTL: ['11s', '12s', '13s', '14s'],
    WVA_QUERY_WINDOW: ['2m', '3m', '4m', '5m'],
    LOG_LEVEL: ['warn', 'error', 'debug', 'info'],
  } as const;
  const flagFor = {
    PROMETHEUS_BASE_URL: 'prometheusUrl',
    WVA_CACHE_TTL: 'cacheTtl',
    WVA_QUERY_WINDOW: 'window',
    LOG_LEVEL: 'logLevel',
  };
  const layer = (i: number) =>
    Object.fromEntries(Object.entries(keys).map(([k, v]) => [k, v[i]!])) as Record<string, string>;
  const fileLayer = file(
    Object.entries(layer(0))
      .map(([k, v]) => `${k}: "${v}"`)
      .join('\n'),
  );
  const flagLayer = Object.fromEntries(
    Object.entries(layer(3)).map(([k, v]) => [flagFor[k as keyof typeof flagFor], v]),
  );

  const pick = (s: ConfigSources) => {
    const c = loadConfig(s);
    return [c.prometheus.url, c.cache.ttlMs, c.collector.window, c.logLevel];
  };

  it('file overrides defaults', () => {
    expect(pick({ file: fileLayer })).toEqual(['https://file:9090', 11_000, '2m', 'warn']);
  });
  it('ConfigMap overrides the file', () => {
    expect(pick({ file: fileLayer, configMapData: layer(1) })).toEqual([
      'https://cm:9090',
      12_000,
      '3m',
      'error',
    ]);
  });
  it('environment overrides the ConfigMap', () => {
    expect(pick({ file: fileLayer, configMapData: layer(1), env: layer(2) })).toEqual([
      'https://env:9090',
      13_000,
      '4m',
      'debug',
    ]);
  });
  it('flags override the environment', () => {
    expect(pick({ file: fileLayer, configMapData: layer(1), env: layer(2), flags: flagLayer })).toEqual([
      'https://flag:9090',
      14_000,
      '5m',
      'info',
    ]);
  });
  it('layers mix key by key, and empty values count as unset', () => {
    const c = loadConfig({
      file: fileLayer,
      env: { WVA_CACHE_TTL: '13s', PROMETHEUS_BASE_URL: '' },
      flags: { window: '5m', logLevel: undefined },
    });
    expect([c.prometheus.url, c.cache.ttlMs, c.collector.window, c.logLevel]).toEqual([
      'https://file:9090',
      13_000,
      '5m',
      'warn',
    ]);
    expect(resolveConfig({ file: fileLayer, env: { WVA_CACHE_TTL: '13s' } }).origins).toMatchObject({
      WVA_CACHE_TTL: 'env',
      PROMETHEUS_BASE_URL: expect.stringMatching(/^file c\d+\.yaml$/),
      WVA_STALE_AFTER: 'default',
    });
  });
  it('only the winning value is checked: a bad value shadowed by a higher layer is harmless', () => {
    expect(
      loadConfig({ configMapData: { WVA_CACHE_TTL: 'soon' }, env: { WVA_CACHE_TTL: '5s' } }).cache.ttlMs,
    ).toBe(5000);
  });
});

describe('loadConfig: every key', () => {
  it('reads every key from the environment', () => {
    const c = loadConfig({
      env: {
        PROMETHEUS_BASE_URL: 'https://thanos:9091/prefix',
        PROMETHEUS_TLS_INSECURE_SKIP_VERIFY: 'TRUE',
        PROMETHEUS_CA_CERT_PATH: '/ca.crt',
        PROMETHEUS_CLIENT_CERT_PATH: '/c.crt',
        PROMETHEUS_CLIENT_KEY_PATH: '/c.key',
        PROMETHEUS_SERVER_NAME: 'prometheus.example.com',
        PROMETHEUS_BEARER_TOKEN: 'abc.def\n',
        PROMETHEUS_TOKEN_PATH: '/var/run/token',
        WVA_PROMETHEUS_HEADERS: '{"X-Scope-OrgID":"team-a"}',
        WVA_PROMETHEUS_TIMEOUT: '2s500ms',
        WVA_PROMETHEUS_MAX_REPLY_BYTES: '1048576',
        GLOBAL_OPT_INTERVAL: '30s',
        WVA_CACHE_TTL: '20s',
        WVA_CACHE_FAILURE_TTL: '5s',
        WVA_CACHE_MAX_ENTRIES: '500',
        WVA_CACHE_CLEANUP_INTERVAL: '2m',
        CONTROLLER_INSTANCE: 'shard-a',
        WVA_QUERY_WINDOW: '90s',
        WVA_STALE_AFTER: '10m',
        WVA_RECONCILE_CONCURRENCY: '8',
        WVA_STABILIZATION_WINDOW: '2m',
        WVA_BACKLOG_DRAIN_TIME: '0',
        WVA_POD_STARTUP: '4m30s',
        WVA_KV_CACHE_THRESHOLD: '0.8',
        WVA_WATCH_NAMESPACES: 'prod, staging,prod',
        WVA_METRICS_ADDR: '127.0.0.1:9100',
        LOG_LEVEL: 'WARN',
        WVA_ACTUATOR: 'Scale',
        WVA_SCALE_TO_ZERO: 'true',
        UNRELATED: 'x',
      },
    });
    expect(c).toEqual({
      prometheus: {
        url: 'https://thanos:9091/prefix',
        insecureSkipVerify: true,
        caCertPath: '/ca.crt',
        clientCertPath: '/c.crt',
        clientKeyPath: '/c.key',
        serverName: 'prometheus.example.com',
        bearerToken: 'abc.def',
        tokenPath: '/var/run/token',
        headers: { 'X-Scope-OrgID': 'team-a' },
        timeoutMs: 2500,
        maxReplyBytes: 1_048_576,
      },
      cache: { ttlMs: 20_000, failureTtlMs: 5000, maxEntries: 500, cleanupIntervalMs: 120_000 },
      collector: { window: '1m30s', staleAfterMs: 600_000 },
      reconcile: {
        intervalMs: 30_000,
        concurrency: 8,
        stabilizationWindowMs: 120_000,
        backlogDrainMs: 0,
        podStartupMs: 270_000,
        kvCacheThreshold: 0.8,
        namespaces: ['prod', 'staging'],
        controllerInstance: 'shard-a',
      },
      telemetry: { address: '127.0.0.1:9100' },
      actuation: { mode: 'scale', scaleToZero: true },
      logLevel: 'warn',
    });
  });

  it('loads the upstream ConfigMap manifest unchanged (unknown upstream keys ignored)', () => {
    const r = resolveConfig({ file: upstream });
    expect(r.config.prometheus).toMatchObject({
      url: 'https://kube-prometheus-stack-prometheus.workload-variant-autoscaler-monitoring.svc.cluster.local:9090',
      insecureSkipVerify: true,
    });
    expect(r.config.reconcile.intervalMs).toBe(60_000);
    expect(r.config.cache.ttlMs).toBe(30_000);
    expect(r.unknown).toEqual([]);
  });

  it('reads flat YAML with native scalars, JSON, and a mounted ConfigMap directory', () => {
    expect(
      loadConfig({
        file: file(
          'WVA_CACHE_MAX_ENTRIES: 42\nPROMETHEUS_TLS_INSECURE_SKIP_VERIFY: true\nWVA_WATCH_NAMESPACES: [a, b]\n',
        ),
      }),
    ).toMatchObject({
      cache: { maxEntries: 42 },
      prometheus: { insecureSkipVerify: true },
      reconcile: { namespaces: ['a', 'b'] },
    });
    expect(loadConfig({ file: file('{"WVA_CACHE_TTL": "9s"}', 'json') }).cache.ttlMs).toBe(9000);
    expect(loadConfig({ file: file('') }).cache.ttlMs).toBe(30_000);

    const mount = join(dir, 'mount');
    mkdirSync(join(mount, '..2026_01_01'), { recursive: true });
    writeFileSync(join(mount, 'WVA_CACHE_TTL'), '7s\n');
    writeFileSync(join(mount, 'PROMETHEUS_BEARER_TOKEN'), 'tok\n');
    writeFileSync(join(mount, '..2026_01_01', 'LOG_LEVEL'), 'debug');
    const c = loadConfig({ file: mount });
    expect(c.cache.ttlMs).toBe(7000);
    expect(c.prometheus.bearerToken).toBe('tok');
    expect(c.logLevel).toBe('info');
  });

  it('reports likely typos among unknown keys, but accepts them', () => {
    const warned: Array<[object, string | undefined]> = [];
    const logger = {
      debug() {},
      info() {},
      warn: (o: object, m?: string) => warned.push([o, m]),
      error() {},
      child() {
        return logger;
      },
    };
    const r = resolveConfig({
      configMapData: {
        WVA_CACHE_TTLL: '5s',
        WVA_SCALE_TO_ZERO: 'true',
        other: 'x',
        PROMETHUES_BASE_URL: 'y',
      },
    });
    expect(r.unknown.map((u) => u.key)).toEqual(['WVA_CACHE_TTLL', 'PROMETHUES_BASE_URL']);
    loadConfig({ configMapData: { WVA_CACHE_TTLL: '5s' }, file: file('WVA_CACHE_TTLL: 6s\n'), logger });
    expect(warned).toEqual([
      [
        {
          key: 'WVA_CACHE_TTLL',
          origin: expect.stringMatching(/^file c\d+\.yaml$/),
          nearest: 'WVA_CACHE_TTL',
        },
        expect.stringMatching(
          /^unknown configuration key WVA_CACHE_TTLL in file c\d+\.yaml ignored; did you mean WVA_CACHE_TTL\?$/,
        ),
      ],
    ]);
  });

  it('a reloader warns once per unknown key, however often it reloads', () => {
    const warned: object[] = [];
    const logger = {
      debug() {},
      info() {},
      warn: (o: object) => warned.push(o),
      error() {},
      child() {
        return logger;
      },
    };
    const reloader = new ConfigReloader(loadConfig({}), { logger }, {});
    reloader.updateSources({ configMapData: { WVA_CACHE_TTLL: '5s' } });
    reloader.updateSources({ configMapData: { WVA_CACHE_TTLL: '6s', LOG_LEVLE: 'debug' } });
    reloader.reload();
    expect(warned).toEqual([
      { key: 'WVA_CACHE_TTLL', origin: 'ConfigMap', nearest: 'WVA_CACHE_TTL' },
      { key: 'LOG_LEVLE', origin: 'ConfigMap', nearest: 'LOG_LEVEL' },
    ]);
  });

  it('ConfigMap data is a layer like the others: a Config, or the ConfigError', () => {
    const ok = loadConfig({ configMapData: { WVA_CACHE_TTL: '3s' }, env: { LOG_LEVEL: 'debug' } });
    expect(ok).toMatchObject({ cache: { ttlMs: 3000 }, logLevel: 'debug' });
    expect(() => loadConfig({ configMapData: { WVA_CACHE_TTL: '3' } })).toThrow(ConfigError);
  });
});

describe('loadConfig: validation messages (key, value, source, what is allowed)', () => {
  it.each([
    [
      'PROMETHEUS_BASE_URL',
      'prometheus:9090',
      'PROMETHEUS_BASE_URL="prometheus:9090" (env): must be an http:// or https:// URL, e.g. https://prometheus:9090',
    ],
    [
      'PROMETHEUS_BASE_URL',
      'ftp://x',
      'PROMETHEUS_BASE_URL="ftp://x" (env): must be an http:// or https:// URL, e.g. https://prometheus:9090',
    ],
    [
      'PROMETHEUS_TLS_INSECURE_SKIP_VERIFY',
      'yes please',
      'PROMETHEUS_TLS_INSECURE_SKIP_VERIFY="yes please" (env): must be true or false',
    ],
    [
      'PROMETHEUS_BEARER_TOKEN',
      'Bearer abc',
      'PROMETHEUS_BEARER_TOKEN="[redacted]" (env): must be one token without spaces (no "Bearer " prefix)',
    ],
    [
      'WVA_PROMETHEUS_HEADERS',
      'X-A=1',
      'WVA_PROMETHEUS_HEADERS="[redacted]" (env): must be a JSON object of header names to string values, e.g. {"X-Scope-OrgID":"team-a"}',
    ],
    [
      'WVA_PROMETHEUS_HEADERS',
      '{"bad name":"v"}',
      'WVA_PROMETHEUS_HEADERS="[redacted]" (env): "bad name" is not a header name',
    ],
    [
      'WVA_PROMETHEUS_HEADERS',
      '{"X-Scope-OrgID":"team-a\\r\\nX-Injected: 1"}',
      'WVA_PROMETHEUS_HEADERS="[redacted]" (env): the value of "X-Scope-OrgID" holds a character an HTTP header cannot carry (a control character such as a line break, or one above U+00FF)',
    ],
    [
      'WVA_PROMETHEUS_TIMEOUT',
      '10',
      'WVA_PROMETHEUS_TIMEOUT="10" (env): "10" has no unit; use a duration like 30s, 1m30s, 500ms or 1h (units: w, d, h, m, s, ms)',
    ],
    ['WVA_PROMETHEUS_TIMEOUT', '20m', 'WVA_PROMETHEUS_TIMEOUT="20m" (env): must be at most 10m'],
    ['WVA_PROMETHEUS_TIMEOUT', '50ms', 'WVA_PROMETHEUS_TIMEOUT="50ms" (env): must be at least 100ms'],
    ['GLOBAL_OPT_INTERVAL', '500ms', 'GLOBAL_OPT_INTERVAL="500ms" (env): must be at least 1s'],
    ['WVA_BACKLOG_DRAIN_TIME', '2d', 'WVA_BACKLOG_DRAIN_TIME="2d" (env): must be at most 24h'],
    ['WVA_POD_STARTUP', '2h', 'WVA_POD_STARTUP="2h" (env): must be at most 1h'],
    [
      'WVA_POD_STARTUP',
      '90',
      'WVA_POD_STARTUP="90" (env): "90" has no unit; use a duration like 30s, 1m30s, 500ms or 1h (units: w, d, h, m, s, ms)',
    ],
    [
      'GLOBAL_OPT_INTERVAL',
      'hourly',
      'GLOBAL_OPT_INTERVAL="hourly" (env): cannot read "hourly"; use a duration like 30s, 1m30s, 500ms or 1h (units: w, d, h, m, s, ms)',
    ],
    ['WVA_CACHE_TTL', '0s', 'WVA_CACHE_TTL="0s" (env): must be at least 100ms'],
    ['WVA_CACHE_TTL', '2d', 'WVA_CACHE_TTL="2d" (env): must be at most 24h'],
    [
      'WVA_CACHE_TTL',
      '30s1m',
      'WVA_CACHE_TTL="30s1m" (env): unit "m" out of order or repeated; use a duration like 30s, 1m30s, 500ms or 1h (units: w, d, h, m, s, ms)',
    ],
    [
      'WVA_CACHE_FAILURE_TTL',
      '-1s',
      'WVA_CACHE_FAILURE_TTL="-1s" (env): a duration cannot have a sign; use a duration like 30s, 1m30s, 500ms or 1h (units: w, d, h, m, s, ms)',
    ],
    ['WVA_CACHE_MAX_ENTRIES', '1e4', 'WVA_CACHE_MAX_ENTRIES="1e4" (env): must be a whole number, e.g. 10000'],
    ['WVA_CACHE_MAX_ENTRIES', '0', 'WVA_CACHE_MAX_ENTRIES="0" (env): must be at least 1'],
    [
      'WVA_QUERY_WINDOW',
      '500ms',
      'WVA_QUERY_WINDOW="500ms" (env): must be a duration of at least 1s and at most 1d',
    ],
    [
      'WVA_STALE_AFTER',
      'never',
      'WVA_STALE_AFTER="never" (env): cannot read "never"; use a duration like 30s, 1m30s, 500ms or 1h (units: w, d, h, m, s, ms)',
    ],
    ['WVA_RECONCILE_CONCURRENCY', '2000', 'WVA_RECONCILE_CONCURRENCY="2000" (env): must be at most 1024'],
    [
      'WVA_RECONCILE_CONCURRENCY',
      'four',
      'WVA_RECONCILE_CONCURRENCY="four" (env): must be a whole number, e.g. 10000',
    ],
    [
      'WVA_WATCH_NAMESPACES',
      'prod,Staging,a_b',
      'WVA_WATCH_NAMESPACES="prod,Staging,a_b" (env): "Staging", "a_b" are not namespace names; use comma-separated DNS labels (a-z, 0-9, -), or empty for all',
    ],
    [
      'WVA_METRICS_ADDR',
      '8080',
      'WVA_METRICS_ADDR="8080" (env): must be :port, host:port or [ipv6]:port, e.g. :8080 or 127.0.0.1:9100',
    ],
    ['LOG_LEVEL', 'verbose', 'LOG_LEVEL="verbose" (env): must be one of debug, info, warn, error'],
  ])('%s=%j', (key, value, line) => {
    expect(problems({ env: { [key]: value } })).toEqual([line]);
  });

  it('failure TTL longer than the TTL, set or derived', () => {
    expect(problems({ env: { WVA_CACHE_TTL: '10s', WVA_CACHE_FAILURE_TTL: '1m' } })).toEqual([
      'WVA_CACHE_FAILURE_TTL="1m" (env): must not be longer than the cache TTL (10s)',
    ]);
    expect(problems({ configMapData: { WVA_CACHE_FAILURE_TTL: '1m' } })).toEqual([
      'WVA_CACHE_FAILURE_TTL="1m" (ConfigMap): must not be longer than the cache TTL (30s), derived from GLOBAL_OPT_INTERVAL; set WVA_CACHE_TTL or a shorter failure TTL',
    ]);
  });

  it('client certificate without key', () => {
    expect(problems({ env: { PROMETHEUS_CLIENT_CERT_PATH: '/c.crt' } })).toEqual([
      'PROMETHEUS_CLIENT_KEY_PATH is not set: mutual TLS needs both PROMETHEUS_CLIENT_CERT_PATH and PROMETHEUS_CLIENT_KEY_PATH',
    ]);
  });

  it('names flags as flags and files by name; masks passwords in URLs', () => {
    expect(problems({ flags: { cacheTtl: 'soon' } })).toEqual([
      '--cache-ttl="soon" (flag): cannot read "soon"; use a duration like 30s, 1m30s, 500ms or 1h (units: w, d, h, m, s, ms)',
    ]);
    const f = file('WVA_CACHE_MAX_ENTRIES: -3\n');
    expect(problems({ file: f })).toEqual([
      `WVA_CACHE_MAX_ENTRIES="-3" (file ${f.split('/').pop()}): must be a whole number, e.g. 10000`,
    ]);
    expect(problems({ env: { PROMETHEUS_BASE_URL: 'ftp://admin:hunter2@prom' } })).toEqual([
      'PROMETHEUS_BASE_URL="ftp://admin:[redacted]@prom" (env): must be an http:// or https:// URL, e.g. https://prometheus:9090',
    ]);
  });

  it('reports every problem at once, one line each, secrets never shown', () => {
    const err = (() => {
      try {
        loadConfig({
          env: { WVA_CACHE_TTL: 'x', LOG_LEVEL: 'loud', PROMETHEUS_BEARER_TOKEN: 'sekrit token' },
        });
      } catch (e) {
        return e as ConfigError;
      }
    })()!;
    expect(err.problems).toHaveLength(3);
    expect(err.message).not.toContain('sekrit');
    expect(err.message.split('\n')).toHaveLength(1);
    expect(err.message).toMatch(
      /^invalid configuration: PROMETHEUS_BEARER_TOKEN=.*; WVA_CACHE_TTL=.*; LOG_LEVEL=/,
    );
    expect(err.problems).toEqual([
      'PROMETHEUS_BEARER_TOKEN="[redacted]" (env): must be one token without spaces (no "Bearer " prefix)',
      'WVA_CACHE_TTL="x" (env): cannot read "x"; use a duration like 30s, 1m30s, 500ms or 1h (units: w, d, h, m, s, ms)',
      'LOG_LEVEL="loud" (env): must be one of debug, info, warn, error',
    ]);
  });

  it('file problems: missing, not YAML, not a mapping', () => {
    expect(problems({ file: join(dir, 'nope.yaml') })).toEqual([
      `config file ${join(dir, 'nope.yaml')}: no such file`,
    ]);
    const bad = file('WVA_CACHE_TTL: [unclosed\n');
    expect(problems({ file: bad })[0]).toMatch(new RegExp(`^config file ${bad}: not valid YAML or JSON: `));
    const list = file('- a\n- b\n');
    expect(problems({ file: list })).toEqual([
      `config file ${list}: must be a mapping of keys to values, e.g. "WVA_CACHE_TTL: 15s"`,
    ]);
    const nested = file('WVA_CACHE_TTL: {a: 1}\n');
    expect(problems({ file: nested })[0]).toMatch(
      /^WVA_CACHE_TTL="{\\"a\\":1}" \(file .*\): must be a duration like/,
    );
  });
});

describe('addConfigOptions / configSourcesFromOptions', () => {
  function parse(args: string[], env: NodeJS.ProcessEnv = {}) {
    const cmd = addConfigOptions(new Command('x').exitOverride().option('--json'));
    cmd.parse(args, { from: 'user' });
    return configSourcesFromOptions(cmd.opts(), env);
  }

  it('adds one flag per key that has one, no defaults', () => {
    const cmd = addConfigOptions(new Command('x'));
    const longs = cmd.options.map((o) => o.long);
    for (const spec of CONFIG_KEYS) if (spec.flag) expect(longs).toContain(`--${spec.flag}`);
    expect(longs).toContain('--config');
    expect(longs).not.toContain('--prometheus-bearer-token');
    cmd.parse([], { from: 'user' });
    expect(cmd.opts()).toEqual({});
  });

  it('maps parsed flags to the flags source, with --config or WVA_CONFIG_FILE as the file', () => {
    const s = parse(
      [
        '--prometheus-url=https://p:9090',
        '--cache-ttl',
        '9s',
        '--insecure-skip-verify',
        '--namespaces',
        'a,b',
        '--prometheus-header',
        'X-A: 1',
        '--prometheus-header',
        'X-B: two',
        '--json',
        '--config',
        '/etc/wva.yaml',
      ],
      { WVA_CONFIG_FILE: '/other.yaml' },
    );
    expect(s.file).toBe('/etc/wva.yaml');
    expect(s.flags).not.toHaveProperty('json');
    const c = loadConfig({ flags: s.flags });
    expect(c.prometheus).toMatchObject({
      url: 'https://p:9090',
      insecureSkipVerify: true,
      headers: { 'X-A': '1', 'X-B': 'two' },
    });
    expect(c.cache.ttlMs).toBe(9000);
    expect(c.reconcile.namespaces).toEqual(['a', 'b']);
    expect(parse([], { WVA_CONFIG_FILE: '/other.yaml' }).file).toBe('/other.yaml');
    expect(parse([]).file).toBeUndefined();
  });
});

describe('docs/configuration.md', () => {
  it('documents every key and its flag', async () => {
    const { readFile } = await import('node:fs/promises');
    const doc = await readFile(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    for (const spec of CONFIG_KEYS) {
      expect(doc, spec.key).toContain(`| \`${spec.key}\` |`);
      if (spec.flag) expect(doc, spec.flag).toContain(`\`--${spec.flag}`);
    }
  });
});
