export * from './condition.js';
export * from './pattern.js';
export * from './subscription-index.js';
