// The public API of wva-metrics (see README "Library API").
export type * from './types.js';
