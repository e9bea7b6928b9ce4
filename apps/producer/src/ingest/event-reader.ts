import type { GatewayEvent } from '@app/contracts';

/** A source record as the reader needs it (a kafkajs message fits). */
export interface SourceRecord {
  value: Buffer | null;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
  timestamp?: string;
}

export type ReadResult = { ok: true; event: GatewayEvent } | { ok: false; reason: string };

export interface EventReaderOptions {
  maxEventBytes: number;
  /** The time to give events that carry none. */
  now: () => Date;
}

const MAX_ID = 256;
const MAX_TYPE = 256;
const TYPE_SYNTAX = /^[\x21-\x7e]+$/;
const CE_ATTRIBUTES = new Set(['specversion', 'id', 'source', 'type', 'time', 'subject', 'datacontenttype', 'dataschema', 'data', 'data_base64']);
const DEFAULT_SOURCE = 'kafka';

const invalid = (reason: string): ReadResult => ({ ok: false, reason });

function header(record: SourceRecord, name: string): string | undefined {
  const value = record.headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

/**
 * Reads a source record as a GatewayEvent, or says why it cannot. Accepts:
 * - CloudEvents in binary mode (`ce_*` headers, the value is the data), per the Kafka protocol binding;
 * - CloudEvents in structured mode (a JSON object with `specversion`, or content-type application/cloudevents+json);
 * - plain JSON `{id, type, data, subject?, tenant?, time?, source?}`.
 */
export function readEvent(record: SourceRecord, topic: string, options: EventReaderOptions): ReadResult {
  const value = record.value;
  if (value === null || value.length === 0) return invalid('empty value (tombstone or no payload)');
  if (value.length > options.maxEventBytes)
    return invalid(`event is ${value.length} bytes, over the ${options.maxEventBytes}-byte limit (MAX_EVENT_BYTES)`);

  const traceparent = header(record, 'traceparent') ?? header(record, 'ce_traceparent');
  const ceSpecversion = header(record, 'ce_specversion');
  if (ceSpecversion !== undefined) return readBinaryCloudEvent(record, value, traceparent, topic, options);

  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch (err) {
    return invalid(`not valid JSON: ${(err as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return invalid('not a JSON object');
  const obj = parsed as Record<string, unknown>;
  const contentType = header(record, 'content-type') ?? '';
  const structured = 'specversion' in obj || contentType.startsWith('application/cloudevents+json');
  return structured ? fromCloudEventAttributes(obj, obj.data, traceparent, topic, options) : readPlain(obj, traceparent, topic, options);
}

function readBinaryCloudEvent(record: SourceRecord, value: Buffer, traceparent: string | undefined, topic: string, options: EventReaderOptions): ReadResult {
  const attributes: Record<string, unknown> = {};
  for (const name of Object.keys(record.headers ?? {})) {
    if (name.startsWith('ce_')) attributes[name.slice(3)] = header(record, name);
  }
  const contentType = header(record, 'content-type');
  let data: unknown;
  if (contentType === undefined || /[/+]json(;|$)/.test(contentType)) {
    try {
      data = JSON.parse(value.toString('utf8'));
    } catch (err) {
      return invalid(`binary-mode CloudEvent data is not valid JSON: ${(err as Error).message}`);
    }
  } else {
    data = value.toString('base64');
    attributes.data_base64 = true;
  }
  if (contentType !== undefined) attributes.datacontenttype = contentType;
  return fromCloudEventAttributes(attributes, data, traceparent, topic, options);
}

function fromCloudEventAttributes(
  ce: Record<string, unknown>,
  data: unknown,
  traceparent: string | undefined,
  _topic: string,
  options: EventReaderOptions,
): ReadResult {
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
  const tenant = typeof extensions.tenant === 'string' ? extensions.tenant : undefined;
  return {
    ok: true,
    event: {
      id,
      type,
      source: ce.source,
      time,
      subject: ce.subject,
      tenant,
      datacontenttype: typeof ce.datacontenttype === 'string' ? ce.datacontenttype : undefined,
      data: data ?? null,
      extensions: Object.keys(extensions).length > 0 ? extensions : undefined,
      traceparent,
      cloudevent: true,
    },
  };
}

function readPlain(obj: Record<string, unknown>, traceparent: string | undefined, topic: string, options: EventReaderOptions): ReadResult {
  const id = checkId(typeof obj.id === 'number' ? String(obj.id) : obj.id);
  if (typeof id !== 'string') return id;
  const type = checkType(obj.type);
  if (typeof type !== 'string') return type;
  const time = checkTime(obj.time ?? obj.timestamp, options);
  if (typeof time !== 'string') return time;
  return {
    ok: true,
    event: {
      id,
      type,
      source: typeof obj.source === 'string' && obj.source.length > 0 ? obj.source : `${DEFAULT_SOURCE}:${topic}`,
      time,
      subject: typeof obj.subject === 'string' ? obj.subject : undefined,
      tenant: typeof obj.tenant === 'string' ? obj.tenant : undefined,
      data: obj.data ?? null,
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
