import { Logger } from '@nestjs/common';
import type { Batch, Consumer, EachBatchPayload } from 'kafkajs';
import { isBatchActive, KafkaBatchContext } from '../kafka-batch.context.js';
import type { PartitionTransactions } from '../partition-transactions.js';
import { holdRejoin, installRejoinHold } from '../rejoin-hold.js';
import { type BatchHandler, type BatchRunner, type BatchRunnerHost, retriable } from './batch-runner.js';

/** A batch waiting for its partition's next transaction. */
interface Queued {
  payload: EachBatchPayload;
  handle: BatchHandler;
  /** When the batch was handed to the runner (for `BatchRunnerHost.batchDone`). */
  readAt: number;
}

/** One input partition's transactions, one after another, and the batches waiting for them. */
interface Chain {
  topic: string;
  partition: number;
  queue: Queued[];
  /** Records in `queue`. */
  queued: number;
  /** The loop running the partition's transactions, while there are batches. */
  running?: Promise<void>;
  /** Told after each transaction (the batches that wait for room in the queue). */
  progressed: (() => void)[];
}

/**
 * Records a partition may have waiting for its transactions before the partition's next batch
 * waits for room (the fetch loop then waits with it): bounds the memory of a fast source.
 */
const MAX_QUEUED_RECORDS = 4_000;
/** Records of the waiting batches that one transaction takes at most. */
const MAX_TRANSACTION_RECORDS = 2_000;
/** How long close() and a rejoin wait for the partitions' transactions (shorter than the 60 s rebalance timeout). */
const DRAIN_TIMEOUT_MS = 45_000;

/**
 * Transactional mode (exactly-once consume → produce): batches run in transactions of their input
 * partition that the handler writes to (`context.writer`) and that commit the batches' offset with
 * their records. Records an earlier owner already committed are skipped; a transaction whose
 * partition was lost or that runs into shutdown is aborted, never half-visible.
 *
 * The fetch loop does not wait for the transactions. kafkajs fetches again only once every batch
 * of the previous fetch is handled, so a batch that held it for its transaction (a catch-up read,
 * AddPartitionsToTxn, the produce, AddOffsetsToTxn, TxnOffsetCommit, EndTxn: six round trips) made
 * every partition's next records wait for the slowest partition's transaction: at 500 events/s that
 * wait was the largest hop of the pipeline (source → producer read p50 27 ms of 78). Here a batch
 * is queued on its partition's chain and the partition reads on; each partition runs one
 * transaction at a time, and a transaction takes every batch that queued while the previous one
 * ran (up to MAX_TRANSACTION_RECORDS), handed to the handler as one batch: under load, fewer and
 * larger transactions. A transaction
 * that fails rewinds its partition to its first record (the batches queued after it are dropped
 * and read again). A rejoin waits until the chains are done (the rejoin hold), so a partition
 * handed over has no transaction open; shutdown aborts the open ones.
 */
export class TransactionalBatchRunner implements BatchRunner {
  private readonly log = new Logger('KafkaBatchServer');
  private readonly chains = new Map<string, Chain>();

  constructor(
    private readonly host: BatchRunnerHost,
    private readonly transactions: Pick<PartitionTransactions, 'begin' | 'reassigned' | 'close'>,
  ) {}

  /** kafkajs rejoins right after REBALANCING (eager, no revoke callback): the rejoin waits for the chains. */
  attach(consumer: Consumer): void {
    installRejoinHold();
    consumer.on(consumer.events.REBALANCING, ({ payload }) => holdRejoin(payload.memberId, this.drain('rebalance')));
  }

  async run(payload: EachBatchPayload, handle: BatchHandler): Promise<void> {
    const { batch } = payload;
    if (batch.isEmpty() || !isBatchActive(payload, this.host.isClosing())) return;
    const chain = this.chainOf(batch.topic, batch.partition);
    chain.queue.push({ payload, handle, readAt: Date.now() });
    chain.queued += batch.messages.length;
    // The partition reads on after this batch; its offset is committed by the batch's transaction.
    payload.resolveOffset(batch.lastOffset());
    chain.running ??= this.runChain(chain);
    // Full: the partition (and kafkajs' fetch loop) waits for room, as long as the chain runs.
    while (chain.queued > MAX_QUEUED_RECORDS && this.chains.get(`${batch.topic}|${batch.partition}`)?.running !== undefined && !this.host.isClosing()) {
      await new Promise<void>((resolve) => chain.progressed.push(resolve));
    }
  }

  /** A new assignment: every partition's producer is initialised again before its next transaction. */
  joined(): void {
    void this.transactions.reassigned();
  }

  /** close() began: the open transactions abort (their handlers see the server closing), the waiting batches are dropped. */
  async closing(): Promise<void> {
    await this.drain();
  }

  async closed(): Promise<void> {
    await this.transactions.close();
  }

