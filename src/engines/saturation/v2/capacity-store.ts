// What the V2 analyser remembers of each variant's per-replica token capacity, learned from live
// pods or read from the Deployment's vLLM arguments, as upstream WVA v0.5 keeps it. The store is a
// plain object in the caller's SaturationV2State; these functions read and write it.
import type { CapacityRecord, DeploymentLike, SaturationV2State, VllmEngineParams } from '../types.js';
import { isCapacityCompatible, parseVllmArgs } from './vllm-args.js';

/** The empty state the V2 analyser starts from. */
export function createSaturationV2State(): SaturationV2State {
  return { k2History: {}, capacityStore: {} };
}

export function capacityKey(namespace: string, modelId: string, variantName: string): string {
  return `${namespace}|${modelId}|${variantName}`;
}

/** The model part of a store key; namespaces and variant names never hold `|`, model ids might. */
function modelOfKey(key: string): string {
  return key.slice(key.indexOf('|') + 1, key.lastIndexOf('|'));
}

export function getCapacity(
  state: SaturationV2State,
  namespace: string,
  modelId: string,
  variantName: string,
): CapacityRecord | undefined {
  const key = capacityKey(namespace, modelId, variantName);
  return Object.hasOwn(state.capacityStore, key) ? state.capacityStore[key] : undefined;
}

/** Stores `record` under the variant's key, stamped now. */
export function putCapacity(
  state: SaturationV2State,
  namespace: string,
  modelId: string,
  variantName: string,
  record: CapacityRecord,
): void {
  state.capacityStore[capacityKey(namespace, modelId, variantName)] = { ...record, learnedAt: Date.now() };
}

/**
 * Records what a variant's Deployment says about its capacity, unless live pods already taught the
 * store. Only an explicit --num-gpu-blocks-override gives a KV size; the batch budget always
 * stands in as the effective capacity.
 */
export function loadCapacityFromDeployment(
  state: SaturationV2State,
  namespace: string,
  modelId: string,
  variantName: string,
  acceleratorName: string,
  gpuCount: number,
  d: DeploymentLike | null,
): void {
  if (!d) return;
  if (getCapacity(state, namespace, modelId, variantName)?.learnedFrom === 'live') return;
  const params = parseVllmArgs(d);
  const blocks = params.numGpuBlocksOverride > 0 ? params.numGpuBlocksOverride : 0;
  const blockSize = blocks > 0 ? params.blockSize : 0;
  putCapacity(state, namespace, modelId, variantName, {
    acceleratorName,
    gpuCount,
    numGpuBlocks: blocks,
    blockSize,
    totalKvCapacityTokens: blocks * blockSize,
    effectiveCapacity: params.effectiveMaxBatchedTokens,
    vllmParams: params,
    learnedFrom: 'deployment',
  });
}

/**
 * A record of the same model (any namespace or variant, the caller's own included) on the same
 * accelerator and GPU count with compatible vLLM parameters and some capacity: the first learned
 * live, else the first found, else null. A copy; the store is not shared.
 */
export function findCompatibleCapacity(
  state: SaturationV2State,
  modelId: string,
  acceleratorName: string,
  gpuCount: number,
  params: VllmEngineParams | null,
): CapacityRecord | null {
  let first: CapacityRecord | null = null;
  for (const [key, r] of Object.entries(state.capacityStore)) {
    if (modelOfKey(key) !== modelId) continue;
    if (r.acceleratorName !== acceleratorName || r.gpuCount !== gpuCount) continue;
    if (!r.vllmParams || !isCapacityCompatible(r.vllmParams, params)) continue;
    if (!(r.effectiveCapacity > 0 || r.totalKvCapacityTokens > 0)) continue;
    if (r.learnedFrom === 'live') return { ...r };
    if (!first) first = r;
  }
  return first ? { ...first } : null;
}
