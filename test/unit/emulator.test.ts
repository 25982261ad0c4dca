import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  buckets125,
  configFromFlags,
  EmulatorConfigError,
  type EmulatorConfigInput,
  LoadCurve,
  loadEmulatorConfig,
  parseEmulatorConfig,
  prometheusConfigYaml,
  startEmulatorServer,
  VLLM_BUCKETS,
  VllmEmulator,
} from '../../src/emulator/index.js';

// --- a small parser of the Prometheus text format, strict enough to catch malformed output ---
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
interface Family {
  type: string;
  help: string;
  samples: Sample[];
}
function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  let current: Family | undefined;
  let currentName = '';
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta;
      if (name !== currentName) {
        current = { type: '', help: '', samples: [] };
        families.set(name!, current);
        currentName = name!;
      }
      if (kind === 'HELP') current!.help = rest!;
      else current!.type = rest!;
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`malformed line: ${line}`);
    const [, name, labelText, value] = m;
    if (!name!.startsWith(currentName)) throw new Error(`sample ${name} outside its family ${currentName}`);
    const labels: Record<string, string> = {};
    for (const lm of (labelText ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[lm[1]!] = lm[2]!.replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    }
    const v = value === '+Inf' ? Number.POSITIVE_INFINITY : Number(value);
    if (Number.isNaN(v)) throw new Error(`bad value in: ${line}`);
    current!.samples.push({ name: name!, labels, value: v });
  }
  return families;
}

function steadyConfig(over: Partial<EmulatorConfigInput> = {}): EmulatorConfigInput {
  return {
    seed: 7,
    models: [
      {
        model: 'meta-llama/Llama-3.1-8B-Instruct',
        namespace: 'prod',
        load: { pattern: 'steady', rate: 600 },
        // Evenly spaced: counts over a window are exact, as the tests below read them.
        arrivals: 'uniform',
        inputTokens: 500,
        outputTokens: 100,
        variants: [
          { name: 'llama-a100', replicas: 2 },
          { name: 'llama-h100', replicas: 1, accelerator: 'H100' },
        ],
      },
      {
        model: 'ibm/granite',
        architecture: 'ibm-granite/granite-3.3-8b-instruct',
        namespace: 'staging',
        load: { pattern: 'steady', rate: 120 },
        arrivals: 'uniform',
        inputTokens: 1000,
        outputTokens: 200,
        variants: [{ name: 'granite-l40s', replicas: 1 }],
      },
    ],
    ...over,
  };
}

function make(input: EmulatorConfigInput) {
  let now = 1_700_000_000_000;
  const emulator = new VllmEmulator(parseEmulatorConfig(input), { now: () => now });
  return {
    emulator,
    tick(ms: number) {
      now += ms;
      emulator.sync();
    },
  };
}

async function allText(emulator: VllmEmulator): Promise<string> {
  const parts = await Promise.all(emulator.pods.map((p) => p.metrics()));
  return parts.join('\n---\n');
}

