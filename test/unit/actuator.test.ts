// The actuator's pure parts: the scale-to-zero ConfigMap and its precedence, the zero verdict, and
// the per-variant gauges (one label set per key, removal, leader-only clear), with fake parts.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { Actuator, withActuation } from '../../src/actuator/actuator.js';
import { MemoryEventSink } from '../../src/actuator/events.js';
import { ActuationMetrics } from '../../src/actuator/metrics.js';
import {
  DEFAULT_RETENTION_MS,
  parseScaleToZeroConfig,
  retentionPeriods,
  ruleFor,
  zeroVerdict,
} from '../../src/actuator/scale-to-zero.js';
import { vaObject } from '../support/variants.js';

describe('model-scale-to-zero-config', () => {
  const cfg = parseScaleToZeroConfig({
    __defaults__: 'enableScaleToZero: true\nretentionPeriod: 15m',
    'llama-prod': 'modelID: meta/llama\nnamespace: prod\nenableScaleToZero: false',
    llama: 'modelID: meta/llama\nretentionPeriod: 5m',
    granite: 'modelID: ibm/granite\nenableScaleToZero: "true"',
  });

  it('precedence: model in its namespace, model in any namespace, __defaults__, the switch', () => {
    expect(cfg.problems).toEqual([]);
    expect(ruleFor(cfg, false, 'meta/llama', 'prod')).toEqual({ enabled: false, retentionMs: 15 * 60_000 });
    expect(ruleFor(cfg, false, 'meta/llama', 'dev')).toEqual({ enabled: true, retentionMs: 5 * 60_000 });
    expect(ruleFor(cfg, false, 'other', 'dev')).toEqual({ enabled: true, retentionMs: 15 * 60_000 });
    const empty = parseScaleToZeroConfig(undefined);
    expect(ruleFor(empty, true, 'x', 'y')).toEqual({ enabled: true, retentionMs: DEFAULT_RETENTION_MS });
    expect(ruleFor(empty, false, 'x', 'y').enabled).toBe(false);
  });

  it('one period per distinct retention in force, none when nothing may go to zero', () => {
    const models = [
      { modelId: 'meta/llama', namespace: 'prod' },
      { modelId: 'meta/llama', namespace: 'dev' },
      { modelId: 'ibm/granite', namespace: 'dev' },
    ];
    expect(retentionPeriods(cfg, false, models)).toEqual([5 * 60_000, 15 * 60_000]);
    expect(retentionPeriods(parseScaleToZeroConfig({}), false, models)).toEqual([]);
  });

  it('a bad key is refused with a message naming it, what to write and what it means; the others apply', () => {
    const bad = parseScaleToZeroConfig({
      a: 'modelID: m\nretentionPeriod: soon',
      b: 'enableScaleToZero: true',
      c: 'modelID: m2\nenableScaleToZero: yes please',
      d: '[not, a, mapping]',
      e: 'modelID: m3\nretentionPeriod: 10s',
      ok: 'modelID: good\nenableScaleToZero: true',
    });
    const unnamed =
      'its model cannot be told, so only models with an entry of their own may be scaled to zero';
    expect(bad.problems).toEqual([
      'model-scale-to-zero-config key "a": retentionPeriod "soon" is not a duration such as 10m or 1h (model m is not scaled to zero until it is fixed)',
      `model-scale-to-zero-config key "b": modelID is required, a non-empty string (${unnamed})`,
      'model-scale-to-zero-config key "c": enableScaleToZero must be true or false, got "yes please" (model m2 is not scaled to zero until it is fixed)',
      `model-scale-to-zero-config key "d": must be a mapping such as {modelID: ..., enableScaleToZero: true, retentionPeriod: 10m} (${unnamed})`,
      'model-scale-to-zero-config key "e": retentionPeriod must be whole seconds between 1m and 7d (model m3 is not scaled to zero until it is fixed)',
    ]);
    expect(ruleFor(bad, false, 'good', 'ns').enabled).toBe(true);
  });

  it('a refused entry opts its model out, whatever the defaults and the switch say', () => {
    const cfg = parseScaleToZeroConfig({
      __defaults__: 'enableScaleToZero: true',
      llama: 'modelID: meta/llama\nenableScaleToZero: no',
      other: 'modelID: org/other\nenableScaleToZero: true',
    });
    expect(ruleFor(cfg, true, 'meta/llama', 'prod').enabled).toBe(false);
    expect(ruleFor(cfg, true, 'org/other', 'prod').enabled).toBe(true);
    expect(ruleFor(cfg, true, 'org/third', 'prod').enabled).toBe(true);
    // A refused __defaults__ opts nobody in by default; the switch does not stand in for it.
    const noDefaults = parseScaleToZeroConfig({ __defaults__: 'enableScaleToZero: maybe' });
    expect(ruleFor(noDefaults, true, 'org/third', 'prod').enabled).toBe(false);
    expect(noDefaults.problems[0]).toMatch(/\(no model is opted in by default until it is fixed\)$/);
    // A refused key whose model cannot be read: only models with their own entry may go to zero.
    const unknown = parseScaleToZeroConfig({
      __defaults__: 'enableScaleToZero: true',
      broken: 'enableScaleToZero: true',
      other: 'modelID: org/other\nenableScaleToZero: true',
    });
    expect(ruleFor(unknown, true, 'org/third', 'prod').enabled).toBe(false);
    expect(ruleFor(unknown, true, 'org/other', 'prod').enabled).toBe(true);
  });

  it('zero only on proof: idle yes; busy no; no proof either way only keeps a model already at 0', () => {
    const on = { enabled: true, retentionMs: 600_000 };
    expect(zeroVerdict(on, { state: 'idle' }, 2).allowed).toBe(true);
    expect(zeroVerdict({ ...on, enabled: false }, { state: 'idle' }, 2).allowed).toBe(false);
    expect(zeroVerdict(on, { state: 'busy', requests: 1 }, 1).allowed).toBe(false);
    expect(zeroVerdict(on, { state: 'unknown', reason: 'failed' }, 1).allowed).toBe(false);
    expect(zeroVerdict(on, { state: 'unknown', reason: 'no series' }, undefined).allowed).toBe(false);
    // Already at 0: no proof either way keeps it there (an outage does not wake it).
    expect(zeroVerdict(on, { state: 'unknown', reason: 'failed' }, 0).allowed).toBe(true);
    expect(zeroVerdict(on, { state: 'busy', requests: 2 }, 0).allowed).toBe(false);
  });
});

