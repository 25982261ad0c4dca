// The SLO engine's parts. So far: learning each variant's performance model online.
export * from './learn/index.js';
