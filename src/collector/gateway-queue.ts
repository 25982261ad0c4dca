// Requests the gateway holds per model (the EPP's flow-control queue), read from Prometheus: scale
// from zero's evidence when EPP metrics are scraped into Prometheus rather than read from the EPP.
// ONE instant query for every model asked about.
import { PrometheusReplyError } from '../prometheus/errors.js';
import { sampleValue } from '../prometheus/parse.js';
import { escapeRegex, MODEL_LABEL, quote } from '../prometheus/promql.js';
import type { PromAPI } from '../types.js';

export const GATEWAY_QUEUE_METRIC = 'inference_extension_flow_control_queue_size';
export const GATEWAY_TARGET_MODEL_LABEL = 'target_model_name';

/**
 * Queued requests per model: series labelled with the target model, else (older gateways) the
 * `model_name` of series with no target model; `or` counts each model once, the target label first.
 */
export function gatewayQueueQuery(modelIds: readonly string[]): string {
  const re = quote([...new Set(modelIds)].map(escapeRegex).join('|'));
  const m = GATEWAY_QUEUE_METRIC;
  const t = GATEWAY_TARGET_MODEL_LABEL;
  const byTarget = `sum by (${t}) (${m}{${t}=~${re}})`;
  // Re-summed by the target label alone, so `or` compares both sides on that label only.
  const byModel = `sum by (${t}) (label_replace(${m}{${MODEL_LABEL}=~${re},${t}=""}, "${t}", "$1", "${MODEL_LABEL}", "(.*)"))`;
  return `${byTarget} or ${byModel}`;
}

/** Model -> requests queued at the gateway now; a model with no series is absent (unknown). */
export async function gatewayQueueSizes(
  prom: PromAPI,
  modelIds: readonly string[],
  time?: Date,
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (modelIds.length === 0) return out;
  const data = await prom.query(gatewayQueueQuery(modelIds), time);
  const named = (prom as { url?: unknown }).url;
  const url = typeof named === 'string' ? named : 'Prometheus';
  if (data.resultType !== 'vector') {
    throw new PrometheusReplyError(url, `expected a vector result, got ${data.resultType}`);
  }
  const wanted = new Set(modelIds);
  for (const s of data.result) {
    const model = s.metric[GATEWAY_TARGET_MODEL_LABEL] ?? '';
    const v = sampleValue(url, s.value[1]);
    if (wanted.has(model) && Number.isFinite(v)) out.set(model, v);
  }
  return out;
}
