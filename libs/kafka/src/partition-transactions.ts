import { Logger } from '@nestjs/common';
import { explainKafkaError } from './kafka-access-errors.js';
import type { Admin, Kafka, Producer, Transaction } from 'kafkajs';
import { type OutgoingRecord, PRODUCER_RETRY, RecordingPartitioner, type RecordWriter, sendRecords } from './kafka-producer.js';

/**
 * A partition's next transaction often begins while the broker is still writing the markers of
 * its previous one, and the coordinator answers the first AddPartitionsToTxn with
 * CONCURRENT_TRANSACTIONS until they are written (a few ms; about 1% of transactions at 500 events/s).
 * kafkajs retries it with the producer's backoff: at PRODUCER_RETRY's 200 ms that wait was the p99
 * of the whole pipeline at 500 events/s (source → job written p99 211 ms, p50 11 ms); the Java
 * client retries this answer after 20 ms. On a local broker the markers take 1-5 ms, so the
 * transactional producers here retry from 1 ms, backing off exponentially as before (a
 * transaction right after the previous one of its partition, measured on the bench broker: the
 * produce step p50 9.1 ms retrying from 5 ms, 4.9 ms from 1 ms).
 */
const TRANSACTION_RETRY = { ...PRODUCER_RETRY, initialRetryTime: 1 };

/** One open transaction of an input partition: what a batch writes, committed together with the batch's offset. */
export interface PartitionTransaction extends RecordWriter {
  /**
   * Set on the first transaction of a partition after each assignment (a rebalance, a consumer
   * restart): the group's committed offset, read once the partition's producer is initialised, so
   * that any transaction of the partition still open or completing (an earlier owner's, or this
   * process's last one) is finished and its writer fenced. Records below it were already done.
   */
  readonly committedOffset?: bigint;
  /** Commits the records written and the group's offset `nextOffset` for the partition, atomically. */
  commit(nextOffset: string): Promise<void>;
  /** Aborts: nothing written becomes visible to read-committed consumers, no offset moves. */
  abort(): Promise<void>;
}

/**
 * Exactly-once consume → produce for a consumer group, one transactional producer per
 * input partition (`transactionalId` = group + topic + partition).
 *
 * kafkajs 2.2.4 speaks TxnOffsetCommit v0–v1 only, without the consumer-group generation
 * (KIP-447), so the broker cannot refuse an offset commit from a consumer that lost its
 * partition. Fencing goes through the transactional id instead: whoever takes a partition
 * over initialises the partition's producer, which bumps its epoch, finishes the previous
 * owner's open transaction and refuses every later write of the previous owner. Only then
 * is the committed offset read (`committedOffset`), so records the previous owner committed
 * in the meantime are not written twice.
 */
export class PartitionTransactions {
  private readonly log = new Logger(PartitionTransactions.name);
  private readonly producers = new Map<string, Promise<Producer>>();
  private admin?: Promise<Admin>;

  constructor(
    private readonly kafka: Kafka,
    private readonly groupId: string,
  ) {}

  /** Begins a transaction for the input partition. */
  async begin(topic: string, partition: number): Promise<PartitionTransaction> {
    const key = `${topic}|${partition}`;
    let fresh = false;
    let producer = this.producers.get(key);
    if (!producer) {
      fresh = true;
      producer = this.connect(`${this.groupId}.${topic}.${partition}`);
      this.producers.set(key, producer);
    }
    let txn: Transaction;
    try {
      // The first transaction() of a producer initialises it (InitProducerId): that is the fencing step.
      txn = await (await producer).transaction();
    } catch (err) {
      await this.drop(key);
      const id = `${this.groupId}.${topic}.${partition}`;
      throw explainKafkaError(err, { doing: `starting the fan-out transaction of ${topic}[${partition}] (transactional id ${id})`, needs: [`WRITE on transactional id ${id}`] });
    }
    let ended = false;
    const fail = async (err: unknown): Promise<never> => {
      // A fenced or failed producer (e.g. OUT_OF_ORDER_SEQUENCE_NUMBER after a leader change: kafkajs
      // does not recover an idempotent producer from it) is not used again; the next batch initialises a new one.
      if (!ended) await txn.abort().catch(() => undefined);
      ended = true;
      await this.drop(key);
      throw err;
    };
    const committedOffset = fresh ? await this.committed(topic, partition).catch(fail) : undefined;
    return {
      committedOffset,
      send: (records: OutgoingRecord[]) => sendRecords(txn, records).catch(fail),
      commit: async (nextOffset) => {
        try {
          await txn.sendOffsets({ consumerGroupId: this.groupId, topics: [{ topic, partitions: [{ partition, offset: nextOffset }] }] });
          await txn.commit();
          ended = true;
        } catch (err) {
          await fail(err);
        }
      },
      abort: async () => {
        if (ended) return;
        await txn.abort().catch(fail);
        ended = true;
      },
    };
  }

  /**
   * A new assignment (a rebalance, a consumer restart): every partition's producer is closed, and
   * initialised again before its next transaction. InitProducerId returns only once the
   * partition's previous transaction is complete (the coordinator answers CONCURRENT_TRANSACTIONS
   * until its markers are written), so the committed offset read after it includes that
   * transaction's offset. Without it, a partition read again after a rebalance could get an offset
   * from before a transaction whose markers were still being written (a broker failover slows
   * them), and that batch would be written twice.
   */
  async reassigned(): Promise<void> {
    await Promise.all([...this.producers.keys()].map((k) => this.drop(k)));
  }

  async close(): Promise<void> {
    await this.reassigned();
    const admin = this.admin;
    this.admin = undefined;
    await admin?.then((a) => a.disconnect()).catch(() => undefined);
  }

  private async connect(transactionalId: string): Promise<Producer> {
    const producer = this.kafka.producer({
      transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: RecordingPartitioner,
      retry: TRANSACTION_RETRY,
    });
    await producer.connect();
    return producer;
  }

  private async drop(key: string): Promise<void> {
    const producer = this.producers.get(key);
    if (!producer) return;
    this.producers.delete(key);
    await producer.then((p) => p.disconnect()).catch((err: unknown) => this.log.warn(`closing the producer of ${key}: ${(err as Error).message}`));
  }

  private async committed(topic: string, partition: number): Promise<bigint | undefined> {
    this.admin ??= (async () => {
      const admin = this.kafka.admin();
      await admin.connect();
      return admin;
    })().catch((err: unknown) => {
      this.admin = undefined;
      throw err;
    });
    const [offsets] = await (await this.admin).fetchOffsets({ groupId: this.groupId, topics: [topic] });
    const offset = offsets?.partitions.find((p) => p.partition === partition)?.offset;
    return offset === undefined || BigInt(offset) < 0n ? undefined : BigInt(offset);
  }
}
