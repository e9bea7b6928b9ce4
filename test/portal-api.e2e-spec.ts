import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { AttemptResult, DeadLetter, DeliveryJob } from '@app/contracts';
import { API_TOKEN } from './support/gateway.js';
import { testKafka } from './support/kafka.js';
import { GatewayRig } from './support/rig.js';

type Detail = { attempt: AttemptResult; request: { body: string | null; bytes: number; truncated: boolean; from: 'job' | 'attempt'; content_type: string; note?: string } };

/**
 * The APIs the customer portal calls, against the real broker, both apps and a receiver on
 * 127.0.0.1: an attempt's request body as sent (from its job record or from the attempt), "retry
 * now", replaying one dead letter by webhook id, and who a portal session is. Tenant A's portal
 * session sees tenant A only.
 */
describe('customer portal APIs', () => {
  const rig = new GatewayRig('portal-api', { TOPIC_PARTITIONS: '1' }, { read: ['results', 'dlq', 'deliveries'] });
  const { gateway, receiver, publisher, source } = rig;
  const results = rig.reader('results');
  const dlq = rig.reader('dlq');
  const deliveries = rig.reader('deliveries');
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const sessions = { acme: '', acmeReadOnly: '', globex: '' };
  const session = async (tenant: string, readOnly = false) => {
    const res = await gateway.api('POST', '/v1/portal/sessions', { tenant, read_only: readOnly });
    expect(res.status).toBe(201);
    return res.body as { id: string; tenant: string; read_only: boolean; expires_at: string; token: string };
  };
  /** A subscription of tenant acme, made by the operator. */
  const subscribe = async (path: string, type: string, extra: Record<string, unknown> = {}) => {
    const res = await gateway.api('POST', '/v1/subscriptions', { url: receiver.url(path), events: [type], tenant: 'acme', ...extra });
    expect(res.status).toBe(201);
    return res.body.id as string;
  };
  const resultOf = (predicate: (r: AttemptResult) => boolean) => results.waitFor<AttemptResult>(predicate).then((r) => r.value);
  const detail = async (sub: string, deliveryId: string, token = sessions.acme) => {
    const res = await gateway.api('GET', `/v1/subscriptions/${sub}/attempts/${deliveryId}`, undefined, bearer(token));
    return { status: res.status, body: res.body as Detail };
  };
  const retry = (sub: string, deliveryId: string, token = sessions.acme) => gateway.api('POST', `/v1/subscriptions/${sub}/attempts/${deliveryId}/retry`, undefined, bearer(token));

  beforeAll(async () => {
    await rig.start();
    sessions.acme = (await session('acme')).token;
    sessions.acmeReadOnly = (await session('acme', true)).token;
    sessions.globex = (await session('globex')).token;
  });

  afterAll(() => rig.stop());

  describe('attempt detail and retry now', () => {
    const ids = { retried: '', transformed: '', failing: '' };
    const attempts: { first?: AttemptResult; second?: AttemptResult } = {};

    beforeAll(async () => {
      receiver.behave('/retried', { sequence: [500], status: 200 });
      ids.retried = await subscribe('/retried', 'order.retried', { retry: { schedule: [1] } });
      ids.transformed = await subscribe('/transformed', 'order.transformed', { transform: { expression: '{"order": data.id, "kind": type, "note": "é ✓"}' } });
      await publisher.publish(source, { id: 'r1', tenant: 'acme', type: 'order.retried', data: { id: 'r1', lines: [1, 2, 3] } });
      await publisher.publish(source, { id: 't1', tenant: 'acme', type: 'order.transformed', data: { id: 't1' } });
      attempts.first = await resultOf((r) => r.eventId === 'r1' && r.attempt === 1);
      attempts.second = await resultOf((r) => r.eventId === 'r1' && r.attempt === 2);
    });

    it('returns the exact body the receiver got, read from the job record, for a first attempt and for a retry read from a retry tier', async () => {
      const sent = receiver.on('/retried');
      expect(sent).toHaveLength(2);
      expect(attempts.first).toMatchObject({ outcome: 'retry_scheduled', reason: 'http_500', job: { topic: rig.topics.deliveries, partition: 0 } });
      expect(attempts.second).toMatchObject({ outcome: 'delivered', job: { topic: rig.topics.retry[0]!.topic, partition: 0 } });
      for (const [attempt, request] of [
        [attempts.first!, sent[0]!],
        [attempts.second!, sent[1]!],
      ] as const) {
        const { status, body } = await detail(ids.retried, attempt.deliveryId);
        expect(status).toBe(200);
        expect(body.attempt).toEqual(attempt);
        expect(body.request).toEqual({ body: request.body, bytes: Buffer.byteLength(request.body), truncated: false, from: 'job', content_type: 'application/json' });
        expect(request.headers['x-webhook-delivery-id']).toBe(attempt.deliveryId);
      }
    });

    it("returns a transformed subscription's body as the attempt recorded it, byte for byte what the receiver got", async () => {
      const result = await resultOf((r) => r.eventId === 't1');
      const [request] = receiver.on('/transformed');
      expect(JSON.parse(request!.body)).toEqual({ order: 't1', kind: 'order.transformed', note: 'é ✓' });
      expect(result.requestBody).toBe(request!.body);
      const { status, body } = await detail(ids.transformed, result.deliveryId);
      expect(status).toBe(200);
      expect(body.request).toEqual({ body: request!.body, bytes: Buffer.byteLength(request!.body), truncated: false, from: 'attempt', content_type: 'application/json' });
    });

    it("hides tenant acme's attempts from tenant globex's session (404), and unknown attempts are 404", async () => {
      expect((await detail(ids.retried, attempts.first!.deliveryId, sessions.globex)).status).toBe(404);
      expect((await retry(ids.retried, attempts.first!.deliveryId, sessions.globex)).status).toBe(404);
      expect((await detail(ids.retried, '00000000-0000-4000-8000-000000000000')).status).toBe(404);
      expect((await retry(ids.retried, '00000000-0000-4000-8000-000000000000')).status).toBe(404);
    });

    it('retries a failed attempt now: the same webhook-id at once (not at the scheduled retry an hour later), with its result', async () => {
      receiver.behave('/failing', { sequence: [500], status: 200 });
      ids.failing = await subscribe('/failing', 'order.failing', { retry: { schedule: [3600] } });
      await publisher.publish(source, { id: 'f1', tenant: 'acme', type: 'order.failing', data: { id: 'f1' } });
      const failed = await resultOf((r) => r.eventId === 'f1');
      expect(failed).toMatchObject({ outcome: 'retry_scheduled', reason: 'http_500', attempt: 1 });
      // The next scheduled attempt is an hour away.
      expect(Date.parse(failed.nextAttemptAt!) - Date.parse(failed.finishedAt)).toBeGreaterThanOrEqual(3_600_000);

      // A read-only session may not retry.
      expect((await retry(ids.failing, failed.deliveryId, sessions.acmeReadOnly)).status).toBe(403);
      const res = await retry(ids.failing, failed.deliveryId);
      expect(res.status).toBe(202);
      expect(res.body).toEqual({ webhook_id: failed.webhookId, retry_of: failed.deliveryId });

      const copy = await deliveries.waitFor<DeliveryJob>((j) => j.retryOf?.deliveryId === failed.deliveryId);
      expect(copy.value).toMatchObject({ webhookId: failed.webhookId, attempt: 1, eventId: 'f1' });
      expect(copy.value.dueAt).toBeUndefined();
      expect(copy.value.attemptTimestamps).toBeUndefined();
      const [first, again] = (await receiver.waitFor((rs) => rs.filter((r) => r.path === '/failing').length >= 2, 30_000, 'the retried webhook')).filter((r) => r.path === '/failing');
      expect(again!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
      expect(again!.body).toBe(first!.body);
      const delivered = await resultOf((r) => r.eventId === 'f1' && r.outcome === 'delivered');
      expect(delivered).toMatchObject({ webhookId: failed.webhookId, attempt: 1, job: { topic: rig.topics.deliveries, offset: copy.offset } });
      // Its attempt shows in the session's attempt list, newest first.
      const list = await gateway.api('GET', `/v1/subscriptions/${ids.failing}/attempts`, undefined, bearer(sessions.acme));
      expect((list.body.data as AttemptResult[]).map((r) => r.deliveryId)).toEqual([delivered.deliveryId, failed.deliveryId]);
    });

    it('refuses to retry an attempt that did not fail (409, naming why)', async () => {
      const res = await retry(ids.retried, attempts.second!.deliveryId);
      expect(res.status).toBe(409);
      expect(res.body.message).toMatch(/delivered/);
    });

    it('refuses to retry a failed attempt whose webhook a later attempt delivered (409)', async () => {
      const res = await retry(ids.retried, attempts.first!.deliveryId);
      expect(res.status).toBe(409);
      expect(res.body.message).toMatch(/a later attempt delivered this webhook/);
    });

    it('answers body null with a note once the job record is past retention, and cannot retry it then', async () => {
      // A webhook that keeps failing, its next attempt an hour away: retry now would apply, but for its record.
      receiver.behave('/stuck', { status: 500 });
      const stuckSub = await subscribe('/stuck', 'order.stuck', { retry: { schedule: [3600] } });
      await publisher.publish(source, { id: 's1', tenant: 'acme', type: 'order.stuck', data: { id: 's1' } });
      const stuck = await resultOf((r) => r.eventId === 's1');
      expect(stuck).toMatchObject({ outcome: 'retry_scheduled', reason: 'http_500', job: { topic: rig.topics.deliveries, partition: 0 } });
      const admin = testKafka().admin();
      await admin.connect();
      try {
        // What retention does: the records up to the stuck job's record (the first attempt's of r1 among them) are gone.
        await admin.fetchTopicMetadata({ topics: [rig.topics.deliveries] });
        await admin.deleteTopicRecords({ topic: rig.topics.deliveries, partitions: [{ partition: 0, offset: (BigInt(stuck.job!.offset) + 1n).toString() }] });
      } finally {
        await admin.disconnect();
      }
      const gone = await detail(ids.retried, attempts.first!.deliveryId);
      expect(gone.status).toBe(200);
      expect(gone.body.request).toMatchObject({ body: null, bytes: 0, truncated: false, from: 'job' });
      expect(gone.body.request.note).toMatch(/retention/);
      const refused = await retry(stuckSub, stuck.deliveryId);
      expect(refused.status).toBe(409);
      expect(refused.body.message).toMatch(/retention/);
      // The retry tier's record of the second attempt is still there.
      expect((await detail(ids.retried, attempts.second!.deliveryId)).body.request.body).toBe(receiver.on('/retried')[1]!.body);
    });
  });

  it('replays one dead letter by webhook_id: a dry run counts it, the replay sends only it, a second replay sends nothing', async () => {
    // The two first attempts fail (no retries: two dead letters); the replayed one is delivered.
    receiver.behave('/dead', { sequence: [500, 500], status: 200 });
    const sub = await subscribe('/dead', 'order.dead', { retry: { schedule: [] } });
    await publisher.publish(source, { id: 'd1', tenant: 'acme', type: 'order.dead', data: {} });
    await publisher.publish(source, { id: 'd2', tenant: 'acme', type: 'order.dead', data: {} });
    const letters = await Promise.all(['d1', 'd2'].map((id) => dlq.waitFor<DeadLetter>((d) => d.job.eventId === id).then((r) => r.value)));
    const [one, other] = letters as [DeadLetter, DeadLetter];
    const replay = (body: Record<string, unknown>) => gateway.api('POST', '/v1/dlq/replay', { subscription_id: sub, webhook_id: one.job.webhookId, ...body }, bearer(sessions.acme));

    const dry = await replay({ dry_run: true });
    expect(dry.status).toBe(200);
    expect(dry.body).toEqual({ dry_run: true, matched: 1, replayed: 0, already_replayed: 0 });
    const real = await replay({});
    expect(real.body).toEqual({ dry_run: false, matched: 1, replayed: 1, already_replayed: 0 });
    // Only that webhook went out again, and was delivered.
    await resultOf((r) => r.webhookId === one.job.webhookId && r.outcome === 'delivered');
    const sentTo = (webhookId: string) => receiver.on('/dead').filter((r) => r.headers['webhook-id'] === webhookId).length;
    expect([sentTo(one.job.webhookId), sentTo(other.job.webhookId)]).toEqual([2, 1]);
    expect(results.records.filter((r) => (r.value as AttemptResult).webhookId === other.job.webhookId)).toHaveLength(1);
    const again = await replay({});
    expect(again.body).toEqual({ dry_run: false, matched: 0, replayed: 0, already_replayed: 1 });
    // A webhook_id that names no dead letter of the subscription matches nothing.
    expect((await replay({ webhook_id: 'msg_unknown', dry_run: true })).body).toMatchObject({ matched: 0, already_replayed: 0 });
    expect((await replay({ webhook_id: '' })).status).toBe(400);
  });

  it('tells a portal session who it acts for and when it expires; any other token gets 403', async () => {
    const made = await session('acme', true);
    const res = await gateway.api('GET', '/v1/portal/session', undefined, bearer(made.token));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: made.id, tenant: 'acme', read_only: true, expires_at: made.expires_at });
    const operator = await gateway.api('GET', '/v1/portal/session', undefined, bearer(API_TOKEN));
    expect(operator.status).toBe(403);
    expect(operator.body.message).toBe('only a portal session has a session');
  });

  it('documents the new paths and fields in the OpenAPI document', async () => {
    const openapi = (await (await fetch(await gateway.apiUrl('/docs-json'))).json()) as {
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, { properties: Record<string, unknown> }> };
    };
    expect(Object.keys(openapi.paths['/v1/subscriptions/{id}/attempts/{delivery_id}'] ?? {})).toContain('get');
    expect(Object.keys(openapi.paths['/v1/subscriptions/{id}/attempts/{delivery_id}/retry'] ?? {})).toContain('post');
    expect(Object.keys(openapi.paths['/v1/portal/session'] ?? {})).toContain('get');
    const props = (name: string) => Object.keys(openapi.components.schemas[name]?.properties ?? {});
    expect(props('ReplayDlqDto')).toContain('webhook_id');
    expect(props('AttemptResultView')).toEqual(expect.arrayContaining(['job', 'requestBody', 'requestBodyBytes']));
    expect(props('AttemptDetailView')).toEqual(['attempt', 'request']);
    expect(props('AttemptRequestView')).toEqual(expect.arrayContaining(['body', 'bytes', 'truncated', 'from', 'content_type', 'note']));
    expect(props('RetryAttemptView')).toEqual(['webhook_id', 'retry_of']);
    expect(props('PortalSessionInfoView')).toEqual(['id', 'tenant', 'read_only', 'expires_at']);
  });

  it('wrote result records that match the published JSON schema, each naming its job record', () => {
    const schema = JSON.parse(readFileSync(new URL('../docs/schemas/attempt-result.schema.json', import.meta.url), 'utf8')) as object;
    const validate = new Ajv2020({ allErrors: true, validateFormats: false }).compile(schema);
    expect(results.records.length).toBeGreaterThan(5);
    for (const record of results.records) {
      if (!validate(record.value)) throw new Error(`${JSON.stringify(record.value)}: ${JSON.stringify(validate.errors)}`);
      expect((record.value as AttemptResult).job).toEqual(expect.objectContaining({ partition: 0 }));
    }
  });
});
