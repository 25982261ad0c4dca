// Upstream WVA v0.5's configuration read unchanged: wva-variantautoscaling-config in kustomize form
// and as Helm's single config.yaml key, its cache keys driving our cache, the keys that cannot
// apply named once, env overrides, and wva-model-scale-to-zero-config into the actuator's policy.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { Actuator } from '../../src/actuator/actuator.js';
import { ActuationMetrics } from '../../src/actuator/metrics.js';
import { ruleFor } from '../../src/actuator/scale-to-zero.js';
import {
  type ConfigError,
  ConfigReloader,
  configMapNames,
  parseUpstreamScaleToZero,
  resolveConfig,
  scaleToZeroFor,
  scopedData,
} from '../../src/config/index.js';
import { loadManifests } from '../../src/controller/local.js';
import type { Logger } from '../../src/types.js';

const fixture = (f: string) =>
  parse(readFileSync(new URL(`../fixtures/upstream-v0.5/${f}`, import.meta.url), 'utf8')) as {
    data: Record<string, string>;
  };
const upstreamData = fixture('configmap.yaml').data;

function recorder() {
  const warned: Array<[Record<string, unknown>, string]> = [];
  const logger: Logger = {
    debug() {},
    info() {},
    warn: (o: object, m?: string) => warned.push([o as Record<string, unknown>, m ?? '']),
    error() {},
    child: () => logger,
  };
  return { logger, warned };
}

