import type { AttemptResult } from '@app/contracts';
import { GatewayRig } from './support/rig.js';

/**
 * Protection per endpoint (the subscription's URL), not per host: customers serve many
 * endpoints from one host, and one bad path must not hold back its healthy neighbours.
 */
describe('endpoint isolation on one host', () => {
  const rig = new GatewayRig(
    'isolate',
    {
      DELIVERY_MAX_IN_FLIGHT_PER_ENDPOINT: '4',
      DELIVERY_TIMEOUT_MS: '3000',
      DELIVERY_CONNECT_TIMEOUT_MS: '1000',
      DELIVERY_BREAKER_THRESHOLD: '3',
      DELIVERY_BREAKER_COOLDOWN_MS: '60000',
      RETRY_TIERS: '1s,5s',
    },
    { receivers: 1 },
  );
  const { gateway, publisher, source, receiver } = rig;
  const results = rig.reader('results');
  const subscribe = async (url: string, type: string) => {
    const res = await gateway.api('POST', '/v1/subscriptions', { url, events: [type], retry: { schedule: [1, 1, 1, 1, 1, 1, 1, 1] } });
    expect(res.status).toBe(201);
    return res.body.id as string;
  };
  const all = () => results.records.map((r) => r.value as AttemptResult);

  beforeAll(() => rig.start());
  afterAll(() => rig.stop());

  it('delivers three healthy paths at once while a hanging path and a failing path on the same host are held back', async () => {
    receiver.behave('/hang', { delayMs: 5_000 });
    receiver.behave('/fail', { status: 500 });
    await subscribe(receiver.url('/hang'), 'iso.hang');
    await subscribe(receiver.url('/fail'), 'iso.fail');
    for (const p of ['/ok1', '/ok2', '/ok3']) await subscribe(receiver.url(p), `iso${p.replace('/', '.')}`);
    // The bad paths' backlog first, then the healthy events behind it in the same partitions.
    for (let i = 0; i < 30; i++) {
      await publisher.publish(source, { id: `hang-${i}`, type: 'iso.hang', data: { i } }, { key: `k${i}` });
      await publisher.publish(source, { id: `fail-${i}`, type: 'iso.fail', data: { i } }, { key: `k${i}` });
    }
    for (let i = 0; i < 10; i++) {
      for (const p of ['ok1', 'ok2', 'ok3']) await publisher.publish(source, { id: `${p}-${i}`, type: `iso.${p}`, data: { i } }, { key: `k${i}` });
    }
    const healthy = await receiver.waitFor((rs) => rs.filter((r) => r.path.startsWith('/ok')).length >= 30, 30_000, 'thirty healthy webhooks');
    const firstHangEnded = await results.waitFor<AttemptResult>((r) => r.eventId.startsWith('hang-') && r.reason === 'timeout', 30_000);

    // Every healthy webhook arrived before the first attempt to the hanging path even timed out,
    // each on its first attempt and never held back.
    const lastHealthy = Math.max(...healthy.filter((r) => r.path.startsWith('/ok')).map((r) => r.at));
    expect(lastHealthy).toBeLessThan(Date.parse(firstHangEnded.value.finishedAt));
    const healthyResults = all().filter((r) => r.eventId.startsWith('ok'));
    expect(healthyResults.filter((r) => r.outcome !== 'delivered' || r.attempt !== 1)).toEqual([]);
    // The hanging path had no more than its cap of attempts open until the first one ended.
    expect(receiver.on('/hang').filter((r) => r.at < Date.parse(firstHangEnded.value.finishedAt)).length).toBe(4);

    // The failing path's breaker opened: its jobs are held back, each with one result for the hold, not one per hold.
    await results.waitFor<AttemptResult>((r) => r.eventId.startsWith('fail-') && r.reason === 'circuit_open', 30_000);
    await new Promise((r) => setTimeout(r, 3_000));
    const holds = new Map<string, number>();
    for (const r of all().filter((x) => x.reason === 'circuit_open' || x.reason === 'endpoint_busy')) {
      const key = `${r.webhookId}|${r.reason}|${r.attempt}`;
      holds.set(key, (holds.get(key) ?? 0) + 1);
    }
    expect(holds.size).toBeGreaterThan(0);
    expect([...holds.values()].every((n) => n === 1)).toBe(true);
  });

  it('holds a host that refuses connections back as a whole: a path never tried there is held without a connection', async () => {
    // A port nothing listens on (the receiver's server was never started there).
    const down = 'http://127.0.0.1:9';
    await subscribe(`${down}/a`, 'down.a');
    const b = await subscribe(`${down}/b`, 'down.b');
    for (let i = 0; i < 4; i++) await publisher.publish(source, { id: `down-a-${i}`, type: 'down.a', data: {} });
    await results.waitFor<AttemptResult>((r) => r.eventId.startsWith('down-a-') && r.reason === 'host_circuit_open', 30_000);
    await publisher.publish(source, { id: 'down-b-0', type: 'down.b', data: {} });
    const first = await results.waitFor<AttemptResult>((r) => r.eventId === 'down-b-0', 30_000);
    expect(first.value).toMatchObject({ subscriptionId: b, outcome: 'retry_scheduled', reason: 'host_circuit_open', durationMs: 0, attempt: 1 });
  });
});
