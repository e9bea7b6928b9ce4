import { AvroSerializer, JsonSerializer, SchemaRegistryClient, SerdeType } from '@confluentinc/schemaregistry';
import protobuf from 'protobufjs';
import { Webhook } from 'standardwebhooks';
import type { AttemptResult, InvalidEvent } from '@app/contracts';
import type { ReceivedRequest } from './support/receiver.js';
import { wireFormat as wire } from '../apps/producer/src/ingest/schemas/schema-decoder.js';
import { registerSchema, schemaRegistryUrl } from './support/registry.js';
import { GatewayRig } from './support/rig.js';
import { TcpForwarder } from './support/tcp-forwarder.js';

/** The real Apicurio Registry the e2e setup started (its Confluent-compatible API). */
const REGISTRY = schemaRegistryUrl();

const ORDER_AVRO = {
  type: 'record',
  name: 'OrderPlaced',
  namespace: 'shop',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'type', type: 'string' },
    {
      name: 'data',
      type: {
        type: 'record',
        name: 'Order',
        fields: [
          { name: 'order_id', type: 'long' },
          { name: 'region', type: 'string' },
          { name: 'coupon', type: ['null', 'string'], default: null },
          { name: 'status', type: { type: 'enum', name: 'Status', symbols: ['NEW', 'PAID'] } },
        ],
      },
    },
  ],
};

const SHIPMENT_PROTO = `syntax = "proto3";
package shop;

message ShipmentSent {
  string id = 1;
  string type = 2;
  Shipment data = 3;
}

message Shipment {
  int64 shipment_id = 1;
  string carrier = 2;
}
`;

const INVOICE_JSON_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'InvoicePaid',
  type: 'object',
  properties: { id: { type: 'string' }, type: { type: 'string' }, data: { type: 'object', properties: { invoice: { type: 'string' }, cents: { type: 'integer' } } } },
  required: ['id', 'type', 'data'],
};

