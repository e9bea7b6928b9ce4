/** The kafkajs client of the process. */
export const KAFKA_CLIENT = 'KAFKA_CLIENT';
/** Options passed to KafkaModule.forRoot. */
export const KAFKA_MODULE_OPTIONS = 'KAFKA_MODULE_OPTIONS';
