import type { Kafka, KafkaMessage } from 'kafkajs';
import { checkClusterInternals, kafkajsAbortedFilter, type KafkajsCluster, kafkajsCluster, type KafkajsFetchedRecord } from './kafkajs-internals.js';

/** kafkajs' isolation levels (protocol/isolationLevel.js): only committed records are read. */
const READ_COMMITTED = 1;
/** A Fetch returns at least the whole batch holding the offset (KIP-74), whatever this says. */
const FETCH_MAX_BYTES = 1024 * 1024;
const METADATA_MAX_AGE_MS = 300_000;

/**
 * Reads ONE record at a known (topic, partition, offset) with a single Fetch request to the
 * partition's leader: no consumer group, so no JoinGroup/SyncGroup and no wait of the broker's
 * group.initial.rebalance.delay.ms (3 s on a stock cluster) per read. The attempt detail and
 * "retry now" of the console API read a job record this way. Needs Read on the topic only.
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
    try {
      return await this.fetch(cluster, topic, partition, offset);
    } catch (err) {
      if (isOutOfRange(err)) return undefined;
      // A leader that moved (NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC_OR_PARTITION after a change):
      // once more, with fresh metadata.
      if (!(err as { retriable?: boolean }).retriable) throw err;
      await cluster.refreshMetadata();
      try {
        return await this.fetch(cluster, topic, partition, offset);
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

  private async fetch(cluster: KafkajsCluster, topic: string, partition: number, offset: string): Promise<KafkaMessage | undefined> {
    await cluster.addTargetTopic(topic);
    const [nodeId] = Object.entries(cluster.findLeaderForPartitions(topic, [partition])).find(([, partitions]) => partitions.includes(partition)) ?? [];
    if (nodeId === undefined) return undefined;
    const broker = await cluster.findBroker({ nodeId });
    const response = await broker.fetch({
      replicaId: -1,
      isolationLevel: READ_COMMITTED,
      maxWaitTime: 0,
      minBytes: 1,
      maxBytes: FETCH_MAX_BYTES,
      topics: [{ topic, partitions: [{ partition, fetchOffset: offset, maxBytes: FETCH_MAX_BYTES }] }],
    });
    const fetched = response.responses.find((r) => r.topicName === topic)?.partitions.find((p) => p.partition === partition);
    if (!fetched) return undefined;
    // The broker sends records of aborted transactions too, with their list: drop them, as the consumer does (patched filter).
    const committed = kafkajsAbortedFilter()({ messages: fetched.messages, abortedTransactions: fetched.abortedTransactions ?? [] }) as KafkajsFetchedRecord[];
    const record = committed.find((m) => m.offset === offset && !m.isControlRecord);
    return record as unknown as KafkaMessage | undefined;
  }
}

const isOutOfRange = (err: unknown) => (err as { name?: string }).name === 'KafkaJSOffsetOutOfRange';