describe('schema-registry sources: Avro, Protobuf and JSON Schema events against a real registry', () => {
  const forwarder = new TcpForwarder('127.0.0.1', Number(new URL(REGISTRY).port));
  const registryPath = new URL(REGISTRY).pathname;
  let rig: GatewayRig;
  let client: SchemaRegistryClient;
  const ids = { avro: 0, avroLater: 0, proto: 0, json: 0 };

  const register = async (subject: string, schema: string, schemaType?: 'PROTOBUF' | 'JSON') => {
    const res = await registerSchema(subject, { schema, ...(schemaType && { schemaType }) });
    expect(res.status).toBe(200);
    return res.body.id as number;
  };
  const subscribe = async (path: string, type: string, extra: Record<string, unknown> = {}) => {
    const res = await rig.gateway.api('POST', '/v1/subscriptions', { url: rig.receiver.url(path), events: [type], format: 'raw', ...extra });
    expect(res.status).toBe(201);
    return res.body as { id: string; secret: string };
  };
  const one = async (path: string) => (await rig.receiver.waitFor((rs) => rs.some((r) => r.path === path), 30_000, path)).find((r) => r.path === path)!;
  const verify = (req: ReceivedRequest, secret: string) => new Webhook(secret).verify(req.body, req.headers as Record<string, string>);
  const avro = (schemaId: number) => new AvroSerializer(client, SerdeType.VALUE, { useSchemaId: schemaId });
  const invalidOf = (key: string) => rig.reader('invalid').waitFor<InvalidEvent>((_v, r) => r.key === key, 30_000);

  beforeAll(async () => {
    await forwarder.start();
    // The gateway reaches the registry through the forwarder, so the test can cut it off.
    rig = new GatewayRig('schemas', { TOPIC_PARTITIONS: '1', SCHEMA_REGISTRY_URL: forwarder.url(registryPath) }, { read: ['results', 'invalid'] });
    await rig.start();
    client = new SchemaRegistryClient({ baseURLs: [REGISTRY] });
    const subject = `${rig.source}-value`;
    ids.avro = await register(subject, JSON.stringify(ORDER_AVRO));
    ids.proto = await register(`${rig.source}-shipment`, SHIPMENT_PROTO, 'PROTOBUF');
    ids.json = await register(`${rig.source}-invoice`, JSON.stringify(INVOICE_JSON_SCHEMA), 'JSON');
    // Versions of the topic's value subject (the serializers look the id up under it); compatibility is NONE.
    ids.avroLater = await register(subject, JSON.stringify({ ...ORDER_AVRO, name: 'OrderLater' }));
  });

  afterAll(async () => {
    await rig?.stop();
    await forwarder.stop();
  });

  it('delivers an Avro event as JSON (long, union, enum), signed; a filter on a decoded field matches and does not match', async () => {
    const eu = await subscribe('/orders-eu', 'order.placed', { filters: { 'data.region': ['eu'], 'data.order_id': { gte: 40 } } });
    const order = { id: 'avro-1', type: 'order.placed', data: { order_id: 42, region: 'eu', coupon: 'WELCOME', status: 'PAID' } };
    const other = { id: 'avro-2', type: 'order.placed', data: { order_id: 43, region: 'us', coupon: null, status: 'NEW' } };
    await rig.publisher.publish(rig.source, await avro(ids.avro).serialize(rig.source, other), { key: 'avro-2' });
    await rig.publisher.publish(rig.source, await avro(ids.avro).serialize(rig.source, order), { key: 'avro-1' });
    const req = await one('/orders-eu');
    expect(verify(req, eu.secret)).toEqual({ order_id: 42, region: 'eu', coupon: 'WELCOME', status: 'PAID' });
    expect(req.headers['x-webhook-event-type']).toBe('order.placed');
    await rig.reader('results').waitFor<AttemptResult>((r) => r.eventId === 'avro-1');
    expect(rig.receiver.on('/orders-eu')).toHaveLength(1);
  });

  it('delivers a Protobuf event (int64 as a string, lowerCamelCase names: the proto3 JSON mapping)', async () => {
    const sub = await subscribe('/shipments', 'shipment.sent');
    const root = protobuf.parse(SHIPMENT_PROTO).root;
    const ShipmentSent = root.lookupType('shop.ShipmentSent');
    const payload = Buffer.from(ShipmentSent.encode(ShipmentSent.create({ id: 'proto-1', type: 'shipment.sent', data: { shipmentId: '9007199254740993', carrier: 'dhl' } })).finish());
    // Message indexes [0] (the first message of the schema) are written as the single byte 0.
    await rig.publisher.publish(rig.source, wire(ids.proto, payload, Buffer.from([0])), { key: 'proto-1' });
    const req = await one('/shipments');
    expect(verify(req, sub.secret)).toEqual({ shipmentId: '9007199254740993', carrier: 'dhl' });
  });

  it('delivers a JSON Schema event', async () => {
    const sub = await subscribe('/invoices', 'invoice.paid');
    // A subject of its own: a registry keeps one schema type per subject.
    const json = new JsonSerializer(client, SerdeType.VALUE, { useSchemaId: ids.json, subjectNameStrategy: (topic) => `${topic}-invoice` });
    const bytes = await json.serialize(rig.source, { id: 'json-1', type: 'invoice.paid', data: { invoice: 'INV-7', cents: 1250 } });
    expect(bytes[0]).toBe(0);
    await rig.publisher.publish(rig.source, bytes, { key: 'json-1' });
    expect(verify(await one('/invoices'), sub.secret)).toEqual({ invoice: 'INV-7', cents: 1250 });
  });

  it('sends an unknown schema id and a corrupt payload to the invalid topic with the reason, while the next event flows', async () => {
    await subscribe('/after-bad', 'order.after');
    await rig.publisher.publish(rig.source, wire(2_000_000_001, Buffer.from('whatever')), { key: 'unknown-id' });
    const good = await avro(ids.avro).serialize(rig.source, { id: 'avro-ok', type: 'order.after', data: { order_id: 1, region: 'eu', coupon: null, status: 'NEW' } });
    // A string field's length says 60 bytes follow; 3 do.
    await rig.publisher.publish(rig.source, wire(ids.avro, Buffer.from([0x0c, 0x61, 0x62, 0x63, 0x78, 0x41, 0x42, 0x43])), { key: 'corrupt' });
    await rig.publisher.publish(rig.source, good, { key: 'avro-ok' });
    await one('/after-bad');
    const unknown = await invalidOf('unknown-id');
    expect(unknown.value.reason).toMatch(/schema id 2000000001/);
    const corrupt = await invalidOf('corrupt');
    expect(corrupt.value.reason).toMatch(new RegExp(`schema id ${ids.avro}`));
  });

  it('holds events while the registry cannot be reached and delivers them once it is back, none to the invalid topic', async () => {
    await subscribe('/later', 'order.later');
    const bytes = await avro(ids.avroLater).serialize(rig.source, { id: 'later-1', type: 'order.later', data: { order_id: 5, region: 'eu', coupon: null, status: 'NEW' } });
    await forwarder.cut();
    await rig.publisher.publish(rig.source, bytes, { key: 'later-1' });
    // Its schema id was never asked for: the gateway must ask the registry, which does not answer.
    await new Promise((r) => setTimeout(r, 4_000));
    expect(rig.receiver.on('/later')).toHaveLength(0);
    // /readyz says why (a readiness check of the registry).
    const ready = await fetch(await rig.gateway.apiUrl('/readyz'));
    expect(ready.status).toBe(503);
    expect(JSON.stringify(await ready.json())).toContain('schema-registry');
    await forwarder.restore();
    expect(JSON.parse((await one('/later')).body)).toEqual({ order_id: 5, region: 'eu', coupon: null, status: 'NEW' });
    expect(rig.reader('invalid').records.filter((r) => r.key === 'later-1')).toEqual([]);
  });
});
