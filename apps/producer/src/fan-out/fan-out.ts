import type { DeliveryJob, GatewayEvent, Subscription } from '@app/contracts';
import { renderBody } from './render-body.js';
import { webhookId } from './webhook-id.js';

export interface SourcePosition {
  topic: string;
  partition: number;
  offset: string;
}

/** One delivery job per matched subscription; each distinct body is rendered once per event. */
export function fanOut(event: GatewayEvent, matches: readonly Subscription[], position: SourcePosition, now: Date): DeliveryJob[] {
  const bodies = new Map<string, string>();
  const createdAt = now.toISOString();
  return matches.map((sub) => {
    const bodyKey = `${sub.kind}/${sub.format}`;
    let body = bodies.get(bodyKey);
    if (body === undefined) bodies.set(bodyKey, (body = renderBody(event, sub.kind, sub.format)));
    return {
      webhookId: webhookId(event.source, event.id, sub.id),
      eventId: event.id,
      eventType: event.type,
      subscriptionId: sub.id,
      tenant: event.tenant,
      url: sub.url,
      kind: sub.kind,
      format: sub.format,
      body,
      traceparent: event.traceparent,
      attempt: 1,
      createdAt,
      source: position,
    };
  });
}
