import type { AttemptResult } from '@app/contracts';
import { Receiver } from './support/receiver.js';
import { GatewayRig } from './support/rig.js';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: { key: string; value: { stringValue?: string; intValue?: string | number } }[];
}

/** W3C trace context and OpenTelemetry spans (TRACING_OTLP_URL) against a real OTLP/HTTP endpoint on 127.0.0.1. */
describe('tracing', () => {
  const collector = new Receiver();
  const rig = new GatewayRig('tracing', { TRACING_OTLP_URL: 'http://127.0.0.1:9/v1/traces' });
  const { gateway, receiver, publisher, source } = rig;
  const results = rig.reader('results');
  const spans = (): OtlpSpan[] =>
    collector
      .on('/v1/traces')
      .flatMap((r) => (JSON.parse(r.body) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] }).resourceSpans)
      .flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));

  beforeAll(async () => {
    await collector.start();
    collector.behave('/v1/traces', { body: '{}', headers: { 'content-type': 'application/json' } });
    // The collector's port is known only now.
    Object.assign(rig.config.tracing, { otlpUrl: collector.url('/v1/traces') });
    await rig.start();
  });
  afterAll(async () => {
    await rig.stop();
    await collector.stop();
  });

  it('links event → fan-out span → attempt span → the webhook request', async () => {
    await gateway.api('POST', '/v1/subscriptions', { url: receiver.url('/traced'), events: ['trace.me'] });
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const publisherSpan = '00f067aa0ba902b7';
    await publisher.publish(source, { id: 'traced-1', type: 'trace.me', data: {} }, { headers: { traceparent: `00-${traceId}-${publisherSpan}-01` } });
    await results.waitFor<AttemptResult>((r) => r.eventId === 'traced-1' && r.outcome === 'delivered');

    const deadline = Date.now() + 15_000;
    while (!spans().some((s) => s.name === 'webhook attempt') || !spans().some((s) => s.name === 'fan-out')) {
      if (Date.now() > deadline) throw new Error(`spans not exported; got ${JSON.stringify(spans().map((s) => s.name))}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const fanOut = spans().find((s) => s.name === 'fan-out')!;
    const attempt = spans().find((s) => s.name === 'webhook attempt')!;
    expect(fanOut).toMatchObject({ traceId, parentSpanId: publisherSpan });
    expect(attempt).toMatchObject({ traceId, parentSpanId: fanOut.spanId });
    const attrs = Object.fromEntries(attempt.attributes.map((a) => [a.key, a.value.stringValue ?? Number(a.value.intValue)]));
    expect(attrs).toMatchObject({ 'webhook.subscription_id': expect.stringMatching(/^sub_/), 'http.response.status_code': 200, 'webhook.attempt': 1 });
    // The receiver sees the attempt span as its parent.
    expect(receiver.on('/traced')[0]!.headers.traceparent).toBe(`00-${traceId}-${attempt.spanId}-01`);
  });
});
