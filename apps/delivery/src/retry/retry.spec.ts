import type { AttemptVerdict } from '../attempt/outcome.js';
import { nextHop } from './retry-tiers.js';
import { parseRetryAfter, planRetry } from './retry-plan.js';

const failed: AttemptVerdict = { delivered: false, retryable: true, reason: 'http_500', statusCode: 500 };

describe('planRetry', () => {
  it('follows the default schedule with positive jitter only', () => {
    expect(planRetry({ verdict: failed, attempt: 1, random: 0 })).toEqual({ action: 'retry', delayMs: 5_000 });
    const jittered = planRetry({ verdict: failed, attempt: 2, random: 0.99 });
    expect(jittered.action === 'retry' && jittered.delayMs).toBeGreaterThanOrEqual(300_000);
    expect(jittered.action === 'retry' && jittered.delayMs).toBeLessThan(330_000);
    expect(planRetry({ verdict: failed, attempt: 8, random: 0 })).toMatchObject({ action: 'dead_letter' });
  });

  it('keeps a subscription schedule exact: iAdvize retries at +10 s and +20 s, then gives up', () => {
    const schedule = [10, 20];
    expect(planRetry({ verdict: failed, attempt: 1, schedule, random: 0.9 })).toEqual({ action: 'retry', delayMs: 10_000 });
    expect(planRetry({ verdict: failed, attempt: 2, schedule, random: 0.9 })).toEqual({ action: 'retry', delayMs: 20_000 });
    expect(planRetry({ verdict: failed, attempt: 3, schedule, random: 0.9 })).toEqual({ action: 'dead_letter', reason: 'http_500, retries exhausted after 3 attempt(s)' });
  });

  it('waits at least Retry-After, bounded', () => {
    expect(planRetry({ verdict: failed, attempt: 1, schedule: [1], retryAfterMs: 7_000, random: 0 })).toEqual({ action: 'retry', delayMs: 7_000 });
    expect(planRetry({ verdict: failed, attempt: 1, schedule: [1], retryAfterMs: 10 * 24 * 3600_000, random: 0 })).toEqual({ action: 'retry', delayMs: 3600_000 });
  });

  it('dead-letters what must not be retried, and passes deliveries', () => {
    expect(planRetry({ verdict: { delivered: false, retryable: false, reason: 'gone' }, attempt: 1, random: 0 })).toEqual({ action: 'dead_letter', reason: 'gone' });
    expect(planRetry({ verdict: { delivered: true, retryable: false, reason: '2xx' }, attempt: 1, random: 0 })).toEqual({ action: 'delivered' });
  });
});

describe('parseRetryAfter', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('3', now)).toBe(3_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

describe('nextHop', () => {
  const tiers = [
    { label: '1s', ms: 1_000, topic: 'r.1s' },
    { label: '5s', ms: 5_000, topic: 'r.5s' },
    { label: '5m', ms: 300_000, topic: 'r.5m' },
  ];
  it('takes the largest tier that does not overshoot', () => {
    expect(nextHop(tiers, 12_000)).toEqual({ tier: tiers[1], waitMs: 5_000 });
    expect(nextHop(tiers, 300_000)).toEqual({ tier: tiers[2], waitMs: 300_000 });
    expect(nextHop(tiers, 3_600_000)).toEqual({ tier: tiers[2], waitMs: 300_000 });
  });
  it('waits exactly the remainder below the smallest tier', () => {
    expect(nextHop(tiers, 400)).toEqual({ tier: tiers[0], waitMs: 400 });
    expect(nextHop(tiers, -5)).toEqual({ tier: tiers[0], waitMs: 0 });
  });
});
