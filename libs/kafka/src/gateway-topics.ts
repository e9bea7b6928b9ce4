import { type GatewayConfig, gatewayTopics } from '@app/config';
import type { TopicSpec } from './topic-admin.js';

/** The gateway's own topics with their settings (the design brief's topic table). */
export function gatewayTopicSpecs(config: Pick<GatewayConfig, 'kafka' | 'delivery'>): TopicSpec[] {
  const t = gatewayTopics(config);
  const { partitions, replicationFactor } = config.kafka;
  const data = (topic: string): TopicSpec => ({ topic, partitions, replicationFactor });
  return [
    // One partition: the registry is small and every instance reads all of it.
    { topic: t.subscriptions, partitions: 1, replicationFactor, config: { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '0' } },
    data(t.deliveries),
    ...t.retry.map((tier) => data(tier.topic)),
    data(t.results),
    data(t.dlq),
    data(t.invalid),
  ];
}

/** Source topics that are missing are created with the gateway's partition count. */
export function sourceTopicSpecs(config: Pick<GatewayConfig, 'kafka' | 'source'>): TopicSpec[] {
  return config.source.topics.map((topic) => ({ topic, partitions: config.kafka.partitions, replicationFactor: config.kafka.replicationFactor }));
}
