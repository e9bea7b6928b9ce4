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
  /** Compacted: what the delivery side learnt about each subscription's endpoint (failure streak, disabled by the gateway). */
  health: string;
  /** Compacted: the event catalogue, one record per (tenant, event type) seen (`GET /v1/event-types`). */
  eventTypes: string;
  /** Compacted: revoked customer-portal sessions (key: session id). */
  portalSessions: string;
}

export function gatewayTopics(config: { kafka: Pick<GatewayConfig['kafka'], 'topicPrefix'>; delivery: Pick<GatewayConfig['delivery'], 'retryTiers'> }): GatewayTopics {
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
    health: `${p}.subscription-health`,
    eventTypes: `${p}.event-types`,
    portalSessions: `${p}.portal-sessions`,
  };
}

/**
 * Prefixes of the consumer groups a process makes for itself (`<prefix>.<uuid>`, never committed):
 * each instance reads a compacted topic or a digest in a group of its own. The ACL list grants READ
 * on exactly these prefixes.
 */
export interface GatewayGroupPrefixes {
  /** The subscription registry and its health records (both apps). */
  registry: string;
  health: string;
  /** The ordering ledger (delivery app). */
  ordering: string;
  /** The console digest of results and dead letters (producer app). */
  console: string;
  /** DLQ replay: the replay marks, and the dead letters (producer app). */
  replays: string;
  /** The event catalogue (producer app). */
  eventTypes: string;
  /** Revoked portal sessions (producer app). */
  portalSessions: string;
  /** `webhook-gateway results tail`. */
  cli: string;
}

export function gatewayGroupPrefixes(config: Pick<GatewayConfig, 'kafka'>): GatewayGroupPrefixes {
  const p = config.kafka.topicPrefix;
  return { registry: `${p}.registry`, health: `${p}.health`, ordering: `${p}.ordering`, console: `${p}.console`, replays: `${p}.replays`, eventTypes: `${p}.event-types`, portalSessions: `${p}.portal-sessions`, cli: `${p}.cli` };
}
