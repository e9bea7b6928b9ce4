import { Logger } from '@nestjs/common';
import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import type { GatewayConfig } from '@app/config';
import { verifyKafkajsPatches } from './kafkajs-patches.js';

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

/** The one place that constructs a kafkajs client. */
export function createKafka(config: Pick<GatewayConfig, 'kafka'>, clientName: string): Kafka {
  verifyKafkajsPatches();
  return new Kafka({
    clientId: `${config.kafka.clientId}-${clientName}`,
    brokers: config.kafka.brokers,
    logLevel: logLevel.WARN,
    logCreator,
    connectionTimeout: 5_000,
    requestTimeout: 30_000,
    // A broker that is starting answers "coordinator loading" for a few seconds: keep retrying.
    retry: { initialRetryTime: 200, maxRetryTime: 5_000, retries: 12 },
  });
}
