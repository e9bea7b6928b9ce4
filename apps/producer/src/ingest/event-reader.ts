import type { GatewayConfig } from '@app/config';
import type { GatewayEvent } from '@app/contracts';
import { readPath } from '@app/filter';

/** A source record as the reader needs it (a kafkajs message fits). */
export interface SourceRecord {
  value: Buffer | null;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
  timestamp?: string;
  /** The value already decoded (a schema-registry wire-format value): read instead of parsing `value` as JSON. */
  decoded?: unknown;
}

export type ReadResult = { ok: true; event: GatewayEvent } | { ok: false; reason: string };

export interface EventReaderOptions {
  maxEventBytes: number;
  /** Where plain-JSON events keep their attributes. */
  paths: GatewayConfig['source']['paths'];
  /** Path into the normalised event naming its tenant. */
  tenantPath: string;
  callbacks: Pick<GatewayConfig['callbacks'], 'urlPaths' | 'urlHeader'>;
  /** The time to give events that carry none. */
  now: () => Date;
}

const MAX_ID = 256;
const MAX_TYPE = 256;
const TYPE_SYNTAX = /^[\x21-\x7e]+$/;
const CE_ATTRIBUTES = new Set(['specversion', 'id', 'source', 'type', 'time', 'subject', 'datacontenttype', 'dataschema', 'data', 'data_base64']);
const DEFAULT_SOURCE = 'kafka';
/**
 * Deepest nesting of objects and arrays accepted in an event. JSON.parse takes any depth, but
 * JSON.stringify (rendering a body) and other recursive code overflow the stack a few thousand
 * levels down; such an event would fail its batch again and again and block its partition.
 */
export const MAX_NESTING_DEPTH = 64;

/** Bounds on the record headers an event keeps for filters. */
export const MAX_EVENT_HEADERS = 64;
export const MAX_EVENT_HEADER_BYTES = 1024;

const invalid = (reason: string): ReadResult => ({ ok: false, reason });
const split = (path: string) => path.split('.');

function header(record: SourceRecord, name: string): string | undefined {
  const value = record.headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

/**
 * Reads a source record as a GatewayEvent, or says why it cannot. Accepts:
 * - CloudEvents in binary mode (`ce_*` headers, the value is the data), per the Kafka protocol binding;
 * - CloudEvents in structured mode (a JSON object with `specversion`, or content-type application/cloudevents+json);
 * - plain JSON, its id/type/data/subject/time at configurable paths (default `{id, type, data, subject?, time?, tenant?, source?}`).
 * A value decoded from the schema-registry wire format (`record.decoded`) is read in its place: as a
 * plain-JSON or structured CloudEvent, or as a binary-mode CloudEvent's data.
 * The tenant and a per-event callback URL are then read from the normalised event.
 */
export function readEvent(record: SourceRecord, topic: string, options: EventReaderOptions): ReadResult {
  const result = readShape(record, topic, options);
  if (!result.ok) return result;
  const event = result.event;
  if (options.tenantPath !== 'tenant') {
    const tenant = readPath(event, split(options.tenantPath));
    event.tenant = typeof tenant === 'string' || typeof tenant === 'number' ? String(tenant) : undefined;
  }
  event.callbackUrl = callbackUrl(record, event, options.callbacks);
  event.headers = recordHeaders(record);
  return result;
}

/**
 * The record's headers for filters (`headers.<name>`): names lower-cased (the first of names
 * equal but for case wins), the first value of a repeated header, as UTF-8 text. Values over
 * MAX_EVENT_HEADER_BYTES are left out, and headers after the first MAX_EVENT_HEADERS kept.
 */
function recordHeaders(record: SourceRecord): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  let count = 0;
  for (const [name, value] of Object.entries(record.headers ?? {})) {
    if (count === MAX_EVENT_HEADERS) break;
    const first = Array.isArray(value) ? value[0] : value;
    if (first === undefined || first === null) continue;
    const bytes = typeof first === 'string' ? Buffer.byteLength(first) : first.length;
    const key = name.toLowerCase();
    if (bytes > MAX_EVENT_HEADER_BYTES || (out !== undefined && Object.hasOwn(out, key))) continue;
    out ??= Object.create(null) as Record<string, string>;
    out[key] = first.toString('utf8');
    count++;
  }
  return out;
}

function readShape(record: SourceRecord, topic: string, options: EventReaderOptions): ReadResult {
  const value = record.value;
  if (value === null || value.length === 0) return invalid('empty value (tombstone or no payload)');
  if (value.length > options.maxEventBytes)
    return invalid(`event is ${value.length} bytes, over the ${options.maxEventBytes}-byte limit (MAX_EVENT_BYTES)`);

  const traceparent = header(record, 'traceparent') ?? header(record, 'ce_traceparent');
  if (header(record, 'ce_specversion') !== undefined) return readBinaryCloudEvent(record, value, traceparent, options);

  let parsed: unknown = record.decoded;
  if (parsed === undefined) {
    try {
      parsed = JSON.parse(value.toString('utf8'));
    } catch (err) {
      return invalid(`not valid JSON: ${(err as Error).message}`);
    }
  }
  if (nestedDeeperThan(parsed, MAX_NESTING_DEPTH)) return invalid(`nested deeper than ${MAX_NESTING_DEPTH} levels`);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return invalid('not a JSON object');
  const obj = parsed as Record<string, unknown>;
  const contentType = header(record, 'content-type') ?? '';
  const structured = 'specversion' in obj || contentType.startsWith('application/cloudevents+json');
  return structured ? fromCloudEventAttributes(obj, obj.data, traceparent, options) : readPlain(obj, traceparent, topic, options);
}

