import { Webhook } from 'standardwebhooks';
import type { DeliveryJob, Subscription } from '@app/contracts';
import { generateSecret } from '@app/signing';
import { gateReport, isEgressFailure, judge } from './outcome.js';
import { webhookHeaders } from './webhook-request.js';

const secret = generateSecret();
const sub: Subscription = {
  id: 'sub_1', url: 'http://127.0.0.1:1/hook', events: ['*'], kind: 'STANDARD', filters: {}, secrets: [{ secret }],
  headers: { 'Qovery-Secret': 'shh' }, enabled: true, format: 'standard', createdAt: '', updatedAt: '',
};
const job: DeliveryJob = {
  webhookId: 'msg_abc', eventId: 'e1', eventType: 'deployment.succeeded', subscriptionId: 'sub_1', url: sub.url,
  kind: 'STANDARD', format: 'standard', body: '{"type":"deployment.succeeded","timestamp":"t","data":{}}',
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', attempt: 2, createdAt: '',
  source: { topic: 'events', partition: 0, offset: '1' },
};

describe('webhookHeaders', () => {
  it('signs the exact body with a fresh timestamp, verifiable by standardwebhooks', () => {
    const now = new Date();
    const h = webhookHeaders(job, sub, 'd-1', now);
    expect(h['webhook-timestamp']).toBe(String(Math.floor(now.getTime() / 1000)));
    expect(new Webhook(secret).verify(job.body, h)).toEqual(JSON.parse(job.body));
    expect(h).toMatchObject({
      'webhook-id': 'msg_abc', 'x-webhook-delivery-id': 'd-1', 'x-webhook-attempt': '2', 'x-webhook-event-type': 'deployment.succeeded',
      traceparent: job.traceparent, 'Qovery-Secret': 'shh', 'content-type': 'application/json',
    });
  });

  it('sends no signature headers to SLACK subscriptions', () => {
    const h = webhookHeaders(job, { ...sub, kind: 'SLACK' }, 'd-1', new Date());
    expect(h['webhook-signature']).toBeUndefined();
    expect(h['webhook-id']).toBeUndefined();
  });
});

describe('judge', () => {
  const response = (status: number) => ({ kind: 'response' as const, status, headers: {}, body: '', durationMs: 1 });
  it.each([
    [200, true, false, '2xx'], [204, true, false, '2xx'], [301, false, true, 'redirect_not_followed'], [404, false, true, 'http_404'],
    [410, false, false, 'gone'], [429, false, true, 'http_429'], [500, false, true, 'http_500'],
  ])('status %i → delivered %s, retryable %s (%s)', (status, delivered, retryable, reason) => {
    expect(judge(response(status))).toMatchObject({ delivered, retryable, reason, statusCode: status });
  });

  it('turns transport errors into a reason and an error class; a refused target is not retried', () => {
    expect(judge({ kind: 'error', errorClass: 'timeout', message: 'slow', durationMs: 10 })).toEqual({
      delivered: false, retryable: true, reason: 'timeout', error: { class: 'timeout', message: 'slow' },
    });
    expect(judge({ kind: 'error', errorClass: 'target_refused', message: 'private', durationMs: 0 })).toMatchObject({ retryable: false });
  });
});

describe('gateReport', () => {
  const error = (errorClass: 'proxy' | 'connection_refused' | 'timeout' | 'target_refused') => ({ kind: 'error' as const, errorClass, message: 'x', durationMs: 1 });
  const report = (attempt: Parameters<typeof judge>[0]) => gateReport(attempt, judge(attempt));

  it('counts a proxy failure against neither the endpoint nor its host (the gateway\'s egress failed, not them)', () => {
    // Nothing reached the endpoint: no breaker learns from it (a half-open probe is given back).
    expect(report(error('proxy'))).toEqual({ ok: false, hostReached: true, notSent: true });
    // ...nor does it start the subscription's failure streak.
    expect(isEgressFailure(error('proxy'))).toBe(true);
    expect(isEgressFailure(error('connection_refused'))).toBe(false);
  });

  it('counts a failure to connect against the host and the endpoint, a timeout against the endpoint, a final answer against neither', () => {
    expect(report(error('connection_refused'))).toEqual({ ok: false, hostReached: false });
    expect(report(error('timeout'))).toEqual({ ok: false, hostReached: true });
    expect(report(error('target_refused'))).toEqual({ ok: true, hostReached: true });
    expect(report({ kind: 'response', status: 500, headers: {}, body: '', durationMs: 1 })).toEqual({ ok: false, hostReached: true });
    expect(report({ kind: 'response', status: 410, headers: {}, body: '', durationMs: 1 })).toEqual({ ok: true, hostReached: true });
  });
});
