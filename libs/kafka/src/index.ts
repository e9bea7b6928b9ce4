export * from './gateway-topics.js';
export * from './kafka-batch.server.js';
export * from './kafka-client.js';
export * from './kafka-producer.js';
export * from './kafka.constants.js';
export * from './kafka.module.js';
export * from './topic-admin.js';
export type { Batch, KafkaMessage, IHeaders } from 'kafkajs';
export * from './invalid-record.js';
