import { Logger } from '@nestjs/common';
import type { ITopicConfig, Kafka } from 'kafkajs';

export interface TopicSpec {
  topic: string;
  partitions: number;
  /** -1: the broker's default. */
  replicationFactor: number;
  config?: Record<string, string>;
}

const logger = new Logger('TopicAdmin');

/** Creates the topics that are missing; leaves existing topics as they are. */
export async function ensureTopics(kafka: Kafka, specs: TopicSpec[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !existing.has(s.topic));
    if (missing.length === 0) return;
    const topics: ITopicConfig[] = missing.map((s) => ({
      topic: s.topic,
      numPartitions: s.partitions,
      replicationFactor: s.replicationFactor,
      configEntries: Object.entries(s.config ?? {}).map(([name, value]) => ({ name, value })),
    }));
    // Another instance may create the same topics at the same moment: that is fine.
    await admin.createTopics({ topics, waitForLeaders: true });
    logger.log(`created topics: ${missing.map((s) => s.topic).join(', ')}`);
  } finally {
    await admin.disconnect();
  }
}
