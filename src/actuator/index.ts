export * from './actuator.js';
export * from './events.js';
export * from './metrics.js';
export * from './scale-to-zero.js';
export * from './scaler.js';
