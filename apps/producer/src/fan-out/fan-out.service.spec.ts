import avro from 'avsc';
import protobuf from 'protobufjs';
import { gatewayTopics, loadConfig } from '@app/config';
import type { DeliveryJob, InvalidEvent } from '@app/contracts';
import type { OutgoingRecord } from '@app/kafka';
import type { KafkaMessage } from 'kafkajs';
import { GatewayMetrics, HopLog, Readiness, Tracing } from '@app/runtime';
import type { SubscriptionRegistry } from '@app/subscriptions';
import { FakeSchemaRegistry } from '../ingest/schemas/fake-registry.testing.js';
import { wireFormat } from '../ingest/schemas/schema-decoder.js';
import { SourceDecoder } from '../ingest/source-decoder.service.js';
import { FanOutService } from './fan-out.service.js';
import { sub } from './subscription.testing.js';

/**
 * The producer's fan-out with schema-registry decoding, end to end short of Kafka: a registry on
 * 127.0.0.1 speaking the Confluent (Apicurio ccompat) API, the real decoder, reader, matching
 * and body rendering; the batch's records captured from its writer.
 */
const AVRO = {
  type: 'record',
  name: 'Deployment',
  namespace: 'acme',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'type', type: 'string' },
    { name: 'data', type: { type: 'record', name: 'Data', fields: [{ name: 'project', type: 'string' }, { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } }] } },
  ],
};
const avroType = avro.Type.forSchema(AVRO as avro.Schema);
const PROTO = 'syntax = "proto3"; package acme; message Data { string project = 1; int64 size = 2; }';
const protoData = protobuf.parse(PROTO).root.lookupType('acme.Data');
const KEY = { type: 'record', name: 'Key', fields: [{ name: 'tenant', type: 'string' }] };

const subscriptions = [sub('sub_raw', { format: 'raw', ordering: 'key' }), sub('sub_standard'), sub('sub_cloudevents', { format: 'cloudevents' })];

