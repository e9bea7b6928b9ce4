import type { InvalidEvent } from './attempt-result.js';

/** The parts of a Kafka record the invalid topic keeps (a kafkajs KafkaMessage has them). */
export interface UnreadableRecord {
  key: Buffer | null;
  value: Buffer | null;
  offset: string;
  timestamp: string;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
}

/** Bytes of an invalid event's value kept on the invalid topic. */
export const INVALID_VALUE_KEPT_BYTES = 64 * 1024;

/** What the invalid topic keeps of a record that could not be read, and why. */
export function invalidEvent(message: UnreadableRecord, topic: string, partition: number, reason: string, now: Date): InvalidEvent {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    if (value !== undefined) headers[name] = (Array.isArray(value) ? value : [value]).map((v) => v.toString()).join(',');
  }
  const raw = message.value;
  const kept = raw?.subarray(0, INVALID_VALUE_KEPT_BYTES) ?? null;
  const text = kept?.toString('utf8');
  const isText = text !== undefined && !text.includes('\uFFFD');
  return {
    reason,
    topic,
    partition,
    offset: message.offset,
    timestamp: message.timestamp,
    key: message.key?.toString('utf8') ?? null,
    headers,
    value: kept === null ? null : isText ? text : kept.toString('base64'),
    encoding: isText ? 'utf8' : 'base64',
    size: raw?.length ?? 0,
    truncated: raw !== null && raw.length > INVALID_VALUE_KEPT_BYTES,
    receivedAt: now.toISOString(),
  };
}
