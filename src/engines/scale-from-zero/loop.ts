// Scale from zero: a fast loop over the variants whose target is at zero replicas. For each, the
// InferencePool whose selector matches the target's pod labels names the gateway's endpoint picker
// (EPP); when the EPP's flow-control queue holds requests for the variant's model, the target goes
// straight to one replica. One loop per leadership term (start on leading, stop on losing it).
// Timers, the clock, the scrape and the scale call are injected; nothing here throws into a tick:
// an EPP that is down or answers garbage, a pool that matches nothing, each is a condition.
import { selectorMatches } from '../pods.js';
import { STATUS_REASONS } from '../status.js';
import { type EngineCondition, METRICS_AVAILABLE, OPTIMIZATION_READY } from '../types.js';
import { EppScrapeError, httpScrape, type Scrape } from './scrape.js';
import { parseTextFormat } from './text-format.js';

export const QUEUE_SIZE_METRIC = 'inference_extension_flow_control_queue_size';
export const TARGET_MODEL_LABEL = 'target_model_name';
export const DEFAULT_POLL_INTERVAL_MS = 100;
export const DEFAULT_MAX_CONCURRENCY = 10;

export interface ScaleTarget {
  kind: string;
  name: string;
  namespace: string;
}

/** A variant whose target has zero replicas. */
export interface InactiveVariant {
  name: string;
  namespace: string;
  modelId: string;
  target: ScaleTarget;
  /** The target's `spec.template.metadata.labels`; absent: the target cannot be matched. */
  podLabels?: Record<string, string>;
  /** Its status' accelerator, else its accelerator label ('' if neither). */
  accelerator: string;
}

export interface InferencePoolInfo {
  name: string;
  namespace: string;
  /** The pool's pod selector (label -> value). */
  selector: Record<string, string>;
  /** The URL of its EPP's metrics page. */
  eppMetricsUrl: string;
}

export interface ScaleFromZeroSource {
  inactiveVariants(): InactiveVariant[] | Promise<InactiveVariant[]>;
  /** null: the pools are not known yet (informer not synced). */
  inferencePools(): InferencePoolInfo[] | null | Promise<InferencePoolInfo[] | null>;
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}

export interface ScaleFromZeroEvent {
  variant: { name: string; namespace: string };
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/** What one variant's status should say after a tick that looked at it. */
export interface ScaleFromZeroOutcome {
  variant: { name: string; namespace: string };
  /** Set when the target was scaled: the new desired allocation. */
  desired?: { numReplicas: number; accelerator: string };
  conditions: EngineCondition[];
}

export interface ScaleFromZeroOptions {
  source: ScaleFromZeroSource;
  /** Scales the target; rejects when the API refuses. */
  scaleTo(target: ScaleTarget, replicas: number): Promise<void>;
  /** EPP_METRIC_READER_BEARER_TOKEN. */
  token?: string;
  /**
   * When set, the gateway's queue is read from Prometheus instead of each EPP (one call per tick
   * for every inactive model; `gatewayQueueSizes` in the collector): model -> queued requests.
   */
  queueSizes?(modelIds: string[]): Promise<Map<string, number>>;
  scrape?: Scrape;
  intervalMs?: number;
  /** SCALE_FROM_ZERO_ENGINE_MAX_CONCURRENCY: variants handled at once; must be > 0. */
  maxConcurrency?: number;
  timers?: Timers;
  /** Every scale and every failure that is new for the variant. */
  onEvent?(e: ScaleFromZeroEvent): void;
  /** A variant's outcome when it differs from the previous one for that variant. */
  onOutcome?(o: ScaleFromZeroOutcome): void;
}

export const SCALE_FROM_ZERO_REASONS = {
  scaled: 'ScaledFromZero',
  scaleFailed: 'ScaleFromZeroFailed',
  noPodLabels: 'ScaleTargetWithoutPodLabels',
  noPoolKnown: 'InferencePoolsUnknown',
  noPoolMatch: 'NoMatchingInferencePool',
  eppUnavailable: 'EPPUnavailable',
  eppGarbage: 'EPPMetricsInvalid',
  queueUnavailable: 'GatewayQueueUnavailable',
  metrics: 'ScaleFromZero',
} as const;

const realTimers: Timers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  now: () => Date.now(),
};

/** Checks SCALE_FROM_ZERO_ENGINE_MAX_CONCURRENCY-style input; a RangeError says what to set. */
export function checkMaxConcurrency(n: number): number {
  if (!Number.isInteger(n) || n <= 0) {
    throw new RangeError(
      `scale-from-zero max concurrency ${n} is not valid: set SCALE_FROM_ZERO_ENGINE_MAX_CONCURRENCY to a whole number > 0 (default ${DEFAULT_MAX_CONCURRENCY})`,
    );
  }
  return n;
}

