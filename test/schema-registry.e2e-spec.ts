import { randomBytes } from 'node:crypto';
import { registerSchema, registryCall } from './support/registry.js';

/**
 * Smoke test of the local schema registry that the e2e setup starts (scripts/registry.sh: Apicurio
 * Registry, in-memory): its Confluent-compatible API registers Avro, JSON Schema and Protobuf
 * schemas and serves each back by id, as the gateway's decoder will read them. Plain fetch, no client.
 */
describe('schema registry: the local Apicurio Registry through its Confluent-compatible API', () => {
  const run = randomBytes(4).toString('hex');
  const call = registryCall;

  async function register(subject: string, schema: { schema: string; schemaType?: 'AVRO' | 'PROTOBUF' | 'JSON' }): Promise<number> {
    const res = await registerSchema(subject, schema);
    expect([subject, res.status]).toEqual([subject, 200]);
    expect(typeof res.body.id).toBe('number');
    return res.body.id as number;
  }

  const avro = {
    type: 'record',
    name: 'OrderCreated',
    namespace: 'shop.events',
    fields: [
      { name: 'id', type: 'string' },
      { name: 'total', type: 'long' },
      { name: 'note', type: ['null', 'string'], default: null },
    ],
  };
  const jsonSchema = {
    $schema: 'http://json-schema.org/draft-07/schema#',
    type: 'object',
    properties: { id: { type: 'string' }, total: { type: 'integer' } },
    required: ['id'],
  };
  const proto = ['syntax = "proto3";', 'package shop.events;', '', 'message OrderShipped {', '  string id = 1;', '  int64 parcels = 2;', '}', ''].join('\n');
  const ids: number[] = [];

  it('registers an Avro schema and reads it back by id', async () => {
    const id = await register(`avro-${run}-value`, { schema: JSON.stringify(avro) });
    ids.push(id);
    const res = await call('GET', `/schemas/ids/${id}`);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.schema as string)).toEqual(avro);
    // Confluent's API leaves schemaType out for Avro, the default type.
    expect(res.body.schemaType ?? 'AVRO').toBe('AVRO');
    // The same schema under the same subject is the same id, not a new version.
    expect(await register(`avro-${run}-value`, { schema: JSON.stringify(avro) })).toBe(id);
  });

  it('registers a JSON Schema and reads it back by id', async () => {
    const id = await register(`json-${run}-value`, { schemaType: 'JSON', schema: JSON.stringify(jsonSchema) });
    ids.push(id);
    const res = await call('GET', `/schemas/ids/${id}`);
    expect(res.status).toBe(200);
    expect(res.body.schemaType).toBe('JSON');
    expect(JSON.parse(res.body.schema as string)).toEqual(jsonSchema);
  });

  it('registers a Protobuf schema and reads it back by id as .proto text', async () => {
    const id = await register(`proto-${run}-value`, { schemaType: 'PROTOBUF', schema: proto });
    ids.push(id);
    const res = await call('GET', `/schemas/ids/${id}`);
    expect(res.status).toBe(200);
    expect(res.body.schemaType).toBe('PROTOBUF');
    const text = res.body.schema as string;
    expect(text).toMatch(/^syntax = "proto3";/m);
    expect(text).toMatch(/message OrderShipped \{[^}]*string id = 1;[^}]*int64 parcels = 2;[^}]*\}/);
    expect(() => JSON.parse(text) as unknown).toThrow();
  });

  it('gives each schema its own id', () => {
    expect(new Set(ids).size).toBe(3);
  });

  it('answers an unknown id with 404 and error code 40403', async () => {
    const unknown = Math.max(0, ...ids) + 1_000_000;
    const res = await call('GET', `/schemas/ids/${unknown}`);
    expect(res.status).toBe(404);
    expect(res.body.error_code).toBe(40403);
  });
});
