// Upstream's series beside the three gauges: wva_replica_scaling_total counts each move of the
// desired count by direction and reason, and CONTROLLER_INSTANCE labels every series.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ActuationMetrics } from '../../src/actuator/metrics.js';

const sample = (desired: number, reason?: string) => ({
  variantName: 'llama-8b-a100',
  namespace: 'llm',
  accelerator: 'A100',
  desired,
  current: 2,
  ...(reason ? { reason } : {}),
});

/** The exposition lines of the wva_ series, without HELP/TYPE. */
async function lines(registry: Registry, prefix: string): Promise<string[]> {
  return (await registry.metrics()).split('\n').filter((l) => l.startsWith(prefix));
}

describe('wva_replica_scaling_total', () => {
  it("counts a decision's move of the desired count, by direction and reason; a steady count adds nothing", async () => {
    const registry = new Registry();
    const m = new ActuationMetrics(registry);
    m.set('llm/llama-8b-a100', sample(2));
    m.set('llm/llama-8b-a100', sample(2));
    m.set('llm/llama-8b-a100', sample(4, 'OptimizationSucceeded'));
    m.set('llm/llama-8b-a100', sample(3, 'OptimizationSucceeded'));
    m.set('llm/llama-8b-a100', sample(1, 'OptimizationSucceeded'));
    // A count held at what runs (no decision) moves with whoever scaled it: not counted.
    m.set('llm/llama-8b-a100', sample(7));
    expect(await lines(registry, 'wva_replica_scaling_total')).toEqual([
      'wva_replica_scaling_total{variant_name="llama-8b-a100",namespace="llm",direction="up",reason="OptimizationSucceeded"} 1',
      'wva_replica_scaling_total{variant_name="llama-8b-a100",namespace="llm",direction="down",reason="OptimizationSucceeded"} 2',
    ]);
    // A VariantAutoscaling that goes takes its counts with it and comes back afresh; a standby serves none.
    m.forget('llm/llama-8b-a100');
    expect(await lines(registry, 'wva_replica_scaling_total{')).toEqual([]);
    m.set('llm/llama-8b-a100', sample(5, 'OptimizationSucceeded'));
    m.set('llm/llama-8b-a100', sample(6, 'OptimizationSucceeded'));
    expect(await lines(registry, 'wva_replica_scaling_total{')).toHaveLength(1);
    m.clear();
    expect(await lines(registry, 'wva_replica_scaling_total{')).toEqual([]);
  });
});

describe('CONTROLLER_INSTANCE', () => {
  it('adds controller_instance to the gauges, the counter and wva_variants', async () => {
    const registry = new Registry();
    const m = new ActuationMetrics(registry, { controllerInstance: 'shard-a' });
    m.set('llm/llama-8b-a100', sample(2));
    m.set('llm/llama-8b-a100', sample(3, 'OptimizationSucceeded'));
    m.setConditions('llm/llama-8b-a100', { MetricsAvailable: 'True' });
    const all = await lines(registry, 'wva_');
    expect(all.length).toBeGreaterThan(10);
    for (const l of all) expect(l, l).toContain('controller_instance="shard-a"');
    expect(all).toContain(
      'wva_desired_replicas{variant_name="llama-8b-a100",namespace="llm",accelerator_type="A100",controller_instance="shard-a"} 3',
    );
  });

  it('without it, no such label: the series stay as upstream publishes them unsharded', async () => {
    const registry = new Registry();
    new ActuationMetrics(registry).set('llm/llama-8b-a100', sample(2));
    expect(await lines(registry, 'wva_desired_replicas')).toEqual([
      'wva_desired_replicas{variant_name="llama-8b-a100",namespace="llm",accelerator_type="A100"} 2',
    ]);
  });
});

describe('advisory publishing', () => {
  it('the desired count under another name, so no HPA selecting wva_desired_replicas moves', async () => {
    const registry = new Registry();
    new ActuationMetrics(registry, { desiredName: 'wva_advisory_desired_replicas' }).set('llm/x', sample(2));
    expect(await lines(registry, 'wva_desired_replicas')).toEqual([]);
    expect(await lines(registry, 'wva_advisory_desired_replicas{')).toHaveLength(1);
  });
});