/** Whether the EPP page shows requests queued for `modelId`. */
export function queuedFor(page: string, modelId: string): boolean {
  for (const s of parseTextFormat(page)) {
    if (s.name === QUEUE_SIZE_METRIC && s.labels[TARGET_MODEL_LABEL] === modelId && s.value > 0) return true;
  }
  return false;
}

type QueueSizes = { ok: true; m: Map<string, number> } | { ok: false; err: unknown };

/** What one tick reads once and shares: each EPP page by URL, the Prometheus read if configured. */
interface Tick {
  scrapes: Map<string, Promise<string>>;
  sizes?: Promise<QueueSizes>;
}

type Verdict = { kind: 'demand' } | { kind: 'idle' } | { kind: 'fail'; reason: string; message: string };

export class ScaleFromZeroLoop {
  readonly #o: ScaleFromZeroOptions;
  readonly #timers: Timers;
  readonly #scrape: Scrape;
  readonly #interval: number;
  readonly #concurrency: number;
  #running = false;
  #handle: unknown;
  #tick: Promise<void> | undefined;
  /** Targets scaled and not yet seen leaving the inactive list: not scaled again meanwhile. */
  readonly #woken = new Set<string>();
  /** The last outcome per variant, so only changes are reported. */
  readonly #last = new Map<string, string>();

  constructor(o: ScaleFromZeroOptions) {
    this.#o = o;
    this.#timers = o.timers ?? realTimers;
    this.#scrape = o.scrape ?? httpScrape();
    this.#interval = o.intervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    this.#concurrency = checkMaxConcurrency(o.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY);
  }

  get running(): boolean {
    return this.#running;
  }

