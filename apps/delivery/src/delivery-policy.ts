/**
 * Delivery policy as named values: what the delivery app does with each kind of
 * answer. Timeouts, caps, retry tiers and the allowlist come from configuration.
 */

/** Partitions of the deliveries and retry topics one process works on at once. */
export const PARTITIONS_CONSUMED_CONCURRENTLY = 16;

/** Response bytes read past the kept part before the connection is dropped instead of reused. */
export const MAX_RESPONSE_DRAIN_BYTES = 64 * 1024;

/** Sent with every request. */
export const USER_AGENT = 'kafka-webhook-gateway/0.1';

/** Seconds after each failed attempt (Standard Webhooks: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h). */
export const DEFAULT_RETRY_SCHEDULE_SECONDS: readonly number[] = [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000];

/** Up to this fraction is added to a default-schedule delay (never taken off: never early). */
export const RETRY_JITTER = 0.1;

/** Answers whose Retry-After is honoured, and the longest wait it may ask for. */
export const RETRY_AFTER_STATUSES: readonly number[] = [429, 503];
export const MAX_RETRY_AFTER_MS = 3_600_000;

/** 410 Gone: the endpoint is gone for good; the subscription is disabled. */
export const GONE_STATUS = 410;

/** Outcome reasons that are not an HTTP status. */
export const REASONS = {
  delivered: '2xx',
  redirect: 'redirect_not_followed',
  gone: 'gone',
  endpointBusy: 'endpoint_busy',
  circuitOpen: 'circuit_open',
  hostCircuitOpen: 'host_circuit_open',
  rateLimited: 'rate_limited',
  bodyTooLarge: 'body_too_large',
  jobTooLarge: 'job_too_large',
  internalError: 'internal_error',
  autoDisabled: 'subscription_auto_disabled',
  subscriptionDeleted: 'subscription_deleted',
  subscriptionDisabled: 'subscription_disabled',
  callbacksOff: 'callbacks_off',
  orderedBehind: 'waiting_for_earlier_event',
  transformSkipped: 'transform_skipped',
  transformFailed: 'transform_failed',
  tokenFetch: 'token_fetch',
} as const;

/**
 * An endpoint's OAuth2 access token (`auth: oauth2`) is used until this long before it expires
 * (counted from when it was asked for), so it does not run out on the way...
 */
export const TOKEN_EXPIRY_MARGIN_MS = 30_000;
/** ...or, for a token that lives less than 5 minutes, until the last tenth of its lifetime. */
export const TOKEN_EXPIRY_MARGIN_SHARE = 0.1;
/** A token answer without `expires_in` is kept this long (a 401 from the endpoint drops it sooner). */
export const TOKEN_DEFAULT_LIFETIME_MS = 300_000;
/** No token is kept longer than this, whatever its `expires_in`. */
export const TOKEN_MAX_LIFETIME_MS = 86_400_000;
/** Bytes of a token endpoint's answer read (JWTs with many claims run to a few KiB). */
export const TOKEN_RESPONSE_BYTES = 64 * 1024;

/**
 * Ordered delivery: a job waits in memory this long at most for the attempt of the
 * job ahead of it (same key) to finish; past that it waits on a retry tier.
 */
export const ORDER_INLINE_WAIT_MS = 1_000;
/** A parked ordered job whose predecessor's next attempt time is unknown looks again after this long. */
export const ORDER_RECHECK_MS = 1_000;

/**
 * A job whose endpoint has DELIVERY_MAX_IN_FLIGHT_PER_ENDPOINT attempts in flight waits in
 * that endpoint's in-memory queue, unless the queue ahead of it would take longer than this
 * to drain (estimated from the endpoint's recent attempt durations and its oldest attempt in
 * flight): a slow or hanging endpoint keeps a bounded share of the in-flight budget, and the
 * rest of its jobs are held back on a retry tier.
 */
export const ENDPOINT_QUEUE_MAX_WAIT_MS = 2_000;

/** Transport failures that say nothing about the path, only that the host cannot be reached: counted by the host's breaker. */
export const HOST_FAILURES: readonly string[] = ['connection_refused', 'connect_timeout', 'dns', 'tls'];

/**
 * Failures of the gateway's own egress path (DELIVERY_PROXY_URL down, or refusing a CONNECT):
 * not the endpoint's fault nor its host's, so neither breaker counts them; the job is retried.
 */
export const EGRESS_FAILURES: readonly string[] = ['proxy'];

/** Subscriptions with a client certificate whose connection pools are kept at once (least recently used closed first). */
export const MAX_CLIENT_CERT_AGENTS = 1_000;
/** A client-certificate pool unused this long is closed. */
export const CLIENT_CERT_AGENT_IDLE_MS = 5 * 60_000;

/** A rate-limited attempt waits in process for a token this long at most; a longer wait goes to a retry tier. */
export const MAX_IN_PROCESS_RATE_WAIT_MS = 100;

/** Transport failures that retrying cannot fix: the target is refused by policy. */
export const NOT_RETRYABLE_ERRORS: readonly string[] = ['target_refused'];

/** 2xx is a delivery; anything else (3xx included: redirects are not followed) is a failure. */
export const isDelivered = (status: number): boolean => status >= 200 && status < 300;