describe('emulator exposition', () => {
  it("uses current vLLM's (V1, >= 0.13) names, types, labels and bucket boundaries by default", async () => {
    const { emulator, tick } = make(steadyConfig());
    tick(30_000);
    const pod = emulator.pods[0]!;
    const families = parseExposition(await pod.metrics());
    expect(new Map([...families].map(([k, f]) => [k, f.type]))).toEqual(
      new Map([
        ['vllm:request_success_total', 'counter'],
        ['vllm:request_prompt_tokens', 'histogram'],
        ['vllm:request_generation_tokens', 'histogram'],
        ['vllm:time_to_first_token_seconds', 'histogram'],
        ['vllm:inter_token_latency_seconds', 'histogram'],
        ['vllm:kv_cache_usage_perc', 'gauge'],
        ['vllm:e2e_request_latency_seconds', 'histogram'],
        ['vllm:request_queue_time_seconds', 'histogram'],
        ['vllm:request_prefill_time_seconds', 'histogram'],
        ['vllm:request_decode_time_seconds', 'histogram'],
        ['vllm:prompt_tokens_total', 'counter'],
        ['vllm:generation_tokens_total', 'counter'],
        ['vllm:num_preemptions_total', 'counter'],
        ['vllm:num_requests_running', 'gauge'],
        ['vllm:num_requests_waiting', 'gauge'],
        ['vllm:cache_config_info', 'gauge'],
      ]),
    );
    const kv = families.get('vllm:kv_cache_usage_perc')!.samples[0]!.value;
    expect(kv).toBeGreaterThan(0);
    expect(kv).toBeLessThanOrEqual(1);
    for (const [name, family] of families) {
      expect(family.help, name).not.toBe('');
      // vLLM's info metric describes the engine, not a model.
      if (name === 'vllm:cache_config_info') continue;
      for (const s of family.samples) {
        expect(s.labels.model_name).toBe('meta-llama/Llama-3.1-8B-Instruct');
        expect(s.labels.engine).toBe('0');
        // Prometheus adds namespace (and pod) at scrape time; a pod never exposes them.
        expect(s.labels).not.toHaveProperty('namespace');
      }
    }
    const reasons = families.get('vllm:request_success_total')!.samples.map((s) => s.labels.finished_reason);
    expect(reasons.sort()).toEqual(['length', 'stop']);

    const expectBuckets = (name: string, bounds: readonly number[]) => {
      const samples = families.get(name)!.samples;
      const buckets = samples.filter((s) => s.name === `${name}_bucket`);
      expect(
        buckets.map((b) => (b.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(b.labels.le))),
      ).toEqual([...bounds, Number.POSITIVE_INFINITY]);
      for (let i = 1; i < buckets.length; i++)
        expect(buckets[i]!.value).toBeGreaterThanOrEqual(buckets[i - 1]!.value);
      const count = samples.find((s) => s.name === `${name}_count`)!.value;
      const sum = samples.find((s) => s.name === `${name}_sum`)!.value;
      expect(buckets.at(-1)!.value).toBe(count);
      expect(count).toBeGreaterThan(0);
      expect(sum).toBeGreaterThan(0);
    };
    expectBuckets('vllm:time_to_first_token_seconds', VLLM_BUCKETS.ttftSeconds);
    expectBuckets('vllm:inter_token_latency_seconds', VLLM_BUCKETS.tpotSeconds);
    expectBuckets('vllm:request_prompt_tokens', VLLM_BUCKETS.tokens);
    expectBuckets('vllm:request_generation_tokens', VLLM_BUCKETS.tokens);
    expect(VLLM_BUCKETS.ttftSeconds.slice(0, 5)).toEqual([0.001, 0.005, 0.01, 0.02, 0.04]);
    expect(VLLM_BUCKETS.tpotSeconds.slice(0, 4)).toEqual([0.01, 0.025, 0.05, 0.075]);
    expect(buckets125(1000)).toEqual([1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]);
  });

  it('exports both ITL and KV-cache names only where asked, and only the old ones for legacy vLLM', async () => {
    const cfg = steadyConfig();
    const model = cfg.models[0]!;
    const { emulator, tick } = make({
      ...cfg,
      vllmMetrics: 'legacy',
      models: [
        { ...model, namespace: 'old' },
        { ...model, namespace: 'mid', vllmMetrics: 'transitional' },
      ],
    });
    tick(30_000);
    const byNs = new Map(emulator.pods.map((p) => [p.namespace, p]));
    const names = async (ns: string) => {
      const families = parseExposition(await byNs.get(ns)!.metrics());
      return [...families.keys()].filter((n) => /latency|time_per_output|cache_usage/.test(n)).sort();
    };
    expect(await names('old')).toEqual([
      'vllm:e2e_request_latency_seconds',
      'vllm:gpu_cache_usage_perc',
      'vllm:time_per_output_token_seconds',
    ]);
    expect(await names('mid')).toEqual([
      'vllm:e2e_request_latency_seconds',
      'vllm:gpu_cache_usage_perc',
      'vllm:inter_token_latency_seconds',
      'vllm:kv_cache_usage_perc',
      'vllm:time_per_output_token_seconds',
    ]);
    // Side by side, the old and new names carry the same observations.
    const mid = parseExposition(await byNs.get('mid')!.metrics());
    const count = (name: string) => mid.get(name)!.samples.find((s) => s.name === `${name}_count`)!.value;
    expect(count('vllm:inter_token_latency_seconds')).toBeGreaterThan(0);
    expect(count('vllm:inter_token_latency_seconds')).toBe(count('vllm:time_per_output_token_seconds'));
  });

  it('escapes a model name that needs it', async () => {
    const cfg = steadyConfig();
    const { emulator, tick } = make({
      ...cfg,
      models: [{ ...cfg.models[0]!, model: 'a"b\\c', architecture: 'meta-llama/Llama-3.1-8B-Instruct' }],
    });
    tick(5000);
    const families = parseExposition(await emulator.pods[0]!.metrics());
    expect(families.get('vllm:request_success_total')!.samples[0]!.labels.model_name).toBe('a"b\\c');
  });

  it('exposes series with zero values before any traffic', async () => {
    const { emulator } = make(steadyConfig());
    const families = parseExposition(await emulator.pods[0]!.metrics());
    expect(families.get('vllm:request_success_total')!.samples.map((s) => s.value)).toEqual([0, 0]);
    expect(families.get('vllm:num_requests_running')!.samples[0]!.value).toBe(0);
  });
});

