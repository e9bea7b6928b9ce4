import type { GatewayConfig } from './config.schema.js';

/** Names of the gateway's own topics, derived from the configured prefix. */
export interface GatewayTopics {
  subscriptions: string;
  deliveries: string;
  results: string;
  dlq: string;
  invalid: string;
}

export function gatewayTopics(config: Pick<GatewayConfig, 'kafka'>): GatewayTopics {
  const p = config.kafka.topicPrefix;
  return {
    subscriptions: `${p}.subscriptions`,
    deliveries: `${p}.deliveries`,
    results: `${p}.results`,
    dlq: `${p}.dlq`,
    invalid: `${p}.invalid`,
  };
}
