import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { AttemptResult, DeadLetter } from '@app/contracts';
import { GatewayRig } from './support/rig.js';

/** The delivery engine against the real broker and receivers on 127.0.0.1. */
describe('delivery engine: retries, outcome rules, isolation', () => {
  // One partition everywhere: jobs of different endpoints share a deliveries partition.
  const rig = new GatewayRig('delivery', { TOPIC_PARTITIONS: '1', DELIVERY_TIMEOUT_MS: '4000', RETRY_TIERS: '1s,5s,30s' }, { read: ['results', 'dlq'] });
  const { gateway, receiver, publisher, source } = rig;
  const results = rig.reader('results');
  const dlq = rig.reader('dlq');
  const subscribe = async (path: string, type: string, extra: Record<string, unknown> = {}) => {
    const res = await gateway.api('POST', '/v1/subscriptions', { url: receiver.url(path), events: [type], ...extra });
    expect(res.status).toBe(201);
    return res.body.id as string;
  };
  const resultsOf = (eventId: string) => results.records.map((r) => r.value as AttemptResult).filter((r) => r.eventId === eventId);

  beforeAll(() => rig.start());
  afterAll(() => rig.stop());

  it('retries on the subscription schedule, never early, then dead-letters with every attempt time', async () => {
    receiver.behave('/flaky', { status: 500 });
    const sub = await subscribe('/flaky', 'retry.me', { retry: { schedule: [1, 2] } });
    await publisher.publish(source, { id: 'retry-1', type: 'retry.me', data: {} });

    const letter = await dlq.waitFor<DeadLetter>((d) => d.job.eventId === 'retry-1', 30_000);
    const requests = receiver.on('/flaky');
    expect(requests).toHaveLength(3);
    expect(requests.map((r) => r.headers['x-webhook-attempt'])).toEqual(['1', '2', '3']);
    expect(new Set(requests.map((r) => r.headers['webhook-id'])).size).toBe(1);
    expect(new Set(requests.map((r) => r.headers['x-webhook-delivery-id'])).size).toBe(3);
    const gaps = [requests[1]!.at - requests[0]!.at, requests[2]!.at - requests[1]!.at];
    expect(gaps[0]).toBeGreaterThanOrEqual(1_000);
    expect(gaps[1]).toBeGreaterThanOrEqual(2_000);
    // Late by at most a little: the hop wait, the poll and the attempt itself.
    expect(gaps[0]).toBeLessThan(1_000 + 2_500);
    expect(gaps[1]).toBeLessThan(2_000 + 2_500);

    await results.waitFor<AttemptResult>((r) => r.eventId === 'retry-1' && r.outcome === 'dead_lettered');
    const outcomes = resultsOf('retry-1').sort((a, b) => a.attempt - b.attempt);
    expect(outcomes.map((r) => [r.attempt, r.outcome, r.statusCode])).toEqual([
      [1, 'retry_scheduled', 500],
      [2, 'retry_scheduled', 500],
      [3, 'dead_lettered', 500],
    ]);
    expect(Date.parse(outcomes[0]!.nextAttemptAt!)).toBeLessThanOrEqual(requests[1]!.at);
    expect(letter.key).toBe(sub);
    expect(letter.value.attemptTimestamps).toHaveLength(3);
    expect(letter.value.lastResult.reason).toMatch(/^http_500, retries exhausted/);
  });

  it('honours Retry-After on 429', async () => {
    receiver.behave('/throttled', { sequence: [429], headers: { 'retry-after': '3' } });
    await subscribe('/throttled', 'throttle.me', { retry: { schedule: [1] } });
    await publisher.publish(source, { id: 'throttle-1', type: 'throttle.me', data: {} });
    await results.waitFor<AttemptResult>((r) => r.eventId === 'throttle-1' && r.outcome === 'delivered', 30_000);
    const [first, second] = receiver.on('/throttled');
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(3_000);
  });

  it('disables the subscription on 410 Gone and says why', async () => {
    receiver.behave('/gone', { status: 410 });
    const sub = await subscribe('/gone', 'gone.away');
    await publisher.publish(source, { id: 'gone-1', type: 'gone.away', data: {} });
    const result = await results.waitFor<AttemptResult>((r) => r.eventId === 'gone-1');
    expect(result.value).toMatchObject({ outcome: 'dead_lettered', reason: 'gone', statusCode: 410 });
    let view: { enabled: boolean; disabled_reason?: string } | undefined;
    for (let i = 0; i < 50 && view?.enabled !== false; i++) {
      view = (await gateway.api('GET', `/v1/subscriptions/${sub}`)).body;
      if (view?.enabled !== false) await new Promise((r) => setTimeout(r, 100));
    }
    expect(view).toMatchObject({ enabled: false, disabled_reason: expect.stringContaining('410') });
    await publisher.publish(source, { id: 'gone-2', type: 'gone.away', data: {} });
    await publisher.publish(source, { id: 'gone-marker', type: 'retry.me', data: {} });
    await results.waitFor<AttemptResult>((r) => r.eventId === 'gone-marker');
    expect(receiver.on('/gone')).toHaveLength(1);
  });

  it('does not let a hanging endpoint delay another endpoint on the same partition', async () => {
    receiver.behave('/hangs', { delayMs: 10_000 });
    await subscribe('/hangs', 'slow.lane', { retry: { schedule: [] } });
    await subscribe('/healthy', 'fast.lane');
    await publisher.publish(source, { id: 'slow-1', type: 'slow.lane', data: {} });
    await receiver.waitFor((rs) => rs.some((r) => r.path === '/hangs'), 20_000, 'the hanging request');
    const sent = Date.now();
    await publisher.publish(source, { id: 'fast-1', type: 'fast.lane', data: {} });
    const [healthy] = (await receiver.waitFor((rs) => rs.some((r) => r.path === '/healthy'), 20_000, 'the healthy request')).filter((r) => r.path === '/healthy');
    // Delivered while the other attempt still hangs (it times out after 4 s).
    expect(healthy!.at - sent).toBeLessThan(2_500);
    expect(resultsOf('slow-1')).toHaveLength(0);
    const slow = await results.waitFor<AttemptResult>((r) => r.eventId === 'slow-1', 20_000);
    expect(slow.value).toMatchObject({ outcome: 'dead_lettered', reason: expect.stringMatching(/^timeout/) });
  });

  it('writes result records that match the published JSON schema (docs/schemas)', () => {
    const schema = JSON.parse(readFileSync(new URL('../docs/schemas/attempt-result.schema.json', import.meta.url), 'utf8')) as object;
    const validate = new Ajv2020({ allErrors: true, validateFormats: false }).compile(schema);
    expect(results.records.length).toBeGreaterThan(10);
    const outcomes = new Set<string>();
    for (const record of results.records) {
      if (!validate(record.value)) throw new Error(`${JSON.stringify(record.value)}: ${JSON.stringify(validate.errors)}`);
      outcomes.add((record.value as AttemptResult).outcome);
    }
    expect([...outcomes].sort()).toEqual(['dead_lettered', 'delivered', 'retry_scheduled']);
  });
});
