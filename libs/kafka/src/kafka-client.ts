import { Logger } from '@nestjs/common';
import { Kafka, type KafkaConfig, logLevel, type LogEntry } from 'kafkajs';
import type { GatewayConfig } from '@app/config';
import { KafkaCredentials } from './kafka-credentials.js';
import { verifyKafkajsPatches } from './kafkajs-patches.js';
import { REAUTHENTICATION_THRESHOLD_MS } from './oauth-token-provider.js';

const levels: Record<number, 'error' | 'warn' | 'log' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'log',
  [logLevel.DEBUG]: 'debug',
};

/** kafkajs logs through Nest's logger, one context per kafkajs namespace. */
function logCreator() {
  return ({ namespace, level, log }: LogEntry) => {
    const { message, ...extra } = log;
    // A broker's error answer is logged by kafkajs' connection before the caller retries or
    // throws it; what matters is the caller's outcome, so these lines are debug.
    const answered = namespace === 'Connection' && message.startsWith('Response ');
    // CONCURRENT_TRANSACTIONS: a partition's next transaction began while the broker still wrote the
    // markers of its previous one; expected now and then, and retried (see PartitionTransactions).
    const concurrentTransaction = message.includes('another concurrent operation on the same transaction');
    const method = answered || concurrentTransaction ? 'debug' : (levels[level] ?? 'log');
    new Logger(`kafkajs:${namespace}`)[method]({ msg: message, ...extra });
  };
}

export interface CreateKafkaOptions {
  /** The process's TLS/SASL material (one OAUTHBEARER token provider for all its clients); built from the config when absent. */
  credentials?: KafkaCredentials;
  /** Scripts (demo, benches) quieten kafkajs; the apps log its warnings through Nest. */
  logLevel?: logLevel;
  retry?: KafkaConfig['retry'];
}

/**
 * The one place that constructs a kafkajs client: brokers, client id, TLS and SASL
 * (KAFKA_SECURITY_PROTOCOL, KAFKA_SSL_*, KAFKA_SASL_*, KAFKA_OAUTH_*), timeouts and retries.
 */
export function createKafka(config: Pick<GatewayConfig, 'kafka'>, clientName: string, options: CreateKafkaOptions = {}): Kafka {
  verifyKafkajsPatches();
  const credentials = options.credentials ?? new KafkaCredentials(config.kafka.security);
  return new Kafka({
    clientId: `${config.kafka.clientId}-${clientName}`,
    brokers: config.kafka.brokers,
    ...credentials.clientOptions(),
    // KIP-368: a SASL session is renewed this long before the broker would end it (an OAUTHBEARER
    // token's expiry, connections.max.reauth.ms); OAuthTokenProvider hands out tokens that outlive it.
    reauthenticationThreshold: REAUTHENTICATION_THRESHOLD_MS,
    logLevel: options.logLevel ?? logLevel.WARN,
    logCreator,
    connectionTimeout: 5_000,
    requestTimeout: 30_000,
    // A broker that is starting answers "coordinator loading" for a few seconds: keep retrying.
    retry: options.retry ?? { initialRetryTime: 200, maxRetryTime: 5_000, retries: 12 },
  });
}
