/**
 * The gateway's Kafka topology: its topics with their settings, and the ACLs each app needs.
 * The Kafka adapter (libs/kafka) creates topics and talks to Kafka; what the gateway's topics and
 * principals are is said here.
 */
export * from './gateway-acls.js';
export * from './gateway-topics.js';
