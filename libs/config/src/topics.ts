import type { GatewayConfig } from './config.schema.js';

/** Names of the gateway's own topics, derived from the configured prefix. */
export interface GatewayTopics {
  subscriptions: string;
  /** One per retry tier, shortest first. */
  retry: { label: string; ms: number; topic: string }[];
  deliveries: string;
  results: string;
  dlq: string;
  invalid: string;
  /** Compacted: the jobs of ordered subscriptions that wait for (or are) the head of their key. */
  ordering: string;
  /** Compacted: which dead letters have been replayed (so a replay never sends one twice). */
  replays: string;
}

export function gatewayTopics(config: Pick<GatewayConfig, 'kafka' | 'delivery'>): GatewayTopics {
  const p = config.kafka.topicPrefix;
  return {
    subscriptions: `${p}.subscriptions`,
    retry: config.delivery.retryTiers.map((t) => ({ ...t, topic: `${p}.retry.${t.label}` })),
    deliveries: `${p}.deliveries`,
    results: `${p}.results`,
    dlq: `${p}.dlq`,
    invalid: `${p}.invalid`,
    ordering: `${p}.ordering`,
    replays: `${p}.replays`,
  };
}
