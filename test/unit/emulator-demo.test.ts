// The demo's pieces that need no Prometheus: the example manifests agree with the emulator config,
// the table and summary say what they should, bad input fails before anything starts.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatCycle, formatSummary } from '../../src/cli/demo-format.js';
import { loadManifests } from '../../src/controller/local.js';
import { containerArgs } from '../../src/demo/deployment-args.js';
import { cycleError, type DemoCycle, type DemoRow, parseQueryCalls, runDemo } from '../../src/demo/index.js';
import { type EmulatedMetrics, loadEmulatorConfig } from '../../src/emulator/index.js';

const manifestsDir = fileURLToPath(new URL('../../examples/manifests', import.meta.url));
const olderShapeDir = fileURLToPath(new URL('../../examples/older-shape/manifests', import.meta.url));
const emulatorFile = fileURLToPath(new URL('../../examples/emulator.yaml', import.meta.url));

function metrics(rate: number, ttft = 40, itl = 10): EmulatedMetrics {
  return {
    load: { arrivalRate: rate, avgInputTokens: 512, avgOutputTokens: 128 },
    ttftAverage: ttft,
    itlAverage: itl,
  };
}

function row(over: Partial<DemoRow> = {}): DemoRow {
  return {
    modelId: 'meta-llama/Llama-3.1-8B-Instruct',
    namespace: 'llm-prod',
    variants: 2,
    replicas: 3,
    metrics: metrics(600),
    emulated: metrics(590),
    reason: 'MetricsFound',
    hits: 0,
    misses: 1,
    coalesced: 1,
    failureHits: 0,
    ...over,
  };
}

describe('examples', () => {
  it.each([
    ['examples/manifests', manifestsDir],
    ['examples/older-shape/manifests', olderShapeDir],
  ])(
    '%s: every VariantAutoscaling has a Deployment and an emulated variant with the same model and replicas',
    (_name, dir) => {
      const { variants, deployments } = loadManifests(dir);
      const config = loadEmulatorConfig(emulatorFile);
      const emulated = new Map(
        config.models.flatMap((m) =>
          m.variants.map((v) => [`${m.namespace}/${v.name}`, { model: m.model, v }] as const),
        ),
      );
      expect(variants).toHaveLength(emulated.size);
      expect(new Set(variants.map((va) => va.metadata.namespace))).toEqual(
        new Set(['llm-prod', 'llm-staging']),
      );
      const models = new Set(variants.map((va) => `${va.metadata.namespace}/${va.spec.modelID}`));
      expect(models.size).toBeGreaterThanOrEqual(3);
      for (const va of variants) {
        const key = `${va.metadata.namespace}/${va.metadata.name}`;
        const e = emulated.get(key as `${string}/${string}`);
        expect(e, key).toBeDefined();
        expect(va.spec.modelID, key).toBe(e!.model);
        const target = `${va.metadata.namespace}/${va.spec.scaleTargetRef?.name ?? va.metadata.name}`;
        const dep = deployments.find((d) => `${d.metadata.namespace}/${d.metadata.name}` === target);
        expect(dep?.spec?.replicas, key).toBe(e!.v.replicas);
        const acc = va.spec.modelProfile!.accelerators[0]!;
        expect(acc.acc).toBe(e!.v.accelerator);
        // The pods run what the Deployment runs: the same vLLM arguments.
        expect(e!.v.args, key).toEqual(containerArgs(dep!));
      }
    },
  );
});

