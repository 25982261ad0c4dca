// Local mode with the optimizer: `run --manifests <dir> --once` where the directory holds the
// optimizer ConfigMaps next to the VariantAutoscalings, against a real Prometheus with backfilled
// series. It prints desired replicas, accelerator and predicted TTFT/ITL beside the measured ones.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sizeReplicas } from '../../../src/optimizer/index.js';
import { runLocalOnce, tempDir, writeManifests } from '../../support/local-run.js';
import { type PrometheusServer, startPrometheus } from '../../support/prometheus.js';
import { deployment, variant } from '../../support/variants.js';
import { expectedMetrics, type VllmPodTraffic, vllmOpenMetrics } from '../../support/vllm-openmetrics.js';

// biome-ignore lint/suspicious/noExplicitAny: test-only loose JSON access
type Loose = Record<string, any>;

const pods: VllmPodTraffic[] = [
  {
    labels: { model_name: 'meta/llama-8b', namespace: 'prod', pod: 'p1' },
    requestsPerSecond: 3,
    avgPromptTokens: 128,
    avgGenerationTokens: 256,
    avgTtftSeconds: 0.3,
    avgItlSeconds: 0.02,
  },
];

const configMaps = [
  {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'service-classes-config', namespace: 'anywhere' },
    data: {
      'premium.yaml':
        'name: Premium\npriority: 1\ndata:\n  - model: meta/llama-8b\n    slo-tpot: 24\n    slo-ttft: 500\n',
    },
  },
  {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'accelerator-unit-costs', namespace: 'anywhere' },
    data: { A100: '{ "device": "A100", "cost": "35.00" }' },
  },
];

let prom: PrometheusServer;
const dir = tempDir('opt-manifests');

beforeAll(async () => {
  prom = await startPrometheus({ openmetrics: vllmOpenMetrics(pods) });
  writeManifests(dir.path, 'all.yaml', [
    variant('prod', 'llama', 'meta/llama-8b'),
    deployment('prod', 'llama', 2),
    ...configMaps,
  ]);
}, 120_000);

afterAll(async () => {
  await prom?.stop();
  dir.remove();
});

const run = (output: 'json' | 'table') => runLocalOnce(dir.path, prom.url, { output });

describe('run --manifests with the optimizer ConfigMaps', () => {
  const m = expectedMetrics(pods);
  const want = sizeReplicas({
    profile: { alpha: 20.58, beta: 0.41, gamma: 5.2, delta: 0.1, maxBatchSize: 4 },
    load: {
      arrivalRate: m.arrivalRate,
      avgInputTokens: m.avgInputTokens,
      avgOutputTokens: m.avgOutputTokens,
    },
    slo: { ttftMs: 500, itlMs: 24 },
  });

  it('JSON: desiredOptimizedAlloc, OptimizationReady and the predicted latencies', async () => {
    const r = await run('json');
    expect(r.stderr).not.toMatch(/"level":[45]0/); // no warning or error logged
    expect(r.code).toBe(0);
    const item = (JSON.parse(r.stdout) as Loose).items[0] as Loose;
    expect(item.status.desiredOptimizedAlloc).toMatchObject({
      accelerator: 'A100',
      numReplicas: want.numReplicas,
    });
    expect(item.status.conditions.find((c: Loose) => c.type === 'OptimizationReady')).toMatchObject({
      status: 'True',
      reason: 'OptimizationSucceeded',
    });
    expect(item.decision.predicted.ttftMs).toBeCloseTo(want.predicted.ttftMs, 6);
    expect(item.decision.predicted.itlMs).toBeCloseTo(want.predicted.itlMs, 6);
    expect(item.decision.sloSource).toBe('service class Premium, entry meta/llama-8b');
  });

  it('table: DESIRED, ACCELERATOR, PRED_TTFT, PRED_ITL next to the measured columns', async () => {
    const r = await run('table');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    const header = lines[1]?.split(/\s{2,}/) ?? [];
    const row = lines[2]?.split(/\s{2,}/) ?? [];
    const col = (name: string) => row[header.indexOf(name)];
    expect(col('DESIRED')).toBe(String(want.numReplicas));
    expect(col('ACCELERATOR')).toBe('A100');
    expect(col('PRED_TTFT')).toBe(want.predicted.ttftMs.toFixed(2));
    expect(col('PRED_ITL')).toBe(want.predicted.itlMs.toFixed(2));
    expect(col('OPTIMIZATION')).toBe('OptimizationSucceeded');
    expect(col('TTFT_MS')).toBe(m.ttftAverage.toFixed(2));
  });
});
