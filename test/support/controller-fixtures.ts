// Fixtures the controller tests share: a steady vLLM pod's traffic, `run --manifests --once`
// against a backfilled Prometheus, the optimizer ConfigMaps of one premium model, and the cluster
// actuation over a source with fixed unit costs.
import type { KubeConfig } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { ClusterActuation, type ListedVariants } from '../../src/cli/actuation.js';
import { loadConfig } from '../../src/config/index.js';
import { OptimizerConfigStore } from '../../src/controller/optimizer-config.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { runCli } from './cli.js';
import { BACKFILL_TIME_S } from './prometheus.js';
import type { VllmPodTraffic } from './vllm-openmetrics.js';

/** A pod serving `rps` requests per second of 128 tokens in, 256 out, TTFT 200 ms, ITL 20 ms. */
export function steadyPod(model: string, namespace: string, name: string, rps: number): VllmPodTraffic {
  return {
    labels: { model_name: model, namespace, pod: name },
    requestsPerSecond: rps,
    avgPromptTokens: 128,
    avgGenerationTokens: 256,
    avgTtftSeconds: 0.2,
    avgItlSeconds: 0.02,
  };
}

/** `run --manifests <manifests> --once [args]` reading `promUrl` at the backfilled instant. */
export function runManifestsOnce(promUrl: string, manifests: string, ...args: string[]) {
  return runCli([
    'run',
    '--manifests',
    manifests,
    '--once',
    ...args,
    '--prometheus-url',
    promUrl,
    '--time',
    String(BACKFILL_TIME_S),
    '--log-level',
    'error',
  ]);
}

/** The optimizer ConfigMaps of one model `model` in class Premium (TTFT 500 ms, ITL 24 ms), A100 at 35. */
export function premiumStore(model: string): OptimizerConfigStore {
  const config = new OptimizerConfigStore({ namespace: 'wva' });
  config.setServiceClasses({
    'premium.yaml': `name: Premium\npriority: 1\ndata:\n  - model: ${model}\n    slo-tpot: 24\n    slo-ttft: 500\n`,
  });
  config.setUnitCosts({ A100: '{ "device": "a", "cost": "35.00" }' });
  return config;
}

/** The cluster actuation with the default config, no ConfigMap watches and no request counts. */
export function clusterActuation(
  kubeConfig: KubeConfig,
  source: ListedVariants,
  unitCosts: Record<string, number>,
): ClusterActuation {
  return new ClusterActuation(
    kubeConfig,
    loadConfig({ env: {} }),
    { identity: 'wva-0', namespace: 'wva-system', watchConfigMap: false },
    {
      telemetry: { registry: new Registry() },
      collector: { requestsOver: () => ({ kind: 'no-series' }) },
      source,
      unitCosts: () => unitCosts,
    },
    silentLogger,
  );
}
