import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gatewayTopics } from '@app/config';
import type { AttemptResult } from '@app/contracts';
import { Gateway, testConfig } from './support/gateway.js';
import { EventPublisher, testKafka, TopicReader } from './support/kafka.js';

const RESPONSE_BODY_BYTES = 1024;
const HUGE_BYTES = 200 * 1024 * 1024;

/**
 * A receiver that misbehaves on purpose, one way per path; what it saw is kept per path
 * (requests, and for /huge the bytes it managed to write before the gateway let go).
 */
class HostileReceiver {
  readonly hits = new Map<string, number>();
  hugeBytesWritten = 0;
  private server?: Server;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const path = req.url ?? '/';
      this.hits.set(path, (this.hits.get(path) ?? 0) + 1);
      req.resume();
      req.on('end', () => {
        const status = /^\/status\/(\d{3})$/.exec(path);
        if (status) {
          res.writeHead(Number(status[1]), { 'retry-after': '1' }).end('status');
          return;
        }
        switch (path) {
          case '/reset':
            req.socket.destroy();
            return;
          case '/hang-after-headers':
            res.writeHead(200, { 'content-type': 'text/plain' });
            res.flushHeaders();
            return;
          case '/drip': {
            // One byte every 100 ms, for ever: each byte comes before undici's idle body timeout.
            res.writeHead(200, { 'content-type': 'text/plain' });
            const timer = setInterval(() => res.write('x'), 100);
            res.on('close', () => clearInterval(timer));
            return;
          }
          case '/huge': {
            res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(HUGE_BYTES) });
            const chunk = Buffer.alloc(64 * 1024, 'h');
            const pump = () => {
              while (this.hugeBytesWritten < HUGE_BYTES && !res.destroyed) {
                this.hugeBytesWritten += chunk.length;
                if (!res.write(chunk)) return void res.once('drain', pump);
              }
              res.end();
            };
            pump();
            return;
          }
          case '/redirect':
            res.writeHead(302, { location: '/redirect-target' }).end();
            return;
          case '/early-hints':
            res.writeEarlyHints({ link: '</style.css>; rel=preload' });
            res.writeHead(200).end('ok');
            return;
          default:
            res.writeHead(200).end('ok');
        }
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  url(path: string): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}${path}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}

/** Receivers that reset, hang, drip, flood, redirect, and answer every status class. */
describe('receiver faults: each handled by the delivery rules, nothing stalls', () => {
  const config = testConfig('faults', { DELIVERY_TIMEOUT_MS: '3000', DELIVERY_RESPONSE_BODY_BYTES: String(RESPONSE_BODY_BYTES), DELIVERY_BREAKER_THRESHOLD: '1000' });
  const source = config.source.topics[0]!;
  const kafka = testKafka();
  const gateway = new Gateway(config);
  const receiver = new HostileReceiver();
  const publisher = new EventPublisher(kafka);
  const results = new TopicReader(kafka, gatewayTopics(config).results);
  const resultOf = (eventId: string) => results.waitFor<AttemptResult>((r) => r.eventId === eventId && r.outcome !== 'retry_scheduled', 60_000);

  /** One subscription per path (no retries: the first attempt's verdict is final), one event to it. */
  const sendTo = async (path: string): Promise<string> => {
    const type = `fault.${path.replace(/\W/g, '_')}`;
    const res = await gateway.api('POST', '/v1/subscriptions', { url: receiver.url(path), events: [type], retry: { schedule: [] } });
    expect(res.status).toBe(201);
    const eventId = `ev${path.replace(/\W/g, '-')}`;
    await publisher.publish(source, { id: eventId, type, data: {} }, { key: path });
    return eventId;
  };

  beforeAll(async () => {
    await receiver.start();
    await gateway.start();
    await Promise.all([publisher.connect(), results.start()]);
  });

  afterAll(async () => {
    await Promise.all([publisher.disconnect(), results.stop()]);
    await gateway.stop();
    await receiver.stop();
  });

  it('times out a receiver that hangs after its headers or drips its body, while a healthy one is served meanwhile', async () => {
    const hang = await sendTo('/hang-after-headers');
    const drip = await sendTo('/drip');
    const healthy = await sendTo('/healthy');
    const [hangResult, dripResult, healthyResult] = await Promise.all([resultOf(hang), resultOf(drip), resultOf(healthy)]);
    expect(hangResult.value).toMatchObject({ outcome: 'dead_lettered', reason: expect.stringMatching(/^timeout,/), error: { class: 'timeout' } });
    expect(dripResult.value).toMatchObject({ outcome: 'dead_lettered', reason: expect.stringMatching(/^timeout,/), error: { class: 'timeout' } });
    expect(healthyResult.value).toMatchObject({ outcome: 'delivered' });
    // Not held up behind the hanging ones: its result was written before theirs.
    expect(results.records.indexOf(healthyResult)).toBeLessThan(results.records.indexOf(hangResult));
    expect(results.records.indexOf(healthyResult)).toBeLessThan(results.records.indexOf(dripResult));
  });

  it('records a reset connection as connection_reset', async () => {
    const result = await resultOf(await sendTo('/reset'));
    expect(result.value).toMatchObject({ outcome: 'dead_lettered', reason: expect.stringMatching(/^connection_reset,/), error: { class: 'connection_reset' } });
  });

  it('keeps only the first DELIVERY_RESPONSE_BODY_BYTES of a huge answer and lets go of the rest', async () => {
    const result = await resultOf(await sendTo('/huge'));
    expect(result.value).toMatchObject({ outcome: 'delivered', statusCode: 200 });
    expect(result.value.responseBody).toHaveLength(RESPONSE_BODY_BYTES);
    // The gateway stopped reading: the receiver could not push the 200 MiB (bounded by socket buffers, not the body size).
    expect(receiver.hugeBytesWritten).toBeLessThan(HUGE_BYTES / 4);
  });

  it('does not follow a redirect', async () => {
    const result = await resultOf(await sendTo('/redirect'));
    expect(result.value).toMatchObject({ outcome: 'dead_lettered', reason: expect.stringMatching(/^redirect_not_followed,/), statusCode: 302 });
    expect(receiver.hits.get('/redirect-target')).toBeUndefined();
  });

  it('judges every status class: 1xx hints then 2xx delivered, 3xx/4xx/5xx failed', async () => {
    const early = await resultOf(await sendTo('/early-hints'));
    expect(early.value).toMatchObject({ outcome: 'delivered', statusCode: 200 });
    const statuses = [200, 201, 204, 299, 301, 304, 400, 401, 404, 413, 429, 500, 502, 503, 599];
    const ids = await Promise.all(statuses.map((s) => sendTo(`/status/${s}`)));
    const verdicts = await Promise.all(ids.map(async (id) => (await resultOf(id)).value));
    expect(verdicts.map((v) => [v.statusCode, v.outcome, v.reason.split(',')[0]])).toEqual(
      statuses.map((s) => [s, s < 300 ? 'delivered' : 'dead_lettered', s < 300 ? '2xx' : s < 400 ? 'redirect_not_followed' : `http_${s}`]),
    );
  });
});
