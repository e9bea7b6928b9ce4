export const OUTCOMES = ['delivered', 'retry_scheduled', 'dead_lettered', 'skipped'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** One record per attempt on the results topic (keyed by subscription id). */
export interface AttemptResult {
  webhookId: string;
  /** New UUID per attempt (`x-webhook-delivery-id`). */
  deliveryId: string;
  eventId: string;
  eventType: string;
  subscriptionId: string;
  tenant?: string;
  url: string;
  attempt: number;
  outcome: Outcome;
  /** Why: `2xx`, `http_500`, `timeout`, `gone`, `target_refused`, `endpoint_busy`, `subscription_deleted`, ... */
  reason: string;
  statusCode?: number;
  error?: { class: string; message: string };
  /** First bytes of the response body, when there was one. */
  responseBody?: string;
  /** The endpoint answered 401 to the OAuth2 token held: a new token was fetched and the request sent again within this attempt. */
  tokenRefreshed?: boolean;
  durationMs: number;
  startedAt: string;
  finishedAt: string;
  /** When the next attempt is due (outcome retry_scheduled). */
  nextAttemptAt?: string;
  /** Where the job of this attempt was read: its record on the deliveries topic or a retry tier. */
  job?: JobRecordPlace;
  /**
   * Only for a job whose body is made at the attempt (`input: "event"`, a transformation): the body
   * as sent, its first REQUEST_BODY_KEPT_BYTES (64 KiB); `requestBodyBytes` is its full size.
   */
  requestBody?: string;
  requestBodyBytes?: number;
}

/** The coordinates of a delivery job's record (the deliveries topic or a retry tier). */
export interface JobRecordPlace {
  topic: string;
  partition: number;
  offset: string;
}

/** A job that will not be attempted again, with the last error (value on the dlq topic). */
export interface DeadLetter {
  job: import('./delivery-job.js').DeliveryJob;
  lastResult: AttemptResult;
  attemptTimestamps: string[];
  deadLetteredAt: string;
}

/** A source record that could not be read as an event (value on the invalid topic). */
export interface InvalidEvent {
  reason: string;
  topic: string;
  partition: number;
  offset: string;
  timestamp: string;
  key: string | null;
  headers: Record<string, string>;
  /** The original value (its first 64 KiB): utf8 when it decodes as text, else base64 (`encoding` says which). */
  value: string | null;
  encoding: 'utf8' | 'base64';
  /** Size of the original value in bytes. */
  size: number;
  truncated: boolean;
  receivedAt: string;
}

/**
 * Reasons of a `retry_scheduled` result written for a job held back without an HTTP
 * request (the delivery app's REASONS): not attempts, for the console's success rate.
 * One such result is written when a job is first held for a reason, not at every hold.
 */
export const HELD_BACK_REASONS: readonly string[] = ['rate_limited', 'circuit_open', 'host_circuit_open', 'endpoint_busy', 'waiting_for_earlier_event'];
