import avro from 'avsc';
import { avroToJson } from './avro-json.js';

/** A writer that encodes underlying values (no logical types), longs given as bigint. */
const bigLong = avro.types.LongType.__with({
  fromBuffer: (b: Buffer) => b.readBigInt64LE(),
  toBuffer: (n: bigint) => {
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(n);
    return b;
  },
  fromJSON: BigInt,
  toJSON: Number,
  isValid: (n: unknown) => typeof n === 'bigint',
  compare: () => 0,
});
const encode = (schema: object, value: unknown, references: object[] = []): Buffer => {
  const registry = { long: bigLong };
  for (const r of references) avro.Type.forSchema(r as avro.Schema, { registry });
  return avro.Type.forSchema(schema as avro.Schema, { registry }).toBuffer(value);
};
const decode = (schema: object, value: unknown, references: object[] = []) =>
  avroToJson(
    JSON.stringify(schema),
    references.map((r) => JSON.stringify(r)),
  )(encode(schema, value, references));

describe('Avro → JSON', () => {
  it('renders bytes and fixed as base64, enums as their symbol, maps and records as objects, arrays as arrays', () => {
    const schema = {
      type: 'record',
      name: 'Deploy',
      fields: [
        { name: 'raw', type: 'bytes' },
        { name: 'hash', type: { type: 'fixed', name: 'Hash', size: 4 } },
        { name: 'state', type: { type: 'enum', name: 'State', symbols: ['READY', 'ERROR'] } },
        { name: 'labels', type: { type: 'map', values: 'string' } },
        { name: 'owner', type: { type: 'record', name: 'Owner', fields: [{ name: 'name', type: 'string' }, { name: 'active', type: 'boolean' }] } },
        { name: 'ports', type: { type: 'array', items: 'int' } },
        { name: 'ratio', type: 'double' },
      ],
    };
    const value = { raw: Buffer.from('hi'), hash: Buffer.from([1, 2, 3, 4]), state: 'ERROR', labels: { env: 'prod' }, owner: { name: 'ana', active: true }, ports: [80, 443], ratio: 0.5 };
    expect(decode(schema, value)).toEqual({ raw: 'aGk=', hash: 'AQIDBA==', state: 'ERROR', labels: { env: 'prod' }, owner: { name: 'ana', active: true }, ports: [80, 443], ratio: 0.5 });
  });

  it('renders a long as a number when it is safe, else as an exact string', () => {
    const schema = { type: 'record', name: 'L', fields: [{ name: 'small', type: 'long' }, { name: 'big', type: 'long' }, { name: 'negative', type: 'long' }] };
    expect(decode(schema, { small: 42n, big: 9007199254740993n, negative: -9223372036854775808n })).toEqual({ small: 42, big: '9007199254740993', negative: '-9223372036854775808' });
  });

  it('renders decimals (bytes and fixed) as exact decimal strings', () => {
    const bytesDecimal = { type: 'bytes', logicalType: 'decimal', precision: 20, scale: 2 };
    const schema = {
      type: 'record',
      name: 'Money',
      fields: [
        { name: 'price', type: bytesDecimal },
        { name: 'refund', type: bytesDecimal },
        { name: 'cents', type: bytesDecimal },
        { name: 'whole', type: { type: 'fixed', name: 'Whole', size: 9, logicalType: 'decimal', precision: 20, scale: 0 } },
      ],
    };
    const twos = (n: bigint, size: number) => {
      const b = Buffer.alloc(size);
      let v = n < 0n ? (1n << BigInt(size * 8)) + n : n;
      for (let i = size - 1; i >= 0; i--, v >>= 8n) b[i] = Number(v & 0xffn);
      return b;
    };
    // 123456789012345678.91 does not fit a double: the string is exact.
    const value = { price: twos(12345678901234567891n, 9), refund: twos(-150n, 2), cents: twos(5n, 1), whole: twos(1n << 64n, 9) };
    expect(decode(schema, value)).toEqual({ price: '123456789012345678.91', refund: '-1.50', cents: '0.05', whole: '18446744073709551616' });
  });

  it('renders timestamp-millis and -micros as RFC 3339 and date as YYYY-MM-DD', () => {
    const schema = {
      type: 'record',
      name: 'T',
      fields: [
        { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
        { name: 'atMicros', type: { type: 'long', logicalType: 'timestamp-micros' } },
        { name: 'before1970', type: { type: 'long', logicalType: 'timestamp-micros' } },
        { name: 'day', type: { type: 'int', logicalType: 'date' } },
      ],
    };
    const ms = Date.parse('2026-12-03T10:20:30.456Z');
    expect(decode(schema, { at: ms, atMicros: ms * 1000 + 789, before1970: -1, day: 20_790 })).toEqual({
      at: '2026-12-03T10:20:30.456Z',
      atMicros: '2026-12-03T10:20:30.456789Z',
      before1970: '1969-12-31T23:59:59.999999Z',
      day: '2026-12-03',
    });
  });

  it('renders a union as the value itself, never as {"type": value}, ambiguous unions (two records, int and long) included', () => {
    const a = { type: 'record', name: 'A', fields: [{ name: 'a', type: 'int' }] };
    const b = { type: 'record', name: 'B', fields: [{ name: 'b', type: ['null', 'long'] }] };
    const schema = {
      type: 'record',
      name: 'U',
      fields: [
        { name: 'maybe', type: ['null', 'string'] },
        { name: 'missing', type: ['null', 'string'] },
        { name: 'either', type: ['null', a, b] },
        { name: 'number', type: ['int', 'long'] },
        { name: 'when', type: ['null', { type: 'long', logicalType: 'timestamp-millis' }] },
        { name: 'list', type: ['null', { type: 'array', items: ['null', 'bytes'] }] },
        { name: 'objectForm', type: { type: 'long' } },
      ],
    };
    // The writer (avsc) wraps the ambiguous unions: {B: …}, {long: …}.
    const value = { maybe: { string: 'x' }, missing: null, either: { B: { b: { long: 7n } } }, number: { long: 8n }, when: { long: 0 }, list: { array: [null, { bytes: Buffer.from([255]) }] }, objectForm: 2 };
    const encoded = avro.Type.forSchema(schema as avro.Schema, { registry: { long: bigLong }, wrapUnions: true }).toBuffer(value);
    expect(avroToJson(JSON.stringify(schema))(encoded)).toEqual({ maybe: 'x', missing: null, either: { b: 7 }, number: 8, when: '1970-01-01T00:00:00.000Z', list: [null, '/w=='], objectForm: 2 });
  });

  it('reads named types from referenced schemas', () => {
    const owner = { type: 'record', name: 'Owner', namespace: 'acme', fields: [{ name: 'name', type: 'string' }] };
    const schema = { type: 'record', name: 'Event', namespace: 'acme', fields: [{ name: 'owner', type: 'acme.Owner' }] };
    expect(decode(schema, { owner: { name: 'ana' } }, [owner])).toEqual({ owner: { name: 'ana' } });
  });

  it('throws on bytes the schema does not read', () => {
    const read = avroToJson(JSON.stringify({ type: 'record', name: 'R', fields: [{ name: 's', type: 'string' }] }));
    expect(() => read(Buffer.from([0x7f]))).toThrow();
  });
});
