import type { INestApplication } from '@nestjs/common';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import type { AttemptResult, InvalidEvent } from '@app/contracts';
import { startProducerApp } from '../apps/producer/src/producer.app.js';
import { API_TOKEN, testConfig } from './support/gateway.js';
import { GatewayRig } from './support/rig.js';

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);

/** Builds `depth` levels of nesting: {"a":{"a":...}}. */
const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

/**
 * Poison source events: each goes to webhooks.invalid with a reason, and the consumer
 * goes on (an event published after them on the same partition is delivered).
 */
describe(`hostile source events (fuzz seed ${SEED})`, () => {
  const rig = new GatewayRig('poison', { MAX_EVENT_BYTES: '65536' }, { read: ['invalid', 'results'] });
  const { gateway, receiver, publisher, source } = rig;
  const invalid = rig.reader('invalid');
  const results = rig.reader('results');

  beforeAll(async () => {
    await rig.start();
    expect((await gateway.api('POST', '/v1/subscriptions', { url: receiver.url('/marker'), events: ['fuzz.marker'] })).status).toBe(201);
  });

  afterAll(() => rig.stop());

  /** Publishes the records on one partition, then a marker; resolves once the marker was delivered (so every record before it was read). */
  const publishThenMarker = async (records: { value: string | Buffer; headers?: Record<string, string> }[]) => {
    const key = `poison-${randomBytes(4).toString('hex')}`;
    for (const r of records) await publisher.publish(source, r.value, { key, headers: r.headers });
    await publisher.publish(source, { id: `marker-${key}`, type: 'fuzz.marker', data: {} }, { key });
    await results.waitFor<AttemptResult>((r) => r.eventId === `marker-${key}` && r.outcome === 'delivered', 60_000);
    return invalid.records.filter((r) => r.key === key).map((r) => r.value as InvalidEvent);
  };

  it('sends each hand-made poison event to webhooks.invalid with the reason, and keeps delivering', async () => {
    const cases: { what: string; value: string | Buffer; headers?: Record<string, string>; reason: RegExp }[] = [
      { what: 'invalid JSON', value: '{"id": "x", "type": ', reason: /^not valid JSON/ },
      { what: 'a JSON array', value: '[1, 2, 3]', reason: /^not a JSON object/ },
      { what: 'a JSON string', value: '"hello"', reason: /^not a JSON object/ },
      { what: 'binary junk', value: randomBytes(512), reason: /^not valid JSON/ },
      { what: 'an empty value', value: Buffer.alloc(0), reason: /^empty value/ },
      { what: 'a huge payload', value: JSON.stringify({ id: 'huge', type: 'fuzz.marker', data: { pad: 'x'.repeat(70_000) } }), reason: /over the 65536-byte limit/ },
      // JSON.stringify overflows the stack some thousands of levels down: such an event would block its partition.
      { what: 'deep nesting (5,000 levels, under the size limit)', value: `{"id":"deep","type":"fuzz.marker","data":${nested(5_000)}}`, reason: /^nested deeper than/ },
      { what: 'an id of the wrong type', value: JSON.stringify({ id: { n: 42 }, type: 'fuzz.marker', data: {} }), reason: /^id/ },
      { what: 'a type of the wrong type', value: JSON.stringify({ id: 'wrong-type', type: { nested: true }, data: {} }), reason: /^type/ },
      { what: 'no id', value: JSON.stringify({ type: 'fuzz.marker', data: {} }), reason: /^id is missing/ },
      { what: 'a structured CloudEvent without source', value: JSON.stringify({ specversion: '1.0', id: 'ce1', type: 'fuzz.marker' }), reason: /source/ },
      { what: 'a structured CloudEvent without type', value: JSON.stringify({ specversion: '1.0', id: 'ce2', source: '/x' }), reason: /type/ },
      { what: 'a structured CloudEvent of another spec version', value: JSON.stringify({ specversion: '0.1', id: 'ce3', source: '/x', type: 'fuzz.marker' }), reason: /specversion/ },
      { what: 'a binary CloudEvent without ce_id', value: '{}', headers: { ce_specversion: '1.0', ce_type: 'fuzz.marker', ce_source: '/x' }, reason: /id/ },
      { what: 'a binary CloudEvent whose JSON data is junk', value: '{{{', headers: { ce_specversion: '1.0', ce_id: 'b1', ce_type: 'fuzz.marker', ce_source: '/x' }, reason: /not valid JSON/ },
    ];
    const found = await publishThenMarker(cases.map((c, i) => ({ value: c.value, headers: { ...c.headers, 'x-case': String(i) } })));
    const problems = cases.flatMap((c, i) => {
      const record = found.find((f) => f.headers['x-case'] === String(i));
      return record && c.reason.test(record.reason) ? [] : [`${c.what}: ${record ? `reason "${record.reason}"` : 'not on the invalid topic'}`];
    });
    expect(problems).toEqual([]);
    expect(found).toHaveLength(cases.length);
    for (const f of found) expect(f.value === null || f.value.length <= 64 * 1024 * 2).toBe(true);
  });

  it('never crashes the consumer on arbitrary bytes, strings and JSON (property-based)', async () => {
    const arbitraryRecord = fc.oneof(
      fc.uint8Array({ maxLength: 2_048 }).map((b) => Buffer.from(b)),
      fc.string({ maxLength: 512 }),
      fc.jsonValue({ maxDepth: 6 }).map((v) => JSON.stringify(v) ?? 'null'),
      // Almost an event: the right keys with arbitrary values.
      fc.record({ id: fc.jsonValue({ maxDepth: 2 }), type: fc.jsonValue({ maxDepth: 2 }), data: fc.jsonValue({ maxDepth: 3 }) }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
      fc.record({ specversion: fc.jsonValue({ maxDepth: 1 }), id: fc.jsonValue({ maxDepth: 1 }), source: fc.jsonValue({ maxDepth: 1 }), type: fc.jsonValue({ maxDepth: 1 }) }, { requiredKeys: ['specversion'] }).map((v) => JSON.stringify(v)),
    );
    const values = fc.sample(arbitraryRecord, { numRuns: 150, seed: SEED });
    const found = await publishThenMarker(values.map((value) => ({ value })));
    // Every record was read (the marker after them was delivered); the ones that are not events are on the invalid topic, each with a reason.
    expect(found.every((f) => typeof f.reason === 'string' && f.reason.length > 0)).toBe(true);
    const eventsAccepted = values.length - found.length;
    expect(eventsAccepted).toBeGreaterThanOrEqual(0);
    expect(found.length).toBeGreaterThan(values.length / 2);
  });
});

/**
 * The management API under property-based fuzzing: every answer is 2xx or a 4xx whose
 * message says what is wrong, never a 5xx. Only the producer app runs (no subscription
 * created here is ever delivered to).
 */
describe(`hostile management API calls (fuzz seed ${SEED})`, () => {
  const config = testConfig('api-fuzz');
  let app: INestApplication;
  let base: string;
  const call = async (method: string, path: string, body?: string, token = API_TOKEN) => {
    const res = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body });
    const text = await res.text();
    return { status: res.status, text };
  };
  const validBody = { url: 'https://hooks.example.com/in', events: ['deployment.*'] };
  const fields = ['url', 'events', 'kind', 'filters', 'secret', 'headers', 'description', 'enabled', 'tenant', 'format', 'retry', 'timeout_ms', 'rate_limit'];

  beforeAll(async () => {
    app = await startProducerApp(config);
    base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  });

  afterAll(() => app.close());

  it('answers a create with any field set to any JSON value with 201 or a 400 naming that field, never 5xx', async () => {
    const seen = new Set<number>();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...fields), fc.jsonValue({ maxDepth: 3 }), async (field, value) => {
        const res = await call('POST', '/v1/subscriptions', JSON.stringify({ ...validBody, [field]: value }));
        seen.add(res.status);
        expect([201, 400]).toContain(res.status);
        if (res.status === 400) expect(res.text).toContain(field);
      }),
      { numRuns: 120, seed: SEED, examples: [['description', 'fine'], ['timeout_ms', -1]] },
    );
    expect([...seen].sort()).toEqual([201, 400]);
  });

  it('answers arbitrary bodies and ids with 2xx or 4xx, never 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string({ maxLength: 200 }), fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? '')),
        fc.string({ minLength: 1, maxLength: 40 }),
        async (body, id) => {
          const path = `/v1/subscriptions/${encodeURIComponent(id)}`;
          for (const res of [await call('POST', '/v1/subscriptions', body), await call('PATCH', path, body), await call('GET', path), await call('POST', `${path}/secret/rotate`, body)]) {
            expect(res.status).toBeGreaterThanOrEqual(200);
            expect(res.status).toBeLessThan(500);
            if (res.status >= 400) expect(JSON.parse(res.text).message).toBeTruthy();
          }
        },
      ),
      { numRuns: 60, seed: SEED },
    );
  });
});
