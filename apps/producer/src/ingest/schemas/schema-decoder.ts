import { avroToJson } from './avro-json.js';
import { protobufToJson } from './protobuf-json.js';
import { type RegistrySchema, RegistryUnavailable, SchemaNotFound, type SchemaSource } from './schema-registry-client.js';

/** A wire-format value decoded to JSON, or why it is not one the registry's schema reads. */
export type Decoded = { ok: true; value: unknown } | { ok: false; reason: string };

/** Magic byte and 4-byte schema id. */
const HEADER_BYTES = 5;
/** How long an unknown schema id is remembered as unknown before the registry is asked again. */
export const UNKNOWN_SCHEMA_TTL_MS = 30_000;
/** Deepest chain of schema references followed. */
const MAX_REFERENCE_DEPTH = 16;

/** The schema id of a Confluent wire-format value (magic byte 0, 4-byte big-endian id, payload), or undefined when it is not one. */
export function wireSchemaId(value: Buffer | null | undefined): number | undefined {
  if (!value || value.length < HEADER_BYTES || value[0] !== 0) return undefined;
  return value.readUInt32BE(1);
}

/** `payload` in the Confluent wire format with schema id `id` (and Protobuf message indexes when given, already encoded): what a producer of such records writes. */
export function wireFormat(id: number, payload: Buffer | Uint8Array, indexes?: Buffer): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt32BE(id, 1);
  return Buffer.concat([header, ...(indexes ? [indexes] : []), payload]);
}

type Compiled = { decode: (payload: Buffer) => unknown; format: string };
type Entry = { compiled: Promise<Compiled>; expiresAt?: number };

/**
 * Decodes Confluent wire-format values with the schemas of a registry. Each schema is fetched and
 * compiled once per id and kept; records arriving with a new id while it is fetched wait for that
 * one request. An id the registry does not know, or bytes that do not decode with their schema,
 * come out as `{ok: false, reason}` (bad input); a registry that cannot answer throws
 * RegistryUnavailable (ask again later), and nothing of that answer is kept.
 */
export class SchemaDecoder {
  private readonly schemas = new Map<number, Entry>();
  private readonly subjects = new Map<number, Promise<string | undefined>>();

  constructor(
    private readonly source: SchemaSource,
    private readonly now: () => number = Date.now,
  ) {}

  /** Decodes a value `wireSchemaId` accepted. Throws RegistryUnavailable. */
  async decode(value: Buffer): Promise<Decoded> {
    const id = value.readUInt32BE(1);
    let compiled: Compiled;
    try {
      compiled = await this.compiled(id);
    } catch (err) {
      if (err instanceof RegistryUnavailable) throw err;
      return { ok: false, reason: `schema id ${id}${await this.subjectNote(id, err)}: ${(err as Error).message}` };
    }
    try {
      return { ok: true, value: compiled.decode(value.subarray(HEADER_BYTES)) };
    } catch (err) {
      return { ok: false, reason: `schema id ${id}${await this.subjectNote(id, err)}: not ${compiled.format} that the schema reads: ${(err as Error).message}` };
    }
  }

  private compiled(id: number): Promise<Compiled> {
    const entry = this.schemas.get(id);
    if (entry && (entry.expiresAt === undefined || entry.expiresAt > this.now())) return entry.compiled;
    const compiled = this.fetch(id);
    const fresh: Entry = { compiled };
    this.schemas.set(id, fresh);
    compiled.catch((err: unknown) => {
      if (this.schemas.get(id) !== fresh) return;
      if (err instanceof RegistryUnavailable) this.schemas.delete(id);
      else fresh.expiresAt = this.now() + UNKNOWN_SCHEMA_TTL_MS;
    });
    return compiled;
  }

  private async fetch(id: number): Promise<Compiled> {
    const schema = await this.source.byId(id);
    const references = await this.references(schema, 0);
    const format = schema.schemaType ?? 'AVRO';
    try {
      return { format, decode: compile(format, schema.schema, references) };
    } catch (err) {
      throw new Error(`its ${format} schema could not be read: ${(err as Error).message}`, { cause: err });
    }
  }

  /** The texts of the schemas `schema` references, each after its own references. */
  private async references(schema: RegistrySchema, depth: number): Promise<string[]> {
    if (!schema.references?.length) return [];
    if (depth >= MAX_REFERENCE_DEPTH) throw new Error(`schema references nest deeper than ${MAX_REFERENCE_DEPTH}`);
    const texts: string[] = [];
    for (const ref of schema.references) {
      const referenced = await this.source.byVersion(ref.subject, ref.version);
      texts.push(...(await this.references(referenced, depth + 1)), referenced.schema);
    }
    return [...new Set(texts)];
  }

  /** ` (subject s)` when the registry says which subject the id is under; the record's failure is named either way. */
  private async subjectNote(id: number, cause: unknown): Promise<string> {
    if (cause instanceof SchemaNotFound) return '';
    let subject = this.subjects.get(id);
    if (!subject) {
      subject = this.source.subjectsOf(id).then(
        (found) => found.map((s) => `${s.subject} v${s.version}`).join(', ') || undefined,
        () => {
          this.subjects.delete(id);
          return undefined;
        },
      );
      this.subjects.set(id, subject);
    }
    const named = await subject;
    return named ? ` (subject ${named})` : '';
  }
}

function compile(format: string, schema: string, references: string[]): (payload: Buffer) => unknown {
  switch (format) {
    case 'AVRO':
      return avroToJson(schema, references);
    case 'PROTOBUF':
      return protobufToJson(schema, references);
    case 'JSON':
      return (payload) => JSON.parse(payload.toString('utf8'));
    default:
      throw new Error(`unsupported schema type ${format}`);
  }
}
