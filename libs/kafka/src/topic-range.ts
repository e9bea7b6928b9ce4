import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';

/** How long a range read may take before it fails (a broker that stopped answering). */
const RANGE_TIMEOUT_MS = 60_000;

/**
 * Reads every record of `topic` written before the call (up to the end offsets
 * at the call), from the records of `sinceMs` on (by record timestamp) or from
 * the beginning, and hands each to `onRecord` in offset order per partition. It
 * reads in a consumer group of its own that never commits.
 */
export async function readTopicRange(
  kafka: Kafka,
  topic: string,
  options: { groupPrefix: string; sinceMs?: number },
  onRecord: (message: KafkaMessage, partition: number) => void,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  let ranges: Map<number, { start: bigint; end: bigint }>;
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const starts =
      options.sinceMs === undefined ? ends.map((o) => ({ partition: o.partition, offset: o.low })) : await admin.fetchTopicOffsetsByTimestamp(topic, options.sinceMs);
    ranges = new Map(
      ends.map((o) => {
        const start = starts.find((s) => s.partition === o.partition)?.offset ?? o.low;
        // An offset of -1 from the timestamp lookup: no record at or after `sinceMs`.
        return [o.partition, { start: BigInt(start) < 0n ? BigInt(o.high) : BigInt(start), end: BigInt(o.high) }];
      }),
    );
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
        })
        .catch(finish);
    });
  } finally {
    await consumer.disconnect();
  }
}
