import { createHash } from 'node:crypto';
import type { BodyFormat, DeliveryJob, GatewayEvent, Subscription, SubscriptionKind } from '@app/contracts';
import { renderBody, transformInput } from '@app/body';
import { webhookId } from './webhook-id.js';

export interface SourcePosition {
  topic: string;
  partition: number;
  offset: string;
}

/** Where an event was read, and the source record's key (the unit of ordered delivery). */
export interface SourceRecordRef extends SourcePosition {
  key?: string;
}

/** A delivery target: a registered subscription, or the per-event callback an event carries. */
interface Target {
  subscriptionId: string;
  url: string;
  kind: SubscriptionKind;
  format: BodyFormat;
  callback?: true;
  ordered?: boolean;
  /** The subscription transforms the event itself at each attempt: its job carries the event. */
  transforms?: boolean;
}

/** The pseudo-subscription id of a per-event callback URL (stable, so its jobs share a key). */
export const callbackId = (url: string) => `cb_${createHash('sha256').update(url).digest('base64url').slice(0, 22)}`;

/**
 * One delivery job per matched subscription, plus one for the event's own
 * callback URL when callbacks are on (`callbackFormat` set). Each distinct body
 * is rendered once per event; a subscription with a transformation gets the event
 * itself, which the delivery app transforms at each attempt. A job for a subscription with ordered delivery
 * carries the source record's key (events without a key are not ordered).
 */
export function fanOut(
  event: GatewayEvent,
  matches: readonly Subscription[],
  record: SourceRecordRef,
  now: Date,
  callbackFormat?: BodyFormat,
): DeliveryJob[] {
  const targets: Target[] = matches.map((s) => ({ subscriptionId: s.id, url: s.url, kind: s.kind, format: s.format, ordered: s.ordering === 'key', transforms: s.transform !== undefined }));
  if (event.callbackUrl && callbackFormat) {
    targets.push({ subscriptionId: callbackId(event.callbackUrl), url: event.callbackUrl, kind: 'STANDARD', format: callbackFormat, callback: true });
  }
  const bodies = new Map<string, string>();
  const createdAt = now.toISOString();
  const source: SourcePosition = { topic: record.topic, partition: record.partition, offset: record.offset };
  return targets.map((target) => {
    const bodyKey = target.transforms ? 'event' : `${target.kind}/${target.format}`;
    let body = bodies.get(bodyKey);
    if (body === undefined) bodies.set(bodyKey, (body = target.transforms ? JSON.stringify(transformInput(event)) : renderBody(event, target.kind, target.format)));
    return {
      webhookId: webhookId(event.source, event.id, target.subscriptionId),
      eventId: event.id,
      eventType: event.type,
      subscriptionId: target.subscriptionId,
      ...(target.callback && { callback: true }),
      tenant: event.tenant,
      url: target.url,
      kind: target.kind,
      format: target.format,
      body,
      ...(target.transforms && { input: 'event' as const }),
      traceparent: event.traceparent,
      attempt: 1,
      ...(target.ordered && record.key !== undefined && { orderingKey: record.key }),
      createdAt,
      source,
    };
  });
}
