import { Webhook } from 'standardwebhooks';
import type { AttemptResult, DeadLetter, InvalidEvent } from '@app/contracts';
import { GatewayRig } from './support/rig.js';

/**
 * The walking skeleton against the real broker and a real HTTP receiver on
 * 127.0.0.1: event → match → job → attempt → result.
 */
describe('walking skeleton: Kafka event to signed webhook', () => {
  const rig = new GatewayRig('skeleton', { DELIVERY_TIMEOUT_MS: '1500', DELIVERY_CONNECT_TIMEOUT_MS: '1000' }, { read: ['results', 'invalid', 'dlq'] });
  const { gateway, receiver, publisher, source } = rig;
  const results = rig.reader('results');
  const invalid = rig.reader('invalid');
  const dlq = rig.reader('dlq');
  let subscription: { id: string; secret: string };

  beforeAll(async () => {
    await rig.start();
    const created = await gateway.api('POST', '/v1/subscriptions', {
      url: receiver.url('/deployments'),
      events: ['deployment.*'],
      filters: { 'data.environment.type': ['PRODUCTION'] },
      description: 'production deployments',
    });
    expect(created.status).toBe(201);
    subscription = created.body;
  });

  afterAll(() => rig.stop());

  it('delivers a matching event, signed so that standardwebhooks verifies it, and records the result', async () => {
    const data = { environment: { type: 'PRODUCTION' }, project: { name: 'shop' }, status: 'READY' };
    await publisher.publish(source, { id: 'evt-1', type: 'deployment.succeeded', data });

    const [req] = await receiver.waitFor((rs) => rs.some((r) => r.path === '/deployments'), 30_000, 'the webhook');
    const payload = new Webhook(subscription.secret).verify(req!.body, req!.headers as Record<string, string>);
    expect(payload).toEqual({ type: 'deployment.succeeded', timestamp: expect.any(String), data });
    expect(req!.headers['webhook-id']).toMatch(/^msg_/);
    expect(req!.headers['x-webhook-event-type']).toBe('deployment.succeeded');
    expect(req!.headers['x-webhook-attempt']).toBe('1');
    expect(Math.abs(Number(req!.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(30);

    const result = await results.waitFor<AttemptResult>((r) => r.eventId === 'evt-1');
    expect(result.key).toBe(subscription.id);
    expect(result.value).toMatchObject({
      outcome: 'delivered',
      statusCode: 200,
      subscriptionId: subscription.id,
      webhookId: req!.headers['webhook-id'],
      deliveryId: req!.headers['x-webhook-delivery-id'],
      attempt: 1,
    });
  });

  it('does not deliver an event no subscription matches', async () => {
    await publisher.publish(source, { id: 'evt-staging', type: 'deployment.succeeded', data: { environment: { type: 'STAGING' } } });
    await publisher.publish(source, { id: 'evt-other-type', type: 'job.completed', data: { environment: { type: 'PRODUCTION' } } });
    // Same key, same partition: once the marker after them arrives, they were read and skipped.
    await publisher.publish(source, { id: 'evt-marker', type: 'deployment.failed', data: { environment: { type: 'PRODUCTION' } } });
    await results.waitFor<AttemptResult>((r) => r.eventId === 'evt-marker');
    const ids = results.records.map((r) => (r.value as AttemptResult).eventId);
    expect(ids).not.toContain('evt-staging');
    expect(ids).not.toContain('evt-other-type');
  });

  it('sends a malformed event to the invalid topic with the reason, and keeps delivering', async () => {
    await publisher.publish(source, '{"id": "broken", "type": ', { key: 'bad-key' });
    await publisher.publish(source, { type: 'deployment.succeeded', data: {} }, { key: 'bad-key' });
    await publisher.publish(source, { id: 'evt-after-bad', type: 'deployment.succeeded', data: { environment: { type: 'production' } } }, { key: 'bad-key' });

    const notJson = await invalid.waitFor<InvalidEvent>((v) => v.reason.startsWith('not valid JSON'));
    expect(notJson.key).toBe('bad-key');
    expect(notJson.value).toMatchObject({ topic: source, value: '{"id": "broken", "type": ', encoding: 'utf8' });
    const noId = await invalid.waitFor<InvalidEvent>((v) => v.reason.startsWith('id is missing'));
    expect(noId.value.topic).toBe(source);
    await results.waitFor<AttemptResult>((r) => r.eventId === 'evt-after-bad' && r.outcome === 'delivered');
  });

  it('records a non-2xx answer and a timeout as failed attempts without stalling the consumer', async () => {
    receiver.behave('/failing', { status: 500, body: 'database down' });
    receiver.behave('/hanging', { delayMs: 5_000 });
    // No retries: a failed attempt is dead-lettered at once (the retry engine has its own e2e tests).
    const sub = async (path: string) =>
      (await gateway.api('POST', '/v1/subscriptions', { url: receiver.url(path), events: [`probe${path.replace('/', '.')}`], retry: { schedule: [] } })).body.id as string;
    const [failing, hanging] = [await sub('/failing'), await sub('/hanging')];

    await publisher.publish(source, { id: 'evt-500', type: 'probe.failing', data: {} });
    await publisher.publish(source, { id: 'evt-hang', type: 'probe.hanging', data: {} });
    await publisher.publish(source, { id: 'evt-healthy', type: 'deployment.succeeded', data: { environment: { type: 'PRODUCTION' } } });

    const failed = await results.waitFor<AttemptResult>((r) => r.eventId === 'evt-500');
    expect(failed.value).toMatchObject({ subscriptionId: failing, outcome: 'dead_lettered', reason: expect.stringMatching(/^http_500/), statusCode: 500, responseBody: 'database down' });
    const timedOut = await results.waitFor<AttemptResult>((r) => r.eventId === 'evt-hang');
    expect(timedOut.value).toMatchObject({ subscriptionId: hanging, outcome: 'dead_lettered', reason: expect.stringMatching(/^timeout/), error: { class: 'timeout' } });
    expect(timedOut.value.durationMs).toBeGreaterThanOrEqual(1_400);
    await results.waitFor<AttemptResult>((r) => r.eventId === 'evt-healthy' && r.outcome === 'delivered');

    const letter = await dlq.waitFor<DeadLetter>((d) => d.job.eventId === 'evt-500');
    expect(letter.value.lastResult.reason).toMatch(/^http_500/);
    expect(letter.value.job.body).toContain('probe.failing');
  });

  it('keeps subscriptions across a restart of the producer app', async () => {
    await gateway.restartProducer();
    const listed = await gateway.api('GET', '/v1/subscriptions');
    expect(listed.body.data.map((s: { id: string }) => s.id)).toContain(subscription.id);
    expect(JSON.stringify(listed.body)).not.toContain(subscription.secret);

    await publisher.publish(source, { id: 'evt-after-restart', type: 'deployment.succeeded', data: { environment: { type: 'PRODUCTION' } } });
    await results.waitFor<AttemptResult>((r) => r.eventId === 'evt-after-restart' && r.outcome === 'delivered');
    // The restarted app resumed from the committed offsets: nothing before the restart was fanned out again.
    const attemptsOf = (eventId: string) => results.records.filter((r) => (r.value as AttemptResult).eventId === eventId);
    expect(attemptsOf('evt-1')).toHaveLength(1);
    expect(attemptsOf('evt-500')).toHaveLength(1);
  });

  it('stops delivering to a deleted subscription', async () => {
    const created = await gateway.api('POST', '/v1/subscriptions', { url: receiver.url('/deleted'), events: ['gone.*'] });
    expect((await gateway.api('DELETE', `/v1/subscriptions/${created.body.id}`)).status).toBe(204);
    expect((await gateway.api('GET', `/v1/subscriptions/${created.body.id}`)).status).toBe(404);
    await publisher.publish(source, { id: 'evt-gone', type: 'gone.now', data: {} });
    await publisher.publish(source, { id: 'evt-gone-marker', type: 'deployment.succeeded', data: { environment: { type: 'PRODUCTION' } } });
    await results.waitFor<AttemptResult>((r) => r.eventId === 'evt-gone-marker');
    expect(receiver.on('/deleted')).toHaveLength(0);
  });
});
