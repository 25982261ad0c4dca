// The gateway in front of a model's pods, as the llm-d inference scheduler (an EPP) works: each
// request goes to the ready pod with the least requests in it (waiting + running), across the
// model's variants; a variant with a `weight` gets that share of the model's requests. While no
// pod is ready, requests wait in a bounded flow-control queue, and one that waits past the timeout
// fails. The queue's size and bytes are exported as upstream's gateway does (what scale from
// zero reads). One emulated gateway fronts every namespace, so its series carry the namespace a
// gateway per namespace would get from its scrape target.
import { Gauge, Registry } from 'prom-client';
import type { SimRequest } from '../simulator/index.js';
import type { EmulatedPod } from './pod.js';

/** Bytes of a request body, roughly: four characters a prompt token plus the JSON around it. */
export function requestBytes(r: SimRequest): number {
  return 4 * r.promptTokens + 200;
}

export const GATEWAY_METRICS = {
  queueSize: 'inference_extension_flow_control_queue_size',
  queueBytes: 'inference_extension_flow_control_queue_bytes',
} as const;

export class Gateway {
  readonly registry = new Registry();
  private readonly size: Gauge<'target_model_name' | 'namespace'>;
  private readonly bytes: Gauge<'target_model_name' | 'namespace'>;
  /** Requests held per model while it has no ready pod, oldest first. */
  private readonly queues = new Map<string, SimRequest[]>();
  private turn = 0;

  constructor(
    readonly queueTimeoutMs: number,
    readonly maxQueue: number,
    readonly routing: 'least-requests' | 'kv-aware' = 'least-requests',
  ) {
    const registers = [this.registry];
    this.size = new Gauge({
      name: GATEWAY_METRICS.queueSize,
      help: 'Requests held in the flow-control queue, per target model.',
      labelNames: ['target_model_name', 'namespace'],
      registers,
    });
    this.bytes = new Gauge({
      name: GATEWAY_METRICS.queueBytes,
      help: 'Bytes of the requests held in the flow-control queue, per target model.',
      labelNames: ['target_model_name', 'namespace'],
      registers,
    });
  }

  /** Makes a model's series exist at 0 from the start. */
  register(model: string, namespace: string): void {
    const key = `${namespace}/${model}`;
    if (this.queues.has(key)) return;
    this.queues.set(key, []);
    this.export(model, namespace);
  }

  /** Requests the gateway holds for a model now. */
  held(model: string, namespace: string): number {
    return this.queues.get(`${namespace}/${model}`)?.length ?? 0;
  }

  /**
   * Sends `r` (arriving at `atMs`) to a ready pod, or queues it when none is; returns false when it
   * failed at once (the queue is full).
   */
  route(
    model: string,
    namespace: string,
    r: SimRequest,
    ready: ReadonlyArray<{ pods: EmulatedPod[]; weight?: number }>,
    atMs: number,
    random: () => number,
  ): boolean {
    const target = this.pick(ready, random);
    if (target) {
      target.enqueue(r, atMs);
      return true;
    }
    const q = this.queues.get(`${namespace}/${model}`)!;
    if (q.length >= this.maxQueue) return false;
    q.push(r);
    this.export(model, namespace);
    return true;
  }

  /**
   * At `atMs`: requests past the timeout fail (returned), the rest go to ready pods if there are
   * any now.
   */
  release(
    model: string,
    namespace: string,
    ready: ReadonlyArray<{ pods: EmulatedPod[]; weight?: number }>,
    atMs: number,
    random: () => number,
  ): SimRequest[] {
    const key = `${namespace}/${model}`;
    const q = this.queues.get(key)!;
    if (q.length === 0) return [];
    const failed: SimRequest[] = [];
    const keep: SimRequest[] = [];
    for (const r of q) {
      if (atMs - r.arrivalMs > this.queueTimeoutMs) failed.push(r);
      else {
        const target = this.pick(ready, random);
        if (target) target.enqueue(r, atMs);
        else keep.push(r);
      }
    }
    this.queues.set(key, keep);
    this.export(model, namespace);
    return failed;
  }

  private export(model: string, namespace: string): void {
    const q = this.queues.get(`${namespace}/${model}`)!;
    const labels = { target_model_name: model, namespace };
    this.size.labels(labels).set(q.length);
    this.bytes.labels(labels).set(q.reduce((a, r) => a + requestBytes(r), 0));
  }

  private pick(
    variants: ReadonlyArray<{ pods: EmulatedPod[]; weight?: number }>,
    random: () => number,
  ): EmulatedPod | undefined {
    let pods: EmulatedPod[] = [];
    const weighted = variants.filter((v) => v.pods.length > 0 && v.weight !== undefined && v.weight > 0);
    if (weighted.length > 0) {
      const total = weighted.reduce((a, v) => a + v.weight!, 0);
      let x = random() * total;
      for (const v of weighted) {
        x -= v.weight!;
        pods = v.pods;
        if (x < 0) break;
      }
    } else pods = variants.flatMap((v) => v.pods);
    if (pods.length === 0) return undefined;
    // Least loaded (by KV-cache use first when KV-aware); ties broken round robin so idle pods
    // share the traffic.
    const kv = (p: EmulatedPod) => (this.routing === 'kv-aware' ? p.engine.gauges().kvUsage : 0);
    this.turn++;
    let best = pods[this.turn % pods.length]!;
    for (let k = 1; k < pods.length; k++) {
      const p = pods[(this.turn + k) % pods.length]!;
      const dk = kv(p) - kv(best);
      if (dk < 0 || (dk === 0 && p.load < best.load)) best = p;
    }
    return best;
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
