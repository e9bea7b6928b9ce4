import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';

/** How long a range read may take before it fails (a broker that stopped answering). */
const RANGE_TIMEOUT_MS = 60_000;

/** One partition's offsets from `from` up to (not including) `to`. */
export interface PartitionOffsets {
  partition: number;
  from: string;
  to: string;
}

/**
 * Reads every record of `topic` written before the call (up to the end offsets
 * at the call), from the records of `sinceMs` on (by record timestamp) or from
 * the beginning, and hands each to `onRecord` in offset order per partition. With
 * `offsets`, it reads only that partition's range instead (what of it is still
 * on the topic). It reads in a consumer group of its own that never commits.
 */
export async function readTopicRange(
  kafka: Kafka,
  topic: string,
  options: { groupPrefix: string; sinceMs?: number; offsets?: PartitionOffsets },
  onRecord: (message: KafkaMessage, partition: number) => void,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  let ranges: Map<number, { start: bigint; end: bigint }>;
  let partitions: number[];
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    partitions = ends.map((o) => o.partition);
    const starts =
      options.sinceMs === undefined ? ends.map((o) => ({ partition: o.partition, offset: o.low })) : await admin.fetchTopicOffsetsByTimestamp(topic, options.sinceMs);
    ranges = new Map(
      ends.map((o) => {
        const start = starts.find((s) => s.partition === o.partition)?.offset ?? o.low;
        // An offset of -1 from the timestamp lookup: no record at or after `sinceMs`.
        return [o.partition, { start: BigInt(start) < 0n ? BigInt(o.high) : BigInt(start), end: BigInt(o.high) }];
      }),
    );
    if (options.offsets) ranges = onlyOffsets(ranges, options.offsets);
  } finally {
    await admin.disconnect();
  }
  const pending = new Set([...ranges].filter(([, r]) => r.start < r.end).map(([p]) => p));
  if (pending.size === 0) return;

  const consumer = kafka.consumer({ groupId: `${options.groupPrefix}.${randomUUID()}`, maxWaitTimeInMs: 200, allowAutoTopicCreation: false });
  await consumer.connect();
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`reading ${topic} took longer than ${RANGE_TIMEOUT_MS / 1000} s`)), RANGE_TIMEOUT_MS);
      const finish = (err?: unknown) => {
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
      consumer
        .subscribe({ topic, fromBeginning: true })
        .then(() =>
          consumer.run({
            autoCommit: false,
            eachBatch: async ({ batch }) => {
              const range = ranges.get(batch.partition);
              if (!range || !pending.has(batch.partition)) return;
              for (const message of batch.messages) {
                const offset = BigInt(message.offset);
                if (offset >= range.end) break;
                if (offset >= range.start) onRecord(message, batch.partition);
              }
              // Done with the partition once the read position passed the end (control records included).
              const next = BigInt(batch.lastOffset()) + 1n;
              if (next >= range.end) pending.delete(batch.partition);
              if (pending.size === 0) finish();
            },
          }),
        )
        .then(() => {
          for (const [partition, range] of ranges) if (pending.has(partition)) consumer.seek({ topic, partition, offset: range.start.toString() });
          // Partitions with nothing to read are not fetched at all.
          const idle = partitions.filter((p) => !pending.has(p));
          if (idle.length > 0) consumer.pause([{ topic, partitions: idle }]);
        })
        .catch(finish);
    });
  } finally {
    await consumer.disconnect();
  }
}

/** The one partition's range within what the topic still holds (empty when it holds none of it). */
function onlyOffsets(ranges: Map<number, { start: bigint; end: bigint }>, offsets: PartitionOffsets): Map<number, { start: bigint; end: bigint }> {
  const held = ranges.get(offsets.partition);
  if (!held) return new Map();
  const start = BigInt(offsets.from) > held.start ? BigInt(offsets.from) : held.start;
  const end = BigInt(offsets.to) < held.end ? BigInt(offsets.to) : held.end;
  return new Map([[offsets.partition, { start, end: end > start ? end : start }]]);
}