const va = (name: string) => vaObject('prod', name, 'meta/llama');
/** A decision of this reconcile, as the reconciler hands it (and as the status will say it). */
const decided = (numReplicas: number, accelerator = 'A100') => ({
  status: { desiredOptimizedAlloc: { accelerator, numReplicas } },
  decision: { accelerator, numReplicas },
});
const dep = (replicas: number) => ({
  metadata: { name: 'x', namespace: 'prod' },
  spec: { replicas },
  status: { readyReplicas: replicas },
});

describe('Actuator (metrics mode) and its gauges', () => {
  const setup = () => {
    const registry = new Registry();
    const events = new MemoryEventSink();
    const actuator = new Actuator({ mode: 'metrics', metrics: new ActuationMetrics(registry), events });
    const text = async () => registry.metrics();
    return { actuator, events, text };
  };

  it('publishes desired, current (ready) and ratio; a new accelerator replaces the old series', async () => {
    const { actuator, text } = setup();
    await actuator.actuate({ key: 'prod/a', va: va('a'), ...decided(4), deployment: dep(2) });
    let t = await text();
    expect(t).toContain('wva_desired_replicas{variant_name="a",namespace="prod",accelerator_type="A100"} 4');
    expect(t).toContain('wva_current_replicas{variant_name="a",namespace="prod",accelerator_type="A100"} 2');
    expect(t).toContain('wva_desired_ratio{variant_name="a",namespace="prod",accelerator_type="A100"} 2');
    await actuator.actuate({ key: 'prod/a', va: va('a'), ...decided(4, 'H100'), deployment: dep(0) });
    t = await text();
    expect(t).not.toContain('accelerator_type="A100"');
    expect(t).toContain('wva_desired_ratio{variant_name="a",namespace="prod",accelerator_type="H100"} 4');
  });

  it('unknown current replicas (no Deployment) is no series, never 0', async () => {
    const { actuator, text } = setup();
    await actuator.actuate({ key: 'prod/a', va: va('a'), ...decided(3), deployment: undefined });
    const t = await text();
    expect(t).toContain('wva_desired_replicas{variant_name="a",namespace="prod",accelerator_type="A100"} 3');
    expect(t).not.toMatch(/wva_current_replicas\{/);
    expect(t).not.toMatch(/wva_desired_ratio\{/);
  });

  it('no decision holds what runs; the object going and leadership going remove the series', async () => {
    const { actuator, text } = setup();
    for (const n of ['a', 'b', 'c']) {
      await actuator.actuate({ key: `prod/${n}`, va: va(n), ...decided(2), deployment: dep(3) });
    }
    const r = await actuator.actuate({ key: 'prod/a', va: va('a'), status: {}, deployment: dep(3) });
    expect(r).toMatchObject({ applied: false, reason: 'NoDecision' });
    const none = await actuator.actuate({ key: 'prod/a', va: va('a'), status: {}, deployment: undefined });
    expect(none).toMatchObject({ applied: false, reason: 'NoDecision' });
    actuator.retain(new Set(['prod/a', 'prod/c']));
    let t = await text();
    expect(t).not.toContain('variant_name="a"');
    expect(t).not.toContain('variant_name="b"');
    expect(t).toContain('variant_name="c"');
    actuator.clear();
    t = await text();
    expect(t).not.toMatch(/^wva_(desired|current)_replicas\{/m);
    expect(t).toContain('wva_variants{condition="Actuated",status="False"} 0');
  });

  it('counts VariantAutoscalings by condition for alerts', async () => {
    const { actuator, text } = setup();
    // OptimizationReady False: nothing decided now, whatever the status still holds.
    const failing = {
      ...decided(2).status,
      conditions: [
        {
          type: 'OptimizationReady',
          status: 'False' as const,
          reason: 'SLOUnreachable',
          message: 'ttft',
          lastTransitionTime: 'x',
        },
      ],
    };
    await actuator.actuate({
      key: 'prod/a',
      va: va('a'),
      status: failing,
      undecided: 'x',
      deployment: dep(2),
    });
    await actuator.actuate({ key: 'prod/b', va: va('b'), ...decided(2), deployment: dep(2) });
    const t = await text();
    expect(t).toContain('wva_variants{condition="OptimizationReady",status="False"} 1');
    expect(t).toContain('wva_variants{condition="Actuated",status="True"} 1');
    expect(t).toContain('wva_variants{condition="Actuated",status="False"} 1');
  });

  it('events: a change of the published count, and one OptimizationFailed per distinct failure', async () => {
    const { actuator, events } = setup();
    const failing = (message: string) => ({
      ...decided(1).status,
      conditions: [
        {
          type: 'OptimizationReady',
          status: 'False' as const,
          reason: 'SLOUnreachable',
          message,
          lastTransitionTime: 'x',
        },
      ],
    });
    await actuator.actuate({ key: 'prod/a', va: va('a'), ...decided(3), deployment: dep(1) });
    await actuator.actuate({ key: 'prod/a', va: va('a'), ...decided(3), deployment: dep(1) });
    await actuator.actuate({ key: 'prod/a', va: va('a'), ...decided(1), deployment: dep(3) });
    await actuator.actuate({
      key: 'prod/a',
      va: va('a'),
      status: failing('ttft 900 > 400'),
      deployment: dep(1),
    });
    await actuator.actuate({
      key: 'prod/a',
      va: va('a'),
      status: failing('ttft 900 > 400'),
      deployment: dep(1),
    });
    await actuator.actuate({
      key: 'prod/a',
      va: va('a'),
      status: failing('ttft 950 > 400'),
      deployment: dep(1),
    });
    expect(events.events.map((e) => `${e.type} ${e.reason}: ${e.message}`)).toEqual([
      'Normal ScaledUp: Desired replicas 1 -> 3: the optimizer decision',
      'Normal ScaledDown: Desired replicas 3 -> 1: the optimizer decision',
      'Warning OptimizationFailed: SLOUnreachable: ttft 900 > 400',
      'Warning OptimizationFailed: SLOUnreachable: ttft 950 > 400',
    ]);
  });

  it('a decision of 0: one replica kept on the variant that keeps the model serving, 0 on the others while it serves', async () => {
    const registry = new Registry();
    let keeperReady = true;
    const actuator = new Actuator({
      mode: 'metrics',
      metrics: new ActuationMetrics(registry),
      serving: (v) =>
        v.metadata.name === 'a'
          ? { keeps: true }
          : keeperReady
            ? { keeps: false, by: 'a' }
            : { keeps: false },
    });
    expect(actuator.minReplicas(va('a'), dep(1))).toBe(1);
    expect(actuator.minReplicas(va('b'), dep(1))).toBe(0);
    const a = await actuator.actuate({ key: 'prod/a', va: va('a'), ...decided(0), deployment: dep(1) });
    const b = await actuator.actuate({ key: 'prod/b', va: va('b'), ...decided(0), deployment: dep(1) });
    expect([a.published, a.message]).toEqual([
      1,
      'wva_desired_replicas 1 published (one replica kept: scale to zero is off for this model)',
    ]);
    expect([b.published, b.message]).toEqual([
      0,
      'wva_desired_replicas 0 published (the optimizer decision; variant a keeps serving the model)',
    ]);
    // The variant that keeps the model serving has no ready replica: the others keep one.
    keeperReady = false;
    const c = await actuator.actuate({ key: 'prod/b', va: va('b'), ...decided(0), deployment: dep(1) });
    expect(c.published).toBe(1);
    expect(c.message).toContain('no other variant of the model has ready replicas');
  });

  it('nothing decided now: nothing published is taken from status; the gauges say what runs', async () => {
    const registry = new Registry();
    const actuator = new Actuator({ mode: 'metrics', metrics: new ActuationMetrics(registry) });
    const r = await actuator.actuate({
      key: 'prod/a',
      va: va('a'),
      status: { desiredOptimizedAlloc: { accelerator: 'A100', numReplicas: 1 } },
      undecided: 'MetricsUnavailable: Prometheus failed',
      deployment: dep(10),
    });
    expect(r).toMatchObject({ applied: false, reason: 'NoDecision' });
    expect(r.message).toBe(
      'No decision: Deployment prod/a left at 10 replicas (MetricsUnavailable: Prometheus failed)',
    );
    expect(await registry.getSingleMetricAsString('wva_desired_replicas')).toContain(
      'wva_desired_replicas{variant_name="a",namespace="prod",accelerator_type="A100"} 10',
    );
  });

  it('while status cannot be written the replicas that run are not reduced', async () => {
    const actuator = new Actuator({ mode: 'metrics', metrics: new ActuationMetrics(new Registry()) });
    const r = await actuator.actuate({
      key: 'prod/a',
      va: va('a'),
      ...decided(2),
      noScaleDown: 'the last status write failed',
      deployment: dep(10),
    });
    expect(r.published).toBe(10);
    expect(r.message).toContain('kept at 10, not 2: the last status write failed');
    const up = await actuator.actuate({
      key: 'prod/a',
      va: va('a'),
      ...decided(12),
      noScaleDown: 'the last status write failed',
      deployment: dep(10),
    });
    expect(up.published).toBe(12);
  });

  it('a decision above 0 while zero is allowed says zero is allowed, not that it is not', async () => {
    const actuator = new Actuator({
      mode: 'metrics',
      metrics: new ActuationMetrics(new Registry()),
      scaleToZeroEnabled: () => true,
      idleEvidence: () => ({ state: 'idle' }),
    });
    const r = await actuator.actuate({ key: 'prod/a', va: va('a'), ...decided(2), deployment: dep(2) });
    expect(r.message).toMatch(
      /^wva_desired_replicas 2 published \(the optimizer decision \(zero allowed: no requests for the whole retention period \(.+\)\)\)$/,
    );
  });

  it('withActuation sets status.actuation and the Actuated condition, keeping the transition time', () => {
    const t0 = new Date('2026-01-01T00:00:00Z');
    const r = { applied: true, reason: 'Published' as const, message: 'm' };
    const s1 = withActuation({}, r, t0, 3);
    expect(s1.actuation).toEqual({ applied: true });
    expect(s1.conditions).toEqual([
      {
        type: 'Actuated',
        status: 'True',
        reason: 'Published',
        message: 'm',
        lastTransitionTime: '2026-01-01T00:00:00Z',
        observedGeneration: 3,
      },
    ]);
    const s2 = withActuation(s1, r, new Date('2026-01-01T01:00:00Z'), 3);
    expect(s2.conditions?.[0]?.lastTransitionTime).toBe('2026-01-01T00:00:00Z');
  });
});
