// A replica that loses the lease forgets its recommendations: while it stands by another leader
// publishes, so when it leads again each object starts from its status, as a new leader does.
// Against the fake API server through the real @kubernetes/client-node; short lease timings.
import { describe, expect, it } from 'vitest';
import { Controller } from '../../../src/controller/controller.js';
import { VariantOptimizer } from '../../../src/controller/decision.js';
import type { LeaderElector } from '../../../src/controller/leader.js';
import { OptimizerConfigStore } from '../../../src/controller/optimizer-config.js';
import type { MetricsRead } from '../../../src/controller/status.js';
import { useFakeApiServer } from '../../support/api-harness.js';
import { deployment, foundReading, variant } from '../../support/variants.js';
import { until } from '../../support/wait.js';

const timings = { leaseDurationMs: 1000, renewDeadlineMs: 600, retryPeriodMs: 100 };
const reader = { read: async (model: string, ns: string): Promise<MetricsRead> => foundReading(model, ns) };

const fake = useFakeApiServer();

describe('leadership and the stabilisation window', () => {
  it('a replica that loses the lease keeps no recommendations', async () => {
    fake.api.put('variantautoscalings', variant('ns', 'v1', 'm'));
    fake.api.put('deployments', deployment('ns', 'v1', 1));
    const config = new OptimizerConfigStore({ namespace: 'wva' });
    config.setServiceClasses({
      'premium.yaml':
        'name: Premium\npriority: 1\ndata:\n  - model: m\n    slo-tpot: 24\n    slo-ttft: 500\n',
    });
    config.setUnitCosts({ A100: '{ "device": "a", "cost": "35.00" }' });
    const optimizer = new VariantOptimizer({ config, stabilizationWindowMs: 300_000 });
    const a = fake.stopAfter(
      new Controller({
        kubeConfig: fake.api.kubeConfig(),
        collector: reader,
        intervalMs: 50,
        optimizer,
        leaderElection: { namespace: 'wva', identity: 'a', ...timings },
      }),
    );
    await a.start();
    await until(() => a.cycles > 0 && optimizer.stabiliser.size === 1, 'a decides');
    const status = fake.api.get('variantautoscalings', 'ns', 'v1')?.status as {
      desiredOptimizedAlloc?: { numReplicas: number };
    };
    expect(status?.desiredOptimizedAlloc?.numReplicas).toBeGreaterThan(0);
    // Another replica takes the lease (as if a's renewals had been lost).
    const lease = fake.api.get('leases', 'wva', 'wva-metrics-controller')!;
    fake.api.put('leases', { ...lease, spec: { ...(lease.spec as object), holderIdentity: 'intruder' } });
    await until(() => !a.isLeader, 'a notices', 2000);
    expect(optimizer.stabiliser.size).toBe(0);
    // Standing by, it decides nothing, so it remembers nothing.
    const elector = a.elector as LeaderElector;
    const tried = elector.attempts;
    await until(() => elector.attempts >= tried + 3, 'a tried the lease three more times');
    expect(optimizer.stabiliser.size).toBe(0);
  });
});
