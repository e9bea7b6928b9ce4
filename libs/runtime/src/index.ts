export * from './bootstrap.js';
export * from './health.controller.js';
export * from './readiness.js';
export * from './runtime.module.js';
export * from './metrics.js';
export * from './logger.js';
export * from './tracing.js';
export * from './hop-log.js';
