import { randomUUID } from 'node:crypto';
import { type Consumer, Kafka, type KafkaMessage, logLevel, type Producer } from 'kafkajs';
import { BROKERS } from './broker.js';

export const testKafka = (brokers = BROKERS, level = logLevel.ERROR) => new Kafka({ clientId: 'e2e', brokers, logLevel: level });

export interface ReadRecord {
  key: string | null;
  value: unknown;
  headers: Record<string, string>;
  partition: number;
  offset: string;
}

/** Publishes source events like any service would. */
export class EventPublisher {
  private readonly producer: Producer;

  constructor(kafka: Kafka) {
    this.producer = kafka.producer({ allowAutoTopicCreation: false });
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  async publish(topic: string, value: unknown, opts: { key?: string; headers?: Record<string, string> } = {}): Promise<void> {
    const raw = typeof value === 'string' || Buffer.isBuffer(value) ? value : JSON.stringify(value);
    await this.producer.send({ topic, acks: -1, messages: [{ key: opts.key ?? 'k', value: raw, headers: opts.headers }] });
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }
}

/** Reads a topic from the beginning and keeps every record, to assert on what the gateway wrote. */
export class TopicReader {
  readonly records: ReadRecord[] = [];
  private consumer?: Consumer;

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
    /** Given each record as it is read; then the reader keeps none. */
    private readonly onRecord?: (record: ReadRecord) => void,
  ) {}

  /** The last offset read per partition, transaction markers included. */
  private readonly positions = new Map<number, bigint>();

  async start(): Promise<this> {
    this.consumer = this.kafka.consumer({ groupId: `e2e-reader-${randomUUID()}` });
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
    this.consumer.on(this.consumer.events.END_BATCH_PROCESS, ({ payload }) => this.positions.set(payload.partition, BigInt(payload.lastOffset)));
    await this.consumer.run({
      eachMessage: async ({ message, partition }) => {
        const record = toRecord(message, partition);
        if (this.onRecord) this.onRecord(record);
        else this.records.push(record);
      },
    });
    return this;
  }

  async waitFor<T = unknown>(predicate: (value: T, record: ReadRecord) => boolean, timeoutMs = 30_000): Promise<ReadRecord & { value: T }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.records.find((r) => predicate(r.value as T, r));
      if (found) return found as ReadRecord & { value: T };
      if (Date.now() > deadline) throw new Error(`timed out waiting for a record on ${this.topic}; saw ${this.records.length}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Waits until every record of the topic up to its current end has been read. */
  async waitCaughtUp(timeoutMs = 60_000): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const ends = await admin.fetchTopicOffsets(this.topic);
      const behind = () => ends.filter((e) => BigInt(e.high) > 0n && (this.positions.get(e.partition) ?? -1n) < BigInt(e.high) - 1n);
      const deadline = Date.now() + timeoutMs;
      while (behind().length > 0) {
        if (Date.now() > deadline) throw new Error(`${this.topic}: partitions ${behind().map((e) => e.partition).join(', ')} not read to their end`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await admin.disconnect();
    }
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}

function toRecord(message: KafkaMessage, partition: number): ReadRecord {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(message.headers ?? {})) if (v !== undefined) headers[k] = String(v);
  let value: unknown = null;
  if (message.value) {
    const text = message.value.toString('utf8');
    try {
      value = JSON.parse(text);
    } catch {
      value = text;
    }
  }
  return { key: message.key?.toString('utf8') ?? null, value, headers, partition, offset: message.offset };
}

/** Java's String.hashCode, which Kafka hashes a group id with to place it on __consumer_offsets. */
function javaHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/**
 * The broker (node id) that coordinates `groupId`: the leader of its __consumer_offsets partition,
 * `abs(groupId.hashCode()) % partitions` (Kafka's GroupCoordinator placement, Utils.abs = & 0x7fffffff).
 */
export async function groupCoordinator(kafka: Kafka, groupId: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: ['__consumer_offsets'] });
    const partitions = topics[0]!.partitions;
    const index = (javaHash(groupId) & 0x7fffffff) % partitions.length;
    return partitions.find((p) => p.partitionId === index)!.leader;
  } finally {
    await admin.disconnect();
  }
}
