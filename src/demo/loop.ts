// The demo's closed loop: the controller's actuator (the real one, in scale mode) with the emulator
// as the thing it scales, handed to the local pipeline as its actuation. Scale to zero goes
// through the actuator's gate on the fleet query's requests-over-the-retention-period term, as in
// a cluster.
import type { Registry } from 'prom-client';
import { Actuator } from '../actuator/actuator.js';
import { ActuationMetrics } from '../actuator/metrics.js';
import { idleEvidence, retentionPeriods, SCALE_TO_ZERO_CONFIGMAP } from '../actuator/scale-to-zero.js';
import type { RequestsOverAnswer } from '../collector/fleet-collector.js';
import { SCALE_TO_ZERO_CONFIGMAP_V05 } from '../config/upstream.js';
import type { CycleReport, Manifests } from '../controller/local.js';
import { sloOfModel } from '../controller/slo-decider.js';
import type { LearnedView } from '../controller/slo-learner.js';
import type { EmulatorConfig, VllmEmulator } from '../emulator/index.js';
import { SATURATION_CONFIGMAP_NAME } from '../engines/index.js';
import type { Deployment, VariantAutoscaling } from '../kube/types.js';
import { parseServiceClasses, type SloTargets } from '../optimizer/index.js';
import type { LocalActuation } from '../pipeline/index.js';
import type { Logger } from '../types.js';
import { EmulatorScaler, emulatedDeployment, type ScaleAction } from './actuation.js';
import { type EngineSwitch, loopCycle } from './closed-loop.js';
import type { FleetScore, LoopCycle } from './loop-ledger.js';
import { EngineTrack, LoopTally, Recent } from './loop-tally.js';
import { scoreSaturationV1 } from './saturation-replay.js';
import { scoreStaticFleet } from './static-fleet.js';

export interface ClosedLoopOptions {
  emulator: VllmEmulator;
  /** The emulator's config (scenario applied), for the static fleet replay. */
  config: EmulatorConfig;
  manifests: Manifests;
  registry: Registry;
  /** The fleet collector the idle evidence comes from. */
  collector: Collector;
  logger: Logger;
}

/** An Event the actuator emitted on a VariantAutoscaling (what `kubectl describe` would show). */
export interface LoopEvent {
  at: Date;
  namespace: string;
  name: string;
  reason: string;
  message: string;
}

export interface LoopSummary {
  ours: FleetScore;
  /** Every variant at its peak count all along, replayed on the emulator. */
  staticPeak: FleetScore;
  /** Saturation V1 alone on the same trace, replayed on the emulator in virtual time. */
  saturationV1: FleetScore;
  /** When a model changed engines: the latest RECENT_SWITCHES of `switchesTotal`. */
  switches: EngineSwitch[];
  switchesTotal: number;
  /** Models with an SLO that the SLO engine did not decide at the last cycle, and why. */
  notSlo: Array<{ namespace: string; modelId: string; engine: string; why: string | undefined }>;
  /** The latest RECENT_ACTIONS scaling actions (`ours.actions` counts them all). */
  actions: ScaleAction[];
  /** The latest RECENT_EVENTS Events. */
  events: LoopEvent[];
}

/** How many engine switches, scaling actions and Events a run keeps (the latest; all are counted). */
export const RECENT_SWITCHES = 50;
export const RECENT_ACTIONS = 50;
export const RECENT_EVENTS = 100;

type Collector = { requestsOver(modelId: string, namespace: string, seconds: number): RequestsOverAnswer };

export class ClosedLoop implements LocalActuation {
  readonly scaler: EmulatorScaler;
  readonly actuator: Actuator;
  readonly deploymentView: (d: Deployment) => Deployment;
  /** Running totals of the cycles recorded: the cycles themselves are not kept. */
  readonly tally: LoopTally;
  readonly events = new Recent<LoopEvent>(RECENT_EVENTS);
  readonly switches = new Recent<EngineSwitch>(RECENT_SWITCHES);
  private readonly track = new EngineTrack();
  /** The learner's view of every variant (set once the engines exist): what a switch shows. */
  learnedViews?: () => LearnedView[];
  /** The SLO of a model as the service classes give it (the saturation engines size to none). */
  private readonly sloOf: (modelId: string) => SloTargets | undefined;
  /** variantCost per variant, by its Deployment's name. */
  private readonly costOf: (namespace: string, name: string) => number;

