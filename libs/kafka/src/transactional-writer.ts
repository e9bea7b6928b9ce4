import type { Kafka, Producer, RecordMetadata } from 'kafkajs';
import { type OutgoingRecord, RecordingPartitioner, sendRecords } from './kafka-producer.js';

/**
 * Writes groups of records atomically, each group in one Kafka transaction of its own
 * transactional id (e.g. DLQ replay: the replayed jobs and their replay marks, so a mark never
 * exists without its job, nor a job without its mark). Callers write one group at a time.
 */
export class TransactionalWriter {
  private producer?: Promise<Producer>;

  constructor(
    private readonly kafka: Kafka,
    private readonly transactionalId: string,
  ) {}

  /** The records in one transaction; resolves with their metadata once it is committed. */
  async write(records: OutgoingRecord[]): Promise<RecordMetadata[]> {
    const producer = await this.connect();
    const txn = await producer.transaction();
    try {
      const written = await sendRecords(txn, records);
      await txn.commit();
      return written;
    } catch (err) {
      await txn.abort().catch(() => undefined);
      // A producer whose transaction failed half-way starts over (a new epoch) at the next write.
      this.producer = undefined;
      void producer.disconnect().catch(() => undefined);
      throw err;
    }
  }

  async close(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.then((p) => p.disconnect()).catch(() => undefined);
  }

  private connect(): Promise<Producer> {
    this.producer ??= (async () => {
      const producer = this.kafka.producer({
        transactionalId: this.transactionalId,
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: RecordingPartitioner,
      });
      await producer.connect();
      return producer;
    })().catch((err: unknown) => {
      this.producer = undefined;
      throw err;
    });
    return this.producer;
  }
}