describe('emulator determinism', () => {
  it('emits the same metrics for the same seed and clock, different ones for another seed', async () => {
    const run = async (seed: number) => {
      const { emulator, tick } = make(steadyConfig({ seed }));
      for (let i = 0; i < 20; i++) tick(1500);
      return { text: await allText(emulator), pods: emulator.targets().map((t) => t.pod) };
    };
    const a = await run(7);
    const b = await run(7);
    const c = await run(8);
    expect(b.text).toBe(a.text);
    expect(b.pods).toEqual(a.pods);
    expect(c.text).not.toBe(a.text);
    expect(c.pods).not.toEqual(a.pods);
  });

  it('does not depend on how the clock is sliced into steps', async () => {
    // One 20 s jump equals twenty 1 s steps: the simulation steps by config.tick internally.
    const a = make(steadyConfig());
    a.tick(20_000);
    const b = make(steadyConfig());
    for (let i = 0; i < 20; i++) b.tick(1000);
    expect(await allText(b.emulator)).toBe(await allText(a.emulator));
  });

  it('gives each pod a stable Kubernetes-looking name and a path of its own', () => {
    const { emulator } = make(steadyConfig());
    const targets = emulator.targets();
    expect(targets).toHaveLength(4);
    for (const t of targets) {
      expect(t.pod).toMatch(new RegExp(`^${t.variant}-[a-z0-9]{10}-[a-z0-9]{5}$`));
      expect(t.metricsPath).toBe(`/pods/${t.namespace}/${t.pod}/metrics`);
      expect(emulator.podAt(t.metricsPath)).toBeDefined();
    }
    expect(new Set(targets.map((t) => t.metricsPath)).size).toBe(4);
  });
});

