import type { AttemptResult } from '@app/contracts';
import type { ReceivedRequest } from './support/receiver.js';
import { GatewayRig } from './support/rig.js';

/** Ordered delivery per key (`ordering: "key"`) against the real broker and a receiver on 127.0.0.1. */
describe('ordered delivery per key', () => {
  const rig = new GatewayRig('ordered', { TOPIC_PARTITIONS: '3', DELIVERY_TIMEOUT_MS: '3000', RETRY_TIERS: '1s,5s' });
  const { gateway, receiver, publisher, source } = rig;
  const results = rig.reader('results');
  const eventIdOf = (r: ReceivedRequest) => (JSON.parse(r.body) as { data: { id: string } }).data.id;
  /** Requests to `path`, as [event id, status] in the order they arrived. */
  const timeline = (path: string, prefix: string) =>
    receiver
      .on(path)
      .map((r) => [eventIdOf(r), r.status] as const)
      .filter(([id]) => id.startsWith(prefix));
  const deliveredAt = (path: string, id: string) => receiver.on(path).find((r) => eventIdOf(r) === id && r.status === 200)?.at;
  const allDelivered = (path: string, ids: string[]) => (rs: ReceivedRequest[]) =>
    ids.every((id) => rs.some((r) => r.path === path && r.status === 200 && eventIdOf(r) === id));
  const subscribe = async (path: string, type: string, extra: Record<string, unknown>) => {
    const res = await gateway.api('POST', '/v1/subscriptions', { url: receiver.url(path), events: [type], ordering: 'key', ...extra });
    expect(res.status).toBe(201);
    expect(res.body.ordering).toBe('key');
    return res.body.id as string;
  };
  const publish = (type: string, key: string, id: string) => publisher.publish(source, { id, type, data: { id } }, { key });

  beforeAll(() => rig.start());
  afterAll(() => rig.stop());

  it('delivers a key in order while one of its events is retried, without holding up other keys', async () => {
    // a2 fails twice; everything else is accepted at once.
    let a2Failures = 0;
    receiver.behave('/ordered', { statusOf: (r) => (eventIdOf(r) === 'a2' && a2Failures++ < 2 ? 500 : undefined) });
    await subscribe('/ordered', 'order.changed', { retry: { schedule: [1, 1, 1, 1] } });
    for (let i = 1; i <= 5; i++) {
      await publish('order.changed', 'key-a', `a${i}`);
      await publish('order.changed', 'key-b', `b${i}`);
    }
    await receiver.waitFor(allDelivered('/ordered', ['a1', 'a2', 'a3', 'a4', 'a5', 'b1', 'b2', 'b3', 'b4', 'b5']), 60_000, 'all ten deliveries');

    // Key a: nothing after a2 was attempted before a2 was delivered, and each went once.
    expect(timeline('/ordered', 'a')).toEqual([
      ['a1', 200],
      ['a2', 500],
      ['a2', 500],
      ['a2', 200],
      ['a3', 200],
      ['a4', 200],
      ['a5', 200],
    ]);
    expect(timeline('/ordered', 'b')).toEqual([1, 2, 3, 4, 5].map((i) => [`b${i}`, 200]));
    // Key b did not wait for key a's retries.
    expect(deliveredAt('/ordered', 'b5')!).toBeLessThan(deliveredAt('/ordered', 'a2')!);
    // The jobs that waited say so on the results topic.
    const waited = await results.waitFor<AttemptResult>((r) => r.eventId === 'a3' && r.outcome === 'retry_scheduled');
    expect(waited.value).toMatchObject({ reason: 'waiting_for_earlier_event', attempt: 1 });
  });

  it('keeps a parked key in order across a restart of the delivery app', async () => {
    // c1 fails its first attempt and waits 3 s for the next; c2 and c3 wait on the ordering topic.
    let c1Failures = 0;
    receiver.behave('/restart', { statusOf: (r) => (eventIdOf(r) === 'c1' && c1Failures++ < 1 ? 500 : undefined) });
    await subscribe('/restart', 'order.restart', { retry: { schedule: [3] } });
    for (const id of ['c1', 'c2', 'c3']) await publish('order.restart', 'key-c', id);
    await results.waitFor<AttemptResult>((r) => r.eventId === 'c3' && r.reason === 'waiting_for_earlier_event', 30_000);

    await gateway.restartDelivery();

    await receiver.waitFor(allDelivered('/restart', ['c1', 'c2', 'c3']), 60_000, 'c1, c2 and c3');
    expect(timeline('/restart', 'c')).toEqual([
      ['c1', 500],
      ['c1', 200],
      ['c2', 200],
      ['c3', 200],
    ]);
  });

  it('lets an unordered subscription deliver a key out of order (ordering is opt-in)', async () => {
    let d1Failures = 0;
    receiver.behave('/unordered', { statusOf: (r) => (eventIdOf(r) === 'd1' && d1Failures++ < 1 ? 500 : undefined) });
    const res = await gateway.api('POST', '/v1/subscriptions', { url: receiver.url('/unordered'), events: ['order.free'], retry: { schedule: [1] } });
    expect(res.body.ordering).toBe('none');
    await publish('order.free', 'key-d', 'd1');
    await publish('order.free', 'key-d', 'd2');
    await receiver.waitFor(allDelivered('/unordered', ['d1', 'd2']), 30_000, 'd1 and d2');
    // d2 did not wait for d1's retry.
    expect(deliveredAt('/unordered', 'd2')!).toBeLessThan(deliveredAt('/unordered', 'd1')!);
  });
});
