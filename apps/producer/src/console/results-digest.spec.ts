import type { AttemptResult } from '@app/contracts';
import { BREAKER_HINT_MS, ResultsDigest, SUCCESS_RATE_WINDOW } from './results-digest.js';

const T0 = Date.parse('2026-11-23T10:00:00Z');
let seq = 0;
function result(sub: string, fields: Partial<AttemptResult> = {}): AttemptResult {
  const at = new Date(T0 + seq++ * 1000).toISOString();
  return {
    webhookId: `msg_${seq}`,
    deliveryId: `d-${seq}`,
    eventId: `e-${seq}`,
    eventType: 'thing.happened',
    subscriptionId: sub,
    url: 'https://example.com/hook',
    attempt: 1,
    outcome: 'delivered',
    reason: '2xx',
    statusCode: 200,
    durationMs: 5,
    startedAt: at,
    finishedAt: at,
    ...fields,
  };
}
const failed = (sub: string, fields: Partial<AttemptResult> = {}) =>
  result(sub, { outcome: 'retry_scheduled', reason: 'http_500', statusCode: 500, error: { class: 'HttpError', message: 'Internal Server Error' }, ...fields });

describe('ResultsDigest', () => {
  it('counts outcomes, rates HTTP attempts only, and keeps the last error', () => {
    const digest = new ResultsDigest();
    digest.addResult(result('sub_a'));
    digest.addResult(failed('sub_a'));
    digest.addResult(result('sub_a'));
    digest.addResult(result('sub_a', { outcome: 'retry_scheduled', reason: 'rate_limited', statusCode: undefined }));
    digest.addResult(result('sub_a', { outcome: 'skipped', reason: 'subscription_disabled', statusCode: undefined }));
    const last = failed('sub_a', { outcome: 'dead_lettered', reason: 'timeout', statusCode: undefined, error: { class: 'TimeoutError', message: 'no answer in 4000 ms' } });
    digest.addResult(last);

    const health = digest.health('sub_a');
    expect(health.outcomes).toEqual({ delivered: 2, retry_scheduled: 2, dead_lettered: 1, skipped: 1 });
    expect(health.rate_window).toBe(4);
    expect(health.success_rate).toBe(0.5);
    expect(health.last_error).toEqual({ reason: 'timeout', status_code: undefined, message: 'no answer in 4000 ms', at: last.startedAt });
    expect(health.last_attempt_at).toBe(last.startedAt);
    expect(digest.attempts('sub_a').map((r) => r.reason)).toEqual(['timeout', 'subscription_disabled', 'rate_limited', '2xx', 'http_500', '2xx']);
    expect(digest.attempts('sub_a', 2)).toHaveLength(2);
  });

  it('reports nothing for a subscription without results', () => {
    const digest = new ResultsDigest();
    expect(digest.health('sub_none')).toMatchObject({ success_rate: null, rate_window: 0, breaker: 'closed', dlq_count: 0, last_error: undefined });
    expect(digest.attempts('sub_none')).toEqual([]);
    expect(digest.has('sub_none')).toBe(false);
  });

  it('rates over the last window of attempts and keeps the 50 most recent', () => {
    const digest = new ResultsDigest();
    for (let i = 0; i < SUCCESS_RATE_WINDOW; i++) digest.addResult(failed('sub_w'));
    for (let i = 0; i < SUCCESS_RATE_WINDOW / 4; i++) digest.addResult(result('sub_w'));
    const health = digest.health('sub_w');
    expect(health.rate_window).toBe(SUCCESS_RATE_WINDOW);
    expect(health.success_rate).toBe(0.25);
    expect(health.outcomes.retry_scheduled).toBe(SUCCESS_RATE_WINDOW);
    expect(digest.attempts('sub_w')).toHaveLength(50);
    expect(digest.attempts('sub_w', 100)).toHaveLength(50);
  });

  it('shows the breaker open for a minute after a circuit_open result, closed after a delivery', () => {
    const digest = new ResultsDigest();
    const held = result('sub_b', { outcome: 'retry_scheduled', reason: 'circuit_open', statusCode: undefined });
    digest.addResult(held);
    const heldAt = Date.parse(held.finishedAt);
    expect(digest.health('sub_b', heldAt + 1000).breaker).toBe('open');
    expect(digest.health('sub_b', heldAt + BREAKER_HINT_MS).breaker).toBe('closed');
    // Held back: not an attempt, so no rate and no last error.
    expect(digest.health('sub_b', heldAt).success_rate).toBeNull();
    digest.addResult(result('sub_b'));
    expect(digest.health('sub_b', heldAt + 1000).breaker).toBe('closed');
  });

  it('counts dead letters and forgets the least recently active subscription beyond the cap', () => {
    const digest = new ResultsDigest(2);
    digest.addDeadLetter('sub_1');
    digest.addDeadLetter('sub_1');
    digest.addResult(result('sub_2'));
    digest.addResult(result('sub_1'));
    digest.addResult(result('sub_3'));
    expect(digest.size).toBe(2);
    expect(digest.has('sub_2')).toBe(false);
    expect(digest.health('sub_1').dlq_count).toBe(2);
    expect(digest.has('sub_3')).toBe(true);
  });

  it('keeps recorded request bodies within a budget, dropping the oldest first', () => {
    const digest = new ResultsDigest(10, 10);
    const [a, b, c] = ['aaaa', 'bbbb', 'cccc'].map((body) => result('sub_a', { requestBody: body }));
    digest.addResult(a!);
    digest.addResult(b!);
    expect(digest.attempts('sub_a').map((r) => r.requestBody)).toEqual(['bbbb', 'aaaa']);
    digest.addResult(c!);
    // 12 characters over a budget of 10: the oldest body goes, its attempt stays.
    expect(digest.attempts('sub_a').map((r) => [r.deliveryId, r.requestBody])).toEqual([
      [c!.deliveryId, 'cccc'],
      [b!.deliveryId, 'bbbb'],
      [a!.deliveryId, undefined],
    ]);
    // The results handed in are not changed.
    expect(a!.requestBody).toBe('aaaa');
  });
});