describe('emulator counts match the configured load over simulated time', () => {
  it('steady load: request rate, token means and latency means', () => {
    const { emulator, tick } = make(steadyConfig());
    for (let i = 0; i < 600; i++) tick(1000); // 10 minutes
    const m = emulator.model('meta-llama/Llama-3.1-8B-Instruct', 'prod')!;
    // 600 req/min for 10 min, evenly spaced: all but those still in flight have finished.
    expect(m.totals.requests).toBeGreaterThanOrEqual(6000 - 30);
    expect(m.totals.requests).toBeLessThanOrEqual(6000);
    // The gateway sends each request to the least loaded pod: the faster H100 pod empties sooner
    // and takes more than an A100 pod.
    const [a100, , h100] = m.pods;
    expect(h100!.totals.requests).toBeGreaterThan(a100!.totals.requests);

    const obs = emulator.observed('meta-llama/Llama-3.1-8B-Instruct', 'prod', 600_000);
    expect(obs.load.arrivalRate).toBeCloseTo(600, -1);
    // Antithetic draws keep means within rounding of the configured means.
    expect(Math.abs(obs.load.avgInputTokens - 500)).toBeLessThan(2);
    expect(Math.abs(obs.load.avgOutputTokens - 100)).toBeLessThan(1);
    // An 8B model at a light load: decode is bandwidth-bound (H100 ~7 ms, A100 ~11 ms a token) and
    // TTFT is the front end plus a 500-token prefill.
    expect(obs.itlAverage).toBeGreaterThan(6);
    expect(obs.itlAverage).toBeLessThan(14);
    expect(obs.ttftAverage).toBeGreaterThan(obs.itlAverage);
    expect(obs.ttftAverage).toBeLessThan(200);

    const other = emulator.observed('ibm/granite', 'staging', 300_000);
    expect(other.load.arrivalRate).toBeCloseTo(120, -1);
  });

  it('observed() over a short window reads the rate of that window only', () => {
    const cfg = steadyConfig();
    const { emulator, tick } = make(cfg);
    for (let i = 0; i < 120; i++) tick(1000);
    expect(emulator.observed('ibm/granite', 'staging', 30_000).load.arrivalRate).toBeCloseTo(120, -1);
    expect(() => emulator.observed('nope', 'prod', 1000)).toThrow(/no model nope in namespace prod/);
  });

  it('diurnal load integrates to its mean over a period and peaks at mean*(1+amplitude)', () => {
    const curve = new LoadCurve(
      { pattern: 'diurnal', rate: 300, amplitude: 0.5, period: 60_000, phase: 0 },
      1,
      'm',
    );
    expect(curve.rateAt(0)).toBeCloseTo(300);
    expect(curve.rateAt(15_000)).toBeCloseTo(450);
    expect(curve.rateAt(45_000)).toBeCloseTo(150);

    const { emulator, tick } = make({
      seed: 3,
      models: [
        {
          model: 'm',
          architecture: 'meta-llama/Llama-3.1-8B-Instruct',
          namespace: 'ns',
          load: { pattern: 'diurnal', rate: 300, amplitude: 0.5, period: '1m' },
          variants: [{ name: 'v', replicas: 2 }],
        },
      ],
    });
    for (let i = 0; i < 120; i++) tick(1000); // two periods
    // Poisson arrivals around the curve: 600 expected, within about three standard deviations.
    expect(Math.abs(emulator.model('m', 'ns')!.totals.requests - 600)).toBeLessThanOrEqual(75);
  });

  it('spikes multiply the rate for their duration, on a seeded schedule', () => {
    const cfg = { pattern: 'spikes', rate: 100, factor: 4, every: 60_000, duration: 10_000 } as const;
    const a = new LoadCurve(cfg, 1, 'm');
    const b = new LoadCurve(cfg, 1, 'm');
    const rates = Array.from({ length: 600 }, (_, s) => a.rateAt(s * 1000));
    expect(Array.from({ length: 600 }, (_, s) => b.rateAt(s * 1000))).toEqual(rates);
    expect(new Set(rates)).toEqual(new Set([100, 400]));
    // Gaps are 0.5x..1.5x of `every`, so 10 minutes hold 7..20 spikes of 10 s each.
    const spikeSeconds = rates.filter((r) => r === 400).length;
    expect(spikeSeconds).toBeGreaterThanOrEqual(60);
    expect(spikeSeconds).toBeLessThanOrEqual(200);
    expect(rates[0]).toBe(100); // never a spike at start
  });
});

