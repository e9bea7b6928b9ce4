import { jest } from '@jest/globals';
import { type AttemptResult, REQUEST_BODY_KEPT_BYTES } from '@app/contracts';
import { testJob, testResult } from '../../../../libs/contracts/src/delivery-job.testing.js';
import { attemptRequest, jobRequest, retryRefusal } from './attempt-detail.js';

const attempt = (over: Partial<AttemptResult> = {}): AttemptResult => testResult({ job: { topic: 'w.deliveries', partition: 0, offset: '7' }, ...over });
const job = testJob;

describe('attemptRequest', () => {
  it("answers with the attempt's own body when it made it, without reading the job", async () => {
    const lookup = jest.fn<() => Promise<never>>();
    await expect(attemptRequest(attempt({ requestBody: '{"x":1}', requestBodyBytes: 7 }), lookup)).resolves.toEqual({
      body: '{"x":1}',
      bytes: 7,
      truncated: false,
      from: 'attempt',
      content_type: 'application/json',
    });
    expect(lookup).not.toHaveBeenCalled();
  });

  it('says a recorded body was cut when the body sent was larger', async () => {
    const kept = 'x'.repeat(REQUEST_BODY_KEPT_BYTES);
    const view = await attemptRequest(attempt({ requestBody: kept, requestBodyBytes: REQUEST_BODY_KEPT_BYTES + 5 }), jest.fn<() => Promise<never>>());
    expect(view).toMatchObject({ bytes: REQUEST_BODY_KEPT_BYTES + 5, truncated: true, from: 'attempt' });
  });

  it("otherwise answers with the job record's body", async () => {
    await expect(attemptRequest(attempt(), () => Promise.resolve({ kind: 'found', job: job() }))).resolves.toEqual({
      body: '{"type":"t"}',
      bytes: 12,
      truncated: false,
      from: 'job',
      content_type: 'application/json',
    });
  });
});

describe('jobRequest', () => {
  it('keeps the first 64 KiB of a large job body and its full size', () => {
    const view = jobRequest({ kind: 'found', job: job({ body: 'y'.repeat(REQUEST_BODY_KEPT_BYTES + 1) }) });
    expect(view).toMatchObject({ bytes: REQUEST_BODY_KEPT_BYTES + 1, truncated: true, from: 'job' });
    expect(view.body).toHaveLength(REQUEST_BODY_KEPT_BYTES);
  });

  it('answers null with a note when the record is gone, unnamed, or carries the event rather than the body', () => {
    for (const found of [{ kind: 'gone' as const }, { kind: 'unrecorded' as const }, { kind: 'found' as const, job: job({ input: 'event' }) }]) {
      const view = jobRequest(found);
      expect(view).toMatchObject({ body: null, bytes: 0, truncated: false, from: 'job' });
      expect(view.note).toEqual(expect.any(String));
    }
    expect(jobRequest({ kind: 'gone' }).note).toMatch(/retention/);
    expect(jobRequest({ kind: 'unrecorded' }).note).toMatch(/older version/);
  });
});

describe('retryRefusal', () => {
  it('lets a failed HTTP attempt with a retry scheduled be retried now', () => {
    expect(retryRefusal(attempt({ reason: 'http_500' }))).toBeUndefined();
    expect(retryRefusal(attempt({ reason: 'timeout' }))).toBeUndefined();
  });

  it('refuses every other attempt, naming why', () => {
    expect(retryRefusal(attempt({ outcome: 'delivered', reason: '2xx' }))).toMatch(/delivered/);
    expect(retryRefusal(attempt({ outcome: 'skipped', reason: 'subscription_disabled' }))).toMatch(/skipped/);
    expect(retryRefusal(attempt({ outcome: 'dead_lettered', reason: 'gone' }))).toMatch(/replay the dead letter instead/);
    expect(retryRefusal(attempt({ reason: 'circuit_open' }))).toMatch(/held back/);
    expect(retryRefusal(attempt({ reason: 'endpoint_busy' }))).toMatch(/held back/);
  });

  it('refuses a failed attempt whose webhook a later attempt delivered, not one an earlier attempt did', () => {
    const failed = attempt({ deliveryId: 'd2', startedAt: '2026-12-02T00:01:00.000Z' });
    const later = attempt({ deliveryId: 'd3', outcome: 'delivered', reason: '2xx', startedAt: '2026-12-02T00:01:05.000Z', finishedAt: '2026-12-02T00:01:05.010Z' });
    const earlier = attempt({ deliveryId: 'd1', outcome: 'delivered', reason: '2xx', finishedAt: '2026-12-02T00:00:30.000Z' });
    expect(retryRefusal(failed, [failed, later])).toMatch(/a later attempt delivered this webhook at 2026-12-02T00:01:05.010Z/);
    expect(retryRefusal(failed, [earlier, failed])).toBeUndefined();
    expect(retryRefusal(failed, [failed, attempt({ deliveryId: 'd4', startedAt: '2026-12-02T00:01:05.000Z' })])).toBeUndefined();
  });
});
