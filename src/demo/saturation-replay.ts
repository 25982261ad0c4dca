// Saturation V1 alone (upstream's engine, no SLO, no floor under anything) on the demo's trace,
// replayed in virtual time (replay.ts): each virtual second every ready pod is "scraped" (running,
// waiting, KV-cache use, as its gauges say); each cycle the engine reads per pod the last
// minute's highest KV use and queue and the mean running count, as the collector's fleet query
// does, and its targets are applied at once. A model at zero replicas with requests waiting gets
// one replica of its cheapest variant, as the scale-from-zero engine would give it.

import type { PodMetrics } from '../collector/pods.js';
import type { EmulatorConfig } from '../emulator/index.js';
import {
  createSaturationV1Engine,
  parseSaturationScalingConfigMap,
  parseScaleToZeroConfigMap,
  type SaturationModelInput,
  type ScaleToZeroConfigData,
  scaleToZeroRetentionMs,
} from '../engines/index.js';
import type { FleetScore } from './loop-ledger.js';
import { type ReplayOptions, type ReplayPolicy, replayFleet } from './replay.js';

const LOOKBACK_MS = 60_000;

interface Sample {
  tMs: number;
  running: number;
  waiting: number;
  kv: number;
}

export interface SaturationReplayOptions extends ReplayOptions {
  /** wva-saturation-scaling-config's data from the manifests; absent: upstream's defaults. */
  saturationConfig?: Record<string, string>;
  /** wva-model-scale-to-zero-config's data from the manifests; absent: scale to zero off. */
  scaleToZeroConfig?: Record<string, string>;
}

function argsOf(config: EmulatorConfig, namespace: string, variant: string): string[] {
  const m = config.models.find(
    (x) => x.namespace === namespace && x.variants.some((v) => v.name === variant),
  );
  return m?.variants.find((v) => v.name === variant)?.args ?? [];
}

/** The V1 policy over an emulator: samples pods each second, decides each cycle. */
export function saturationV1Policy(o: SaturationReplayOptions): ReplayPolicy {
  const engine = createSaturationV1Engine();
  const config = parseSaturationScalingConfigMap(o.saturationConfig ?? null, { product: true });
  const zero: ScaleToZeroConfigData = parseScaleToZeroConfigMap(o.scaleToZeroConfig ?? null).config;
  const samples = new Map<string, Sample[]>();
  const published = new Map<string, number>();
  return {
    sample(emulator, nowMs) {
      for (const m of emulator.models)
        for (const v of m.variants)
          for (const p of v.pods) {
            if (p.readyAtMs > nowMs) continue;
            const g = p.engine.gauges();
            const k = `${m.namespace}/${p.name}`;
            const xs = samples.get(k) ?? [];
            samples.set(k, xs);
            xs.push({ tMs: nowMs, running: g.running, waiting: g.waiting, kv: g.kvUsage });
            while (xs.length > 0 && xs[0]!.tMs <= nowMs - LOOKBACK_MS) xs.shift();
          }
    },
    cycle(emulator, nowMs) {
      let actions = 0;
      for (const m of emulator.models) {
        const key = (v: string) => `${m.namespace}/${v}`;
        const pods = new Map<string, PodMetrics[]>();
        const variants = m.variants.map((v) => {
          const name = v.config.name;
          const ready = v.pods.filter((p) => p.readyAtMs <= nowMs);
          pods.set(
            name,
            ready.flatMap((p) => {
              const xs = samples.get(`${m.namespace}/${p.name}`) ?? [];
              if (xs.length === 0) return [];
              return [
                {
                  pod: p.name,
                  modelId: m.model,
                  namespace: m.namespace,
                  kvCacheUsage: Math.max(...xs.map((x) => x.kv)),
                  queueLength: Math.max(...xs.map((x) => x.waiting)),
                  avgRunning: xs.reduce((a, x) => a + x.running, 0) / xs.length,
                  numGpuBlocks: v.setup.numGpuBlocks,
                  blockSize: v.setup.args.blockSize,
                },
              ];
            }),
          );
          return {
            variantName: name,
            cost: o.costOf?.(m.namespace, name) ?? 10,
            acceleratorName: v.config.accelerator,
            currentReplicas: v.pods.length,
            desiredReplicas: published.get(key(name)) ?? v.pods.length,
            pendingReplicas: v.pods.length - ready.length,
            gpusPerReplica: 1,
            deployment: {
              spec: { template: { spec: { containers: [{ args: argsOf(o.config, m.namespace, name) }] } } },
            },
          };
        });
        const retention = scaleToZeroRetentionMs(zero, m.model);
        const input: SaturationModelInput = {
          modelId: m.model,
          namespace: m.namespace,
          variants,
          pods,
          config,
          scaleToZero: {
            config: zero,
            // Every request that finished in the period, whatever its latency.
            requestCount:
              nowMs >= retention
                ? emulator.requestsWithin(m.model, m.namespace, {}, nowMs - retention, nowMs + 1).total
                : null,
            envDefault: false,
          },
        };
        const targets = new Map(
          engine.decide(input).decisions.map((d) => [d.variantName, d.targetReplicas] as const),
        );
        const total = variants.reduce((a, v) => a + v.currentReplicas, 0);
        if (total === 0 && m.pods.length === 0 && emulator.gateway.held(m.model, m.namespace) > 0) {
          const cheapest = [...variants].sort((a, b) => a.cost - b.cost)[0];
          if (cheapest) targets.set(cheapest.variantName, 1);
        }
        for (const v of variants) {
          const to = targets.get(v.variantName);
          if (to === undefined) continue;
          published.set(key(v.variantName), to);
          if (to === v.currentReplicas) continue;
          emulator.setReplicas(m.namespace, v.variantName, to);
          actions++;
        }
      }
      return actions;
    },
  };
}

/** Saturation V1 alone on the trace, scored as the live run. */
export function scoreSaturationV1(o: SaturationReplayOptions): FleetScore {
  return replayFleet(o, saturationV1Policy(o));
}
