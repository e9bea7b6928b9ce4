import type { BodyFormat, SubscriptionKind } from './subscription.js';

/**
 * One delivery of one event to one subscription (the value of a record on the
 * deliveries topic, keyed by subscription id). The body is rendered once, by the
 * producer app; the delivery app signs and sends exactly these bytes. The
 * subscription's current settings (url, headers, secrets, timeout, enabled) apply
 * at each attempt, so an update or a secret rotation also reaches queued jobs,
 * and no secret ever travels on the deliveries topic.
 */
export interface DeliveryJob {
  /** `msg_...`: the Standard Webhooks `webhook-id`, stable across retries. */
  webhookId: string;
  eventId: string;
  eventType: string;
  /** A subscription id, or `cb_...` for a per-event callback (see `callback`). */
  subscriptionId: string;
  /** A per-event callback carried by the event: sent to `url`, signed with CALLBACK_SECRET. */
  callback?: true;
  tenant?: string;
  /** The target when the job was made; attempts use the subscription's current url (a callback's is this one). */
  url: string;
  kind: SubscriptionKind;
  format: BodyFormat;
  /**
   * The exact request body; or, when `input` is `event` (a subscription with a transformation), the
   * normalised event as JSON, which the delivery app turns into the body at each attempt.
   */
  body: string;
  input?: 'event';
  traceparent?: string;
  /** 1 for the first attempt. */
  attempt: number;
  /** Start times of the attempts made so far (ISO). */
  attemptTimestamps?: string[];
  /** When this attempt is due (ISO); absent for a first attempt, which is due at once. */
  dueAt?: string;
  /**
   * The source record's key, for a subscription with ordered delivery per key: the
   * job waits until every earlier job of its key (same subscription, source topic
   * and partition; earlier = lower source offset) has its final outcome.
   */
  orderingKey?: string;
  /**
   * Why the job is held back without an attempt (`circuit_open`, `endpoint_busy`, ...), once it
   * has been: a result record says so when it is first held for a reason, not at every hold.
   */
  heldFor?: string;
  /** Set on a job replayed from the dead-letter topic: where its dead letter is. */
  replayOf?: { partition: number; offset: string };
  /** Set on a copy sent again by "retry now" (`POST /v1/subscriptions/:id/attempts/:delivery_id/retry`): the failed attempt it repeats. */
  retryOf?: { deliveryId: string };
  /** When the source event was read by the producer app (ISO). */
  createdAt: string;
  /** Source coordinates, for operators. */
  source: { topic: string; partition: number; offset: string };
}

/**
 * The job as a first attempt due now (DLQ replay, retry now): same webhook-id and body, a fresh
 * schedule; no attempt times, due time, hold reason or earlier replay/retry marker.
 */
export function asFirstAttempt(job: DeliveryJob): DeliveryJob {
  const { attemptTimestamps: _times, dueAt: _due, heldFor: _held, replayOf: _replay, retryOf: _retry, ...rest } = job;
  return { ...rest, attempt: 1 };
}