describe('FanOutService with a schema registry', () => {
  let registry: FakeSchemaRegistry;
  let fanOut: FanOutService;
  let metrics: GatewayMetrics;
  let readiness: Readiness;
  let written: OutgoingRecord[];
  const writer = { send: async (records: OutgoingRecord[]) => void written.push(...records) };

  beforeEach(async () => {
    registry = new FakeSchemaRegistry()
      .add(1, 'events-value', { schema: JSON.stringify(AVRO) })
      .add(2, 'data-value', { schema: PROTO, schemaType: 'PROTOBUF' })
      .add(3, 'events-key', { schema: JSON.stringify(KEY) });
    const url = await registry.start();
    const config = loadConfig({ API_TOKENS: 't', SECRETS_KEY: 'ab'.repeat(32), SCHEMA_REGISTRY_URL: url, SCHEMA_REGISTRY_DECODE_KEYS: 'true' });
    metrics = new GatewayMetrics();
    readiness = new Readiness();
    const decoder = new SourceDecoder(config, metrics, readiness, undefined, { firstMs: 20, maxMs: 40, totalMs: 300 });
    const matching = { catchUpConfigurations: async () => undefined, match: () => subscriptions } as unknown as SubscriptionRegistry;
    fanOut = new FanOutService(config, gatewayTopics(config), matching, undefined as never, metrics, new Tracing(config), new HopLog(config), decoder, { record: () => undefined } as never);
    written = [];
  });
  afterEach(() => registry.stop());

  const message = (offset: string, value: Buffer, extra: { key?: Buffer; headers?: Record<string, string> } = {}): KafkaMessage => ({ offset, value, key: extra.key ?? null, headers: extra.headers ?? {}, timestamp: '0', attributes: 0 });
  const jobs = () => written.filter((r) => r.topic === 'webhooks.deliveries').map((r) => r.value as DeliveryJob);
  const invalid = () => written.filter((r) => r.topic === 'webhooks.invalid').map((r) => r.value as InvalidEvent);
  const at = Date.parse('2026-12-03T10:00:00Z');

  it('reads an Avro event like a plain-JSON one: raw sends the decoded data, standard and cloudevents wrap it', async () => {
    const value = wireFormat(1, avroType.toBuffer({ id: 'e1', type: 'deployment.ready', data: { project: 'shop', at } }));
    await fanOut.processBatch({ topic: 'events', partition: 0, messages: [message('0', value)] }, writer);
    const bodies = Object.fromEntries(jobs().map((j) => [j.subscriptionId, JSON.parse(j.body) as Record<string, unknown>]));
    const data = { project: 'shop', at: '2026-12-03T10:00:00.000Z' };
    expect(bodies.sub_raw).toEqual(data);
    expect(bodies.sub_standard).toEqual({ type: 'deployment.ready', timestamp: expect.any(String), data });
    expect(bodies.sub_cloudevents).toMatchObject({ specversion: '1.0', id: 'e1', type: 'deployment.ready', data });
  });

  it('reads a binary-mode CloudEvent whose value is Protobuf: the decoded value is the data; a decoded key is the ordering key', async () => {
    const payload = protoData.encode(protoData.fromObject({ project: 'shop', size: '12' })).finish();
    const headers = { ce_specversion: '1.0', ce_id: 'c1', ce_type: 'deployment.sized', ce_source: '/deploys', 'content-type': 'application/protobuf' };
    const key = wireFormat(3, avro.Type.forSchema(KEY as avro.Schema).toBuffer({ tenant: 'acme' }));
    await fanOut.processBatch({ topic: 'events', partition: 0, messages: [message('0', wireFormat(2, payload, Buffer.from([0])), { key, headers })] }, writer);
    const raw = jobs().find((j) => j.subscriptionId === 'sub_raw')!;
    expect(JSON.parse(raw.body)).toEqual({ project: 'shop', size: '12' });
    expect(raw.orderingKey).toBe('{"tenant":"acme"}');
  });

  it('sends a record whose wire-format key does not decode to the invalid topic, naming the key', async () => {
    const value = wireFormat(1, avroType.toBuffer({ id: 'e5', type: 't', data: { project: 'p', at } }));
    await fanOut.processBatch({ topic: 'events', partition: 0, messages: [message('0', value, { key: wireFormat(404, Buffer.from('k')) }), message('1', value, { key: Buffer.from('plain-key') })] }, writer);
    expect(invalid().map((i) => i.reason)).toEqual(['key: schema id 404: the schema registry has no schema id 404 (404, error code 40403)']);
    expect(jobs().find((j) => j.subscriptionId === 'sub_raw')?.orderingKey).toBe('plain-key');
  });

  it('sends an unknown schema id and undecodable bytes to the invalid topic with the reason, and reads the rest of the batch, plain JSON included', async () => {
    const good = wireFormat(1, avroType.toBuffer({ id: 'e2', type: 't', data: { project: 'p', at } }));
    const messages = [
      message('0', wireFormat(77, Buffer.from([1, 2, 3]))),
      message('1', wireFormat(1, Buffer.from([0x7f]))),
      message('2', Buffer.from(JSON.stringify({ id: 'e3', type: 't', data: { plain: true } }))),
      message('3', good),
    ];
    await fanOut.processBatch({ topic: 'events', partition: 0, messages }, writer);
    expect(invalid().map((i) => [i.offset, i.reason])).toEqual([
      ['0', 'schema id 77: the schema registry has no schema id 77 (404, error code 40403)'],
      ['1', expect.stringMatching(/^schema id 1 \(subject events-value v1\): not AVRO that the schema reads: /)],
    ]);
    expect([...new Set(jobs().map((j) => j.eventId))]).toEqual(['e3', 'e2']);
  });

  it('waits for a registry that answers 5xx, then fails the batch without writing anything; /readyz and the metrics say why; the batch read again passes', async () => {
    registry.mode = 'down';
    const value = wireFormat(1, avroType.toBuffer({ id: 'e4', type: 't', data: { project: 'p', at } }));
    const batch = { topic: 'events', partition: 0, messages: [message('0', Buffer.from('{"id":"e0","type":"t"}')), message('1', value)] };
    await expect(fanOut.processBatch(batch, writer)).rejects.toThrow(/the schema registry answered 503 .*the batch is read again/);
    expect(written).toEqual([]);
    expect(registry.count('/schemas/ids/1')).toBeGreaterThan(2);
    expect(readiness.problems()).toContain('schema-registry: the schema registry is unreachable: the schema registry answered 503 (error code 50301) for schema id 1');
    const scraped = await metrics.scrape();
    expect(scraped).toMatch(/webhook_gateway_schema_registry_errors_total [3-9]/);
    expect(scraped).toMatch(/webhook_gateway_schema_registry_waits_total [2-9]/);
    expect((await metrics.eventsInvalid.get()).values.filter((v) => v.value > 0)).toEqual([]);

    registry.mode = 'ok';
    await fanOut.processBatch(batch, writer);
    expect(invalid()).toEqual([]);
    expect([...new Set(jobs().map((j) => j.eventId))]).toEqual(['e0', 'e4']);
    expect(readiness.problems().filter((p) => p.startsWith('schema-registry'))).toEqual([]);
  });

  it('does not decode a value over MAX_EVENT_BYTES: it is refused for its size', async () => {
    const big = wireFormat(1, Buffer.alloc(2 * 1024 * 1024));
    await fanOut.processBatch({ topic: 'events', partition: 0, messages: [message('0', big)] }, writer);
    expect(invalid().map((i) => i.reason)).toEqual([expect.stringMatching(/over the 1048576-byte limit \(MAX_EVENT_BYTES\)/)]);
    expect(registry.requests).toEqual([]);
  });

  it('leaves topics that SCHEMA_REGISTRY_TOPICS does not name to the JSON reader', async () => {
    const config = loadConfig({ API_TOKENS: 't', SECRETS_KEY: 'ab'.repeat(32), SOURCE_TOPICS: 'events,other', SCHEMA_REGISTRY_URL: 'http://127.0.0.1:1', SCHEMA_REGISTRY_TOPICS: 'other' });
    const decoder = new SourceDecoder(config, metrics, new Readiness());
    expect(await decoder.decodeBatch('events', [{ value: wireFormat(1, Buffer.from('x')) }])).toBeUndefined();
    const off = new SourceDecoder(loadConfig({ API_TOKENS: 't', SECRETS_KEY: 'ab'.repeat(32) }), metrics, new Readiness());
    expect(await off.decodeBatch('events', [{ value: wireFormat(1, Buffer.from('x')) }])).toBeUndefined();
  });
});
