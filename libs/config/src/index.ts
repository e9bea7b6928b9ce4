export * from './config.js';
export * from './config.constants.js';
export * from './config.module.js';
export * from './config.parsers.js';
export * from './config.schema.js';
export * from './topics.js';