describe('wva-variantautoscaling-config, upstream v0.5', () => {
  it('the kustomize ConfigMap: every key applied or named as not applied, none unknown', () => {
    const r = resolveConfig({ configMapData: upstreamData });
    expect(r.config.prometheus).toMatchObject({
      url: 'https://kube-prometheus-stack-prometheus.workload-variant-autoscaler-monitoring.svc.cluster.local:9090',
      insecureSkipVerify: true,
    });
    expect(r.config.reconcile.intervalMs).toBe(60_000);
    expect(r.config.actuation.scaleToZero).toBe(false);
    // The PROMETHEUS_METRICS_CACHE_* keys drive the cache; 0 (upstream: unbounded) keeps our bound.
    expect(r.config.cache).toEqual({
      ttlMs: 30_000,
      failureTtlMs: 30_000,
      maxEntries: 10_000,
      cleanupIntervalMs: 60_000,
    });
    expect(r.origins).toMatchObject({ WVA_CACHE_TTL: 'ConfigMap', WVA_CACHE_CLEANUP_INTERVAL: 'ConfigMap' });
    expect(r.config.collector.staleAfterMs).toBe(300_000);
    expect(r.origins.WVA_STALE_AFTER).toBe('ConfigMap');
    expect(r.unknown).toEqual([]);
    // WVA_LIMITED_MODE "false" and an empty WVA_NODE_SELECTOR ask for what happens anyway.
    expect(r.notApplied.map((n) => `${n.key}=${n.value}`)).toEqual([
      'PROMETHEUS_METRICS_CACHE_FETCH_INTERVAL=30s',
      'PROMETHEUS_METRICS_CACHE_FRESH_THRESHOLD=1m',
      'PROMETHEUS_METRICS_CACHE_STALE_THRESHOLD=2m',
    ]);
  });

  it("Helm's single config.yaml key reads the same; a key of its own in the data wins", () => {
    const helm = { 'config.yaml': stringify(upstreamData) };
    const kustomize = resolveConfig({ configMapData: upstreamData });
    const fromHelm = resolveConfig({ configMapData: helm });
    expect(fromHelm.config).toEqual(kustomize.config);
    expect(fromHelm.notApplied).toEqual(kustomize.notApplied);
    const both = resolveConfig({ configMapData: { ...helm, GLOBAL_OPT_INTERVAL: '30s' } });
    expect(both.config.reconcile.intervalMs).toBe(30_000);
  });

  it('a config.yaml that is not a mapping is refused, naming the key, and the reloader keeps the last good', () => {
    expect(() => resolveConfig({ configMapData: { 'config.yaml': '- a\n- b' } })).toThrow(
      'invalid configuration: ConfigMap: key config.yaml: must be a YAML mapping of keys to values, e.g. "GLOBAL_OPT_INTERVAL: 60s"',
    );
    const { logger } = recorder();
    const reloader = new ConfigReloader(undefined, { logger }, { configMapData: upstreamData });
    const good = reloader.current;
    const errors: ConfigError[] = [];
    reloader.on('error', (e) => errors.push(e));
    expect(reloader.updateSources({ configMapData: { 'config.yaml': 'GLOBAL_OPT_INTERVAL: [' } })).toBe(
      'error',
    );
    expect(errors[0]?.problems[0]).toMatch(/^ConfigMap: key config.yaml: not valid YAML/);
    expect(reloader.current).toBe(good);
  });

  it('an upstream name is read below ours in the same layer, and its bad value names it', () => {
    const r = resolveConfig({ configMapData: { PROMETHEUS_METRICS_CACHE_TTL: '20s', WVA_CACHE_TTL: '10s' } });
    expect(r.config.cache.ttlMs).toBe(10_000);
    // A higher layer wins whichever name it uses.
    const env = resolveConfig({
      configMapData: { WVA_CACHE_TTL: '10s' },
      env: { PROMETHEUS_METRICS_CACHE_TTL: '40s' },
    });
    expect(env.config.cache.ttlMs).toBe(40_000);
    expect(() => resolveConfig({ configMapData: { PROMETHEUS_METRICS_CACHE_MAX_SIZE: '-1' } })).toThrow(
      'PROMETHEUS_METRICS_CACHE_MAX_SIZE="-1" (ConfigMap): must be a whole number, e.g. 10000',
    );
    expect(
      resolveConfig({ configMapData: { PROMETHEUS_METRICS_CACHE_MAX_SIZE: '500' } }).config.cache.maxEntries,
    ).toBe(500);
  });

  it("upstream's environment: WATCH_NAMESPACE, CONTROLLER_INSTANCE, PROMETHEUS_* paths, the ConfigMap names", () => {
    const c = resolveConfig({
      env: {
        WATCH_NAMESPACE: 'llm-d',
        CONTROLLER_INSTANCE: 'e2e-1',
        PROMETHEUS_BASE_URL: 'https://thanos:9091',
        PROMETHEUS_CA_CERT_PATH: '/etc/ssl/certs/prometheus-ca.crt',
        PROMETHEUS_TOKEN_PATH: '/var/run/secrets/token',
      },
    }).config;
    expect(c.reconcile).toMatchObject({ namespaces: ['llm-d'], controllerInstance: 'e2e-1' });
    expect(c.prometheus).toMatchObject({
      url: 'https://thanos:9091',
      caCertPath: '/etc/ssl/certs/prometheus-ca.crt',
      tokenPath: '/var/run/secrets/token',
    });
    expect(() => resolveConfig({ env: { CONTROLLER_INSTANCE: 'a b' } })).toThrow(
      'CONTROLLER_INSTANCE="a b" (env): must be a label value: at most 63 letters, digits, -, _ or ., starting and ending with a letter or digit',
    );
    expect(configMapNames({})).toEqual({
      main: ['wva-variantautoscaling-config', 'variantautoscaling-config'],
      saturation: ['wva-saturation-scaling-config'],
      scaleToZero: ['wva-model-scale-to-zero-config', 'model-scale-to-zero-config'],
    });
    expect(
      configMapNames({
        CONFIG_MAP_NAME: 'rel-wva-variantautoscaling-config',
        SATURATION_CONFIG_MAP_NAME: 'rel-sat',
      }),
    ).toMatchObject({
      main: ['rel-wva-variantautoscaling-config'],
      saturation: ['rel-sat'],
    });
  });

  it('a key that cannot apply is named once in a warning with the reason, however often the reloader runs', () => {
    const { logger, warned } = recorder();
    const reloader = new ConfigReloader(
      undefined,
      { logger },
      { configMapData: { WVA_NODE_SELECTOR: 'shard=a' } },
    );
    reloader.reload();
    reloader.updateSources({ configMapData: { WVA_NODE_SELECTOR: 'shard=b', WVA_LIMITED_MODE: 'true' } });
    expect(warned.map(([, m]) => m)).toEqual([
      'configuration key WVA_NODE_SELECTOR in ConfigMap is not applied: sharding by node selector is not implemented; shard with CONTROLLER_INSTANCE or WVA_WATCH_NAMESPACES',
      'configuration key WVA_LIMITED_MODE in ConfigMap is not applied: limited mode is not implemented; the GPU limiter is the enableLimiter field of wva-saturation-scaling-config',
    ]);
  });
});

