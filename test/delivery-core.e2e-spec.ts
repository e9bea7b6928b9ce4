import type { AttemptResult, DeadLetter } from '@app/contracts';
import { Webhook } from 'standardwebhooks';
import { testKafka, TopicReader } from './support/kafka.js';
import { GatewayRig } from './support/rig.js';

/**
 * One writer per record (the API writes a subscription's configuration, the delivery side its
 * health), and no record read again forever.
 */
describe('delivery core: one writer per record, oversized jobs', () => {
  const rig = new GatewayRig('core', { RETRY_TIERS: '1s', DELIVERY_BREAKER_THRESHOLD: '1000', DELIVERY_AUTO_DISABLE_AFTER: '0' }, { receivers: 1, read: ['results', 'dlq'] });
  const { gateway, publisher, source, receiver } = rig;
  const results = rig.reader('results');
  const dlq = rig.reader('dlq');
  // Who writes the configuration records: only the API (one record per confirmed API write).
  const configs = new TopicReader(testKafka(), rig.topics.subscriptions);

  beforeAll(async () => {
    // A retry tier pre-created by an operator with a smaller max.message.bytes than the deliveries topic.
    const admin = testKafka().admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic: rig.topics.retry[0]!.topic, numPartitions: 3, replicationFactor: 1, configEntries: [{ name: 'max.message.bytes', value: '65536' }] }],
    });
    await admin.disconnect();
    await rig.start();
    await configs.start();
  });
  afterAll(async () => {
    await configs.stop();
    await rig.stop();
  });

  it('never loses a confirmed API write to concurrent health changes, and only a user re-enable clears a gateway disable', async () => {
    // Every other attempt fails: the delivery side starts and ends the failure streak again and again.
    let n = 0;
    receiver.behave('/flaky', { statusOf: () => (n++ % 2 === 0 ? 500 : 200) });
    const created = await gateway.api('POST', '/v1/subscriptions', { url: receiver.url('/flaky'), events: ['core.flaky'], retry: { schedule: [1, 1, 1, 1, 1, 1] } });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const events = Array.from({ length: 20 }, (_, i) => `flaky-${i}`);
    for (const e of events) await publisher.publish(source, { id: e, type: 'core.flaky', data: {} }, { key: e });
    // Meanwhile the API rotates the secret and edits the description, each write confirmed before the next.
    let secret = created.body.secret as string;
    for (let i = 0; i < 20; i++) {
      const patched = await gateway.api('PATCH', `/v1/subscriptions/${id}`, { description: `v${i}` });
      expect(patched.status).toBe(200);
      const rotated = await gateway.api('POST', `/v1/subscriptions/${id}/secret/rotate`, { old_secret_ttl_seconds: 1 });
      expect(rotated.status).toBe(200);
      secret = rotated.body.secret as string;
      await new Promise((r) => setTimeout(r, 50));
    }
    await results.waitFor<AttemptResult>(() => events.every((e) => results.records.some((r) => (r.value as AttemptResult).eventId === e && (r.value as AttemptResult).outcome === 'delivered')), 60_000);
    // The last confirmed writes stand: the description, and the newest secret signs the next webhook.
    expect((await gateway.api('GET', `/v1/subscriptions/${id}`)).body.description).toBe('v19');
    receiver.behave('/flaky', { status: 200 });
    await new Promise((r) => setTimeout(r, 1_100));
    const test = await gateway.api('POST', `/v1/subscriptions/${id}/test`);
    const isTest = (r: { headers: Record<string, unknown> }) => r.headers['webhook-id'] === test.body.webhook_id;
    const sent = await receiver.waitFor((rs) => rs.some(isTest), 30_000, 'the test webhook');
    const webhook = sent.find(isTest)!;
    expect(() => new Webhook(secret).verify(webhook.body, webhook.headers as Record<string, string>)).not.toThrow();

    // 410 Gone: the gateway disables it (its health record); a PATCH of another field keeps it disabled.
    receiver.behave('/flaky', { status: 410 });
    await publisher.publish(source, { id: 'gone-1', type: 'core.flaky', data: {} });
    await dlq.waitFor<DeadLetter>((l) => l.job.eventId === 'gone-1', 30_000);
    await expect(gateway.api('GET', `/v1/subscriptions/${id}`)).resolves.toMatchObject({ body: { enabled: false, disabled_reason: expect.stringContaining('410'), description: 'v19' } });
    const edited = await gateway.api('PATCH', `/v1/subscriptions/${id}`, { description: 'after-gone' });
    expect(edited.body).toMatchObject({ enabled: false, disabled_reason: expect.stringContaining('410'), description: 'after-gone' });
    const reenabled = await gateway.api('PATCH', `/v1/subscriptions/${id}`, { enabled: true });
    expect(reenabled.body).toMatchObject({ enabled: true, description: 'after-gone' });
    expect(reenabled.body.disabled_reason).toBeUndefined();
    expect(reenabled.body.failing_since).toBeUndefined();

    // The configuration record was written by the API alone: create, 20 PATCHes, 20 rotations, 2 PATCHes.
    await configs.waitCaughtUp();
    expect(configs.records.filter((r) => r.key === id).length).toBe(1 + 20 + 20 + 2);
  });

  it("dead-letters a job whose retry record is over the tier topic's max.message.bytes, without its body, instead of reading it again", async () => {
    receiver.behave('/big', { status: 500 });
    await gateway.api('POST', '/v1/subscriptions', { url: receiver.url('/big'), events: ['core.big'], format: 'raw', retry: { schedule: [1] } });
    await publisher.publish(source, { id: 'big-1', type: 'core.big', data: { pad: 'x'.repeat(100_000) } });
    const letter = await dlq.waitFor<DeadLetter>((l) => l.job.eventId === 'big-1', 30_000);
    expect(letter.value.lastResult).toMatchObject({ outcome: 'dead_lettered', reason: 'job_too_large', statusCode: 500 });
    expect(letter.value.job.body).toBe('');
    expect(receiver.on('/big')).toHaveLength(1);
  });
});
