import avro from 'avsc';

/**
 * Avro → JSON, as the README's "Schema-registry events" documents it: bytes and fixed → base64,
 * decimal → exact decimal string, long → number when safe (else string), unions → the branch's
 * value (no `{"type": value}` wrapper), timestamp-millis/micros → RFC 3339, date → YYYY-MM-DD,
 * enums → their symbol, records and maps → objects. Decoding itself is avsc's.
 */

/** Longs as bigint, so that none loses precision on the way (rendered by `plain` below). */
const LONG = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
  toBuffer: (n: bigint) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(BigInt(n));
    return buf;
  },
  fromJSON: (n: number | string) => BigInt(n),
  toJSON: (n: bigint) => Number(n),
  isValid: (n: unknown) => typeof n === 'bigint',
  compare: (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0),
});

const MS_PER_DAY = 86_400_000;

abstract class DecodeOnly extends avro.types.LogicalType {
  protected override _toValue(): never {
    throw new Error('the gateway only decodes Avro');
  }
}

/** A two's-complement big-endian decimal (bytes or fixed) as an exact decimal string. */
class DecimalType extends DecodeOnly {
  private readonly scale: number;
  constructor(schema: avro.Schema, opts?: unknown) {
    super(schema, opts);
    this.scale = Number((schema as { scale?: number }).scale ?? 0);
  }
  protected override _fromValue(buf: Buffer): string {
    let n = buf.length === 0 ? 0n : BigInt(`0x${buf.toString('hex')}`);
    if (buf.length > 0 && (buf[0] & 0x80) !== 0) n -= 1n << BigInt(buf.length * 8);
    const digits = (n < 0n ? -n : n).toString().padStart(this.scale + 1, '0');
    const whole = this.scale === 0 ? digits : `${digits.slice(0, -this.scale)}.${digits.slice(-this.scale)}`;
    return n < 0n ? `-${whole}` : whole;
  }
}

class TimestampMillisType extends DecodeOnly {
  protected override _fromValue(ms: bigint | number): string {
    return new Date(Number(ms)).toISOString();
  }
}

class TimestampMicrosType extends DecodeOnly {
  protected override _fromValue(micros: bigint | number): string {
    const us = BigInt(micros);
    let ms = us / 1000n;
    let rest = us % 1000n;
    if (rest < 0n) [ms, rest] = [ms - 1n, rest + 1000n];
    return new Date(Number(ms)).toISOString().replace('Z', `${rest.toString().padStart(3, '0')}Z`);
  }
}

class DateType extends DecodeOnly {
  protected override _fromValue(days: number): string {
    return new Date(days * MS_PER_DAY).toISOString().slice(0, 10);
  }
}

const LOGICAL_TYPES = { decimal: DecimalType, 'timestamp-millis': TimestampMillisType, 'timestamp-micros': TimestampMicrosType, date: DateType };

/**
 * A decoder of values written with `schema` (Avro JSON text), whose named types may come from
 * `references` (their schema texts, dependencies first).
 */
export function avroToJson(schema: string, references: readonly string[] = []): (payload: Buffer) => unknown {
  const registry: Record<string, avro.Type> = { long: LONG };
  // `{"type": "long"}` (the object form) is not looked up in the registry: the hook gives it the same long.
  const typeHook = (s: avro.Schema) => (typeof s === 'object' && (s as { type?: unknown }).type === 'long' && !('logicalType' in s) ? LONG : undefined);
  const options = { registry, logicalTypes: LOGICAL_TYPES, wrapUnions: 'auto' as const, typeHook };
  for (const reference of references) avro.Type.forSchema(JSON.parse(reference) as avro.Schema, options);
  const type = avro.Type.forSchema(JSON.parse(schema) as avro.Schema, options);
  return (payload) => toJson(type, type.fromBuffer(payload));
}

function toJson(type: avro.Type, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (type instanceof avro.types.LogicalType) return value;
  if (type instanceof avro.types.RecordType) {
    const record = value as Record<string, unknown>;
    return Object.fromEntries(type.fields.map((field) => [field.name, toJson(field.type, record[field.name])]));
  }
  if (type instanceof avro.types.ArrayType) return (value as unknown[]).map((item) => toJson(type.itemsType, item));
  if (type instanceof avro.types.MapType) return Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, toJson(type.valuesType, v)]));
  if (type instanceof avro.types.WrappedUnionType) {
    const [name, branchValue] = Object.entries(value as object)[0];
    return toJson(type.types.find((t) => t.branchName === name)!, branchValue);
  }
  if (type instanceof avro.types.UnwrappedUnionType) {
    // Unambiguous: at most one array branch and one record-or-map branch; the others are plain values.
    const branch = Array.isArray(value)
      ? type.types.find((t) => t instanceof avro.types.ArrayType)
      : typeof value === 'object' && !Buffer.isBuffer(value)
        ? type.types.find((t) => t instanceof avro.types.RecordType || t instanceof avro.types.MapType)
        : undefined;
    return branch ? toJson(branch, value) : plain(value);
  }
  return plain(value);
}

/** A primitive, fixed or enum value: Buffers as base64, longs as numbers when safe, else strings. */
function plain(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (typeof value === 'bigint') return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
  return value;
}
