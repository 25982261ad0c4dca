export * from './apply.js';
export * from './duration.js';
export * from './flags.js';
export * from './load.js';
export * from './schema.js';
export * from './watch.js';