describe('demo output', () => {
  const cycle: DemoCycle = {
    index: 3,
    startedAt: new Date(2025, 0, 1, 12, 0, 15),
    durationMs: 12,
    warmingUp: false,
    rows: [
      row(),
      row({ modelId: 'other/model', namespace: 'llm-staging', metrics: undefined, reason: 'MetricsMissing' }),
    ],
    promCalls: 1,
    promCallsTotal: 3,
    originalCalls: 10,
    originalCallsTotal: 30,
  };

  it('prints measured and computed calls, and one line per model', () => {
    const text = formatCycle(cycle);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe('cycle 3  12:00:15  took 12 ms');
    expect(lines[1]).toMatch(/Prometheus calls, measured: 1 this cycle, 3 total/);
    expect(lines[1]).toMatch(/original design, computed \(5 per model per cycle\): 10 this cycle, 30 total/);
    expect(lines[2]).toMatch(/^MODEL\s+NAMESPACE\s+VAs\s+REQ\/MIN\s+\(EMULATED\)/);
    expect(lines[3]).toMatch(
      /^meta-llama\/Llama-3\.1-8B-Instruct\s+llm-prod\s+2\s+600\.0\s+\(590\.0\)\s+512\.0\s+128\.0\s+40\.00\s+10\.00\s+0\s+1\s+1\s+MetricsFound$/,
    );
    expect(lines[4]).toMatch(/^other\/model\s+llm-staging\s+2\s+-\s+\(590\.0\).*MetricsMissing$/);
    expect(formatCycle({ ...cycle, warmingUp: true })).toMatch(/warming up/);
  });

  it('summarises calls, savings, lookups and accuracy', () => {
    const text = formatSummary({
      cycles: 6,
      elapsedMs: 30_000,
      promCallsTotal: 6,
      maxPromCallsPerCycle: 1,
      originalCallsTotal: 120,
      lookups: { hit: 10, miss: 6, coalesced: 32, failure_hit: 0 },
      lastCycleError: {
        arrivalRate: 0.012,
        avgInputTokens: 0.001,
        avgOutputTokens: 0.002,
        ttft: 0.02,
        itl: 0.03,
      },
    });
    expect(text).toMatch(/^summary: 6 cycles in 30\.0 s$/m);
    expect(text).toMatch(/: 6 total, at most 1 per cycle$/m);
    expect(text).toMatch(/120 calls -> 95% fewer$/m);
    expect(text).toMatch(
      /cache lookups: 48 \(10 hits, 6 misses, 32 joined a running query, 0 cached failures\); 88% answered without a query of their own/,
    );
    expect(text).toMatch(/arrival 1\.2%, .* TTFT 2\.0%, ITL 3\.0%/);
  });

  it('reports the worst relative error over the rows that have both numbers', () => {
    const err = cycleError([
      row({ metrics: metrics(110, 40, 10), emulated: metrics(100, 50, 10) }),
      row({ metrics: undefined }),
    ]);
    expect(err!.arrivalRate).toBeCloseTo(0.1);
    expect(err!.ttft).toBeCloseTo(0.2);
    expect(err!.itl).toBe(0);
    expect(cycleError([row({ metrics: undefined })])).toBeUndefined();
  });

  it("sums Prometheus' query handler counter over status codes only", () => {
    const text = [
      '# TYPE prometheus_http_requests_total counter',
      'prometheus_http_requests_total{code="200",handler="/api/v1/query"} 7',
      'prometheus_http_requests_total{code="400",handler="/api/v1/query"} 2',
      'prometheus_http_requests_total{code="200",handler="/api/v1/query_range"} 5',
      'prometheus_http_requests_total{code="200",handler="/metrics"} 9',
    ].join('\n');
    expect(parseQueryCalls(text)).toBe(9);
  });
});

describe('runDemo input checks', () => {
  it('fails on unreadable manifests before starting anything', async () => {
    // Each thing the demo starts would fail here with its own error (its listen address, its
    // Prometheus binary) or say so (progress): only the manifests' error comes, and nothing is said.
    const progress: string[] = [];
    let ready = false;
    await expect(
      runDemo({
        manifests: '/nonexistent/manifests',
        emulator: emulatorFile,
        prometheusBinary: '/nonexistent/prometheus',
        metricsAddress: 'no-such-address',
        onProgress: (m) => progress.push(m),
        onReady: () => {
          ready = true;
        },
      }),
    ).rejects.toThrow(/^cannot read manifests \/nonexistent\/manifests: /);
    expect(progress).toEqual([]);
    expect(ready).toBe(false);
  });

  it('refuses a window it cannot compare against', async () => {
    await expect(
      runDemo({ manifests: manifestsDir, emulator: emulatorFile, window: 'soon' }),
    ).rejects.toThrow(/window "soon" must be a duration of at least 1s/);
  });
});
