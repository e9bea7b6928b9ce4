import { renderBody, TransformError, type Transformer, withPath } from '@app/body';
import type { DeliveryJob, GatewayEvent, Subscription, Transform } from '@app/contracts';

/** What one attempt sends (before the gateway's own headers), or why it sends nothing. */
export type WebhookBody =
  | { kind: 'send'; url: string; body: string; headers: Record<string, string> }
  /** The transformation said to skip this event. */
  | { kind: 'skip' }
  /** The transformation failed for this event (syntax, runtime error, a limit, the result's shape). */
  | { kind: 'failed'; message: string };

/**
 * The request body of one attempt. A job made for a subscription with a transformation
 * carries the event: the subscription's transformation as it is now makes the body (and may
 * add headers, set the path or skip); if the transformation was removed since, the body is
 * the subscription's format. Any other job carries its body, sent as it is. Only a transformation
 * is asynchronous: the other cases answer at once, with no promise on the attempt's path.
 */
export function webhookBody(job: DeliveryJob, sub: Subscription, transformer: Transformer): WebhookBody | Promise<WebhookBody> {
  if (job.input !== 'event') return { kind: 'send', url: sub.url, body: job.body, headers: {} };
  if (!sub.transform) return { kind: 'send', url: sub.url, body: renderBody(JSON.parse(job.body) as GatewayEvent, sub.kind, sub.format), headers: {} };
  return transformed(job, sub, sub.transform, transformer);
}

/** The body (and headers, path or skip) the subscription's transformation makes of the job's event, off the event loop. */
async function transformed(job: DeliveryJob, sub: Subscription, transform: Transform, transformer: Transformer): Promise<WebhookBody> {
  try {
    const request = await transformer.apply(transform, job.body);
    if (request.skip) return { kind: 'skip' };
    if (sub.auth && Object.keys(request.headers).some((h) => h.toLowerCase() === 'authorization'))
      return { kind: 'failed', message: 'the result sets the Authorization header, which the subscription\'s auth sets' };
    return { kind: 'send', url: withPath(sub.url, request.path), body: request.body, headers: request.headers };
  } catch (err) {
    if (err instanceof TransformError) return { kind: 'failed', message: err.message };
    throw err;
  }
}
