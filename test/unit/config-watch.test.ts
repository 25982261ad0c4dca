import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { ModelMetricsCache } from '../../src/cache/model-metrics-cache.js';
import { type Config, ConfigError, ConfigReloader, diffConfig, loadConfig } from '../../src/config/index.js';
import { applyConfig, reloadHooks } from '../../src/runtime.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { Telemetry } from '../../src/telemetry/metrics.js';

const dirs: string[] = [];
const watchers: ConfigReloader[] = [];
afterEach(() => {
  for (const w of watchers.splice(0)) w.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'wva-watch-'));
  dirs.push(d);
  return d;
}

function next<T extends unknown[]>(
  w: ConfigReloader,
  event: 'change' | 'error' | 'reloaded',
  timeoutMs = 3000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${event} within ${timeoutMs} ms`)), timeoutMs);
    w.once(event, (...args: unknown[]) => {
      clearTimeout(t);
      resolve(args as T);
    });
  });
}

async function reloadCount(t: Telemetry, outcome: string): Promise<number> {
  const text = await t.registry.getSingleMetricAsString('wva_config_reloads_total');
  const line = text.split('\n').find((l) => l.startsWith(`wva_config_reloads_total{outcome="${outcome}"}`));
  return Number(line?.split(' ')[1]);
}

describe('ConfigReloader watching a file', () => {
  it('emits change when the file is rewritten, and error (old config kept) on an invalid rewrite', async () => {
    const dir = tmp();
    const file = join(dir, 'config.yaml');
    writeFileSync(file, 'WVA_CACHE_TTL: 10s\n');
    const w = new ConfigReloader(
      undefined,
      {},
      { file, env: { LOG_LEVEL: 'warn' } },
      { debounceMs: 20, pollMs: 0 },
    );
    watchers.push(w);
    expect(w.current.cache.ttlMs).toBe(10_000);

    let changed = next<[Config, Config]>(w, 'change');
    writeFileSync(file, 'WVA_CACHE_TTL: 20s\nWVA_QUERY_WINDOW: 2m\n');
    const [cfg, prev] = await changed;
    expect(cfg.cache.ttlMs).toBe(20_000);
    expect(cfg.collector.window).toBe('2m');
    expect(cfg.logLevel).toBe('warn'); // env still applies on top of the file
    expect(prev.cache.ttlMs).toBe(10_000);
    expect(w.current).toBe(cfg);

    const failed = next<[ConfigError, Config]>(w, 'error');
    writeFileSync(file, 'WVA_CACHE_TTL: soon\n');
    const [err, kept] = await failed;
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.problems[0]).toMatch(/^WVA_CACHE_TTL="soon" \(file config\.yaml\): cannot read "soon"/);
    expect(kept.cache.ttlMs).toBe(20_000);
    expect(w.current.cache.ttlMs).toBe(20_000);

    changed = next<[Config, Config]>(w, 'change');
    writeFileSync(file, 'WVA_CACHE_TTL: 5s\n');
    expect((await changed)[0].cache.ttlMs).toBe(5000);
  });

  it('sees an editor-style replace (write temp + rename) and ignores rewrites that change nothing', async () => {
    const dir = tmp();
    const file = join(dir, 'config.yaml');
    writeFileSync(file, 'WVA_CACHE_TTL: 10s\n');
    const w = new ConfigReloader(undefined, {}, { file }, { debounceMs: 20, pollMs: 0 });
    watchers.push(w);
    let changes = 0;
    w.on('change', () => changes++);
    const reloaded = next<['changed' | 'unchanged' | 'error']>(w, 'reloaded');
    writeFileSync(file, '# a comment\nWVA_CACHE_TTL: 10s\n');
    expect((await reloaded)[0]).toBe('unchanged'); // the watcher re-read it, and found no change
    expect(changes).toBe(0);
    expect(w.reload()).toBe('unchanged');

    const changed = next<[Config]>(w, 'change');
    writeFileSync(join(dir, '.config.yaml.swp'), 'WVA_CACHE_TTL: 15s\n');
    renameSync(join(dir, '.config.yaml.swp'), file);
    expect((await changed)[0].cache.ttlMs).toBe(15_000);
    expect(changes).toBe(1);
  });

  it("follows a Kubernetes ConfigMap volume's ..data symlink swap", async () => {
    const mount = tmp();
    const write = (version: string, ttl: string) => {
      const d = join(mount, `..${version}`);
      mkdirSync(d);
      writeFileSync(join(d, 'WVA_CACHE_TTL'), ttl);
      writeFileSync(join(d, 'LOG_LEVEL'), 'info');
      symlinkSync(`..${version}`, join(mount, '..data_tmp'));
      renameSync(join(mount, '..data_tmp'), join(mount, '..data')); // the atomic swap kubelet does
    };
    write('v1', '10s');
    symlinkSync('..data/WVA_CACHE_TTL', join(mount, 'WVA_CACHE_TTL'));
    symlinkSync('..data/LOG_LEVEL', join(mount, 'LOG_LEVEL'));
    const w = new ConfigReloader(undefined, {}, { file: mount }, { debounceMs: 20, pollMs: 0 });
    watchers.push(w);
    expect(w.current.cache.ttlMs).toBe(10_000);
    const changed = next<[Config]>(w, 'change');
    write('v2', '25s');
    expect((await changed)[0].cache.ttlMs).toBe(25_000);
  });

  it('emits an error for one bad content once, and logs it when nobody listens', async () => {
    const dir = tmp();
    const file = join(dir, 'c.yaml');
    writeFileSync(file, 'LOG_LEVEL: info\n');
    const stream = new PassThrough();
    let logged = '';
    stream.on('data', (d: Buffer) => {
      logged += d;
    });
    const logger = createLogger({ destination: stream });
    const w = new ConfigReloader(undefined, { logger }, { file }, { debounceMs: 10_000, pollMs: 0 });
    watchers.push(w);
    writeFileSync(file, 'LOG_LEVEL: loud\n');
    expect(w.reload()).toBe('error'); // no 'error' listener: logged, not thrown
    await new Promise((r) => setImmediate(r));
    expect(logged).toContain('LOG_LEVEL=\\"loud\\"');
    let errors = 0;
    w.on('error', () => errors++);
    expect(w.reload()).toBe('error');
    expect(w.reload()).toBe('error');
    expect(errors).toBe(0); // same problem as already reported
    writeFileSync(file, 'LOG_LEVEL: louder\n');
    w.reload();
    expect(errors).toBe(1);
    expect(w.current.logLevel).toBe('info');
  });

  it('updateSources: ConfigMap data and the file feed one reload path, neither reverts the other', async () => {
    const dir = tmp();
    const file = join(dir, 'c.yaml');
    writeFileSync(file, 'WVA_QUERY_WINDOW: 2m\n');
    const sources = { file, configMapData: { WVA_CACHE_TTL: '10s' } };
    const w = new ConfigReloader(undefined, {}, sources, { debounceMs: 20, pollMs: 0 });
    watchers.push(w);
    const seen: Config[] = [];
    w.on('change', (c) => seen.push(c));
    w.on('error', () => {});
    expect(w.updateSources({ configMapData: { WVA_CACHE_TTL: '20s' } })).toBe('changed');
    expect(w.current.cache.ttlMs).toBe(20_000);
    expect(w.updateSources({ configMapData: { WVA_CACHE_TTL: 'bad' } })).toBe('error');
    expect(w.current.cache.ttlMs).toBe(20_000);
    expect(w.updateSources({ configMapData: { WVA_CACHE_TTL: '20s' } })).toBe('unchanged'); // fixed again
    const changed = next<[Config]>(w, 'change');
    writeFileSync(file, 'WVA_QUERY_WINDOW: 3m\n');
    const [c] = await changed;
    expect(c.collector.window).toBe('3m');
    expect(c.cache.ttlMs).toBe(20_000); // the ConfigMap's value survives a file reload
    expect(seen).toHaveLength(2);
  });

  it('throws ConfigError at construction when the starting config is bad', () => {
    const dir = tmp();
    const file = join(dir, 'c.yaml');
    writeFileSync(file, 'WVA_CACHE_MAX_ENTRIES: lots\n');
    expect(() => new ConfigReloader(undefined, {}, { file }, { pollMs: 0 })).toThrow(ConfigError);
  });
});

describe('applyConfig', () => {
  const base = loadConfig({});

  it('pushes TTLs to the cache (entries already cached follow), window/staleness to the collector, level to the logger', () => {
    let now = 0;
    const cache = new ModelMetricsCache({ ttlMs: 30_000, now: () => now });
    const metrics = {
      load: { arrivalRate: 1, avgInputTokens: 1, avgOutputTokens: 1 },
      ttftAverage: 1,
      itlAverage: 1,
    };
    cache.set('m', 'ns', metrics);
    now = 15_000;
    expect(cache.get('m', 'ns')).toBeDefined();
    const configured: unknown[] = [];
    const root = createLogger({ level: 'info', destination: new PassThrough() });
    const telemetry = new Telemetry({ collectDefaultMetrics: false });
    const next = loadConfig({
      env: { WVA_CACHE_TTL: '10s', WVA_CACHE_FAILURE_TTL: '2s', WVA_QUERY_WINDOW: '5m', LOG_LEVEL: 'debug' },
    });
    const result = applyConfig(next, base, {
      cache,
      collector: { configure: (o) => configured.push(o) },
      rootLogger: root,
      telemetry,
    });
    expect(result.changed).toEqual([
      'WVA_CACHE_TTL',
      'WVA_CACHE_FAILURE_TTL',
      'WVA_QUERY_WINDOW',
      'LOG_LEVEL',
    ]);
    expect(result.applied.sort()).toEqual([...result.changed].sort());
    expect(result.restartRequired).toEqual([]);
    expect(cache.ttlMs).toBe(10_000);
    expect(cache.failureTtlMs).toBe(2000);
    expect(cache.get('m', 'ns')).toBeUndefined(); // 15 s old: fresh under 30 s, expired under 10 s
    expect(configured).toEqual([{ window: '5m', staleAfterMs: 300_000 }]);
    expect(root.level).toBe('debug');
    return reloadCount(telemetry, 'success').then((n) => expect(n).toBe(1));
  });

  it('hands other changes to onChange; the rest need a restart', () => {
    const next = loadConfig({
      env: {
        PROMETHEUS_BASE_URL: 'https://other:9090',
        GLOBAL_OPT_INTERVAL: '30s',
        WVA_METRICS_ADDR: ':9999',
      },
    });
    expect(diffConfig(next, base)).toEqual([
      'PROMETHEUS_BASE_URL',
      'GLOBAL_OPT_INTERVAL',
      'WVA_CACHE_TTL',
      'WVA_CACHE_FAILURE_TTL',
      'WVA_METRICS_ADDR',
    ]);
    const seen: string[][] = [];
    const result = applyConfig(next, base, {
      onChange: (_n, _p, keys) => {
        seen.push(keys);
        return ['GLOBAL_OPT_INTERVAL'];
      },
    });
    expect(seen).toEqual([['PROMETHEUS_BASE_URL', 'GLOBAL_OPT_INTERVAL', 'WVA_METRICS_ADDR']]);
    expect(result.restartRequired).toEqual(['PROMETHEUS_BASE_URL', 'WVA_METRICS_ADDR']);
  });

  it('the optimizer takes its keys live; they never reach onChange', () => {
    const next = loadConfig({
      env: { WVA_STABILIZATION_WINDOW: '2m', WVA_KV_CACHE_THRESHOLD: '0.8', WVA_BACKLOG_DRAIN_TIME: '0' },
    });
    const configured: Config['reconcile'][] = [];
    const seen: string[][] = [];
    const result = applyConfig(next, base, {
      optimizer: { configure: (o) => configured.push(o) },
      onChange: (_n, _p, keys) => {
        seen.push(keys);
        return [];
      },
    });
    expect(result.applied).toEqual([
      'WVA_STABILIZATION_WINDOW',
      'WVA_KV_CACHE_THRESHOLD',
      'WVA_BACKLOG_DRAIN_TIME',
    ]);
    expect(configured).toMatchObject([
      { stabilizationWindowMs: 120_000, kvCacheThreshold: 0.8, backlogDrainMs: 0 },
    ]);
    expect(seen).toEqual([]);
    expect(result.restartRequired).toEqual([]);
  });

  it('counts an error (and does not throw) when a part refuses the change', async () => {
    const telemetry = new Telemetry({ registry: new Registry(), collectDefaultMetrics: false });
    const next = loadConfig({ env: { WVA_CACHE_TTL: '10s' } });
    const result = applyConfig(next, base, {
      cache: {
        setTtl() {
          throw new Error('nope');
        },
      },
      telemetry,
    });
    expect(result.applied).toEqual([]);
    expect(await reloadCount(telemetry, 'error')).toBe(1);
  });
});

describe('ConfigReloader and the running parts', () => {
  it('applies file changes to the parts and counts refusals', async () => {
    const dir = tmp();
    const file = join(dir, 'config.yaml');
    writeFileSync(file, 'WVA_CACHE_TTL: 10s\n');
    const current = loadConfig({ file });
    const cache = new ModelMetricsCache({ ttlMs: current.cache.ttlMs });
    const telemetry = new Telemetry({ collectDefaultMetrics: false });
    const applied: Config[] = [];
    const w = new ConfigReloader(
      current,
      reloadHooks({ cache, telemetry }),
      { file },
      { debounceMs: 20, pollMs: 0 },
    );
    w.on('change', (c) => applied.push(c));
    watchers.push(w);
    const changed = next(w, 'change');
    writeFileSync(file, 'WVA_CACHE_TTL: 3s\n');
    await changed;
    expect(cache.ttlMs).toBe(3000);
    expect(applied).toHaveLength(1);
    const failed = next(w, 'error');
    writeFileSync(file, 'WVA_CACHE_TTL: 3\n');
    await failed;
    expect(cache.ttlMs).toBe(3000);
    expect(await reloadCount(telemetry, 'success')).toBe(1);
    expect(await reloadCount(telemetry, 'error')).toBe(1);
  });

  it('updateSources: a file change after a ConfigMap change keeps the ConfigMap value applied', async () => {
    const dir = tmp();
    const file = join(dir, 'config.yaml');
    writeFileSync(file, 'WVA_CACHE_TTL: 30s\n');
    const current = loadConfig({ file });
    const cache = new ModelMetricsCache({ ttlMs: current.cache.ttlMs });
    let window = current.collector.window;
    const collector = {
      configure(o: { window?: string }) {
        if (o.window) window = o.window;
      },
    };
    const w = new ConfigReloader(
      current,
      reloadHooks({ cache, collector }),
      { file },
      { debounceMs: 20, pollMs: 0 },
    );
    watchers.push(w);
    // The ConfigMap sits above the file: its TTL wins.
    expect(w.updateSources({ configMapData: { WVA_CACHE_TTL: '20s' } })).toBe('changed');
    expect(cache.ttlMs).toBe(20_000);
    const changed = next<[Config, Config]>(w, 'change');
    writeFileSync(file, 'WVA_CACHE_TTL: 30s\nWVA_QUERY_WINDOW: 2m\n');
    const [c, prev] = await changed;
    expect(window).toBe('2m');
    expect(c.cache.ttlMs).toBe(20_000);
    expect(prev.cache.ttlMs).toBe(20_000);
    expect(cache.ttlMs).toBe(20_000);
    // The ConfigMap key removed: the file's value is in force again.
    expect(w.updateSources({ configMapData: {} })).toBe('changed');
    expect(cache.ttlMs).toBe(30_000);
  });

  it('ConfigReloader applies ConfigMap data, keeps the old config on error', async () => {
    const env = { LOG_LEVEL: 'warn' };
    const cache = new ModelMetricsCache({ ttlMs: 30_000 });
    const telemetry = new Telemetry({ collectDefaultMetrics: false });
    const r = new ConfigReloader(loadConfig({ env }), reloadHooks({ cache, telemetry }), { env });
    expect(r.updateSources({ configMapData: { WVA_CACHE_TTL: '7s' } })).toBe('changed');
    expect(r.current.cache.ttlMs).toBe(7000);
    expect(cache.ttlMs).toBe(7000);
    expect(r.updateSources({ configMapData: { WVA_CACHE_TTL: 'x' } })).toBe('error');
    expect(r.current.cache.ttlMs).toBe(7000);
    const before = r.current;
    expect(r.updateSources({ configMapData: { WVA_CACHE_TTL: '7s' } })).toBe('unchanged');
    expect(r.current).toBe(before); // no change
    expect(await reloadCount(telemetry, 'success')).toBe(1);
    expect(await reloadCount(telemetry, 'error')).toBe(1);
  });
});
