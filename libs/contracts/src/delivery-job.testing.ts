import type { AttemptResult } from './attempt-result.js';
import type { DeliveryJob } from './delivery-job.js';

/** A delivery job for unit tests: webhook msg_1 of event e1 to subscription sub_1, first attempt. */
export const testJob = (over: Partial<DeliveryJob> = {}): DeliveryJob => ({
  webhookId: 'msg_1',
  eventId: 'e1',
  eventType: 't',
  subscriptionId: 'sub_1',
  url: 'http://x/',
  kind: 'STANDARD',
  format: 'standard',
  body: '{"type":"t"}',
  attempt: 1,
  createdAt: '2026-12-02T00:00:00.000Z',
  source: { topic: 'events', partition: 0, offset: '1' },
  ...over,
});

/** The result of an attempt of `testJob()` for unit tests: a 500, retry scheduled, unless `over` says otherwise. */
export const testResult = (over: Partial<AttemptResult> = {}): AttemptResult => ({
  webhookId: 'msg_1',
  deliveryId: 'd1',
  eventId: 'e1',
  eventType: 't',
  subscriptionId: 'sub_1',
  url: 'http://x/',
  attempt: 1,
  outcome: 'retry_scheduled',
  reason: 'http_500',
  durationMs: 5,
  startedAt: '2026-12-02T00:00:00.000Z',
  finishedAt: '2026-12-02T00:00:00.005Z',
  ...over,
});
