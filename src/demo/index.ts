// The end-to-end demo: emulator + real Prometheus + controller in local mode.
export * from './demo.js';
export * from './loop.js';
export * from './loop-ledger.js';
export * from './prometheus.js';
export * from './scenarios.js';
