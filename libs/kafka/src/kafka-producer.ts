import { type Kafka, type Message, Partitioners, type Producer, type RecordMetadata } from 'kafkajs';

export interface OutgoingRecord {
  topic: string;
  key: string | null;
  /** JSON-serialisable value, or null for a tombstone. */
  value: unknown;
  headers?: Record<string, string>;
}

/**
 * The process's one idempotent producer (acks=all). Every record the gateway
 * writes goes through `send`, which resolves once all records are durably written.
 */
export class KafkaProducer {
  private readonly producer: Producer;

  constructor(kafka: Kafka) {
    this.producer = kafka.producer({
      idempotent: true,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      // An idempotent producer keeps retrying (kafkajs warns on a limit): a send waits out a broker outage.
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: 5_000 },
    });
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }

  /** Writes the records (grouped per topic in one request) and returns their metadata. */
  async send(records: OutgoingRecord[]): Promise<RecordMetadata[]> {
    if (records.length === 0) return [];
    const byTopic = new Map<string, Message[]>();
    for (const r of records) {
      const messages = byTopic.get(r.topic) ?? [];
      messages.push({ key: r.key, value: r.value === null ? null : JSON.stringify(r.value), headers: r.headers });
      byTopic.set(r.topic, messages);
    }
    return this.producer.sendBatch({
      acks: -1,
      topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
    });
  }
}
