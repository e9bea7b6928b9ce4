import type { AttemptResult } from '@app/contracts';
import type { Receiver } from './support/receiver.js';
import { GatewayRig } from './support/rig.js';

/** Protecting endpoints and the gateway: circuit breaker, rate limit, SSRF refusal. Each receiver is its own origin. */
describe('delivery engine: circuit breaker, rate limit, SSRF', () => {
  const rig = new GatewayRig(
    'protect',
    { DELIVERY_BREAKER_THRESHOLD: '2', DELIVERY_BREAKER_COOLDOWN_MS: '2000', DELIVERY_AUTO_DISABLE_AFTER: '2s', RETRY_TIERS: '1s,5s' },
    { receivers: 3 },
  );
  const { gateway, publisher, source } = rig;
  const [breakerReceiver, rateReceiver, deadReceiver] = rig.receivers as [Receiver, Receiver, Receiver];
  const results = rig.reader('results');
  const subscribe = async (body: Record<string, unknown>) => {
    const res = await gateway.api('POST', '/v1/subscriptions', body);
    expect(res.status).toBe(201);
    return res.body.id as string;
  };
  const resultsOf = (eventId: string) => results.records.map((r) => r.value as AttemptResult).filter((r) => r.eventId === eventId);

  beforeAll(() => rig.start());
  afterAll(() => rig.stop());

  it('opens the breaker after consecutive failures, holds attempts back, and closes after a good probe', async () => {
    breakerReceiver.behave('/unstable', { sequence: [500, 500] });
    await subscribe({ url: breakerReceiver.url('/unstable'), events: ['unstable.*'], retry: { schedule: [1, 1, 1, 1, 1] } });
    await publisher.publish(source, { id: 'brk-1', type: 'unstable.event', data: {} });
    await results.waitFor<AttemptResult>((r) => r.eventId === 'brk-1' && r.outcome === 'delivered', 30_000);

    const requests = breakerReceiver.on('/unstable');
    expect(requests).toHaveLength(3);
    // The third request is the half-open probe, after the 2 s cool-down that began with the second failure.
    expect(requests[2]!.at - requests[1]!.at).toBeGreaterThanOrEqual(2_000);
    const held = resultsOf('brk-1').filter((r) => r.reason === 'circuit_open');
    expect(held.length).toBeGreaterThanOrEqual(1);
    expect(held.every((r) => r.outcome === 'retry_scheduled' && r.durationMs === 0 && r.attempt === 3)).toBe(true);

    // Closed again: the next event goes straight through.
    await publisher.publish(source, { id: 'brk-2', type: 'unstable.event', data: {} });
    const next = await results.waitFor<AttemptResult>((r) => r.eventId === 'brk-2', 10_000);
    expect(next.value).toMatchObject({ outcome: 'delivered', attempt: 1 });
  });

  it('keeps a subscription to its rate limit', async () => {
    await subscribe({ url: rateReceiver.url('/limited'), events: ['limited.*'], rate_limit: { per_second: 2 } });
    for (let i = 0; i < 6; i++) await publisher.publish(source, { id: `rate-${i}`, type: 'limited.event', data: { i } });
    const all = await rateReceiver.waitFor((rs) => rs.filter((r) => r.path === '/limited').length >= 6, 30_000, 'six rate-limited webhooks');
    const times = all.filter((r) => r.path === '/limited').map((r) => r.at).sort((a, b) => a - b);
    // A burst of 2, then 2 a second: 6 requests span at least 2 s.
    expect(times[5]! - times[0]!).toBeGreaterThanOrEqual(1_900);
    for (let i = 0; i + 4 < times.length; i++) expect(times[i + 4]! - times[i]!).toBeGreaterThanOrEqual(900);
    expect(results.records.some((r) => (r.value as AttemptResult).reason === 'rate_limited')).toBe(true);
  });

  it('disables a subscription whose attempts keep failing for DELIVERY_AUTO_DISABLE_AFTER, and says so on the results topic', async () => {
    deadReceiver.behave('/dead', { status: 500 });
    const id = await subscribe({ url: deadReceiver.url('/dead'), events: ['dead.*'], retry: { schedule: [1, 1, 1, 1, 1, 1, 1, 1] } });
    await publisher.publish(source, { id: 'dead-1', type: 'dead.event', data: {} });
    const last = await results.waitFor<AttemptResult>((r) => r.eventId === 'dead-1' && r.outcome === 'dead_lettered', 30_000);
    expect(last.value.reason).toBe('subscription_auto_disabled');
    const view = (await gateway.api('GET', `/v1/subscriptions/${id}`)).body;
    expect(view).toMatchObject({ enabled: false, disabled_reason: expect.stringContaining('every attempt failed since'), failing_since: expect.any(String) });
    const attempts = resultsOf('dead-1').filter((r) => r.statusCode === 500);
    expect(Date.parse(attempts.at(-1)!.startedAt) - Date.parse(view.failing_since)).toBeGreaterThanOrEqual(2_000);
    // Re-enabling clears the reason and the streak.
    const enabled = (await gateway.api('PATCH', `/v1/subscriptions/${id}`, { enabled: true })).body;
    expect(enabled.disabled_reason).toBeUndefined();
    expect(enabled.failing_since).toBeUndefined();
  });

  it('refuses a cloud metadata target, dead-letters it with the reason and never retries', async () => {
    await subscribe({ url: 'http://169.254.169.254/latest/meta-data', events: ['ssrf.attempt'] });
    await publisher.publish(source, { id: 'ssrf-1', type: 'ssrf.attempt', data: {} });
    const refused = await results.waitFor<AttemptResult>((r) => r.eventId === 'ssrf-1', 10_000);
    expect(refused.value).toMatchObject({ outcome: 'dead_lettered', reason: 'target_refused', error: { class: 'target_refused' } });
    await new Promise((r) => setTimeout(r, 1_500));
    expect(resultsOf('ssrf-1')).toHaveLength(1);
  });
});
