export * from './render-body.js';
export * from './transform.js';
export * from './transform-runner.js';
export * from './transformer.js';
