// The vLLM engine simulator: stepped engines, their latency model, hardware and workloads.
export * from './engine.js';
export * from './hardware.js';
export * from './latency.js';
export * from './profile.js';
export * from './run.js';
export * from './stats.js';
export * from './vllm-args.js';
export * from './workload.js';
