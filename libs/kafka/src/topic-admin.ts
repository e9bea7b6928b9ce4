import { Logger } from '@nestjs/common';
import type { Admin, ITopicConfig, Kafka } from 'kafkajs';
import type { KafkaSecurityConfig } from '@app/config';
import { explainKafkaError, kafkaErrorType } from './kafka-access-errors.js';

export interface TopicSpec {
  topic: string;
  partitions: number;
  /** -1: the broker's default. */
  replicationFactor: number;
  config?: Record<string, string>;
}

const logger = new Logger('TopicAdmin');
const LEADERS_TIMEOUT_MS = 30_000;
const LEADERS_POLL_MS = 100;

/**
 * Creates the topics that are missing (existing topics are left as they are) and
 * returns once every partition of every topic has a leader.
 */
export async function ensureTopics(kafka: Kafka, specs: TopicSpec[], security?: KafkaSecurityConfig): Promise<void> {
  const admin = kafka.admin();
  await admin.connect().catch((err: unknown) => {
    throw explainKafkaError(err, { doing: 'connecting to KAFKA_BROKERS', needs: ['valid credentials'] }, security);
  });
  try {
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !existing.has(s.topic));
    if (missing.length > 0) {
      const topics: ITopicConfig[] = missing.map((s) => ({
        topic: s.topic,
        numPartitions: s.partitions,
        replicationFactor: s.replicationFactor,
        configEntries: Object.entries(s.config ?? {}).map(([name, value]) => ({ name, value })),
      }));
      // Another instance may create the same topics at the same moment: kafkajs then
      // reports false for those, and they are waited for below like any other. kafkajs'
      // own waitForLeaders gives up on the first UNKNOWN_TOPIC_OR_PARTITION, which a broker of a
      // multi-broker cluster answers until the new topic's metadata reaches it: the loop below waits.
      const names = missing.map((s) => s.topic).join(', ');
      const created = await admin.createTopics({ topics, waitForLeaders: false }).catch((err: unknown) => {
        throw explainKafkaError(err, {
          doing: `creating the topics it cannot see (${names}: missing, or this principal lacks DESCRIBE on them)`,
          needs: [...missing.map((s) => `DESCRIBE on topic ${s.topic}`), 'and CREATE on those that are missing, unless you pre-create them (README, "Pre-creating the topics")'],
        });
      });
      if (created) logger.log(`created topics: ${names}`);
    }
    await waitForLeaders(admin, specs.map((s) => s.topic));
  } finally {
    await admin.disconnect();
  }
}

/** A topic created a moment ago (by another instance, say) answers "unknown" or "no leader" until it is ready. */
async function waitForLeaders(admin: Admin, topics: string[]): Promise<void> {
  const deadline = Date.now() + LEADERS_TIMEOUT_MS;
  for (;;) {
    let pending: string[];
    try {
      const { topics: metadata } = await admin.fetchTopicMetadata({ topics });
      pending = metadata.filter((t) => t.partitions.length === 0 || t.partitions.some((p) => p.partitionErrorCode !== 0 || p.leader < 0)).map((t) => t.name);
    } catch (err) {
      if (kafkaErrorType(err) === 'TOPIC_AUTHORIZATION_FAILED') throw await undescribable(admin, topics, err);
      if (!(err as { retriable?: boolean }).retriable) throw err;
      pending = topics;
    }
    if (pending.length === 0) return;
    if (Date.now() > deadline) throw new Error(`topics have no leader after ${LEADERS_TIMEOUT_MS / 1000} s: ${pending.join(', ')}`);
    await new Promise((r) => setTimeout(r, LEADERS_POLL_MS));
  }
}

/** Metadata of several topics fails as a whole when one is denied: ask one by one to name them. */
async function undescribable(admin: Admin, topics: string[], err: unknown): Promise<unknown> {
  const denied: string[] = [];
  for (const topic of topics) {
    await admin.fetchTopicMetadata({ topics: [topic] }).catch((e: unknown) => {
      if (kafkaErrorType(e) === 'TOPIC_AUTHORIZATION_FAILED') denied.push(topic);
    });
  }
  return explainKafkaError(err, { doing: 'checking the topics it uses at start-up', needs: (denied.length > 0 ? denied : topics).map((t) => `DESCRIBE on topic ${t}`) });
}