describe('each pod is a simulated vLLM engine', () => {
  const oneModel = (rate: number, replicas: number, args: string[] = [], accelerator = 'A100') =>
    make({
      seed: 1,
      models: [
        {
          model: 'm',
          architecture: 'meta-llama/Llama-3.1-8B-Instruct',
          namespace: 'ns',
          load: { pattern: 'steady', rate },
          inputTokens: 512,
          outputTokens: 128,
          variants: [{ name: 'v', replicas, args, accelerator }],
        },
      ],
    });
  const run = (rate: number, replicas: number, args: string[] = [], accelerator = 'A100') => {
    const { emulator, tick } = oneModel(rate, replicas, args, accelerator);
    for (let i = 0; i < 120; i++) tick(1000);
    return { emulator, seen: emulator.observed('m', 'ns', 60_000) };
  };

  it('a busier pod batches more and shows a longer ITL; an H100 a shorter one than an A100', () => {
    const light = run(60, 1).seen;
    const busy = run(1200, 1).seen;
    expect(busy.itlAverage).toBeGreaterThan(light.itlAverage);
    expect(run(60, 1, [], 'H100').seen.itlAverage).toBeLessThan(light.itlAverage * 0.8);
  });

  it("past capacity requests wait in vLLM's queue, TTFT grows and completions stay at capacity", () => {
    // 16 seats: about 16 / (128 tokens x ~12 ms) = 10 requests/s at most; offer 15.
    const { emulator, tick } = oneModel(900, 1, ['--max-num-seqs', '16']);
    for (let i = 0; i < 20; i++) tick(1000);
    const early = emulator.observed('m', 'ns', 10_000);
    for (let i = 0; i < 20; i++) tick(1000);
    const pod = emulator.pods[0]!;
    const g = pod.engine.gauges();
    expect(g.running).toBe(16);
    expect(g.waiting).toBeGreaterThan(50);
    const later = emulator.observed('m', 'ns', 10_000);
    expect(later.ttftAverage).toBeGreaterThan(early.ttftAverage);
    expect(later.load.arrivalRate).toBeLessThan(900 * 0.8);
  });

  it('more replicas for the same load means lower latency', () => {
    const one = run(1200, 1).seen;
    const four = run(1200, 4).seen;
    expect(four.ttftAverage).toBeLessThan(one.ttftAverage);
    expect(four.itlAverage).toBeLessThan(one.itlAverage);
  });

  it('exports the KV cache as vLLM sizes it, preemptions and the queue, prefill and decode times', async () => {
    const { emulator, tick } = oneModel(600, 1);
    tick(20_000);
    const families = parseExposition(await emulator.pods[0]!.metrics());
    const info = families.get('vllm:cache_config_info')!;
    expect(info.type).toBe('gauge');
    expect(info.samples[0]!.labels).toMatchObject({ block_size: '16', gpu_memory_utilization: '0.9' });
    expect(Number(info.samples[0]!.labels.num_gpu_blocks)).toBe(emulator.pods[0]!.setup.numGpuBlocks);
    expect(families.get('vllm:num_preemptions_total')!.type).toBe('counter');
    for (const name of [
      'vllm:request_queue_time_seconds',
      'vllm:request_prefill_time_seconds',
      'vllm:request_decode_time_seconds',
    ]) {
      const f = families.get(name)!;
      expect(f.type).toBe('histogram');
      const count = f.samples.find((x) => x.name === `${name}_count`)!.value;
      expect(count).toBeGreaterThan(100);
    }
  });
});

