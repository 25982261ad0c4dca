// The benchmark's baseline rules, on hand-made collector views: what each answers and when.
import { describe, expect, it } from 'vitest';
import { HpaQueuePolicy, StaticPolicy } from '../../../bench/autoscale/policies.js';
import type { ModelView, VariantView } from '../../../bench/autoscale/view.js';

function view(replicas: number, ready: number, waiting: number): ModelView[] {
  const v: VariantView = {
    name: 'v',
    accelerator: 'A100',
    cost: 10,
    replicas,
    ready,
    pods: [],
    waiting,
    observation: null,
  };
  return [{ id: 'm', arrivalRate: 600, avgInputTokens: 1000, avgOutputTokens: 200, waiting, variants: [v] }];
}

describe('HpaQueuePolicy (KEDA on vllm:num_requests_waiting)', () => {
  const bounds = { minReplicas: 1, maxReplicas: 40 };

  it('asks for ceil(waiting / target) above the tolerance, at most doubling (or +4) at once', () => {
    const p = new HpaQueuePolicy(bounds, 5);
    expect(p.decide(view(2, 2, 30), 0).get('v')).toBe(6);
    expect(new HpaQueuePolicy(bounds, 5).decide(view(10, 10, 500), 0).get('v')).toBe(20);
  });

  it('leaves the count within HPA’s 10 % tolerance', () => {
    expect(new HpaQueuePolicy(bounds, 5).decide(view(4, 4, 21), 0).get('v')).toBe(4);
  });

  it('scales down only to the highest recommendation of the last 300 s', () => {
    const p = new HpaQueuePolicy(bounds, 5);
    expect(p.decide(view(4, 4, 40), 0).get('v')).toBe(8);
    expect(p.decide(view(8, 8, 0), 30_000).get('v')).toBe(8);
    expect(p.decide(view(8, 8, 0), 290_000).get('v')).toBe(8);
    expect(p.decide(view(8, 8, 0), 301_000).get('v')).toBe(1);
  });
});

describe('StaticPolicy', () => {
  it('answers the same counts whatever it sees', () => {
    const p = new StaticPolicy(new Map([['v', 7]]));
    expect(p.decide()).toEqual(new Map([['v', 7]]));
  });
});
