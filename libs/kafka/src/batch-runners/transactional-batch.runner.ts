import type { Batch, EachBatchPayload } from 'kafkajs';
import { isBatchActive, KafkaBatchContext } from '../kafka-batch.context.js';
import type { PartitionTransactions } from '../partition-transactions.js';
import { type BatchHandler, type BatchRunner, type BatchRunnerHost, nextOffset, retriable } from './batch-runner.js';

/**
 * Transactional batch mode (exactly-once consume → produce): each batch runs in a transaction of
 * its input partition that the handler writes to (`context.writer`) and that commits the batch's
 * offset with its records. Records an earlier owner already committed are skipped; a batch whose
 * partition was lost or that runs into shutdown is aborted, never half-visible.
 *
 * The handler's transaction holds kafkajs' fetch loop (it fetches again once every batch of a fetch
 * is done), so an event that arrives during a round of transactions waits for the next fetch
 * (source → producer read, p50 8-9 ms at 500 events/s). Queuing batches on per-partition chains
 * of transactions that run on their own removed that wait but was slower end to end (P at 500/s
 * p50 33-49 ms against 25): unsynchronised, the partitions kept the broker busy with transactions
 * whose every step took twice as long (docs/benchmarks.md, "Performance, second round").
 */
export class TransactionalBatchRunner implements BatchRunner {
  constructor(
    private readonly host: BatchRunnerHost,
    private readonly transactions: Pick<PartitionTransactions, 'begin' | 'reassigned' | 'close'>,
  ) {}

  async run(payload: EachBatchPayload, handle: BatchHandler): Promise<void> {
    try {
      await this.inTransaction(payload, handle);
    } catch (err) {
      throw retriable(err);
    }
  }

  /** A new assignment: every partition's producer is initialised again before its next transaction. */
  joined(): void {
    void this.transactions.reassigned();
  }

  async closed(): Promise<void> {
    await this.transactions.close();
  }

  private async inTransaction(payload: EachBatchPayload, handle: BatchHandler): Promise<void> {
    const { batch } = payload;
    if (batch.isEmpty() || !isBatchActive(payload, this.host.isClosing())) return;
    const readAt = Date.now();
    const txn = await this.transactions.begin(batch.topic, batch.partition);
    const from = txn.committedOffset;
    const todo = from === undefined ? batch : Object.assign(Object.create(batch) as Batch, { messages: batch.messages.filter((m) => BigInt(m.offset) >= from) });
    const context = new KafkaBatchContext(payload, { isClosing: () => this.host.isClosing(), writer: txn, readAt });
    try {
      if (todo.messages.length > 0) await handle(todo, context);
    } catch (err) {
      await txn.abort();
      throw err;
    }
    // Lost the partition or stopping: what was written is discarded, the new owner reads it again.
    if (!context.isActive()) return txn.abort();
    await txn.commit(nextOffset(payload));
    payload.resolveOffset(batch.lastOffset());
    this.host.batchDone?.(batch, readAt);
  }
}