  private chainOf(topic: string, partition: number): Chain {
    const key = `${topic}|${partition}`;
    let chain = this.chains.get(key);
    if (!chain) {
      chain = { topic, partition, queue: [], queued: 0, progressed: [] };
      this.chains.set(key, chain);
    }
    return chain;
  }

  /** Runs the partition's transactions until no batch waits. */
  private async runChain(chain: Chain): Promise<void> {
    try {
      while (chain.queue.length > 0) {
        const group = this.take(chain);
        try {
          const committed = await this.inTransaction(group);
          if (committed) for (const q of group) this.host.batchDone?.(q.payload.batch, q.readAt);
          else this.dropQueue(chain);
        } catch (err) {
          this.rewind(chain, group, err);
        }
        this.wake(chain);
      }
    } finally {
      chain.running = undefined;
      this.wake(chain);
    }
  }

  /** The waiting batches for one transaction, oldest first. */
  private take(chain: Chain): Queued[] {
    const group: Queued[] = [];
    let records = 0;
    while (chain.queue.length > 0 && (group.length === 0 || records + chain.queue[0]!.payload.batch.messages.length <= MAX_TRANSACTION_RECORDS)) {
      const q = chain.queue.shift()!;
      records += q.payload.batch.messages.length;
      group.push(q);
    }
    chain.queued -= records;
    return group;
  }

  /** One transaction for the batches of `group`; false when it was aborted because the partition was lost or the server is closing. */
  private async inTransaction(group: Queued[]): Promise<boolean> {
    const first = group[0]!.payload;
    const last = group.at(-1)!.payload;
    const active = () => group.every((q) => isBatchActive(q.payload, this.host.isClosing()));
    if (!active()) return false;
    const txn = await this.transactions.begin(first.batch.topic, first.batch.partition);
    const from = txn.committedOffset;
    // The group's batches go to the handler as one (one fan-out, one produce request), read at the time of its last batch.
    const messages = group.flatMap((q) => q.payload.batch.messages);
    const todo = Object.assign(Object.create(last.batch) as Batch, { messages: from === undefined ? messages : messages.filter((m) => BigInt(m.offset) >= from) });
    const { handle, readAt } = group.at(-1)!;
    try {
      const context = new KafkaBatchContext(last, { isClosing: () => this.host.isClosing(), writer: txn, readAt });
      if (todo.messages.length > 0) await handle(todo, context);
    } catch (err) {
      await txn.abort();
      throw err;
    }
    // Lost the partition or stopping: what was written is discarded, the next owner reads it again.
    if (!active()) {
      await txn.abort();
      return false;
    }
    await txn.commit((BigInt(last.batch.lastOffset()) + 1n).toString());
    return true;
  }

  /**
   * A transaction failed (aborted): its batches and every batch queued after them are read again
   * from its first record. The seek makes kafkajs drop what it fetched past it (`isStale`).
   */
  private rewind(chain: Chain, group: Queued[], err: unknown): void {
    this.dropQueue(chain);
    const from = group[0]!.payload.batch.firstOffset() ?? group[0]!.payload.batch.lastOffset();
    const consumer = this.host.consumer();
    const lost = !consumer || this.host.isClosing() || !group[0]!.payload.isRunning();
    this.log.warn(
      `transaction of ${chain.topic}[${chain.partition}] failed (${(retriable(err) as Error).message})${lost ? '' : `: reading the partition again from offset ${from}`}`,
    );
    if (lost) return;
    try {
      consumer.seek({ topic: chain.topic, partition: chain.partition, offset: from });
    } catch (seekErr) {
      // Not assigned here any more: its next owner reads it from the committed offset.
      this.log.warn(`could not rewind ${chain.topic}[${chain.partition}]: ${(seekErr as Error).message}`);
    }
  }

  private dropQueue(chain: Chain): void {
    chain.queue = [];
    chain.queued = 0;
  }

  private wake(chain: Chain): void {
    const waiting = chain.progressed;
    chain.progressed = [];
    for (const resolve of waiting) resolve();
  }

  /** Resolves once no partition has a transaction running or a batch waiting. */
  async settled(): Promise<void> {
    await Promise.all(this.running());
  }

  private running(): Promise<void>[] {
    return [...this.chains.values()].map((c) => c.running).filter((r): r is Promise<void> => r !== undefined);
  }

  /** settled(), for at most DRAIN_TIMEOUT_MS. */
  private async drain(reason?: string): Promise<void> {
    const running = this.running();
    if (running.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), DRAIN_TIMEOUT_MS)));
    const late = await Promise.race([Promise.all(running).then(() => false), timedOut]);
    clearTimeout(timer);
    if (late) this.log.warn(`transactions of ${running.length} partition(s) still running after ${DRAIN_TIMEOUT_MS / 1000} s${reason ? ` (${reason})` : ''}: they abort once their producers are closed`);
  }
}
