import protobuf from 'protobufjs';

/**
 * Protobuf → JSON by the proto3 JSON mapping: int64/uint64 as strings, enums by name, a oneof as
 * its set field only, bytes as base64, fields left at their default omitted, lowerCamelCase names,
 * and the well-known types in their JSON forms (Timestamp → RFC 3339, Duration → "1.5s", wrappers
 * → their value, Struct/Value/ListValue → JSON, Any → `{"@type", …fields}`, FieldMask, Empty).
 * Parsing and decoding are protobufjs's; the schema comes as `.proto` text.
 */

const TO_OBJECT: protobuf.IConversionOptions = { longs: String, enums: String, bytes: String, json: true };

/**
 * A decoder of Confluent wire-format Protobuf payloads (message indexes, then the message)
 * written with the `.proto` text `schema`, importing `references` (texts, dependencies first) and
 * any google/protobuf well-known type.
 */
export function protobufToJson(schema: string, references: readonly string[] = []): (payload: Buffer) => unknown {
  const root = wellKnownRoot();
  for (const reference of references) protobuf.parse(reference, root);
  protobuf.parse(schema, root);
  root.resolveAll();
  // The message indexes count the messages of this file only, in declaration order.
  const own = protobuf.parse(schema, new protobuf.Root());
  const top = own.package ? own.root.lookup(own.package) : own.root;
  if (!(top instanceof protobuf.Namespace)) throw new Error(`package ${own.package} not found`);
  const types = new Map<string, protobuf.Type>();
  const typeAt = (indexes: number[]): protobuf.Type => {
    const key = indexes.join(',');
    let type = types.get(key);
    if (type) return type;
    let scope: protobuf.Namespace = top;
    for (const index of indexes) {
      const found = scope.nestedArray.filter((n): n is protobuf.Type => n instanceof protobuf.Type)[index];
      if (!found) throw new Error(`no message at index ${indexes.join('.')} in the schema`);
      scope = found;
    }
    type = root.lookupType(scope.fullName);
    types.set(key, type);
    return type;
  };
  return (payload) => {
    const { indexes, body } = messageIndexes(payload);
    const type = typeAt(indexes);
    return toJson(type, type.toObject(type.decode(body), TO_OBJECT));
  };
}

/** A root holding the google/protobuf well-known types (protobufjs's copies), which a schema may import. */
export function wellKnownRoot(): protobuf.Root {
  const root = new protobuf.Root();
  for (const [file, json] of Object.entries(protobuf.common as unknown as Record<string, protobuf.INamespace>)) if (file.startsWith('google/')) root.addJSON(json.nested!);
  return root;
}

/** The wire format's message indexes (zigzag varints: a count, then the indexes; a lone 0 = the first message) and the message after them. */
function messageIndexes(payload: Buffer): { indexes: number[]; body: Buffer } {
  const reader = protobuf.Reader.create(payload);
  const count = reader.sint32();
  if (count < 0 || count > 64) throw new Error(`bad message index count ${count}`);
  const indexes = count === 0 ? [0] : Array.from({ length: count }, () => reader.sint32());
  return { indexes, body: payload.subarray(reader.pos) };
}

type Obj = Record<string, unknown>;

/** `value` (protobufjs toObject output of `type`) with the well-known types in their JSON forms. */
function toJson(type: protobuf.Type, value: unknown): unknown {
  const known = WELL_KNOWN[type.fullName];
  if (known) return known(value as Obj, type);
  const out: Obj = {};
  for (const [name, v] of Object.entries(value as Obj)) {
    const field = type.fields[name];
    const nested = field?.resolvedType;
    if (!(nested instanceof protobuf.Type)) out[name] = v;
    else if (field.map) out[name] = Object.fromEntries(Object.entries(v as Obj).map(([k, item]) => [k, toJson(nested, item)]));
    else if (field.repeated) out[name] = (v as unknown[]).map((item) => toJson(nested, item));
    else out[name] = toJson(nested, v);
  }
  return out;
}

/** RFC 3339 with 0, 3, 6 or 9 fractional digits, as the proto3 JSON mapping writes it. */
function timestamp(v: Obj): string {
  const nanos = Number(v.nanos ?? 0);
  const iso = new Date(Number(v.seconds ?? 0) * 1000).toISOString().replace('.000Z', '');
  return `${iso}${fraction(nanos)}Z`;
}

function fraction(nanos: number): string {
  if (nanos === 0) return '';
  const digits = String(nanos).padStart(9, '0');
  return `.${digits.endsWith('000000') ? digits.slice(0, 3) : digits.endsWith('000') ? digits.slice(0, 6) : digits}`;
}

function duration(v: Obj): string {
  const seconds = BigInt(String(v.seconds ?? 0));
  const nanos = Number(v.nanos ?? 0);
  const negative = seconds < 0n || nanos < 0;
  return `${negative ? '-' : ''}${(seconds < 0n ? -seconds : seconds).toString()}${fraction(Math.abs(nanos))}s`;
}

function structValue(v: Obj): unknown {
  if ('nullValue' in v) return null;
  if ('numberValue' in v) return v.numberValue;
  if ('stringValue' in v) return v.stringValue;
  if ('boolValue' in v) return v.boolValue;
  if ('structValue' in v) return struct(v.structValue as Obj);
  if ('listValue' in v) return list(v.listValue as Obj);
  return null;
}

const struct = (v: Obj): Obj => Object.fromEntries(Object.entries((v.fields as Record<string, Obj> | undefined) ?? {}).map(([k, item]) => [k, structValue(item)]));
const list = (v: Obj): unknown[] => ((v.values as Obj[] | undefined) ?? []).map(structValue);

/** A wrapper's value, or its type's default when unset. */
const wrapper = (empty: unknown) => (v: Obj) => v.value ?? empty;

function any(v: Obj, type: protobuf.Type): Obj {
  const { '@type': url, ...fields } = v;
  if (typeof url !== 'string') return { '@type': v.type_url, value: v.value };
  const packed = type.root.lookup(url.slice(url.lastIndexOf('/') + 1));
  return { '@type': url, ...(packed instanceof protobuf.Type ? (toJson(packed, fields) as Obj) : fields) };
}

const WELL_KNOWN: Record<string, (v: Obj, type: protobuf.Type) => unknown> = {
  '.google.protobuf.Timestamp': timestamp,
  '.google.protobuf.Duration': duration,
  '.google.protobuf.Struct': struct,
  '.google.protobuf.Value': structValue,
  '.google.protobuf.ListValue': list,
  '.google.protobuf.Any': any,
  '.google.protobuf.Empty': () => ({}),
  '.google.protobuf.FieldMask': (v) => ((v.paths as string[] | undefined) ?? []).join(','),
  '.google.protobuf.DoubleValue': wrapper(0),
  '.google.protobuf.FloatValue': wrapper(0),
  '.google.protobuf.Int64Value': wrapper('0'),
  '.google.protobuf.UInt64Value': wrapper('0'),
  '.google.protobuf.Int32Value': wrapper(0),
  '.google.protobuf.UInt32Value': wrapper(0),
  '.google.protobuf.BoolValue': wrapper(false),
  '.google.protobuf.StringValue': wrapper(''),
  '.google.protobuf.BytesValue': wrapper(''),
};
