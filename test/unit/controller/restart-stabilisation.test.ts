// A VariantAutoscaling the controller process has not decided for yet (a new object, or every object
// after a restart or a change of leader) is not scaled down in its first cycle: the reconciler's
// decision starts the stabiliser from the Deployment's replicas (what runs; a count in status is not
// a command), so a first lower recommendation waits out the window. The clock is injected.
import { describe, expect, it } from 'vitest';
import { VariantOptimizer } from '../../../src/controller/decision.js';
import { LocalSource } from '../../../src/controller/local.js';
import type { MetricsRead } from '../../../src/controller/status.js';
import { premiumStore } from '../../support/controller-fixtures.js';
import { cycleDriver } from '../../support/cycles.js';
import { deploymentObject, vaObject } from '../../support/variants.js';

const W = 300_000;
const T0 = Date.parse('2026-06-01T12:00:00Z');
const CYCLE = 30_000;

/** Requests per minute the model gets at `ms` after T0. */
type Load = (ms: number) => number;

function reading(arrivalRate: number): MetricsRead {
  return {
    metrics: {
      load: { arrivalRate, avgInputTokens: 128, avgOutputTokens: 256 },
      ttftAverage: 100,
      itlAverage: 20,
    },
    availability: { available: true, reason: 'MetricsFound', message: 'found' },
  };
}

function source(replicas?: number): LocalSource {
  const s = new LocalSource();
  s.load({
    variants: [vaObject('prod', 'a', 'llama')],
    deployments: replicas === undefined ? [] : [deploymentObject('prod', 'a', replicas)],
  });
  return s;
}

/**
 * One controller process: its own optimizer (so its own stabiliser) over `s`, on the clock `clock.ms`.
 * `follow`: the Deployment runs what is published after each cycle (as the scaler or an HPA makes it).
 */
function controller(s: LocalSource, load: Load, clock: { ms: number }, follow = false) {
  const config = premiumStore('llama');
  const driver = cycleDriver({
    source: s,
    writer: s,
    collector: { read: async () => reading(load(clock.ms)) },
    optimizer: new VariantOptimizer({ config, stabilizationWindowMs: W }),
    now: () => new Date(T0 + clock.ms),
  });
  return async (): Promise<number | undefined> => {
    const c = await driver.runCycle();
    const d = c.results[0]?.decision;
    if (follow && d?.ok) {
      s.load({
        variants: [vaObject('prod', 'a', 'llama')],
        deployments: [deploymentObject('prod', 'a', d.numReplicas)],
      });
    }
    return d?.ok ? d.numReplicas : undefined;
  };
}

/** Cycles every 30 s from `from` to `to` (inclusive); the published count of each. */
async function cycles(
  cycle: () => Promise<number | undefined>,
  clock: { ms: number },
  from: number,
  to: number,
) {
  const out: Array<number | undefined> = [];
  for (clock.ms = from; clock.ms <= to; clock.ms += CYCLE) out.push(await cycle());
  return out;
}

// The profile of variant(): 120 requests/min need 6 replicas, 2400 need many more.
const LOW = 120;
const HIGH = 2400;

describe('first decision of a VariantAutoscaling in this process', () => {
  it('below what the Deployment runs: held at its replicas until the lower count was recommended for the window', async () => {
    const clock = { ms: 0 };
    const cycle = controller(source(8), () => LOW, clock);
    const first = await cycle();
    expect(first).toBe(8);
    clock.ms = W - 1;
    expect(await cycle()).toBe(8);
    clock.ms = W;
    expect(await cycle()).toBe(6);
  });

  it('above what the Deployment runs: scaled up at once', async () => {
    const clock = { ms: 0 };
    const s = source(2);
    expect(await controller(s, () => LOW, clock)()).toBe(6);
    expect(s.getVariant('prod', 'a')?.status?.desiredOptimizedAlloc?.numReplicas).toBe(6);
  });

  it('no Deployment (what runs is unknown): the recommendation at once, as before', async () => {
    const clock = { ms: 0 };
    expect(await controller(source(), () => LOW, clock)()).toBe(6);
  });

  it('a count in status far from what runs is not where it starts: what runs is', async () => {
    const clock = { ms: 0 };
    const s = new LocalSource();
    const va = vaObject('prod', 'a', 'llama');
    s.load({
      variants: [
        {
          ...va,
          status: {
            desiredOptimizedAlloc: {
              accelerator: 'A100',
              numReplicas: 100_000,
              lastRunTime: '2026-01-01T00:00:00Z',
            },
          },
        },
      ],
      deployments: [deploymentObject('prod', 'a', 8)],
    });
    const cycle = controller(s, () => LOW, clock);
    expect(await cycle()).toBe(8);
    clock.ms = W;
    expect(await cycle()).toBe(6);
  });

  it('a restart as the load falls: the new process publishes what the old one would have', async () => {
    const load: Load = (ms) => (ms < 60_000 ? HIGH : LOW);
    // One world where the old process runs on; one where a new process takes over at 60 s.
    const c1 = { ms: 0 };
    const s1 = source(2);
    const old1 = controller(s1, load, c1, true);
    const kept = await cycles(old1, c1, 0, 600_000);

    const c2 = { ms: 0 };
    const s2 = source(2);
    const before = await cycles(controller(s2, load, c2, true), c2, 0, 30_000);
    // What runs (the Deployment, scaled to what the old process published) is all that survives.
    const after = await cycles(controller(s2, load, c2, true), c2, 60_000, 600_000);
    expect([...before, ...after]).toEqual(kept);
    // From 2 running, a jump of more than 10x waits for a second sample: 20 first.
    expect(kept[0]).toBe(20);
    const high = kept[1] as number;
    expect(high).toBeGreaterThan(8);
    // High until the lower count had been recommended (from 60 s) for the whole window.
    expect(after.slice(0, 10)).toEqual(Array(10).fill(high));
    expect(after.slice(10)).toEqual(Array(after.length - 10).fill(6));
  });

  it('a restart after the load fell: never below what the old process publishes, and down a window after its own first lower recommendation', async () => {
    const load: Load = (ms) => (ms < 60_000 ? HIGH : LOW);
    const c1 = { ms: 0 };
    const kept = await cycles(controller(source(2), load, c1, true), c1, 0, 720_000);
    const c2 = { ms: 0 };
    const s2 = source(2);
    await cycles(controller(s2, load, c2, true), c2, 0, 90_000);
    // The new process cannot know since when the count was lower: its window starts at 120 s.
    const after = await cycles(controller(s2, load, c2, true), c2, 120_000, 720_000);
    const keptAfter = kept.slice(4);
    for (const [i, n] of after.entries()) expect(n).toBeGreaterThanOrEqual(keptAfter[i] as number);
    const high = kept[1] as number;
    expect(after.slice(0, 10)).toEqual(Array(10).fill(high));
    expect(after.slice(10)).toEqual(Array(after.length - 10).fill(6));
  });
});
