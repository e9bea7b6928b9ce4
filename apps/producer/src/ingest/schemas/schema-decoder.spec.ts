import avro from 'avsc';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { FakeSchemaRegistry } from './fake-registry.testing.js';
import { SchemaDecoder, UNKNOWN_SCHEMA_TTL_MS, wireFormat, wireSchemaId } from './schema-decoder.js';
import { HttpSchemaSource, RegistryUnavailable } from './schema-registry-client.js';
import { TestPki } from '../../../../../test/support/test-pki.js';

const AVRO = { type: 'record', name: 'Deploy', fields: [{ name: 'id', type: 'string' }, { name: 'type', type: 'string' }, { name: 'size', type: 'long' }] };
const avroType = avro.Type.forSchema(AVRO as avro.Schema);
const PROTO = 'syntax = "proto3"; package acme; message Deploy { string id = 1; int64 size = 2; }';
const protoType = protobuf.parse(PROTO).root.lookupType('acme.Deploy');
const settings = (url: string) => ({ urls: [url], topics: ['*'], decodeKeys: false, username: undefined, password: undefined, token: undefined, caFile: undefined });

describe('wireSchemaId', () => {
  it('takes values with magic byte 0 and at least 5 bytes, nothing else', () => {
    expect(wireSchemaId(wireFormat(258, Buffer.alloc(0)))).toBe(258);
    expect(wireSchemaId(Buffer.from([0, 0, 0, 1]))).toBeUndefined();
    expect(wireSchemaId(Buffer.from('{"id":"e1"}'))).toBeUndefined();
    expect(wireSchemaId(null)).toBeUndefined();
  });
});