  constructor(private readonly o: ClosedLoopOptions) {
    this.scaler = new EmulatorScaler(o.emulator, RECENT_ACTIONS);
    this.costOf = variantCosts(o.manifests);
    this.tally = new LoopTally(this.costOf);
    this.actuator = new Actuator({
      mode: 'scale',
      metrics: new ActuationMetrics(o.registry),
      events: {
        emit: async (va, e) => {
          const { namespace, name } = va.metadata;
          this.events.push({ at: new Date(), namespace, name, reason: e.reason, message: e.message });
        },
      },
      scaler: this.scaler,
      // No HPA exists here: the demo's Deployments are the emulator's.
      hpas: { synced: true, hpaFor: () => undefined },
      // WVA_SCALE_TO_ZERO off: the ConfigMap turns it on per model.
      scaleToZeroEnabled: () => false,
      idleEvidence: (m, ns, ms) => idleEvidence(o.collector.requestsOver(m, ns, ms / 1000)),
      logger: o.logger,
    });
    this.deploymentView = emulatedDeployment(o.emulator);
    const classes = this.configMap('service-classes-config');
    const parsed = classes ? parseServiceClasses(classes) : undefined;
    this.sloOf = (m) => (parsed?.ok ? (sloOfModel(parsed.value, m) ?? undefined) : undefined);
    // As the other optimizer ConfigMaps in local mode: from the manifests, whatever the namespace.
    const maps = [...(o.manifests.configMaps ?? new Map()).entries()];
    const upstream = maps.find(([k]) => k.endsWith(`/${SCALE_TO_ZERO_CONFIGMAP_V05}`));
    if (upstream) this.actuator.setScaleToZeroConfig(upstream[1], 'upstream', upstream[0]);
    else
      this.actuator.setScaleToZeroConfig(maps.find(([k]) => k.endsWith(`/${SCALE_TO_ZERO_CONFIGMAP}`))?.[1]);
  }

  /** A ConfigMap of the manifests by name, whatever its namespace (as local mode reads them). */
  private configMap(name: string): Record<string, string> | undefined {
    for (const [k, v] of this.o.manifests.configMaps ?? new Map()) if (k.endsWith(`/${name}`)) return v;
    return undefined;
  }

  /** The saturation and scale-to-zero ConfigMaps V1's replay runs with (upstream's names). */
  private replayConfigMaps(): {
    saturationConfig?: Record<string, string>;
    scaleToZeroConfig?: Record<string, string>;
  } {
    const saturationConfig = this.configMap(SATURATION_CONFIGMAP_NAME);
    const scaleToZeroConfig = this.configMap(SCALE_TO_ZERO_CONFIGMAP_V05);
    return {
      ...(saturationConfig ? { saturationConfig } : {}),
      ...(scaleToZeroConfig ? { scaleToZeroConfig } : {}),
    };
  }

  /** 0 replicas only where the actuator's scale-to-zero gate allows it now, as in `run`. */
  minReplicas(va: VariantAutoscaling): number {
    return this.actuator.minReplicas(va, this.deploymentView({ metadata: va.metadata }));
  }

  /** WVA_SCALE_TO_ZERO off: the ConfigMap turns it on per model. */
  scaleToZeroEnabled(): boolean {
    return false;
  }

  /** The retention periods (s) the fleet query counts requests over. */
  readonly requestsOverSeconds = (): number[] => {
    const models = this.o.manifests.variants
      .filter((va) => typeof va.spec?.modelID === 'string')
      .map((va) => ({ modelId: va.spec.modelID, namespace: va.metadata.namespace }));
    return retentionPeriods(this.actuator.scaleToZeroConfig, false, models).map((ms) => ms / 1000);
  };

