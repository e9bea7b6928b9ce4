import { randomBytes } from 'node:crypto';
import { gatewayTopics } from '@app/config';
import type { AttemptResult } from '@app/contracts';
import { Gateway, testConfig } from './support/gateway.js';
import { EventPublisher, testKafka, TopicReader } from './support/kafka.js';
import { Receiver } from './support/receiver.js';

/**
 * Security checks against the running gateway: tokens, secrets kept out of every output,
 * SSRF refusal without an allowlist (literal addresses, other spellings of them, and names
 * that resolve to them), request size limits.
 */
describe('security: tokens, secrets, SSRF, size limits', () => {
  const token = randomBytes(24).toString('hex');
  const secretsKey = randomBytes(32).toString('hex');
  // No allowlist: loopback is refused like any private address.
  const config = testConfig('security', { API_TOKENS: token, SECRETS_KEY: secretsKey, DELIVERY_TARGET_ALLOWLIST: '', LOG_LEVEL: 'verbose' });
  const topics = gatewayTopics(config);
  const source = config.source.topics[0]!;
  const kafka = testKafka();
  const gateway = new Gateway(config);
  const receiver = new Receiver();
  const publisher = new EventPublisher(kafka);
  const auth = { authorization: `Bearer ${token}` };
  const output: string[] = [];
  const writes = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };
  const readers = [topics.subscriptions, topics.deliveries, topics.results, topics.dlq, topics.invalid, ...topics.retry.map((t) => t.topic)].map((t) => new TopicReader(kafka, t));
  const results = readers[2]!;
  let ssrfCase = 0;

  beforeAll(async () => {
    // Every line the apps log, at the most verbose level, is kept to be searched for secrets.
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => (output.push(String(chunk)), writes.out(chunk, ...rest))) as typeof process.stdout.write;
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => (output.push(String(chunk)), writes.err(chunk, ...rest))) as typeof process.stderr.write;
    await receiver.start();
    await gateway.start();
    await Promise.all([publisher.connect(), ...readers.map((r) => r.start())]);
  });

  afterAll(async () => {
    process.stdout.write = writes.out;
    process.stderr.write = writes.err;
    await Promise.all([publisher.disconnect(), ...readers.map((r) => r.stop())]);
    await gateway.stop();
    await receiver.stop();
  });

  it('answers 401 on every route without a token or with a wrong one, and says nothing about subscriptions', async () => {
    const created = await gateway.api('POST', '/v1/subscriptions', { url: 'https://hooks.example.com/a', events: ['a.b'] }, auth);
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const routes: [string, string][] = [
      ['GET', '/v1/subscriptions'],
      ['POST', '/v1/subscriptions'],
      ['GET', `/v1/subscriptions/${id}`],
      ['PATCH', `/v1/subscriptions/${id}`],
      ['DELETE', `/v1/subscriptions/${id}`],
      ['POST', `/v1/subscriptions/${id}/secret/rotate`],
      ['POST', `/v1/subscriptions/${id}/test`],
    ];
    const noToken: Record<string, string> = {};
    for (const headers of [noToken, { authorization: 'Bearer wrong' }, { authorization: `Bearer ${token}x` }, { authorization: token }, { authorization: `Basic ${token}` }]) {
      for (const [method, path] of routes) {
        const res = await gateway.api(method, path, method === 'GET' || method === 'DELETE' ? undefined : {}, headers);
        expect([method, path, res.status]).toEqual([method, path, 401]);
        expect(JSON.stringify(res.body)).not.toContain(id);
        expect(JSON.stringify(res.body)).not.toContain('hooks.example.com');
      }
    }
    expect((await gateway.api('GET', `/v1/subscriptions/${id}`, undefined, auth)).status).toBe(200);
  });

  it('keeps subscription secrets out of logs, topics and API reads', async () => {
    const headerSecret = 'qovery-shared-secret-in-a-header';
    const created = await gateway.api('POST', '/v1/subscriptions', { url: 'http://127.0.0.1:1/refused', events: ['sec.*'], retry: { schedule: [1] }, headers: { 'Qovery-Secret': headerSecret } }, auth);
    const ok = await gateway.api('POST', '/v1/subscriptions', { url: 'https://hooks.example.com/ok', events: ['sec.*'] }, auth);
    expect([created.status, ok.status]).toEqual([201, 201]);
    const rotated = await gateway.api('POST', `/v1/subscriptions/${created.body.id}/secret/rotate`, {}, auth);
    expect(rotated.status).toBe(200);
    const secrets = [created.body.secret, ok.body.secret, rotated.body.secret].map(String);
    expect(secrets.every((s) => s.startsWith('whsec_'))).toBe(true);

    await publisher.publish(source, { id: 'sec-1', type: 'sec.event', data: { hello: 'world' } });
    await publisher.publish(source, '{"not json', { key: 'sec-bad' });
    // The refused attempt (loopback, no allowlist) is dead-lettered at once.
    await results.waitFor<AttemptResult>((r) => r.eventId === 'sec-1' && r.subscriptionId === created.body.id && r.outcome === 'dead_lettered', 30_000);
    const reads = [
      await gateway.api('GET', '/v1/subscriptions', undefined, auth),
      await gateway.api('GET', `/v1/subscriptions/${created.body.id}`, undefined, auth),
      await gateway.api('PATCH', `/v1/subscriptions/${created.body.id}`, { description: 'patched' }, auth),
    ];
    const everything = [
      ...output,
      ...reads.map((r) => JSON.stringify(r.body)),
      ...readers.flatMap((r) => r.records.map((rec) => JSON.stringify(rec))),
    ].join('\n');
    expect(readers[0]!.records.length).toBeGreaterThan(0);
    // Static headers often carry a shared secret: sealed on the subscriptions topic like the signing secrets.
    expect(readers.flatMap((r) => r.records.map((rec) => JSON.stringify(rec))).join('\n')).not.toContain(headerSecret);
    expect(output.length).toBeGreaterThan(0);
    for (const secret of [...secrets, secrets.map((s) => s.slice('whsec_'.length)), token, secretsKey].flat()) expect(everything).not.toContain(secret);
  });

  it.each([
    ['loopback', 'http://127.0.0.1:{port}/x'],
    ['loopback, another spelling', 'http://127.1:{port}/x'],
    ['loopback as a decimal number', 'http://2130706433:{port}/x'],
    ['loopback in hex', 'http://0x7f.0.0.1:{port}/x'],
    ['IPv6-mapped loopback', 'http://[::ffff:127.0.0.1]:{port}/x'],
    ['IPv6 loopback', 'http://[::1]:{port}/x'],
    ['a name resolving to loopback (DNS)', 'http://localhost:{port}/x'],
    ['unspecified address', 'http://0.0.0.0:{port}/x'],
    ['private 10/8', 'http://10.1.2.3/x'],
    ['private 172.16/12', 'http://172.16.0.1/x'],
    ['private 192.168/16', 'http://192.168.1.1/x'],
    ['carrier-grade NAT', 'http://100.64.0.1/x'],
    ['link-local', 'http://169.254.10.10/x'],
    ['cloud metadata', 'http://169.254.169.254/latest/meta-data/'],
    ['IPv6-mapped metadata', 'http://[::ffff:169.254.169.254]/latest/meta-data/'],
    ['IPv6 unique local', 'http://[fd00::1]/x'],
    ['IPv6 link-local', 'http://[fe80::1]/x'],
  ])('refuses a %s target and never connects to it', async (_what, template) => {
    const url = template.replace('{port}', String(receiver.port));
    const type = `ssrf.${ssrfCase++}`;
    const created = await gateway.api('POST', '/v1/subscriptions', { url, events: [type], retry: { schedule: [] } }, auth);
    if (created.status === 400) {
      // Refused at the API: fine as well, as long as it says why.
      expect(JSON.stringify(created.body.message)).toContain('url');
      return;
    }
    expect(created.status).toBe(201);
    await publisher.publish(source, { id: `ev-${type}`, type, data: {} });
    const result = await results.waitFor<AttemptResult>((r) => r.eventId === `ev-${type}`, 30_000);
    expect(result.value).toMatchObject({ outcome: 'dead_lettered', error: { class: 'target_refused' } });
    expect(receiver.requests).toHaveLength(0);
  });

  it('answers 413 to a management API body over the limit', async () => {
    const res = await gateway.api('POST', '/v1/subscriptions', { url: 'https://hooks.example.com/big', events: ['a'], description: 'x'.repeat(2_000_000) }, auth);
    expect(res.status).toBe(413);
  });
});
