export * from './attempt-result.js';
export * from './delivery-job.js';
export * from './event.js';
export * from './subscription.js';
export * from './subscription.dto.js';
export * from './dlq.dto.js';
export * from './console.dto.js';
export * from './invalid-record.js';