  /** Starts polling (a no-op while running). Call once per leadership term. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule();
  }

  /** Stops polling and waits for a tick in flight. A new term may start it again. */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#handle !== undefined) this.#timers.clearTimeout(this.#handle);
    this.#handle = undefined;
    await this.#tick;
    this.#woken.clear();
    this.#last.clear();
  }

  /** Resolves when no tick is running (tests: await a tick the timers started). */
  async idle(): Promise<void> {
    while (this.#tick) await this.#tick;
  }

  #schedule(): void {
    if (!this.#running) return;
    this.#handle = this.#timers.setTimeout(() => {
      this.#handle = undefined;
      this.#tick = this.runOnce().finally(() => {
        this.#tick = undefined;
        this.#schedule();
      });
    }, this.#interval);
  }

  /** One pass over the inactive variants. Never rejects. */
  async runOnce(): Promise<void> {
    let variants: InactiveVariant[];
    let pools: InferencePoolInfo[] | null;
    try {
      variants = await this.#o.source.inactiveVariants();
      pools = await this.#o.source.inferencePools();
    } catch {
      // The informers' caches answer next tick; nothing to report per variant.
      return;
    }
    const listed = new Set(variants.map((v) => targetKey(v.target)));
    for (const k of this.#woken) if (!listed.has(k)) this.#woken.delete(k);
    const tick: Tick = { scrapes: new Map() };
    const queue = variants.filter((v) => !this.#woken.has(targetKey(v.target)));
    if (this.#o.queueSizes && queue.length > 0) {
      const models = [...new Set(queue.map((v) => v.modelId))];
      // Settled here, so a rejection is read per variant, never unhandled.
      const sizes = this.#o.queueSizes(models).then(
        (m) => ({ ok: true as const, m }),
        (err: unknown) => ({ ok: false as const, err }),
      );
      tick.sizes = sizes;
    }
    const worker = async () => {
      for (let v = queue.shift(); v; v = queue.shift()) await this.#handleVariant(v, pools, tick);
    };
    await Promise.all(Array.from({ length: Math.min(this.#concurrency, queue.length) }, worker));
  }

  async #handleVariant(v: InactiveVariant, pools: InferencePoolInfo[] | null, tick: Tick): Promise<void> {
    const verdict = await this.#verdict(v, pools, tick);
    if (verdict.kind === 'idle') return this.#report(v, { variant: ref(v), conditions: [] }, 'idle');
    if (verdict.kind === 'fail') {
      const c = condition(METRICS_AVAILABLE, 'False', verdict.reason, verdict.message);
      return this.#report(v, { variant: ref(v), conditions: [c] }, verdict.reason, 'Warning');
    }
    try {
      await this.#o.scaleTo(v.target, 1);
    } catch (err) {
      const message = `scaling ${v.target.kind} ${v.target.namespace}/${v.target.name} to 1 for queued requests of model ${v.modelId} failed: ${errorText(err)}`;
      const c = condition(OPTIMIZATION_READY, 'False', SCALE_FROM_ZERO_REASONS.scaleFailed, message);
      return this.#report(
        v,
        { variant: ref(v), conditions: [c] },
        SCALE_FROM_ZERO_REASONS.scaleFailed,
        'Warning',
      );
    }
    this.#woken.add(targetKey(v.target));
    const message = `requests queued at the gateway for model ${v.modelId}: scaled ${v.target.kind} ${v.target.name} from 0 to 1 replica`;
    this.#o.onEvent?.({ variant: ref(v), type: 'Normal', reason: SCALE_FROM_ZERO_REASONS.scaled, message });
    const outcome: ScaleFromZeroOutcome = {
      variant: ref(v),
      desired: { numReplicas: 1, accelerator: v.accelerator },
      conditions: [
        condition(OPTIMIZATION_READY, 'True', STATUS_REASONS.scaleFromZero, message),
        condition(
          METRICS_AVAILABLE,
          'True',
          SCALE_FROM_ZERO_REASONS.metrics,
          `gateway queue read for model ${v.modelId}`,
        ),
      ],
    };
    this.#last.set(variantKey(v), SCALE_FROM_ZERO_REASONS.scaled);
    this.#o.onOutcome?.(outcome);
  }

  async #verdict(v: InactiveVariant, pools: InferencePoolInfo[] | null, tick: Tick): Promise<Verdict> {
    const target = `${v.target.kind} ${v.target.namespace}/${v.target.name}`;
    if (tick.sizes) {
      const r = await tick.sizes;
      if (!r.ok) {
        return {
          kind: 'fail',
          reason: SCALE_FROM_ZERO_REASONS.queueUnavailable,
          message: `the gateway queue could not be read from Prometheus: ${errorText(r.err)}`,
        };
      }
      return (r.m.get(v.modelId) ?? 0) > 0 ? { kind: 'demand' } : { kind: 'idle' };
    }
    if (!v.podLabels || Object.keys(v.podLabels).length === 0) {
      return {
        kind: 'fail',
        reason: SCALE_FROM_ZERO_REASONS.noPodLabels,
        message: `scale target ${target} has no spec.template.metadata.labels, so no InferencePool can be matched to it; give its pod template labels`,
      };
    }
    if (pools === null) {
      return {
        kind: 'fail',
        reason: SCALE_FROM_ZERO_REASONS.noPoolKnown,
        message: 'InferencePools are not known yet (their informer has not listed them)',
      };
    }
    const labels = v.podLabels;
    const pool = pools
      .filter((p) => p.namespace === v.namespace && Object.keys(p.selector).length > 0)
      .filter((p) => selectorMatches({ matchLabels: p.selector }, labels))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))[0];
    if (!pool) {
      return {
        kind: 'fail',
        reason: SCALE_FROM_ZERO_REASONS.noPoolMatch,
        message: `no InferencePool in namespace ${v.namespace} selects the pods of ${target}; create one whose selector matches its pod template labels`,
      };
    }
    let page = tick.scrapes.get(pool.eppMetricsUrl);
    if (!page) {
      page = this.#scrape(pool.eppMetricsUrl, this.#o.token);
      tick.scrapes.set(pool.eppMetricsUrl, page);
    }
    let text: string;
    try {
      text = await page;
    } catch (err) {
      return {
        kind: 'fail',
        reason: SCALE_FROM_ZERO_REASONS.eppUnavailable,
        message: `EPP of InferencePool ${pool.namespace}/${pool.name} could not be read: ${errorText(err)}`,
      };
    }
    try {
      return queuedFor(text, v.modelId) ? { kind: 'demand' } : { kind: 'idle' };
    } catch (err) {
      return {
        kind: 'fail',
        reason: SCALE_FROM_ZERO_REASONS.eppGarbage,
        message: `EPP of InferencePool ${pool.namespace}/${pool.name} at ${pool.eppMetricsUrl} did not answer in the Prometheus text format (${errorText(err)})`,
      };
    }
  }

  #report(v: InactiveVariant, o: ScaleFromZeroOutcome, key: string, type?: 'Warning'): void {
    const k = variantKey(v);
    const message = o.conditions[0]?.message ?? '';
    if (this.#last.get(k) === `${key}\u0000${message}`) return;
    this.#last.set(k, `${key}\u0000${message}`);
    if (type) this.#o.onEvent?.({ variant: ref(v), type, reason: key, message });
    this.#o.onOutcome?.(o);
  }
}

function condition(
  type: EngineCondition['type'],
  status: 'True' | 'False',
  reason: string,
  message: string,
): EngineCondition {
  return { type, status, reason, message };
}

function ref(v: InactiveVariant): { name: string; namespace: string } {
  return { name: v.name, namespace: v.namespace };
}

function targetKey(t: ScaleTarget): string {
  return `${t.namespace}/${t.kind}/${t.name}`;
}

function variantKey(v: InactiveVariant): string {
  return `${v.namespace}/${v.name}`;
}

function errorText(err: unknown): string {
  return err instanceof EppScrapeError || err instanceof Error ? err.message : String(err);
}
