/**
 * Delivery policy as named values: what the delivery app does with each kind of
 * answer. Timeouts, caps and the allowlist come from configuration.
 */

/** Partitions of the deliveries topic one process works on at once. */
export const PARTITIONS_CONSUMED_CONCURRENTLY = 8;

/** Response bytes read past the kept part before the connection is dropped instead of reused. */
export const MAX_RESPONSE_DRAIN_BYTES = 64 * 1024;

/** Sent with every request. */
export const USER_AGENT = 'kafka-webhook-gateway/0.1';

/** Outcome reasons for answers that are not a delivery. */
export const REASONS = {
  delivered: '2xx',
  redirect: 'redirect_not_followed',
  subscriptionDeleted: 'subscription_deleted',
  subscriptionDisabled: 'subscription_disabled',
  callbacksOff: 'callbacks_off',
  noRetrySchedule: 'no_retry_schedule',
} as const;

/** 2xx is a delivery; anything else (3xx included: redirects are not followed) is a failure. */
export const isDelivered = (status: number): boolean => status >= 200 && status < 300;
