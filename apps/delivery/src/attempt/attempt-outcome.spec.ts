import type { AttemptResult, DeliveryJob } from '@app/contracts';
import { testJob, testResult } from '../../../../libs/contracts/src/delivery-job.testing.js';
import { type AttemptOutcome, deadLetter, HOP_DUE_HEADER, outcomeRecords, tooLargeOutcome, withJobPlace } from './attempt-outcome.js';

const topics = {
  results: 'w.results',
  dlq: 'w.dlq',
  invalid: 'w.invalid',
  retry: [
    { label: '1s', ms: 1_000, topic: 'w.retry.1s' },
    { label: '5s', ms: 5_000, topic: 'w.retry.5s' },
  ],
};
const job: DeliveryJob = testJob({ body: 'x'.repeat(100), attempt: 2 });
const result = (outcome: AttemptResult['outcome'], reason: string): AttemptResult => testResult({ attempt: 2, outcome, reason });

describe('outcomeRecords', () => {
  it('writes a delivered or skipped outcome as its result record alone', () => {
    expect(outcomeRecords({ kind: 'delivered', result: result('delivered', '2xx') }, topics)).toEqual([{ topic: 'w.results', key: 'sub_1', value: result('delivered', '2xx') }]);
  });

  it('writes a retry as its result and the next job on the tier for its wait, with the hop due header', () => {
    const next = { ...job, attempt: 3 };
    const records = outcomeRecords({ kind: 'retry', result: result('retry_scheduled', 'http_500'), next, waitMs: 7_000 }, topics, 1_000);
    expect(records.map((r) => r.topic)).toEqual(['w.results', 'w.retry.5s']);
    expect(records[1]).toEqual({ topic: 'w.retry.5s', key: 'sub_1', value: next, headers: { [HOP_DUE_HEADER]: '6000' } });
  });

  it('writes a job held again for the same reason without a result: one result per hold reason, not per hold', () => {
    const held: AttemptOutcome = { kind: 'held', reason: 'circuit_open', next: { ...job, heldFor: 'circuit_open' }, waitMs: 500 };
    expect(outcomeRecords(held, topics, 0).map((r) => r.topic)).toEqual(['w.retry.1s']);
  });

  it('writes a dead letter as its result and the letter', () => {
    const r = result('dead_lettered', 'gone');
    const records = outcomeRecords({ kind: 'dead_letter', result: r, letter: { job, lastResult: r, attemptTimestamps: [], deadLetteredAt: r.finishedAt } }, topics);
    expect(records.map((x) => x.topic)).toEqual(['w.results', 'w.dlq']);
  });
});

describe('tooLargeOutcome', () => {
  it('dead-letters a job whose next step is over its topic limit, without its body and with the reason', () => {
    const outcome = tooLargeOutcome({ kind: 'retry', result: result('retry_scheduled', 'http_500'), next: { ...job, attempt: 3 }, waitMs: 1_000 }, 'MESSAGE_TOO_LARGE', 'd2', new Date(0));
    expect(outcome?.kind).toBe('dead_letter');
    if (outcome?.kind !== 'dead_letter') return;
    expect(outcome.letter.job.body).toBe('');
    expect(outcome.result).toMatchObject({ outcome: 'dead_lettered', reason: 'job_too_large' });
    expect(outcome.result.error?.message).toContain('100-byte body');
  });

  it('builds a result for a hold that had none, and leaves outcomes without a job alone', () => {
    const held = tooLargeOutcome({ kind: 'held', reason: 'not_due', next: job, waitMs: 1_000 }, 'too large', 'd3', new Date(0));
    expect(held).toMatchObject({ kind: 'dead_letter', result: { deliveryId: 'd3', reason: 'job_too_large', outcome: 'dead_lettered' } });
    expect(tooLargeOutcome({ kind: 'delivered', result: result('delivered', '2xx') }, 'x', 'd', new Date(0))).toBeUndefined();
  });
});

describe('withJobPlace', () => {
  const place = { topic: 'w.retry.1s', partition: 3, offset: '42' };

  it('names the job record on every result the outcome writes, the dead letter’s last result included', () => {
    const retry: AttemptOutcome = { kind: 'retry', result: result('retry_scheduled', 'http_500'), next: job, waitMs: 1_000 };
    const dead = withJobPlace(deadLetter(job, result('dead_lettered', 'gone')), place);
    const records = [...outcomeRecords(withJobPlace(retry, place), topics, 0), ...outcomeRecords(dead, topics, 0)];
    expect(records.find((r) => r.topic === topics.results)!.value).toMatchObject({ job: place, reason: 'http_500' });
    expect(records.filter((r) => r.topic === topics.results).map((r) => (r.value as AttemptResult).job)).toEqual([place, place]);
    expect((records.find((r) => r.topic === topics.dlq)!.value as { lastResult: AttemptResult }).lastResult.job).toEqual(place);
  });

  it('leaves an outcome without a result as it is (a repeated hold, an unreadable record)', () => {
    const held: AttemptOutcome = { kind: 'held', reason: 'circuit_open', next: job, waitMs: 1_000 };
    expect(withJobPlace(held, place)).toBe(held);
  });
});
