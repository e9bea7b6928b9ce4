import type { Batch, Consumer, EachBatchPayload } from 'kafkajs';
import kafkajs from 'kafkajs';
import type { KafkaBatchContext } from '../kafka-batch.context.js';

/** The registered handler of a batch, as the server runs it: its errors come out retriable (see `retriable`). */
export type BatchHandler = (batch: Batch, context: KafkaBatchContext) => Promise<void>;

/** What a runner sees of the server that owns the consumer. */
export interface BatchRunnerHost {
  /** The consumer while the server is listening; undefined once it closed. */
  consumer(): Consumer | undefined;
  /** True once close() began. */
  isClosing(): boolean;
  /**
   * Told when the runner is done with a batch (batch and transactional modes: committed; pipelined:
   * handed out), with the time the batch was handed to the runner (`Date.now()`).
   */
  batchDone?(batch: Batch, readAt: number): void;
}

/**
 * How one mode of KafkaBatchServer handles a batch and commits offsets. The server connects,
 * subscribes, follows the group (GROUP_JOIN, CRASH), heartbeats during a batch and closes; the
 * runner builds each batch's context, runs the handler and decides what is committed.
 */
export interface BatchRunner {
  /** The consumer is made and about to run: hooks on its events. */
  attach?(consumer: Consumer): void;
  /** One batch of a partition this process holds. */
  run(payload: EachBatchPayload, handle: BatchHandler): Promise<void>;
  /** The group was (re)joined and this process holds these partitions (`topic|partition`). */
  joined?(consumer: Consumer, held: ReadonlySet<string>): void;
  /**
   * close() began. `consumer` is still in its group (undefined when kafkajs stopped it for good):
   * the work to finish before it leaves.
   */
  closing?(consumer: Consumer | undefined, topics: string[]): Promise<void>;
  /** The consumer left its group (or kafkajs stopped it). */
  closed?(): Promise<void>;
  /** Records handed out past their partition's committed offset (pipelined mode). */
  uncommitted?(): number;
  /** Partitions whose committed offset has not moved for `forMs` though work on them is pending, described for the log. */
  stalled?(now: number, forMs: number): string[];
}

/**
 * A batch that failed is read again: kafkajs retries it, then restarts the consumer, but only
 * for retriable errors. A non-retriable Kafka error from a handler's write (a fenced producer,
 * OUT_OF_ORDER_SEQUENCE_NUMBER after a broker failover) would stop the consumer for good, so it
 * is passed on as retriable; other errors (a rebalance) keep their type.
 */
export function retriable(err: unknown): unknown {
  if ((err as { retriable?: boolean }).retriable !== false) return err;
  // kafkajs is CommonJS and spreads its errors into its exports: ESM sees them on the default export only.
  return new kafkajs.KafkaJSError(`${(err as Error).message} (the batch is read again)`, { retriable: true });
}

/** The offset to commit after the batch: the one after its last record. */
export function nextOffset(payload: EachBatchPayload): string {
  return (BigInt(payload.batch.lastOffset()) + 1n).toString();
}
