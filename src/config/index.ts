export * from './keys.js';
export * from './load.js';
export * from './reload.js';
