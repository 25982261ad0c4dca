// vLLM metrics emulator: simulated vLLM pods under configurable load, in vLLM's exposition format.
export * from './config.js';
export * from './emulator.js';
export { GATEWAY_METRICS, Gateway } from './gateway.js';
export { LoadCurve } from './load.js';
export {
  buckets125,
  EmulatedPod,
  type Totals,
  VLLM_BUCKETS,
  VLLM_METRICS,
  type VllmMetricNames,
} from './pod.js';
export * from './scrape-config.js';
export * from './server.js';