describe('emulator configuration', () => {
  it('parses durations in Go/Prometheus style', () => {
    const tick = (t: unknown) =>
      parseEmulatorConfig({
        tick: t,
        models: [
          {
            model: 'm',
            architecture: 'meta-llama/Llama-3.1-8B-Instruct',
            namespace: 'ns',
            load: { pattern: 'steady', rate: 1 },
            variants: [{ name: 'v' }],
          },
        ],
      }).tick;
    expect(tick('1m30s')).toBe(90_000);
    expect(tick('500ms')).toBe(500);
    expect(tick('2h')).toBe(7_200_000);
    expect(tick('1.5s')).toBe(1500);
    expect(() => tick('10')).toThrow(/tick: "10" is not a duration: "10" has no unit/);
    expect(() => tick('soon')).toThrow(/tick: "soon" is not a duration/);
    expect(() => tick('30s1m')).toThrow(/out of order/);
  });

  it('fills defaults and accepts numbers of seconds for durations', () => {
    const cfg = parseEmulatorConfig({
      tick: 2,
      models: [
        {
          model: 'm',
          architecture: 'meta-llama/Llama-3.1-8B-Instruct',
          namespace: 'ns',
          load: { pattern: 'diurnal', rate: 10 },
          variants: [{ name: 'v' }],
        },
      ],
    });
    expect(cfg.tick).toBe(2000);
    expect(cfg.seed).toBe(1);
    expect(cfg.models[0]!.variants[0]).toMatchObject({ replicas: 1, accelerator: 'A100', args: [] });
    expect(cfg.models[0]!.load).toEqual({
      pattern: 'diurnal',
      rate: 10,
      amplitude: 0.5,
      period: 86_400_000,
      phase: 0,
    });
  });

  it('names every problem with its path', () => {
    const bad = {
      tick: 'soon',
      models: [
        {
          model: 'm',
          architecture: 'meta-llama/Llama-3.1-8B-Instruct',
          namespace: 'Prod',
          load: { pattern: 'steady', rate: -1 },
          variants: [{ name: 'v', replicas: 1.5 }, { name: 'v' }],
          extra: true,
        },
      ],
    };
    let err: unknown;
    try {
      parseEmulatorConfig(bad, 'test.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EmulatorConfigError);
    const problems = (err as EmulatorConfigError).problems.join('\n');
    expect(problems).toMatch(/^tick: "soon" is not a duration/m);
    expect(problems).toMatch(/^models\[0\]\.namespace: must be a Kubernetes namespace name/m);
    expect(problems).toMatch(/^models\[0\]\.load\.rate: /m);
    expect(problems).toMatch(/^models\[0\]\.variants\[0\]\.replicas: /m);
    expect(problems).toMatch(/extra/);
    expect((err as Error).message).toMatch(/^invalid emulator configuration in test\.yaml: /);
    expect((err as Error).message).not.toContain('\n');
  });

  it('rejects a variant defined twice in a namespace', () => {
    const m = {
      model: 'm',
      architecture: 'meta-llama/Llama-3.1-8B-Instruct',
      namespace: 'ns',
      load: { pattern: 'steady', rate: 1 },
      variants: [{ name: 'v' }],
    };
    expect(() =>
      parseEmulatorConfig({
        models: [m, { ...m, model: 'other', architecture: 'meta-llama/Llama-3.1-8B-Instruct' }],
      }),
    ).toThrow(/variant ns\/v is defined twice/);
  });

  it('loads YAML files and reports unreadable or malformed ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wva-emu-'));
    const good = join(dir, 'good.yaml');
    writeFileSync(
      good,
      'seed: 5\nmodels:\n  - model: m\n    architecture: meta-llama/Llama-3.1-8B-Instruct\n    namespace: ns\n    load: { pattern: spikes, rate: 60, every: 2m }\n    variants: [{ name: v, replicas: 2 }]\n',
    );
    const cfg = loadEmulatorConfig(good);
    expect(cfg.seed).toBe(5);
    expect(cfg.models[0]!.load).toMatchObject({
      pattern: 'spikes',
      every: 120_000,
      duration: 15_000,
      factor: 3,
    });
    const broken = join(dir, 'broken.yaml');
    writeFileSync(broken, 'models: [\n');
    expect(() => loadEmulatorConfig(broken)).toThrow(/broken\.yaml: not valid YAML/);
    expect(() => loadEmulatorConfig(join(dir, 'missing.yaml'))).toThrow(/cannot read/);
  });

  it('loads the shipped example', () => {
    const cfg = loadEmulatorConfig(new URL('../../examples/emulator.yaml', import.meta.url).pathname);
    expect(new Set(cfg.models.map((m) => m.namespace)).size).toBe(2);
    expect(cfg.models.every((m) => m.variants.length >= 2)).toBe(true);
  });

  it('builds a configuration from flags', () => {
    const cfg = configFromFlags({
      models: ['meta-llama/Llama-3.1-8B', 'ibm-granite/granite-3.3-8b-instruct'],
      namespace: 'ns',
      variants: 2,
      replicas: 3,
      rate: 60,
      pattern: 'diurnal',
      period: '10m',
      inputTokens: 100,
      outputTokens: 10,
      seed: 9,
    });
    expect(cfg.models.map((m) => m.variants.map((v) => v.name))).toEqual([
      ['meta-llama-llama-3-1-8b-v1', 'meta-llama-llama-3-1-8b-v2'],
      ['ibm-granite-granite-3-3-8b-instruct-v1', 'ibm-granite-granite-3-3-8b-instruct-v2'],
    ]);
    expect(cfg.models[0]!.load).toMatchObject({ pattern: 'diurnal', period: 600_000 });
    expect(new VllmEmulator(cfg).pods).toHaveLength(12);
  });
});

