import type { Kafka, KafkaMessage } from 'kafkajs';
import { checkClusterInternals, kafkajsAbortedFilter, type KafkajsBroker, type KafkajsCluster, kafkajsCluster, type KafkajsFetchedRecord } from './kafkajs-internals.js';

/** kafkajs' isolation levels (protocol/isolationLevel.js): only committed records are read. */
const READ_COMMITTED = 1;
/** A Fetch returns at least the whole batch holding the offset (KIP-74), whatever this says. */
const FETCH_MAX_BYTES = 1024 * 1024;
const METADATA_MAX_AGE_MS = 300_000;
/** How long a range read may take before it fails (a broker that stopped answering, a transaction never ended). */
const RANGE_TIMEOUT_MS = 60_000;
/** A fetch that returned nothing below the range's end (a transaction still open): the next try waits this long. */
const RANGE_WAIT_MS = 100;

/**
 * Reads records at known offsets (one record, or a partition's offset range page by page) with
 * Fetch requests to the partition's leader: no consumer group, so no JoinGroup/SyncGroup and no
 * wait of the broker's group.initial.rebalance.delay.ms (3 s on a stock cluster) per read. The
 * attempt detail and "retry now" of the console API read a job record this way, and
 * `readTopicRange` (DLQ replay, the CLI's `results --once`) a topic. Needs Read on the topic only.
 * One connection set (a kafkajs Cluster of the app's client) is kept, made at the first read.
 */
export class RecordReader {
  private cluster?: Promise<KafkajsCluster>;

  constructor(private readonly kafka: Kafka) {
    checkClusterInternals();
  }

  /** The record, or undefined when the topic no longer holds it (retention, deleted records) or never held it. */
  async read(topic: string, partition: number, offset: string): Promise<KafkaMessage | undefined> {
    const cluster = await this.connected();
    const page = await this.withRetry(cluster, () => this.fetchPage(cluster, topic, partition, offset));
    return page?.committed.find((m) => m.offset === offset) as unknown as KafkaMessage | undefined;
  }

  /**
   * Every committed record of one partition from offset `from` up to (not including) `to`, in
   * offset order, fetched page by page (what of it the topic still holds). Waits (up to
   * `timeoutMs`) while the range's end is past what a read_committed fetch may return yet (a
   * transaction still open below it).
   */
  async readRange(topic: string, partition: number, from: string, to: string, onRecord: (message: KafkaMessage) => void, timeoutMs = RANGE_TIMEOUT_MS): Promise<void> {
    const end = BigInt(to);
    let next = BigInt(from);
    const deadline = Date.now() + timeoutMs;
    const cluster = await this.connected();
    while (next < end) {
      if (Date.now() > deadline) throw new Error(`reading ${topic}[${partition}] up to offset ${to} took longer than ${timeoutMs / 1000} s`);
      const page = await this.withRetry(cluster, () => this.fetchPage(cluster, topic, partition, next.toString()));
      if (page === undefined) {
        // Below the log start (retention): go on from where the topic begins now.
        next = await this.logStart(topic, partition, next);
        continue;
      }
      for (const record of page.committed) {
        const offset = BigInt(record.offset);
        if (offset >= end) return;
        if (offset >= next) onRecord(record as unknown as KafkaMessage);
      }
      if (page.after <= next) await new Promise((r) => setTimeout(r, RANGE_WAIT_MS));
      else next = page.after;
    }
  }

  /** `fetch` once more with fresh metadata after a retriable error (a leader that moved); undefined for an offset out of range. */
  private async withRetry<T>(cluster: KafkajsCluster, fetch: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fetch();
    } catch (err) {
      if (isOutOfRange(err)) return undefined;
      if (!(err as { retriable?: boolean }).retriable) throw err;
      await cluster.refreshMetadata();
      try {
        return await fetch();
      } catch (again) {
        if (isOutOfRange(again)) return undefined;
        throw again;
      }
    }
  }

  async close(): Promise<void> {
    const cluster = this.cluster;
    this.cluster = undefined;
    if (cluster) await (await cluster.catch(() => undefined))?.disconnect();
  }

  private connected(): Promise<KafkajsCluster> {
    if (!this.cluster) {
      const made = kafkajsCluster(this.kafka, { metadataMaxAge: METADATA_MAX_AGE_MS, isolationLevel: READ_COMMITTED });
      const connecting = made.connect().then(() => made);
      // A failed connect is not kept: the next read tries again.
      connecting.catch(() => {
        if (this.cluster === connecting) this.cluster = undefined;
      });
      this.cluster = connecting;
    }
    return this.cluster;
  }

  /**
   * One Fetch from `offset`: the committed data records it returned (aborted ones and control
   * records dropped, as the consumer does with the patched filter), and the offset after the last
   * record it returned of any kind (where the next page starts).
   */
  private async fetchPage(cluster: KafkajsCluster, topic: string, partition: number, offset: string): Promise<{ committed: KafkajsFetchedRecord[]; after: bigint }> {
    await cluster.addTargetTopic(topic);
    const broker = await this.leader(cluster, topic, partition);
    const response = await broker.fetch({
      replicaId: -1,
      isolationLevel: READ_COMMITTED,
      maxWaitTime: 0,
      minBytes: 1,
      maxBytes: FETCH_MAX_BYTES,
      topics: [{ topic, partitions: [{ partition, fetchOffset: offset, maxBytes: FETCH_MAX_BYTES }] }],
    });
    const fetched = response.responses.find((r) => r.topicName === topic)?.partitions.find((p) => p.partition === partition);
    const messages = fetched?.messages ?? [];
    const committed = (kafkajsAbortedFilter()({ messages, abortedTransactions: fetched?.abortedTransactions ?? [] }) as KafkajsFetchedRecord[]).filter((m) => !m.isControlRecord);
    const after = messages.reduce((max, m) => (BigInt(m.offset) + 1n > max ? BigInt(m.offset) + 1n : max), BigInt(offset));
    return { committed, after };
  }

  private async leader(cluster: KafkajsCluster, topic: string, partition: number): Promise<KafkajsBroker> {
    const [nodeId] = Object.entries(cluster.findLeaderForPartitions(topic, [partition])).find(([, partitions]) => partitions.includes(partition)) ?? [];
    if (nodeId === undefined) throw Object.assign(new Error(`no leader known for ${topic}[${partition}]`), { retriable: true });
    return cluster.findBroker({ nodeId });
  }

  /** Where the partition begins now, for an `offset` below it (retention removed records since the range was computed). */
  private async logStart(topic: string, partition: number, offset: bigint): Promise<bigint> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const low = BigInt((await admin.fetchTopicOffsets(topic)).find((p) => p.partition === partition)?.low ?? '0');
      if (low > offset) return low;
    } finally {
      await admin.disconnect();
    }
    throw new Error(`${topic}[${partition}]: offset ${offset} is out of range, and not below the partition's start`);
  }
}

const isOutOfRange = (err: unknown) => (err as { name?: string }).name === 'KafkaJSOffsetOutOfRange';