describe('wva-model-scale-to-zero-config, upstream v0.5', () => {
  const CM = 'workload-variant-autoscaler-system/wva-model-scale-to-zero-config';

  it("the example fleet's, as the actuator takes it: only the staging Llama may go to zero, after 1m", () => {
    const { configMaps } = loadManifests(fileURLToPath(new URL('../../examples/manifests', import.meta.url)));
    const data = configMaps?.get(CM);
    expect(data).toBeDefined();
    const actuator = new Actuator({ mode: 'metrics', metrics: new ActuationMetrics(new Registry()) });
    expect(actuator.setScaleToZeroConfig(data, 'upstream', CM)).toEqual([]);
    const llama = 'meta-llama/Llama-3.1-8B-Instruct';
    expect(ruleFor(actuator.scaleToZeroConfig, false, llama, 'llm-staging')).toEqual({
      enabled: true,
      retentionMs: 60_000,
    });
    expect(ruleFor(actuator.scaleToZeroConfig, false, llama, 'llm-prod')).toEqual({
      enabled: false,
      retentionMs: 600_000,
    });
  });

  it('the sample: default enabled with 15m retention, every model inherits', () => {
    const cfg = parseUpstreamScaleToZero(fixture('model-scale-to-zero-config.yaml').data, CM);
    expect(cfg.problems).toEqual([]);
    expect(ruleFor(cfg, false, 'meta/llama-3.1-8b', 'llm-inference')).toEqual({
      enabled: true,
      retentionMs: 900_000,
    });
  });

  it('overrides per model and per namespace inherit what they leave out; older spellings read too', () => {
    const cfg = parseUpstreamScaleToZero(
      {
        default: 'enable_scale_to_zero: true\nretention_period: "15m"',
        'llama-8b-override': 'model_id: meta/llama-3.1-8b\nretention_period: "5m"',
        'llama-70b-override': 'model_id: meta/llama-3.1-70b\nenable_scale_to_zero: false',
        'llama-production':
          'model_id: meta/llama-3.1-8b\nnamespace: production\nenable_scale_to_zero: true\nretention_period: "30m"',
        older: 'modelID: ibm/granite\nenableScaleToZero: "false"\nretentionPeriod: 2m',
      },
      CM,
    );
    expect(cfg.problems).toEqual([]);
    expect(ruleFor(cfg, false, 'meta/llama-3.1-8b', 'dev')).toEqual({ enabled: true, retentionMs: 300_000 });
    expect(ruleFor(cfg, false, 'meta/llama-3.1-8b', 'production')).toEqual({
      enabled: true,
      retentionMs: 1_800_000,
    });
    expect(ruleFor(cfg, true, 'meta/llama-3.1-70b', 'dev')).toEqual({ enabled: false, retentionMs: 900_000 });
    expect(ruleFor(cfg, true, 'ibm/granite', 'dev')).toEqual({ enabled: false, retentionMs: 120_000 });
    // Without a default entry the global switch WVA_SCALE_TO_ZERO decides, with 10 minutes.
    const bare = parseUpstreamScaleToZero({}, CM);
    expect(ruleFor(bare, true, 'm', 'ns')).toEqual({ enabled: true, retentionMs: 600_000 });
  });

  it('bad input: each problem names the ConfigMap, key, field and rule; the rest still applies', () => {
    const cfg = parseUpstreamScaleToZero(
      {
        default: 'enable_scale_to_zero: maybe\nretention_period: "20m"',
        a: 'model_id: m\nretention_period: soon\nenable_scale_to_zero: true',
        b: 'model_id: m\nretention_period: 1m',
        c: 'retention_period: 1m',
        d: 'model_id: [',
        e: '42',
      },
      CM,
    );
    expect(cfg.problems).toEqual([
      `ConfigMap ${CM} key "a": retention_period "soon" must be a duration of whole seconds from 1s to 7d, such as 30s, 10m or 1h; inherited instead`,
      `ConfigMap ${CM} key "b": model m is already configured by key "a"; this key is ignored`,
      `ConfigMap ${CM} key "c": model_id is required (a non-empty string) on every key but "default"; the key is ignored`,
      expect.stringMatching(new RegExp(`^ConfigMap ${CM} key "d": not YAML`)),
      `ConfigMap ${CM} key "default": enable_scale_to_zero must be true or false, got "maybe"; inherited instead`,
      expect.stringMatching(new RegExp(`^ConfigMap ${CM} key "e": must be a YAML mapping`)),
    ]);
    expect(ruleFor(cfg, false, 'm', 'ns')).toEqual({ enabled: true, retentionMs: 1_200_000 });
    expect(ruleFor(cfg, false, 'other', 'ns')).toEqual({ enabled: false, retentionMs: 1_200_000 });
  });

  it('a namespace-local copy (labelled) overrides the global one, never merged; garbage falls back to global', () => {
    const cm = (namespace: string, data: Record<string, string>, labelled = true) => ({
      metadata: {
        name: 'wva-model-scale-to-zero-config',
        namespace,
        ...(labelled ? { labels: { 'wva.llmd.ai/config-enabled': 'true' } } : {}),
      },
      data,
    });
    const global = cm('wva-system', { default: 'enable_scale_to_zero: true' });
    const older = {
      ...cm('wva-system', { __defaults__: 'enableScaleToZero: false' }),
      metadata: { name: 'model-scale-to-zero-config', namespace: 'wva-system' },
    };
    const locals = new Map([
      ['team-a', cm('team-a', { default: 'enable_scale_to_zero: false' })],
      ['team-b', cm('team-b', { default: 'enable_scale_to_zero: false' }, false)],
    ]);
    expect(scopedData('team-a', [global, older], locals)).toEqual({
      data: { default: 'enable_scale_to_zero: false' },
      from: 'team-a/wva-model-scale-to-zero-config',
    });
    expect(scopedData('team-b', [global, older], locals).from).toBe(
      'wva-system/wva-model-scale-to-zero-config',
    );
    expect(scopedData('team-c', [undefined, older], locals).from).toBe(
      'wva-system/model-scale-to-zero-config',
    );

    const parsedGlobal = parseUpstreamScaleToZero(global.data, 'g');
    const garbage = parseUpstreamScaleToZero({ x: 'not: [yaml' }, 'team-c/wva-model-scale-to-zero-config');
    const local = new Map([
      ['team-a', parseUpstreamScaleToZero(locals.get('team-a')?.data, 'a')],
      ['team-c', garbage],
    ]);
    expect(ruleFor(scaleToZeroFor('team-a', parsedGlobal, local), true, 'm', 'team-a').enabled).toBe(false);
    expect(ruleFor(scaleToZeroFor('team-c', parsedGlobal, local), false, 'm', 'team-c').enabled).toBe(true);
    expect(garbage.problems).toHaveLength(1);
  });
});
