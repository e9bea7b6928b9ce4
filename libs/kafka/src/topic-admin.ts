import { Logger } from '@nestjs/common';
import type { Admin, ITopicConfig, Kafka } from 'kafkajs';

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
export async function ensureTopics(kafka: Kafka, specs: TopicSpec[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
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
      const created = await admin.createTopics({ topics, waitForLeaders: false });
      if (created) logger.log(`created topics: ${missing.map((s) => s.topic).join(', ')}`);
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
      if (!(err as { retriable?: boolean }).retriable) throw err;
      pending = topics;
    }
    if (pending.length === 0) return;
    if (Date.now() > deadline) throw new Error(`topics have no leader after ${LEADERS_TIMEOUT_MS / 1000} s: ${pending.join(', ')}`);
    await new Promise((r) => setTimeout(r, LEADERS_POLL_MS));
  }
}
