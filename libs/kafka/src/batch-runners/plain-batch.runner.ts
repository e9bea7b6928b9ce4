import type { EachBatchPayload } from 'kafkajs';
import { KafkaBatchContext } from '../kafka-batch.context.js';
import { type BatchHandler, type BatchRunner, type BatchRunnerHost, nextOffset } from './batch-runner.js';

/**
 * Batch mode: the handler resolves when every record of the batch has a durable outcome; only
 * then, and only if the batch is still this process's, is the batch's offset committed. A handler
 * that throws gets the batch again.
 */
export class PlainBatchRunner implements BatchRunner {
  constructor(private readonly host: BatchRunnerHost) {}

  async run(payload: EachBatchPayload, handle: BatchHandler): Promise<void> {
    const context = new KafkaBatchContext(payload, { isClosing: () => this.host.isClosing() });
    await handle(payload.batch, context);
    if (!context.isActive()) return;
    const { topic, partition } = payload.batch;
    payload.resolveOffset(payload.batch.lastOffset());
    // Explicit offsets: with autoCommit off, kafkajs commits only what it is given.
    await payload.commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset: nextOffset(payload) }] }] });
    this.host.batchDone?.(payload.batch, context.readAt);
  }
}
