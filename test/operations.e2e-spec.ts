import type { AttemptResult } from '@app/contracts';
import { startDeliveryApp } from '../apps/delivery/src/delivery.app.js';
import { API_TOKEN } from './support/gateway.js';
import { GatewayRig } from './support/rig.js';

/** The value of one Prometheus sample (`name{labels} value`), or undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-z_]+)(\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = Object.fromEntries([...(match[3] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(match[4]);
  }
  return undefined;
}

/** Metrics, probes and the shutdown lifecycle against the real broker and a receiver on 127.0.0.1. */
describe('operations: metrics, logs, readiness, graceful shutdown', () => {
  const rig = new GatewayRig('ops', { TOPIC_PARTITIONS: '1', LOG_LEVEL: 'debug' });
  const { gateway, receiver, publisher, source, config } = rig;
  const results = rig.reader('results');
  /** What the apps wrote to stdout (their logs), kept off the test output. */
  const logged: string[] = [];
  const write = process.stdout.write.bind(process.stdout);

  beforeAll(() => {
    process.stdout.write = ((chunk: string | Uint8Array) => {
      logged.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    }) as typeof process.stdout.write;
    return rig.start();
  });
  afterAll(async () => {
    await rig.stop();
    process.stdout.write = write;
  });

  it('counts known traffic in /metrics on both apps', async () => {
    receiver.behave('/bad', { status: 500 });
    for (const [path, type] of [['/ok', 'metrics.ok'], ['/bad', 'metrics.bad']] as const) {
      const res = await gateway.api('POST', '/v1/subscriptions', { url: receiver.url(path), events: [type], retry: { schedule: [] } });
      expect(res.status).toBe(201);
    }
    for (let i = 0; i < 3; i++) await publisher.publish(source, { id: `ok-${i}`, type: 'metrics.ok', data: {} });
    for (let i = 0; i < 2; i++) await publisher.publish(source, { id: `bad-${i}`, type: 'metrics.bad', data: {} });
    await publisher.publish(source, '{not json');
    for (const id of ['ok-0', 'ok-1', 'ok-2', 'bad-0', 'bad-1']) await results.waitFor<AttemptResult>((r) => r.eventId === id);

    const producer = (await gateway.probe('producer', '/metrics')).text;
    expect(sample(producer, 'webhook_gateway_events_consumed_total', { topic: source })).toBe(6);
    expect(sample(producer, 'webhook_gateway_events_invalid_total', { topic: source })).toBe(1);
    expect(sample(producer, 'webhook_gateway_jobs_produced_total')).toBe(5);
    expect(sample(producer, 'webhook_gateway_consumer_lag', { group: config.source.groupId, topic: source, partition: '0' })).toBe(0);

    const delivery = (await gateway.probe('delivery', '/metrics')).text;
    expect(sample(delivery, 'webhook_gateway_attempts_total', { outcome: 'delivered', status_class: '2xx' })).toBe(3);
    expect(sample(delivery, 'webhook_gateway_attempts_total', { outcome: 'dead_lettered', status_class: '5xx' })).toBe(2);
    expect(sample(delivery, 'webhook_gateway_dead_letters_total')).toBe(2);
    expect(sample(delivery, 'webhook_gateway_attempt_duration_seconds_count', { outcome: 'delivered' })).toBe(3);
    expect(sample(delivery, 'webhook_gateway_in_flight')).toBe(0);
    expect(sample(delivery, 'webhook_gateway_circuit_breakers_open')).toBe(0);
    expect(sample(delivery, 'webhook_gateway_process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('logs JSON lines with the webhook id on every attempt, and never a secret or token', async () => {
    const secret = 'whsec_' + Buffer.from('a secret that must never be logged!').toString('base64');
    const created = await gateway.api('POST', '/v1/subscriptions', { url: receiver.url('/logged'), events: ['logs.me'], secret, headers: { Authorization: 'Bearer customer-token-1' } });
    expect(created.status).toBe(201);
    expect((await gateway.api('GET', '/v1/subscriptions', undefined, { authorization: 'Bearer wrong-token-abc' })).status).toBe(401);
    await publisher.publish(source, { id: 'log-1', type: 'logs.me', data: {} });
    const delivered = await results.waitFor<AttemptResult>((r) => r.eventId === 'log-1');
    const signature = receiver.on('/logged')[0]!.headers['webhook-signature'] as string;

    const lines = logged.join('').split('\n').filter((l) => l.startsWith('{'));
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const attemptLine = entries.find((e) => e.webhookId === delivered.value.webhookId && e.context === 'DeliveryAttempts');
    expect(attemptLine).toMatchObject({ level: 'debug', app: 'delivery', msg: 'attempt 1: delivered (2xx)', subscriptionId: created.body.id, outcome: 'delivered', statusCode: 200 });
    const all = logged.join('');
    for (const leaked of [secret.slice('whsec_'.length), 'customer-token-1', 'wrong-token-abc', API_TOKEN, config.subscriptions.secretsKey.toString('hex'), signature.split(',')[1]!]) {
      expect(all).not.toContain(leaked);
    }
  });

  it('reports readiness per check, turns not-ready at shutdown and drains in-flight attempts first', async () => {
    const ready = await gateway.probe('delivery', '/readyz');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.text)).toMatchObject({
      status: 'ok',
      info: { 'kafka-consumer': { status: 'up' }, 'kafka-producer': { status: 'up' }, subscriptions: { status: 'up' }, 'ordering-ledger': { status: 'up' } },
    });

    // The only delivery instance now answers slowly; it is closed while an attempt is in flight.
    receiver.behave('/slow', { delayMs: 2_000 });
    await gateway.api('POST', '/v1/subscriptions', { url: receiver.url('/slow'), events: ['drain.me'] });
    await publisher.publish(source, { id: 'drain-1', type: 'drain.me', data: {} });
    await receiver.waitFor((rs) => rs.some((r) => r.path === '/slow'), 20_000, 'the slow request');
    const app = gateway.delivery!;
    const closing = app.close();
    await new Promise((r) => setTimeout(r, 200));
    const during = await gateway.probe('delivery', '/readyz');
    expect(during.status).toBe(503);
    expect(JSON.parse(during.text)).toMatchObject({ status: 'shutting_down', error: { lifecycle: { status: 'down', reason: 'shutting down' } } });
    await closing;
    // The attempt in flight finished and its outcome was written before the app left.
    const result = await results.waitFor<AttemptResult>((r) => r.eventId === 'drain-1', 5_000);
    expect(result.value.outcome).toBe('delivered');
    expect(receiver.on('/slow')).toHaveLength(1);
    gateway.delivery = await startDeliveryApp(config);
  });
});