describe('scrape configuration', () => {
  it('relabels Kubernetes meta labels into namespace and pod, as a ServiceMonitor does', () => {
    const { emulator } = make(steadyConfig());
    const yaml = parseYaml(
      prometheusConfigYaml({
        address: '127.0.0.1:9999',
        targets: emulator.targets(),
        scrapeIntervalSeconds: 2,
      }),
    );
    expect(yaml.global.scrape_interval).toBe('2s');
    const job = yaml.scrape_configs[0];
    expect(job.static_configs).toHaveLength(4);
    expect(job.static_configs[0].targets).toEqual(['127.0.0.1:9999']);
    expect(job.static_configs[0].labels.__metrics_path__).toMatch(/^\/pods\/prod\//);
    expect(job.relabel_configs).toContainEqual({
      source_labels: ['__meta_kubernetes_namespace'],
      target_label: 'namespace',
    });
  });
});

describe('emulator HTTP server', () => {
  it('serves each pod on its path, discovery targets, and 404 for the rest', async () => {
    let now = 1_000_000;
    const emulator = new VllmEmulator(parseEmulatorConfig(steadyConfig()), { now: () => now });
    const server = await startEmulatorServer(emulator, { live: false });
    try {
      const t = emulator.targets()[0]!;
      now += 10_000; // a scrape steps the simulation to the clock
      const res = await fetch(`${server.url}${t.metricsPath}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const families = parseExposition(await res.text());
      const success = families.get('vllm:request_success_total')!.samples.reduce((a, s) => a + s.value, 0);
      expect(success).toBe(emulator.podAt(t.metricsPath)!.totals.requests);
      expect(success).toBeGreaterThan(20);

      const sd = (await (await fetch(`${server.url}/targets`)).json()) as Array<{
        targets: string[];
        labels: Record<string, string>;
      }>;
      expect(sd).toHaveLength(4);
      expect(sd[0]!.targets).toEqual([server.address]);
      expect(sd.map((g) => g.labels.__metrics_path__)).toEqual(emulator.targets().map((x) => x.metricsPath));
      expect((await fetch(`${server.url}/pods/prod/nope/metrics`)).status).toBe(404);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${server.url}/healthz`, { method: 'POST' })).status).toBe(405);
    } finally {
      await server.close();
    }
  });
});
