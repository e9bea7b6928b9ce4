import { type GatewayConfig, gatewayTopics } from '@app/config';
import type { TopicSpec } from '@app/kafka';

/** The gateway's own topics with their settings (the design brief's topic table). */
export function gatewayTopicSpecs(config: Pick<GatewayConfig, 'kafka' | 'delivery' | 'source'>): TopicSpec[] {
  const t = gatewayTopics(config);
  const { partitions, replicationFactor } = config.kafka;
  // A job carries the rendered body of an event of up to MAX_EVENT_BYTES, escaped inside JSON: leave room.
  const jobBytes = String(Math.max(1024 * 1024, 3 * config.source.maxEventBytes + 64 * 1024));
  const data = (topic: string): TopicSpec => ({ topic, partitions, replicationFactor });
  const jobs = (topic: string): TopicSpec => ({ topic, partitions, replicationFactor, config: { 'max.message.bytes': jobBytes } });
  // One partition each: small, and every instance reads all of it (the ordering ledger also needs its one log order).
  const compacted = (topic: string): TopicSpec => ({ topic, partitions: 1, replicationFactor, config: { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '0' } });
  return [
    compacted(t.subscriptions),
    compacted(t.health),
    compacted(t.ordering),
    compacted(t.replays),
    compacted(t.eventTypes),
    compacted(t.portalSessions),
    jobs(t.deliveries),
    ...t.retry.map((tier) => jobs(tier.topic)),
    data(t.results),
    jobs(t.dlq),
    data(t.invalid),
  ];
}

/** Source topics that are missing are created with the gateway's partition count. */
export function sourceTopicSpecs(config: Pick<GatewayConfig, 'kafka' | 'source'>): TopicSpec[] {
  return config.source.topics.map((topic) => ({ topic, partitions: config.kafka.partitions, replicationFactor: config.kafka.replicationFactor }));
}
