import { Webhook } from 'standardwebhooks';
import type { AttemptResult, DeadLetter } from '@app/contracts';
import { GatewayRig } from './support/rig.js';
import type { ReceivedRequest } from './support/receiver.js';

/** JSONata transformations against the real broker and a real receiver on 127.0.0.1. */
describe('payload transformations (JSONata)', () => {
  // One partition: the runaway event and the next one share a partition, so the next one flowing proves no stall.
  const rig = new GatewayRig('transforms', { TOPIC_PARTITIONS: '1', TRANSFORM_TIMEOUT_MS: '300' }, { read: ['results', 'dlq'] });
  const { gateway, receiver, publisher, source } = rig;
  const results = rig.reader('results');
  const dlq = rig.reader('dlq');
  const subscribe = async (path: string, type: string, transform: unknown) => {
    const res = await gateway.api('POST', '/v1/subscriptions', { url: receiver.url(path), events: [type], transform });
    expect(res.status).toBe(201);
    return res.body as { id: string; secret: string };
  };
  const one = async (path: string) => (await receiver.waitFor((rs) => rs.some((r) => r.path === path), 30_000, path)).find((r) => r.path === path)!;
  const verify = (req: ReceivedRequest, secret: string) => new Webhook(secret).verify(req.body, req.headers as Record<string, string>);

  beforeAll(() => rig.start());
  afterAll(() => rig.stop());

  it('refuses an expression that does not parse, naming the field and the position', async () => {
    const res = await gateway.api('POST', '/v1/subscriptions', { url: receiver.url('/x'), events: ['a'], transform: { expression: '{"a": data.id' } });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body.message)).toMatch(/transform\.expression is not valid JSONata: S\d+ at \d+/);
    const bad = await gateway.api('POST', '/v1/subscriptions', { url: receiver.url('/x'), events: ['a'], transform: { expression: 'data', output: 'everything' } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.message)).toMatch(/transform\.output must be one of/);
  });

  it('delivers the transformed body, signed over the transformed bytes (verified with standardwebhooks)', async () => {
    const sub = await subscribe('/shaped', 'order.created', { expression: '{"order": data.id, "amount": data.total * 100, "skus": data.items.sku, "kind": type}' });
    expect((await gateway.api('GET', `/v1/subscriptions/${sub.id}`)).body.transform).toEqual({
      expression: '{"order": data.id, "amount": data.total * 100, "skus": data.items.sku, "kind": type}',
      output: 'body',
    });
    await publisher.publish(source, { id: 'o-1', type: 'order.created', data: { id: 7, total: 12.5, items: [{ sku: 'a' }, { sku: 'b' }] } });
    const req = await one('/shaped');
    expect(JSON.parse(req.body)).toEqual({ order: 7, amount: 1250, skus: ['a', 'b'], kind: 'order.created' });
    expect(verify(req, sub.secret)).toEqual({ order: 7, amount: 1250, skus: ['a', 'b'], kind: 'order.created' });
  });

  it('with output "request" sets headers and the path, and skips the events it says to', async () => {
    const expression = 'data.internal ? {"skip": true} : {"body": {"id": data.id}, "headers": {"X-Customer": data.customer}, "path": "/routed/" & data.customer}';
    const sub = await subscribe('/base', 'customer.updated', { expression, output: 'request' });
    await publisher.publish(source, { id: 'c-skip', type: 'customer.updated', data: { id: 1, customer: 'acme', internal: true } });
    await publisher.publish(source, { id: 'c-1', type: 'customer.updated', data: { id: 2, customer: 'acme' } });
    const req = await one('/routed/acme');
    expect(req.headers['x-customer']).toBe('acme');
    expect(verify(req, sub.secret)).toEqual({ id: 2 });
    const skipped = await results.waitFor<AttemptResult>((r) => r.eventId === 'c-skip');
    expect(skipped.value).toMatchObject({ outcome: 'skipped', reason: 'transform_skipped' });
    expect(receiver.on('/base')).toHaveLength(0);
    expect(receiver.requests.filter((r) => JSON.parse(r.body).id === 1)).toHaveLength(0);
  });

  it('dead-letters an event whose evaluation runs away, while the next event still flows', async () => {
    // For an event with data.evil the regular expression backtracks for minutes in one synchronous call.
    const expression = `data.evil ? $match(data.evil, /^(a+)+$/) : {"n": data.n}`;
    const sub = await subscribe('/guarded', 'runaway.test', { expression });
    await publisher.publish(source, { id: 'evil-1', type: 'runaway.test', data: { evil: `${'a'.repeat(40)}!` } });
    await publisher.publish(source, { id: 'fine-1', type: 'runaway.test', data: { n: 1 } });
    const req = await one('/guarded');
    expect(JSON.parse(req.body)).toEqual({ n: 1 });
    const letter = await dlq.waitFor<DeadLetter>((d) => d.job.eventId === 'evil-1', 30_000);
    expect(letter.key).toBe(sub.id);
    expect(letter.value.lastResult).toMatchObject({ outcome: 'dead_lettered', reason: 'transform_failed', error: { class: 'transform' } });
    expect(letter.value.lastResult.error!.message).toMatch(/did not finish within 300 ms/);
    expect(receiver.on('/guarded')).toHaveLength(1);
    // A transformation that recurses for ever is ended by JSONata's own guards, with its reason.
    await subscribe('/recursive', 'recursion.test', { expression: '($f := function($x){ $f($x + 1) }; $f(0))' });
    await publisher.publish(source, { id: 'recursive-2', type: 'recursion.test', data: {} });
    const recursive = await dlq.waitFor<DeadLetter>((d) => d.job.eventId === 'recursive-2', 30_000);
    expect(recursive.value.lastResult.error).toMatchObject({ class: 'transform', message: expect.stringMatching(/^D101[12]/) });
  });

  it('shows what a transformation makes of a sample event, without sending or saving anything', async () => {
    const sub = await subscribe('/dry', 'dry.run', { expression: '{"total": $sum(data.lines.amount)}' });
    const dry = await gateway.api('POST', `/v1/subscriptions/${sub.id}/transform/test`, { event: { data: { lines: [{ amount: 2 }, { amount: 3 }] } } });
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ ok: true, skip: false, url: receiver.url('/dry'), body: '{"total":5}' });
    const other = await gateway.api('POST', `/v1/subscriptions/${sub.id}/transform/test`, {
      event: { data: {} },
      transform: { expression: '{"body": data, "path": "/elsewhere"}', output: 'request' },
    });
    expect(other.body).toMatchObject({ ok: true, url: receiver.url('/elsewhere'), body: '{}' });
    const failing = await gateway.api('POST', `/v1/subscriptions/${sub.id}/transform/test`, { transform: { expression: '$error("refused")' } });
    expect(failing.body).toMatchObject({ ok: false, error: { class: 'transform', message: expect.stringContaining('refused') } });
    expect((await gateway.api('GET', `/v1/subscriptions/${sub.id}`)).body.transform.expression).toBe('{"total": $sum(data.lines.amount)}');
    expect(receiver.on('/dry')).toHaveLength(0);
    expect(receiver.on('/elsewhere')).toHaveLength(0);
  });

  it('PATCH changes the transformation, and null removes it (the body is the format again)', async () => {
    const sub = await subscribe('/patched', 'patch.me', { expression: '{"v": 1}' });
    await gateway.api('PATCH', `/v1/subscriptions/${sub.id}`, { transform: { expression: '{"v": 2, "id": data.id}' } });
    await publisher.publish(source, { id: 'p-1', type: 'patch.me', data: { id: 'x' } });
    expect(JSON.parse((await one('/patched')).body)).toEqual({ v: 2, id: 'x' });
    const cleared = await gateway.api('PATCH', `/v1/subscriptions/${sub.id}`, { transform: null });
    expect(cleared.body.transform).toBeUndefined();
    await publisher.publish(source, { id: 'p-2', type: 'patch.me', data: { id: 'y' } });
    await receiver.waitFor((rs) => rs.filter((r) => r.path === '/patched').length === 2, 30_000, '/patched twice');
    expect(JSON.parse(receiver.on('/patched')[1]!.body)).toMatchObject({ type: 'patch.me', data: { id: 'y' } });
  });

  it('documents every new subscription field and call in the OpenAPI document', async () => {
    type Schema = { properties?: Record<string, unknown>; required?: string[] };
    const doc = (await (await fetch(await gateway.apiUrl('/docs-json'))).json()) as { paths: Record<string, unknown>; components: { schemas: Record<string, Schema> } };
    const schemas = doc.components.schemas;
    expect(Object.keys(schemas.CreateSubscriptionDto!.properties!)).toEqual(expect.arrayContaining(['filters', 'transform', 'auth', 'tls']));
    expect(Object.keys(schemas.SubscriptionView!.properties!)).toEqual(expect.arrayContaining(['filters', 'transform', 'auth', 'tls']));
    expect(Object.keys(schemas.TransformDto!.properties!)).toEqual(['expression', 'output']);
    for (const [name, fields] of [
      ['BasicAuthDto', ['username', 'password']],
      ['BearerAuthDto', ['token']],
      ['OAuth2AuthDto', ['token_url', 'client_id', 'client_secret', 'scope', 'audience', 'client_auth']],
      ['ClientTlsDto', ['client_certificate', 'client_key', 'ca']],
    ] as const) {
      expect([name, Object.keys(schemas[name]?.properties ?? {})]).toEqual([name, expect.arrayContaining([...fields])]);
    }
    expect(Object.keys(doc.paths)).toContain('/v1/subscriptions/{id}/transform/test');
  });
});