function callbackUrl(record: SourceRecord, event: GatewayEvent, callbacks: EventReaderOptions['callbacks']): string | undefined {
  const fromHeader = header(record, callbacks.urlHeader);
  if (fromHeader) return fromHeader;
  for (const path of callbacks.urlPaths) {
    const url = readPath(event, split(path));
    if (typeof url === 'string' && url.length > 0) return url;
  }
  return undefined;
}

function readBinaryCloudEvent(record: SourceRecord, value: Buffer, traceparent: string | undefined, options: EventReaderOptions): ReadResult {
  const attributes: Record<string, unknown> = {};
  for (const name of Object.keys(record.headers ?? {})) {
    if (name.startsWith('ce_')) attributes[name.slice(3)] = header(record, name);
  }
  const contentType = header(record, 'content-type');
  let data: unknown;
  if (record.decoded !== undefined) {
    data = record.decoded;
    if (nestedDeeperThan(data, MAX_NESTING_DEPTH)) return invalid(`binary-mode CloudEvent data is nested deeper than ${MAX_NESTING_DEPTH} levels`);
  } else if (contentType === undefined || /[/+]json(;|$)/.test(contentType)) {
    try {
      data = JSON.parse(value.toString('utf8'));
    } catch (err) {
      return invalid(`binary-mode CloudEvent data is not valid JSON: ${(err as Error).message}`);
    }
    if (nestedDeeperThan(data, MAX_NESTING_DEPTH)) return invalid(`binary-mode CloudEvent data is nested deeper than ${MAX_NESTING_DEPTH} levels`);
  } else {
    data = value.toString('base64');
    attributes.data_base64 = true;
  }
  if (contentType !== undefined) attributes.datacontenttype = contentType;
  return fromCloudEventAttributes(attributes, data, traceparent, options);
}

function fromCloudEventAttributes(ce: Record<string, unknown>, data: unknown, traceparent: string | undefined, options: EventReaderOptions): ReadResult {
  if (ce.specversion !== '1.0') return invalid(`CloudEvent specversion must be "1.0", got ${JSON.stringify(ce.specversion)}`);
  const id = checkId(ce.id);
  if (typeof id !== 'string') return id;
  const type = checkType(ce.type);
  if (typeof type !== 'string') return type;
  if (typeof ce.source !== 'string' || ce.source.length === 0) return invalid('CloudEvent source is missing or not a string');
  const time = checkTime(ce.time, options);
  if (typeof time !== 'string') return time;
  if (ce.subject !== undefined && typeof ce.subject !== 'string') return invalid('CloudEvent subject must be a string');
  const extensions: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(ce)) if (!CE_ATTRIBUTES.has(k)) extensions[k] = v;
  return {
    ok: true,
    event: {
      id,
      type,
      source: ce.source,
      time,
      subject: ce.subject,
      tenant: typeof extensions.tenant === 'string' ? extensions.tenant : undefined,
      datacontenttype: typeof ce.datacontenttype === 'string' ? ce.datacontenttype : undefined,
      data: data ?? null,
      extensions: Object.keys(extensions).length > 0 ? extensions : undefined,
      traceparent,
      cloudevent: true,
    },
  };
}

function readPlain(obj: Record<string, unknown>, traceparent: string | undefined, topic: string, options: EventReaderOptions): ReadResult {
  const at = (path: string) => readPath(obj, split(path));
  const rawId = at(options.paths.id);
  const id = checkId(typeof rawId === 'number' ? String(rawId) : rawId);
  if (typeof id !== 'string') return id;
  const type = checkType(at(options.paths.type));
  if (typeof type !== 'string') return type;
  const time = checkTime(at(options.paths.time) ?? obj.timestamp, options);
  if (typeof time !== 'string') return time;
  const subject = at(options.paths.subject);
  return {
    ok: true,
    event: {
      id,
      type,
      source: typeof obj.source === 'string' && obj.source.length > 0 ? obj.source : `${DEFAULT_SOURCE}:${topic}`,
      time,
      subject: typeof subject === 'string' ? subject : undefined,
      tenant: typeof obj.tenant === 'string' ? obj.tenant : undefined,
      data: at(options.paths.data) ?? null,
      traceparent,
      cloudevent: false,
    },
  };
}

function checkId(id: unknown): string | ReadResult {
  if (typeof id !== 'string' || id.length === 0) return invalid('id is missing or not a non-empty string');
  if (id.length > MAX_ID) return invalid(`id is longer than ${MAX_ID} characters`);
  return id;
}

function checkType(type: unknown): string | ReadResult {
  if (typeof type !== 'string' || type.length === 0) return invalid('type is missing or not a non-empty string');
  if (type.length > MAX_TYPE || !TYPE_SYNTAX.test(type)) return invalid(`type must be 1 to ${MAX_TYPE} printable characters without spaces`);
  return type;
}

function checkTime(time: unknown, options: EventReaderOptions): string | ReadResult {
  if (time === undefined || time === null) return options.now().toISOString();
  if (typeof time !== 'string' || Number.isNaN(Date.parse(time))) return invalid('time must be an RFC 3339 timestamp');
  return time;
}

/** Whether objects and arrays in `value` nest deeper than `max` levels (iterative: any depth is safe to ask about). */
function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= max) return true;
    for (const child of Object.values(v)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}
