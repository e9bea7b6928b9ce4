import { createHash } from 'node:crypto';

/**
 * The Standard Webhooks `webhook-id` of (event, subscription): derived, not random,
 * so an event read twice (a crash before the offset commit) yields the same id and
 * receivers can drop the duplicate.
 */
export function webhookId(eventSource: string, eventId: string, subscriptionId: string): string {
  const digest = createHash('sha256').update(`${eventSource}\n${eventId}\n${subscriptionId}`).digest('base64url');
  return `msg_${digest.slice(0, 32)}`;
}