describe('SchemaDecoder against a registry over HTTP', () => {
  let registry: FakeSchemaRegistry;
  let url: string;
  beforeEach(async () => {
    registry = new FakeSchemaRegistry()
      .add(1, 'deploys-value', { schema: JSON.stringify(AVRO) })
      .add(2, 'deploys-proto-value', { schema: PROTO, schemaType: 'PROTOBUF' })
      .add(3, 'deploys-json-value', { schema: '{"type":"object"}', schemaType: 'JSON' });
    url = await registry.start();
  });
  afterEach(() => registry.stop());

  it('decodes Avro, Protobuf (the .proto text) and JSON Schema values', async () => {
    const decoder = new SchemaDecoder(new HttpSchemaSource(settings(url)));
    expect(await decoder.decode(wireFormat(1, avroType.toBuffer({ id: 'e1', type: 'deployment.ready', size: 5 })))).toEqual({ ok: true, value: { id: 'e1', type: 'deployment.ready', size: 5 } });
    const proto = protoType.encode(protoType.fromObject({ id: 'e2', size: '7' })).finish();
    expect(await decoder.decode(wireFormat(2, proto, Buffer.from([0])))).toEqual({ ok: true, value: { id: 'e2', size: '7' } });
    expect(await decoder.decode(wireFormat(3, Buffer.from('{"id":"e3","n":[1]}')))).toEqual({ ok: true, value: { id: 'e3', n: [1] } });
    expect(registry.requests.map((r) => r.path)).toEqual(['/schemas/ids/1', '/schemas/ids/2', '/schemas/ids/3']);
  });

  it('asks the registry once per schema id: a burst of records with a new id waits for one request, later ones use the cache', async () => {
    const decoder = new SchemaDecoder(new HttpSchemaSource(settings(url)));
    const value = wireFormat(1, avroType.toBuffer({ id: 'e', type: 't', size: 1 }));
    const results = await Promise.all(Array.from({ length: 50 }, () => decoder.decode(value)));
    expect(results.every((r) => r.ok)).toBe(true);
    await decoder.decode(value);
    expect(registry.count('/schemas/ids/1')).toBe(1);
  });

  it('reports an unknown schema id (404, 40403) as bad input naming the id, and asks again only after a while', async () => {
    let now = 0;
    const decoder = new SchemaDecoder(new HttpSchemaSource(settings(url)), () => now);
    const result = await decoder.decode(wireFormat(99, Buffer.from('x')));
    expect(result).toEqual({ ok: false, reason: 'schema id 99: the schema registry has no schema id 99 (404, error code 40403)' });
    await decoder.decode(wireFormat(99, Buffer.from('x')));
    expect(registry.count('/schemas/ids/99')).toBe(1);
    now += UNKNOWN_SCHEMA_TTL_MS + 1;
    registry.add(99, 'late-value', { schema: '"string"' });
    expect(await decoder.decode(wireFormat(99, avro.Type.forSchema('string').toBuffer('now known')))).toEqual({ ok: true, value: 'now known' });
  });

  it('reports bytes that do not decode with their schema as bad input, with the schema id, its subject and the decoder error', async () => {
    const decoder = new SchemaDecoder(new HttpSchemaSource(settings(url)));
    const result = await decoder.decode(wireFormat(1, Buffer.from([0x7f])));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(/^schema id 1 \(subject deploys-value v1\): not AVRO that the schema reads: .+/);
    const json = await decoder.decode(wireFormat(3, Buffer.from('{not json')));
    expect(!json.ok && json.reason).toMatch(/^schema id 3 \(subject deploys-json-value v1\): not JSON that the schema reads: /);
  });

  it('throws RegistryUnavailable on a 5xx, an unreachable registry and a timeout, keeps nothing of it, and decodes once the registry answers', async () => {
    const decoder = new SchemaDecoder(new HttpSchemaSource(settings(url), 300));
    const value = wireFormat(1, avroType.toBuffer({ id: 'e', type: 't', size: 1 }));
    registry.mode = 'down';
    await expect(decoder.decode(value)).rejects.toThrow(new RegistryUnavailable('the schema registry answered 503 (error code 50301) for schema id 1'));
    registry.mode = 'hang';
    await expect(decoder.decode(value)).rejects.toThrow(/the schema registry is unreachable for schema id 1: ECONNABORTED timeout of 300ms exceeded/);
    registry.mode = 'ok';
    expect(await decoder.decode(value)).toMatchObject({ ok: true });
    await registry.stop();
    const closed = new SchemaDecoder(new HttpSchemaSource(settings(url)));
    await expect(closed.decode(value)).rejects.toThrow(/the schema registry is unreachable for schema id 1: ECONNREFUSED/);
  });

  it('tries the next URL when the first cannot answer, and sends Basic or bearer authorization', async () => {
    const basic = new SchemaDecoder(new HttpSchemaSource({ ...settings(url), urls: ['http://127.0.0.1:1', url], username: 'sr-user', password: 'sr-pass' }));
    expect(await basic.decode(wireFormat(3, Buffer.from('{}')))).toEqual({ ok: true, value: {} });
    const bearer = new SchemaDecoder(new HttpSchemaSource({ ...settings(url), token: 'sr-token' }));
    await bearer.decode(wireFormat(3, Buffer.from('{}')));
    expect(registry.requests.map((r) => r.authorization)).toEqual([`Basic ${Buffer.from('sr-user:sr-pass').toString('base64')}`, 'Bearer sr-token']);
  });

  it('fetches referenced schemas by subject and version', async () => {
    const owner = { type: 'record', name: 'Owner', namespace: 'acme', fields: [{ name: 'name', type: 'string' }] };
    const event = { type: 'record', name: 'Event', namespace: 'acme', fields: [{ name: 'owner', type: 'acme.Owner' }] };
    registry.add(10, 'owner', { schema: JSON.stringify(owner) }).add(11, 'event-value', { schema: JSON.stringify(event), references: [{ name: 'acme.Owner', subject: 'owner', version: 1 }] });
    const registryTypes = {};
    avro.Type.forSchema(owner as avro.Schema, { registry: registryTypes });
    const payload = avro.Type.forSchema(event as avro.Schema, { registry: registryTypes }).toBuffer({ owner: { name: 'ana' } });
    const decoder = new SchemaDecoder(new HttpSchemaSource(settings(url)));
    expect(await decoder.decode(wireFormat(11, payload))).toEqual({ ok: true, value: { owner: { name: 'ana' } } });
    expect(registry.requests.map((r) => r.path)).toEqual(['/schemas/ids/11', '/subjects/owner/versions/1']);
  });
});

describe('SchemaDecoder against a registry over HTTPS', () => {
  it('trusts the registry certificate a private CA signed with SCHEMA_REGISTRY_CA_FILE, and not without it', async () => {
    const pki = await TestPki.create();
    const registry = new FakeSchemaRegistry().add(3, 'json-value', { schema: '{}', schemaType: 'JSON' });
    try {
      const ca = await pki.ca('registry-ca');
      const url = await registry.start(await pki.issue(ca, 'registry', { server: ['127.0.0.1'] }));
      const caFile = join(mkdtempSync(join(tmpdir(), 'sr-ca-')), 'ca.pem');
      writeFileSync(caFile, ca.cert);
      const trusting = new SchemaDecoder(new HttpSchemaSource({ ...settings(url), caFile }));
      expect(await trusting.decode(wireFormat(3, Buffer.from('{"a":1}')))).toEqual({ ok: true, value: { a: 1 } });
      const systemCas = new SchemaDecoder(new HttpSchemaSource(settings(url)));
      await expect(systemCas.decode(wireFormat(3, Buffer.from('{}')))).rejects.toThrow(/the schema registry is unreachable for schema id 3: .*(certificate|UNABLE_TO_VERIFY)/i);
    } finally {
      await registry.stop();
      await pki.remove();
    }
  });
});
