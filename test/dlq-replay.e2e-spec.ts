import type { AttemptResult, DeadLetter } from '@app/contracts';
import { GatewayRig } from './support/rig.js';

/** DLQ replay (`POST /v1/dlq/replay`) against the real broker and a receiver on 127.0.0.1. */
describe('DLQ replay', () => {
  const rig = new GatewayRig('replay', {}, { read: ['results', 'dlq'] });
  const { gateway, receiver, publisher, source } = rig;
  const results = rig.reader('results');
  const dlq = rig.reader('dlq');
  const replay = (body: Record<string, unknown>) => gateway.api('POST', '/v1/dlq/replay', body);
  let failing: string;
  const eventIds = ['r1', 'r2', 'r3'];

  beforeAll(async () => {
    await rig.start();
    receiver.behave('/failing', { status: 500 });
    receiver.behave('/other', { status: 500 });
    const a = await gateway.api('POST', '/v1/subscriptions', { url: receiver.url('/failing'), events: ['replay.me'], tenant: 'acme', retry: { schedule: [] } });
    const b = await gateway.api('POST', '/v1/subscriptions', { url: receiver.url('/other'), events: ['replay.other'], retry: { schedule: [] } });
    failing = a.body.id;
    expect(b.status).toBe(201);
    for (const id of eventIds) await publisher.publish(source, { id, type: 'replay.me', tenant: 'acme', data: {} });
    await publisher.publish(source, { id: 'o1', type: 'replay.other', data: {} });
    for (const id of [...eventIds, 'o1']) await dlq.waitFor<DeadLetter>((d) => d.job.eventId === id);
  });

  afterAll(() => rig.stop());

  it('rejects bad filters with a 400 that names the field', async () => {
    const badLimit = await replay({ limit: 0 });
    expect(badLimit.status).toBe(400);
    expect(JSON.stringify(badLimit.body.message)).toContain('limit');
    const badSince = await replay({ since: 'yesterday' });
    expect(badSince.status).toBe(400);
    expect(JSON.stringify(badSince.body.message)).toContain('since');
    expect((await gateway.api('POST', '/v1/dlq/replay', {}, {})).status).toBe(401);
  });

  it('counts on a dry run and sends nothing', async () => {
    const before = receiver.requests.length;
    const res = await replay({ subscription_id: failing, dry_run: true });
    expect(res).toMatchObject({ status: 200, body: { dry_run: true, matched: 3, replayed: 0, already_replayed: 0 } });
    expect((await replay({ tenant: 'acme', dry_run: true })).body.matched).toBe(3);
    expect((await replay({ dry_run: true })).body.matched).toBe(4);
    expect((await replay({ subscription_id: failing, until: '2020-01-01T00:00:00Z', dry_run: true })).body.matched).toBe(0);
    expect((await replay({ subscription_id: failing, since: new Date(Date.now() + 60_000).toISOString(), dry_run: true })).body.matched).toBe(0);
    expect(receiver.requests.length).toBe(before);
  });

  it('replays with the same webhook-id and a fresh schedule, and never sends a dead letter twice', async () => {
    receiver.behave('/failing', { status: 200 });
    const original = new Set(receiver.on('/failing').map((r) => r.headers['webhook-id']));
    expect(original.size).toBe(3);

    const first = await replay({ subscription_id: failing, limit: 2 });
    expect(first.body).toEqual({ dry_run: false, matched: 2, replayed: 2, already_replayed: 0 });
    const second = await replay({ subscription_id: failing });
    expect(second.body).toEqual({ dry_run: false, matched: 1, replayed: 1, already_replayed: 2 });
    const third = await replay({ subscription_id: failing });
    expect(third.body).toEqual({ dry_run: false, matched: 0, replayed: 0, already_replayed: 3 });

    for (const id of eventIds) await results.waitFor<AttemptResult>((r) => r.eventId === id && r.outcome === 'delivered');
    const delivered = receiver.on('/failing').filter((r) => r.status === 200);
    expect(delivered).toHaveLength(3);
    expect(new Set(delivered.map((r) => r.headers['webhook-id']))).toEqual(original);
    expect(delivered.map((r) => r.headers['x-webhook-attempt'])).toEqual(['1', '1', '1']);

    // Nothing more arrives for /failing: a later event of the other subscription is the marker.
    receiver.behave('/other', { status: 200 });
    await publisher.publish(source, { id: 'o2', type: 'replay.other', data: {} });
    await results.waitFor<AttemptResult>((r) => r.eventId === 'o2' && r.outcome === 'delivered');
    expect(receiver.on('/failing').filter((r) => r.status === 200)).toHaveLength(3);
  });
});
