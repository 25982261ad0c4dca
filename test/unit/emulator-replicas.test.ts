import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
          architecture: 'meta-llama/Llama-3.1-8B-Instruct',
          namespace: 'ns',
          load: { pattern: 'steady', rate: 1200 },
          variants: [{ name: 'v', replicas: 1 }],
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
    tick(30_000);
    const busy = emulator.observed('m', 'ns', 10_000);
    expect(emulator.setReplicas('ns', 'v', 3)).toBe(3);
    expect(emulator.variants()).toEqual([{ namespace: 'ns', name: 'v', model: 'm', replicas: 3, ready: 1 }]);
    expect(emulator.targets()).toHaveLength(1);
    tick(29_000);
    const [first, second, third] = emulator.pods;
    expect(second!.totals.requests + third!.totals.requests).toBe(0);
    tick(2000);
    expect(emulator.targets().map((t) => t.pod)).toEqual(emulator.pods.map((p) => p.name));
    tick(30_000);
    // The gateway spreads requests over the three ready pods; each batches less, so TTFT falls.
    for (const p of [first!, second!, third!]) expect(p.totals.requests).toBeGreaterThan(100);
    const spread = emulator.observed('m', 'ns', 10_000);
    expect(spread.ttftAverage).toBeLessThan(busy.ttftAverage);
    expect(spread.itlAverage).toBeLessThan(busy.itlAverage);
    expect(spread.load.arrivalRate).toBeGreaterThan(1200 * 0.85);
  });

  it('a scale-down removes the youngest pods first, which finish what they hold; at 0 the model serves nothing', () => {
    const { emulator, tick } = make({ startupDelay: 0 });
    emulator.setReplicas('ns', 'v', 3);
    const names = emulator.pods.map((p) => p.name);
    expect(new Set(names).size).toBe(3);
    tick(5000);
    const leaving = emulator.pods.slice(1);
    const held = leaving.reduce((a, p) => a + p.load, 0);
    expect(held).toBeGreaterThan(0);
    const done = leaving.map((p) => p.totals.requests);
    emulator.setReplicas('ns', 'v', 1);
    expect(emulator.variants()[0]).toMatchObject({ replicas: 1, ready: 1 });
    expect(emulator.model('m', 'ns')!.pods.map((p) => p.name)).toEqual([names[0]]);
    // Draining: no new requests, the ones held finish, then the pod is gone.
    tick(30_000);
    const finished = leaving.reduce((a, p, i) => a + p.totals.requests - done[i]!, 0);
    expect(finished).toBe(held);
    expect(emulator.pods.map((p) => p.name)).toEqual([names[0]]);
    emulator.setReplicas('ns', 'v', 0);
    tick(30_000);
    const before = emulator.models[0]!.totals.requests;
    tick(5000);
    expect(emulator.targets()).toEqual([]);
    expect(emulator.models[0]!.totals.requests).toBe(before);
    // A pod added again gets a new name, as a ReplicaSet's would.
    emulator.setReplicas('ns', 'v', 1);
    expect(names).not.toContain(emulator.pods[0]!.name);
  });

  it('with no ready pod the gateway holds requests in its flow-control queue, exported per model, and times them out', async () => {
    const { emulator, tick } = make({ startupDelay: '20s', gateway: { queueTimeout: '15s' } });
    emulator.setReplicas('ns', 'v', 0);
    tick(5000);
    const held = emulator.gateway.held('m', 'ns');
    expect(held).toBeGreaterThan(80);
    const text = await emulator.gateway.metrics();
    expect(text).toMatch(
      new RegExp(
        `inference_extension_flow_control_queue_size\\{target_model_name="m",namespace="ns"\\} ${held}\\n`,
      ),
    );
    expect(text).toMatch(
      /inference_extension_flow_control_queue_bytes\{target_model_name="m",namespace="ns"\} [1-9]/,
    );
    // A pod starts; the ones that waited under 15 s are served once it is ready, the others failed.
    emulator.setReplicas('ns', 'v', 1);
    tick(21_000);
    expect(emulator.gateway.held('m', 'ns')).toBe(0);
    expect(emulator.models[0]!.failed).toBeGreaterThan(0);
    tick(20_000);
    expect(emulator.models[0]!.totals.requests).toBeGreaterThan(100);
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

describe('emulator trace replay', () => {
  it('replays a trace file: each request at its time with its lengths, the load pattern ignored', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wva-trace-'));
    const file = join(dir, 'trace.csv');
    writeFileSync(file, 'arrival_s,input_tokens,output_tokens\n0.5,100,10\n1.5,2000,20\n2.5,300,30\n');
    const { emulator, tick } = make({
      startupDelay: 0,
      models: [
        {
          model: 'm',
          architecture: 'meta-llama/Llama-3.1-8B-Instruct',
          namespace: 'ns',
          load: { pattern: 'steady', rate: 6000 },
          trace: file,
          variants: [{ name: 'v', replicas: 1 }],
        },
      ],
    });
    tick(10_000);
    const t = emulator.model('m', 'ns')!.totals;
    expect(t.requests).toBe(3);
    expect(t.promptTokens).toBe(2400);
    expect(t.generationTokens).toBe(60);
    expect(() =>
      parseEmulatorConfig({
        models: [
          {
            model: 'm',
            architecture: 'meta-llama/Llama-3.1-8B-Instruct',
            namespace: 'ns',
            load: { pattern: 'idle' },
            trace: join(dir, 'missing.csv'),
            variants: [{ name: 'v' }],
          },
        ],
      }),
    ).toThrow(/models\[0\]\.trace: .*missing\.csv/);
  });
});

describe('gateway routing', () => {
  it('KV-aware routing sends requests to the pod with the emptier KV cache', () => {
    const run = (routing: 'least-requests' | 'kv-aware') => {
      const { emulator, tick } = make({
        startupDelay: 0,
        gateway: { routing },
        models: [
          {
            model: 'm',
            architecture: 'meta-llama/Llama-3.1-8B-Instruct',
            namespace: 'ns',
            load: { pattern: 'steady', rate: 600 },
            inputTokens: 4000,
            outputTokens: 200,
            // Two H100 pods, one allowed a third of the memory: a much smaller KV cache.
            variants: [
              { name: 'big', replicas: 1, accelerator: 'H100' },
              {
                name: 'small',
                replicas: 1,
                accelerator: 'H100',
                args: ['--gpu-memory-utilization', '0.3', '--max-model-len', '8192'],
              },
            ],
          },
        ],
      });
      tick(60_000);
      const [big, small] = emulator.pods;
      return big!.totals.requests / (big!.totals.requests + small!.totals.requests);
    };
    const plain = run('least-requests');
    expect(plain).toBeGreaterThan(0.4);
    expect(plain).toBeLessThan(0.6);
    expect(run('kv-aware')).toBeGreaterThan(plain + 0.03);
  });
});
