export * from './client.js';
export * from './errors.js';
export * from './parse.js';
export * from './promql.js';
export * from './sample-value.js';
