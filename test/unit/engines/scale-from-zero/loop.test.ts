// Scale from zero against an EPP-style metrics endpoint served in the test (127.0.0.1), with fake
// timers: demand to scale call in virtual time, bounded concurrency, and every failure a condition.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  checkMaxConcurrency,
  type InactiveVariant,
  type InferencePoolInfo,
  type ScaleFromZeroEvent,
  ScaleFromZeroLoop,
  type ScaleFromZeroOptions,
  type ScaleFromZeroOutcome,
  type ScaleTarget,
} from '../../../../src/engines/scale-from-zero/index.js';

interface Epp {
  url: string;
  body: string;
  status: number;
  requests: IncomingMessage[];
  close(): Promise<void>;
}

async function startEpp(): Promise<Epp> {
  const epp = { body: '', status: 200, requests: [] as IncomingMessage[] } as Epp;
  const server: Server = createServer((req, res) => {
    epp.requests.push(req);
    res.writeHead(epp.status, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(epp.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  epp.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  epp.close = () => new Promise<void>((r) => server.close(() => r()));
  return epp;
}

const queue = (model: string, n: number) =>
  `# HELP inference_extension_flow_control_queue_size Requests queued\n# TYPE inference_extension_flow_control_queue_size gauge\ninference_extension_flow_control_queue_size{fairness_id="a",priority="0",target_model_name="${model}"} ${n}\n`;

const target = (name: string): ScaleTarget => ({ kind: 'Deployment', name, namespace: 'ns' });
const inactive = (name: string, model = 'llama', labels: Record<string, string> | null = { app: 'llama' }) =>
  ({
    name,
    namespace: 'ns',
    modelId: model,
    target: target(name),
    accelerator: 'L4',
    ...(labels ? { podLabels: labels } : {}),
  }) as InactiveVariant;

let epp: Epp;
let variants: InactiveVariant[];
let pools: InferencePoolInfo[] | null;
let scaled: Array<{ target: ScaleTarget; replicas: number; at: number }>;
let events: ScaleFromZeroEvent[];
let outcomes: ScaleFromZeroOutcome[];
let loop: ScaleFromZeroLoop | undefined;

function makeLoop(over: Partial<ScaleFromZeroOptions> = {}): ScaleFromZeroLoop {
  loop = new ScaleFromZeroLoop({
    source: { inactiveVariants: () => variants, inferencePools: () => pools },
    scaleTo: async (t, replicas) => {
      scaled.push({ target: t, replicas, at: Date.now() });
    },
    token: 'reader-token',
    onEvent: (e) => events.push(e),
    onOutcome: (o) => outcomes.push(o),
    ...over,
  });
  return loop;
}

/** Advances virtual time by `ms` and waits for a tick the timers started (real I/O included). */
async function advance(l: ScaleFromZeroLoop, ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
  await l.idle();
}

beforeEach(async () => {
  epp = await startEpp();
  variants = [inactive('llama-l4')];
  pools = [{ name: 'llama-pool', namespace: 'ns', selector: { app: 'llama' }, eppMetricsUrl: epp.url }];
  scaled = [];
  events = [];
  outcomes = [];
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: 1_000_000 });
});

afterEach(async () => {
  await loop?.stop();
  loop = undefined;
  vi.useRealTimers();
  await epp.close();
});

describe('scale from zero', () => {
  it('scales the target to 1 within one poll interval of demand (virtual time), with the reader token', async () => {
    const l = makeLoop();
    l.start();
    epp.body = queue('llama', 0);
    await advance(l, 100);
    await advance(l, 100);
    expect(epp.requests).toHaveLength(2);
    expect(scaled).toEqual([]);
    // Demand appears 30 ms after a poll.
    await vi.advanceTimersByTimeAsync(30);
    epp.body = queue('llama', 4);
    const demandAt = Date.now();
    while (scaled.length === 0) await advance(l, 10);
    expect(scaled).toEqual([{ target: target('llama-l4'), replicas: 1, at: demandAt + 70 }]);
    expect(scaled[0]!.at - demandAt).toBeLessThanOrEqual(100);
    expect(epp.requests.every((r) => r.headers.authorization === 'Bearer reader-token')).toBe(true);
    expect(events).toEqual([
      {
        variant: { name: 'llama-l4', namespace: 'ns' },
        type: 'Normal',
        reason: 'ScaledFromZero',
        message:
          'requests queued at the gateway for model llama: scaled Deployment llama-l4 from 0 to 1 replica',
      },
    ]);
    expect(outcomes.at(-1)).toEqual({
      variant: { name: 'llama-l4', namespace: 'ns' },
      desired: { numReplicas: 1, accelerator: 'L4' },
      conditions: [
        {
          type: 'OptimizationReady',
          status: 'True',
          reason: 'ScaleFromZeroMode',
          message:
            'requests queued at the gateway for model llama: scaled Deployment llama-l4 from 0 to 1 replica',
        },
        {
          type: 'MetricsAvailable',
          status: 'True',
          reason: 'ScaleFromZero',
          message: 'gateway queue read for model llama',
        },
      ],
    });
  });

  it('wakes every inactive variant of the model, not another model, with one scrape per pool per tick', async () => {
    variants = [
      inactive('llama-l4'),
      inactive('llama-a100'),
      inactive('mistral-l4', 'mistral', { app: 'llama' }),
    ];
    epp.body = queue('llama', 2) + queue('mistral', 0);
    const l = makeLoop();
    l.start();
    await advance(l, 100);
    expect(scaled.map((s) => s.target.name).sort()).toEqual(['llama-a100', 'llama-l4']);
    expect(epp.requests).toHaveLength(1);
  });

  it('does not scale a target again while the listing still shows it at zero', async () => {
    epp.body = queue('llama', 1);
    const l = makeLoop();
    l.start();
    await advance(l, 100);
    await advance(l, 100);
    await advance(l, 100);
    expect(scaled).toHaveLength(1);
    // It left the list (scaled up), then came back to zero: it may be woken again.
    variants = [];
    await advance(l, 100);
    variants = [inactive('llama-l4')];
    await advance(l, 100);
    expect(scaled).toHaveLength(2);
  });

  it('handles at most maxConcurrency variants at once', async () => {
    variants = ['a', 'b', 'c', 'd', 'e'].map((n) => inactive(n));
    epp.body = queue('llama', 1);
    let inFlight = 0;
    let most = 0;
    const release: Array<() => void> = [];
    let entered: () => void = () => {};
    const nextEntry = () => new Promise<void>((r) => (entered = r));
    let entry = nextEntry();
    const l = makeLoop({
      maxConcurrency: 2,
      scaleTo: async (t) => {
        inFlight++;
        most = Math.max(most, inFlight);
        const wait = new Promise<void>((r) => release.push(r));
        entered();
        await wait;
        inFlight--;
        scaled.push({ target: t, replicas: 1, at: Date.now() });
      },
    });
    l.start();
    await vi.advanceTimersByTimeAsync(100);
    while (scaled.length < 5) {
      if (release.length === 0) {
        await entry;
        entry = nextEntry();
      }
      release.shift()!();
      await vi.advanceTimersByTimeAsync(0);
    }
    await l.idle();
    expect(most).toBe(2);
  });

  it('an EPP that does not answer: a condition and one warning, never a throw; the loop goes on', async () => {
    pools = [
      {
        name: 'llama-pool',
        namespace: 'ns',
        selector: { app: 'llama' },
        eppMetricsUrl: 'http://127.0.0.1:1/metrics',
      },
    ];
    const l = makeLoop();
    l.start();
    await advance(l, 100);
    await advance(l, 100);
    expect(scaled).toEqual([]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'Warning', reason: 'EPPUnavailable' });
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]?.conditions[0]).toMatchObject({
      type: 'MetricsAvailable',
      status: 'False',
      reason: 'EPPUnavailable',
    });
    expect(outcomes[0]?.conditions[0]?.message).toMatch(
      /^EPP of InferencePool ns\/llama-pool could not be read: EPP at http:\/\/127\.0\.0\.1:1\/metrics: .*ECONNREFUSED/,
    );
    // The EPP comes back with demand: scaled.
    pools = [{ name: 'llama-pool', namespace: 'ns', selector: { app: 'llama' }, eppMetricsUrl: epp.url }];
    epp.body = queue('llama', 1);
    await advance(l, 100);
    expect(scaled).toHaveLength(1);
  });

  it('an EPP answering garbage or an HTTP error: a condition naming it', async () => {
    epp.body = '<html>login</html>\n';
    const l = makeLoop();
    l.start();
    await advance(l, 100);
    expect(outcomes.at(-1)?.conditions[0]).toMatchObject({ reason: 'EPPMetricsInvalid' });
    expect(outcomes.at(-1)?.conditions[0]?.message).toContain(
      'did not answer in the Prometheus text format (line 1:',
    );
    epp.status = 403;
    await advance(l, 100);
    expect(outcomes.at(-1)?.conditions[0]?.message).toContain('answered HTTP 403');
    expect(scaled).toEqual([]);
  });

  it('no pool matching the pod labels, no pools known yet, no pod labels: clear conditions', async () => {
    variants = [inactive('other', 'llama', { app: 'other' }), inactive('bare', 'llama', null)];
    const l = makeLoop();
    l.start();
    await advance(l, 100);
    const byVariant = new Map(outcomes.map((o) => [o.variant.name, o.conditions[0]]));
    expect(byVariant.get('other')).toEqual({
      type: 'MetricsAvailable',
      status: 'False',
      reason: 'NoMatchingInferencePool',
      message:
        'no InferencePool in namespace ns selects the pods of Deployment ns/other; create one whose selector matches its pod template labels',
    });
    expect(byVariant.get('bare')?.reason).toBe('ScaleTargetWithoutPodLabels');
    pools = null;
    variants = [inactive('llama-l4')];
    await advance(l, 100);
    expect(outcomes.at(-1)?.conditions[0]?.reason).toBe('InferencePoolsUnknown');
    expect(epp.requests).toHaveLength(0);
  });

  it('a refused scale call: a condition, no throw', async () => {
    epp.body = queue('llama', 1);
    const l = makeLoop({
      scaleTo: async () => {
        throw new Error('deployments.apps "llama-l4" is forbidden');
      },
    });
    l.start();
    await advance(l, 100);
    expect(outcomes.at(-1)?.conditions[0]).toMatchObject({
      type: 'OptimizationReady',
      reason: 'ScaleFromZeroFailed',
    });
    expect(events.at(-1)?.message).toContain('is forbidden');
  });

  it('stop ends polling: no scrape however long after; a new term starts again', async () => {
    const l = makeLoop();
    l.start();
    l.start();
    await advance(l, 100);
    expect(epp.requests).toHaveLength(1);
    await l.stop();
    await advance(l, 10_000);
    expect(epp.requests).toHaveLength(1);
    l.start();
    await advance(l, 100);
    expect(epp.requests).toHaveLength(2);
  });

  it('refuses a concurrency that is not a whole number > 0, saying what to set', () => {
    expect(() => checkMaxConcurrency(0)).toThrow(
      'scale-from-zero max concurrency 0 is not valid: set SCALE_FROM_ZERO_ENGINE_MAX_CONCURRENCY to a whole number > 0 (default 10)',
    );
    expect(() => makeLoop({ maxConcurrency: 1.5 })).toThrow(RangeError);
  });

  it('reads the gateway queue from Prometheus when configured: one call per tick, no EPP scrape', async () => {
    variants = [inactive('llama-l4'), inactive('llama-a100'), inactive('mistral-l4', 'mistral')];
    const calls: string[][] = [];
    let sizes = new Map([['llama', 0]]);
    const l = makeLoop({
      queueSizes: async (models) => {
        calls.push(models);
        return sizes;
      },
    });
    l.start();
    await advance(l, 100);
    expect(scaled).toEqual([]);
    sizes = new Map([
      ['llama', 3],
      ['mistral', 0],
    ]);
    await advance(l, 100);
    expect(scaled.map((x) => x.target.name).sort()).toEqual(['llama-a100', 'llama-l4']);
    expect(calls).toEqual([
      ['llama', 'mistral'],
      ['llama', 'mistral'],
    ]);
    expect(epp.requests).toHaveLength(0);
  });

  it('Prometheus failing: a condition per variant, no throw', async () => {
    const l = makeLoop({
      queueSizes: async () => {
        throw new Error('connect ECONNREFUSED 127.0.0.1:9090');
      },
    });
    l.start();
    await advance(l, 100);
    expect(outcomes.at(-1)?.conditions[0]).toEqual({
      type: 'MetricsAvailable',
      status: 'False',
      reason: 'GatewayQueueUnavailable',
      message: 'the gateway queue could not be read from Prometheus: connect ECONNREFUSED 127.0.0.1:9090',
    });
    expect(scaled).toEqual([]);
  });
});
