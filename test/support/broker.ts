/** The broker the e2e tests use: KAFKA_BROKERS, or the project's local broker on KAFKA_PORT (started by global-setup.mjs). */
export const BROKERS = (process.env.KAFKA_BROKERS ?? `127.0.0.1:${process.env.KAFKA_PORT ?? 9092}`).split(',');
