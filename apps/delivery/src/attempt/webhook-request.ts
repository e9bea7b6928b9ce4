import { activeSecrets, type DeliveryJob, type Subscription } from '@app/contracts';
import { secretKey, signatureHeader } from '@app/signing';

/**
 * The headers of one attempt: Standard Webhooks (`webhook-id` stable across
 * retries, a fresh `webhook-timestamp` and a signature over the exact body per
 * active secret), the gateway's own `x-webhook-*`, the event's `traceparent`, and
 * the subscription's static headers and those its transformation set (`extra`). The signature
 * covers `body`, the bytes sent (a transformation's output). SLACK posts carry no signature headers.
 */
export function webhookHeaders(
  job: DeliveryJob,
  sub: Subscription,
  deliveryId: string,
  now: Date,
  body: string = job.body,
  extra: Record<string, string> = {},
): Record<string, string> {
  const headers: Record<string, string> = { ...sub.headers, ...extra, 'content-type': 'application/json' };
  if (sub.kind === 'STANDARD') {
    const timestamp = Math.floor(now.getTime() / 1000);
    headers['webhook-id'] = job.webhookId;
    headers['webhook-timestamp'] = String(timestamp);
    headers['webhook-signature'] = signatureHeader(activeSecrets(sub.secrets, now).map(secretKey), job.webhookId, timestamp, body);
  }
  headers['x-webhook-delivery-id'] = deliveryId;
  headers['x-webhook-event-type'] = job.eventType;
  headers['x-webhook-attempt'] = String(job.attempt);
  if (job.traceparent) headers.traceparent = job.traceparent;
  return headers;
}