  /** Records a controller cycle; `scored`: it counts for attainment. */
  record(report: CycleReport, scored: boolean): LoopCycle {
    const c = loopCycle(report, this.o.emulator, scored, this.sloOf);
    const views = this.learnedViews?.() ?? [];
    const switches = this.track.next(c).map((s) => {
      const learned = views
        .filter((v) => v.key.namespace === s.namespace && v.key.model === s.modelId)
        .map((v) => ({
          variant: v.variantName,
          cycles: v.status.cycles,
          itlErrorPct: v.status.itlErrorPct,
          ttftErrorPct: v.status.ttftErrorPct,
        }));
      return learned.length > 0 ? { ...s, learned } : s;
    });
    this.switches.push(...switches);
    this.tally.add(c);
    return switches.length > 0 ? { ...c, switches } : c;
  }

  /** Scores the run, the static peak fleet and saturation V1 alone over the same time. */
  summary(o: { endAt: Date; intervalMs: number; windowMs: number; warmupMs: number }): LoopSummary {
    const first = this.tally.firstAt ?? o.endAt;
    const slo = this.tally.slo;
    const costOf = this.costOf;
    const ours = this.tally.score(o.endAt, this.scaler.actions.total);
    // Request by request, over the scored time: each request's own TTFT and ITL against its SLO.
    const from = (this.tally.firstScoredAt ?? o.endAt).getTime();
    ours.requests = { total: 0, met: 0 };
    for (const [key, target] of slo) {
      const i = key.indexOf('/');
      const r = this.o.emulator.requestsWithin(
        key.slice(i + 1),
        key.slice(0, i),
        target,
        from,
        o.endAt.getTime(),
      );
      ours.requests.total += r.total;
      ours.requests.met += r.met;
    }
    // The replays run the same trace from the load's time 0 to the end of this run; they score
    // (and cost) from the same instants as this run, so the three rows cover the same time.
    const t0 = this.o.emulator.startMs;
    const replay = {
      costOf,
      config: this.o.config,
      slo,
      durationMs: Math.max(o.intervalMs, o.endAt.getTime() - t0),
      intervalMs: o.intervalMs,
      windowMs: o.windowMs,
      warmupMs: Math.max(o.warmupMs, from - t0),
      costFromMs: Math.max(0, first.getTime() - t0),
    };
    return {
      ours,
      staticPeak: scoreStaticFleet({ ...replay, replicas: this.tally.peak }),
      saturationV1: scoreSaturationV1({
        ...replay,
        ...this.replayConfigMaps(),
      }),
      switches: this.switches.list(),
      switchesTotal: this.switches.total,
      notSlo: (this.tally.latest?.models ?? [])
        .filter((m) => m.slo && m.engine && m.engine !== '-' && !m.engine.startsWith('slo-queueing'))
        .map((m) => ({ namespace: m.namespace, modelId: m.modelId, engine: m.engine!, why: m.engineWhy })),
      actions: this.scaler.actions.list(),
      events: this.events.list(),
    };
  }
}

/** variantCost of each VariantAutoscaling (upstream's default 10.0), by its target's name. */
function variantCosts(manifests: Manifests): (namespace: string, name: string) => number {
  const costs = new Map<string, number>();
  for (const va of manifests.variants) {
    // Fields of upstream's CRD (v0.5) that the older shape lacks.
    const spec = va.spec as { variantCost?: unknown; scaleTargetRef?: { name?: unknown } } | undefined;
    const ref = spec?.scaleTargetRef?.name;
    const target = typeof ref === 'string' ? ref : va.metadata.name;
    const cost = Number(typeof spec?.variantCost === 'string' ? spec.variantCost : '10.0');
    costs.set(`${va.metadata.namespace}/${target}`, Number.isFinite(cost) ? cost : 10);
  }
  return (namespace, name) => costs.get(`${namespace}/${name}`) ?? 10;
}
