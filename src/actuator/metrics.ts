// The series an HPA (through prometheus-adapter) or KEDA scales on, upstream WVA's names and labels,
// one label set per VariantAutoscaling, with the predicted and measured latencies beside them for
// the dashboard: the only per-object series on /metrics. They carry the variant's name, never the
// model's. Plus counts of VariantAutoscalings by condition, for alerts.
import { Counter, Gauge, type Registry } from 'prom-client';

export const DESIRED_REPLICAS = 'wva_desired_replicas';
export const CURRENT_REPLICAS = 'wva_current_replicas';
export const DESIRED_RATIO = 'wva_desired_ratio';
export const REPLICA_SCALING_TOTAL = 'wva_replica_scaling_total';
/** Upstream's label for multi-controller isolation, on every series when an instance is named. */
export const CONTROLLER_INSTANCE_LABEL = 'controller_instance';
export const LATENCY_GAUGES = {
  predictedTtft: 'wva_predicted_ttft_seconds',
  predictedItl: 'wva_predicted_itl_seconds',
  measuredTtft: 'wva_measured_ttft_seconds',
  measuredItl: 'wva_measured_itl_seconds',
} as const;
type LatencyGauge = keyof typeof LATENCY_GAUGES;
export const VARIANT_LABELS = ['variant_name', 'namespace', 'accelerator_type'] as const;
type VariantLabel = (typeof VARIANT_LABELS)[number];
type Labels = Record<VariantLabel, string>;

export interface ActuationMetricsOptions {
  /** CONTROLLER_INSTANCE: added as `controller_instance` to every series here. */
  controllerInstance?: string;
  /** Publish the desired count under this name instead (advisory mode: a name no HPA selects). */
  desiredName?: string;
}

/** The conditions counted in wva_variants, and their statuses. */
export const COUNTED_CONDITIONS = ['MetricsAvailable', 'OptimizationReady', 'Actuated'] as const;
const STATUSES = ['True', 'False', 'Unknown'] as const;

export interface VariantSample {
  variantName: string;
  namespace: string;
  accelerator: string;
  desired: number;
  /** Ready replicas of the Deployment; undefined when unknown (no Deployment, no status yet). */
  current: number | undefined;
  /** Seconds; a latency absent or unknown has no series (never 0). */
  latency?: Partial<Record<LatencyGauge, number>>;
  /** Why the desired count moved (wva_replica_scaling_total); absent: not a decision (a count held
   *  at what runs), whose moves are not counted. */
  reason?: string;
}

const LATENCY_HELP: Record<LatencyGauge, string> = {
  predictedTtft:
    'Average time to first token the optimizer predicts for the variant at the replicas it decided; leader only.',
  predictedItl:
    'Average inter-token latency the optimizer predicts for the variant at the replicas it decided; leader only.',
  measuredTtft:
    "Average time to first token measured for the variant's model (shared by its variants) over the query window; leader only.",
  measuredItl:
    "Average inter-token latency measured for the variant's model (shared by its variants) over the query window; leader only.",
};

/**
 * Per-variant gauges, keyed by "namespace/name". A key holds one label set at a time: a new
 * accelerator replaces the old series instead of leaving it behind.
 */
export class ActuationMetrics {
  private readonly desired: Gauge<VariantLabel>;
  private readonly current: Gauge<VariantLabel>;
  private readonly ratio: Gauge<VariantLabel>;
  private readonly latency: Record<LatencyGauge, Gauge<VariantLabel>>;
  private readonly published = new Map<string, Labels>();
  /** Per key: the status of each counted condition, read at scrape time. */
  private readonly conditions = new Map<string, Partial<Record<string, string>>>();
  private readonly scaling: Counter<string>;
  /** The desired count last published per key: a change is one scaling event. */
  private readonly lastDesired = new Map<string, number>();
  /** Per key, the counter's label sets, so the object going takes its counts with it. */
  private readonly counted = new Map<string, Map<string, Record<string, string>>>();
  private readonly instance: Record<string, string>;

