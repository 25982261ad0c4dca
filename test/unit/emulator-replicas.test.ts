import { describe, expect, it } from 'vitest';
import {
  type EmulatorConfigInput,
  parseEmulatorConfig,
  startEmulatorServer,
  VllmEmulator,
} from '../../src/emulator/index.js';

function make(over: Partial<EmulatorConfigInput> = {}) {
  let now = 1_700_000_000_000;
  const emulator = new VllmEmulator(
    parseEmulatorConfig({
      seed: 1,
      startupDelay: '30s',
      models: [
        {
          model: 'm',
          namespace: 'ns',
          load: { pattern: 'steady', rate: 1200 },
          variants: [{ name: 'v', replicas: 1, maxBatchSize: 64 }],
        },
      ],
      ...over,
    }),
    { now: () => now },
  );
  return {
    emulator,
    tick(ms: number) {
      now += ms;
      emulator.sync();
    },
  };
}

describe('emulator replica control', () => {
  it('a pod added by a scale-up serves nothing and is not scraped until its start-up delay passed', () => {
    const { emulator, tick } = make();
    tick(10_000);
    const busy = emulator.expected('m', 'ns');
    expect(emulator.setReplicas('ns', 'v', 3)).toBe(3);
    expect(emulator.variants()).toEqual([{ namespace: 'ns', name: 'v', model: 'm', replicas: 3, ready: 1 }]);
    expect(emulator.targets()).toHaveLength(1);
    tick(29_000);
    const [first, second, third] = emulator.pods;
    expect(second!.totals.requests + third!.totals.requests).toBe(0);
    expect(first!.offeredPerSecond).toBeCloseTo(20, 9);
    tick(2000);
    expect(emulator.targets().map((t) => t.pod)).toEqual(emulator.pods.map((p) => p.name));
    expect(second!.totals.requests).toBeGreaterThan(0);
    expect(first!.offeredPerSecond).toBeCloseTo(20 / 3, 9);
    const spread = emulator.expected('m', 'ns');
    expect(spread.ttftAverage).toBeLessThan(busy.ttftAverage);
    expect(spread.load.arrivalRate).toBeCloseTo(1200, 6);
  });

  it('a scale-down removes the youngest pods first; at 0 the model serves nothing', () => {
    const { emulator, tick } = make({ startupDelay: 0 });
    emulator.setReplicas('ns', 'v', 3);
    const names = emulator.pods.map((p) => p.name);
    expect(new Set(names).size).toBe(3);
    emulator.setReplicas('ns', 'v', 1);
    expect(emulator.pods.map((p) => p.name)).toEqual([names[0]]);
    tick(1000);
    expect(emulator.pods[0]!.offeredPerSecond).toBeCloseTo(20, 9);
    emulator.setReplicas('ns', 'v', 0);
    const before = emulator.models[0]!.totals.requests;
    tick(5000);
    expect(emulator.targets()).toEqual([]);
    expect(emulator.models[0]!.totals.requests).toBe(before);
    // A pod added again gets a new name, as a ReplicaSet's would.
    emulator.setReplicas('ns', 'v', 1);
    expect(names).not.toContain(emulator.pods[0]!.name);
  });

  it("the router sends new requests to the pod with the least queued work; a removed pod's requests arrive again", () => {
    const cap = make().emulator.pods[0]!.capacityPerSecond;
    const overload = make({
      startupDelay: 0,
      models: [
        {
          model: 'm',
          namespace: 'ns',
          load: { pattern: 'steady', rate: 1.5 * cap * 60 },
          variants: [{ name: 'v', replicas: 1, maxBatchSize: 64 }],
        },
      ],
    });
    // One pod at 1.5x its capacity for 20 s builds a queue of about 10 s of its work.
    overload.tick(20_000);
    const [a] = overload.emulator.pods;
    const queued = a!.replica.backlog;
    expect(queued).toBeCloseTo(0.5 * cap * 20, -1);
    overload.emulator.setReplicas('ns', 'v', 2);
    overload.tick(1000);
    const b = overload.emulator.pods[1]!;
    // The new pod takes the new requests; the old one drains what it holds.
    expect(a!.offeredPerSecond).toBe(0);
    expect(b.offeredPerSecond).toBeCloseTo(1.5 * cap, 6);
    expect(a!.replica.backlog).toBeCloseTo(queued - cap, 6);
    expect(b.replica.backlog).toBeCloseTo(0.5 * cap, 6);
    // A scale-down removes the new pod (the youngest): its queued requests come back, to the other.
    const held = a!.replica.backlog + b.replica.backlog;
    overload.emulator.setReplicas('ns', 'v', 1);
    overload.tick(1000);
    const left = overload.emulator.pods[0]!;
    expect(left).toBe(a);
    expect(left.replica.backlog).toBeCloseTo(held + 1.5 * cap - cap, 6);
  });

  it('refuses a bad count or an unknown variant, naming it', () => {
    const { emulator } = make();
    expect(() => emulator.setReplicas('ns', 'v', -1)).toThrow(RangeError);
    expect(() => emulator.setReplicas('ns', 'v', 1.5)).toThrow(/integer from 0 to 1000, got 1.5/);
    expect(() => emulator.setReplicas('ns', 'nope', 1)).toThrow(/no variant nope in namespace ns/);
  });

  it('PUT /variants/<namespace>/<name>/replicas scales over HTTP; GET /variants lists them', async () => {
    const { emulator } = make();
    const server = await startEmulatorServer(emulator, { live: false });
    try {
      const put = (path: string, body: string) => fetch(`${server.url}${path}`, { method: 'PUT', body });
      const ok = await put('/variants/ns/v/replicas', '{"replicas": 4}');
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ namespace: 'ns', name: 'v', replicas: 4 });
      const list = (await (await fetch(`${server.url}/variants`)).json()) as unknown[];
      expect(list).toEqual([{ namespace: 'ns', name: 'v', model: 'm', replicas: 4, ready: 1 }]);
      const bad = await put('/variants/ns/v/replicas', '{"replicas": "many"}');
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: string }).error).toMatch(/not a number/);
      expect((await put('/variants/ns/v/replicas', 'nope')).status).toBe(400);
      expect((await put('/variants/ns/other/replicas', '{"replicas": 1}')).status).toBe(404);
      expect((await put('/variants/ns/v/replicas', '{"replicas": -2}')).status).toBe(400);
    } finally {
      await server.close();
    }
  });
});
