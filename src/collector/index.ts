export * from './availability.js';
export * from './cached.js';
export * from './collect.js';
export * from './fleet-collector.js';
export * from './gateway-queue.js';
export * from './pods.js';