  constructor(registry: Registry, o: ActuationMetricsOptions = {}) {
    this.instance = o.controllerInstance ? { [CONTROLLER_INSTANCE_LABEL]: o.controllerInstance } : {};
    const extra = Object.keys(this.instance);
    // Every series carries the instance label when one is named; prom-client adds it to each set().
    const registers = [registry];
    const labelNames = [...VARIANT_LABELS, ...extra] as unknown as typeof VARIANT_LABELS;
    this.scaling = new Counter({
      name: REPLICA_SCALING_TOTAL,
      help: 'Times the desired replicas of a VariantAutoscaling moved, by direction (up, down) and reason; leader only.',
      labelNames: ['variant_name', 'namespace', 'direction', 'reason', ...extra],
      registers,
    });
    this.desired = new Gauge({
      name: o.desiredName ?? DESIRED_REPLICAS,
      help: 'Replicas the controller decided for the VariantAutoscaling (what an HPA or KEDA scales its Deployment to); leader only.',
      labelNames,
      registers,
    });
    this.current = new Gauge({
      name: CURRENT_REPLICAS,
      help: "Ready replicas of the VariantAutoscaling's Deployment, as the controller last saw them; leader only.",
      labelNames,
      registers,
    });
    this.ratio = new Gauge({
      name: DESIRED_RATIO,
      help: 'wva_desired_replicas / wva_current_replicas (the desired count when current is 0); leader only.',
      labelNames,
      registers,
    });
    const gauge = (k: LatencyGauge) =>
      new Gauge({ name: LATENCY_GAUGES[k], help: LATENCY_HELP[k], labelNames, registers });
    this.latency = {
      predictedTtft: gauge('predictedTtft'),
      predictedItl: gauge('predictedItl'),
      measuredTtft: gauge('measuredTtft'),
      measuredItl: gauge('measuredItl'),
    };
    const conditions = this.conditions;
    const instance = this.instance;
    new Gauge({
      name: 'wva_variants',
      help: 'VariantAutoscalings by condition type and status, as of their last reconcile; leader only.',
      labelNames: ['condition', 'status', ...extra],
      registers,
      collect() {
        this.reset();
        for (const condition of COUNTED_CONDITIONS) {
          for (const status of STATUSES) this.set({ condition, status, ...instance }, 0);
        }
        for (const byType of conditions.values()) {
          for (const condition of COUNTED_CONDITIONS) {
            const status = byType[condition];
            if (status !== undefined) this.inc({ condition, status, ...instance });
          }
        }
      },
    });
  }

  /** Sets the three gauges of one variant (every cycle, changed or not). */
  set(key: string, s: VariantSample): void {
    const labels: Labels = {
      variant_name: s.variantName,
      namespace: s.namespace,
      accelerator_type: s.accelerator,
      ...this.instance,
    };
    const before = this.lastDesired.get(key);
    if (before !== undefined && before !== s.desired && s.reason !== undefined) {
      const direction = s.desired > before ? 'up' : 'down';
      const reason = s.reason;
      const counter = {
        variant_name: s.variantName,
        namespace: s.namespace,
        direction,
        reason,
        ...this.instance,
      };
      this.scaling.inc(counter);
      const mine = this.counted.get(key) ?? new Map<string, Record<string, string>>();
      mine.set(`${direction}\0${reason}`, counter);
      this.counted.set(key, mine);
    }
    this.lastDesired.set(key, s.desired);
    const prev = this.published.get(key);
    if (prev && prev.accelerator_type !== labels.accelerator_type) this.removeSeries(prev);
    this.published.set(key, labels);
    this.desired.set(labels, s.desired);
    if (s.current === undefined) {
      this.current.remove(labels);
      this.ratio.remove(labels);
    } else {
      this.current.set(labels, s.current);
      this.ratio.set(labels, s.current === 0 ? s.desired : s.desired / s.current);
    }
    for (const k of Object.keys(LATENCY_GAUGES) as LatencyGauge[]) {
      const v = s.latency?.[k];
      if (v !== undefined && Number.isFinite(v) && v >= 0) this.latency[k].set(labels, v);
      else this.latency[k].remove(labels);
    }
  }

  /** Records the statuses of the counted conditions of one VariantAutoscaling. */
  setConditions(key: string, statusByType: Partial<Record<string, string>>): void {
    this.conditions.set(key, statusByType);
  }

  /** The variant's decision went: its series go too (conditions still count). */
  unpublish(key: string): void {
    const prev = this.published.get(key);
    if (prev) this.removeSeries(prev);
    this.published.delete(key);
    for (const labels of this.counted.get(key)?.values() ?? []) this.scaling.remove(labels);
    this.counted.delete(key);
  }

  /** The VariantAutoscaling went: nothing of it stays. */
  forget(key: string): void {
    this.unpublish(key);
    this.conditions.delete(key);
    this.lastDesired.delete(key);
  }

  /** Keys with series or counted conditions. */
  keys(): string[] {
    return [...new Set([...this.published.keys(), ...this.conditions.keys()])];
  }

  /** Leadership lost or shutdown: a standby serves none of these. */
  clear(): void {
    this.desired.reset();
    this.current.reset();
    this.ratio.reset();
    this.scaling.reset();
    for (const g of Object.values(this.latency)) g.reset();
    this.published.clear();
    this.conditions.clear();
    this.lastDesired.clear();
    this.counted.clear();
  }

  private removeSeries(labels: Labels): void {
    this.desired.remove(labels);
    this.current.remove(labels);
    this.ratio.remove(labels);
    for (const g of Object.values(this.latency)) g.remove(labels);
  }
}
