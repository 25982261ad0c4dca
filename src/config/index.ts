export * from './keys.js';
export * from './load.js';
export * from './reload.js';
export * from './scale-to-zero.js';
export * from './upstream.js';
