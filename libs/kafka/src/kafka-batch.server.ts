import { type CustomTransportStrategy, Server } from '@nestjs/microservices';
import { Logger } from '@nestjs/common';
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { lastValueFrom } from 'rxjs';
import { PartitionTransactions } from './partition-transactions.js';
import { explainKafkaError } from './kafka-access-errors.js';
import { type BatchRunner, type BatchRunnerHost, retriable } from './batch-runners/batch-runner.js';
import { PipelinedRunner } from './batch-runners/pipelined.runner.js';
import { PlainBatchRunner } from './batch-runners/plain-batch.runner.js';
import { TransactionalBatchRunner } from './batch-runners/transactional-batch.runner.js';

export interface KafkaBatchServerOptions {
  kafka: Kafka;
  groupId: string;
  /** Logical pattern (as in `@EventPattern(pattern)`) → the topics it consumes. */
  routes: Record<string, string[]>;
  /** Where the group starts when it has no committed offsets. */
  fromBeginning: boolean;
  /**
   * Pipelined handlers dispatch work per record (`context.track`) and return at once;
   * each partition's offset is committed up to its contiguous completed prefix. Batch
   * handlers resolve when the whole batch is done, and the batch is committed then.
   */
  pipelined?: boolean;
  /**
   * Batch mode only: each batch runs in a Kafka transaction of its input partition that the
   * handler writes to (`context.writer`) and that commits the batch's offset with its records
   * (exactly-once consume → produce; see PartitionTransactions).
   */
  transactional?: boolean;
  /** Partitions processed at once by this process. */
  partitionsConsumedConcurrently?: number;
  maxBytesPerPartition?: number;
  sessionTimeoutMs?: number;
  /** Told when the consumer joins its group (true) and when it stops for good (false). */
  onConsuming?: (consuming: boolean) => void;
  /** Told of each batch read: how many records the partition has past it (consumer lag). */
  onBatch?: (topic: string, partition: number, lag: number) => void;
  /** Told when the runner is done with a batch: see BatchRunnerHost.batchDone. */
  onBatchDone?: (batch: { topic: string; partition: number; firstOffset: string; lastOffset: string; size: number }, readAt: number) => void;
}

/** How long a consumer may go without a fetch, or a partition with pending work without a commit, before the log says so. */
const STALL_MS = 30_000;

/** The runner of the mode the options ask for. */
function createRunner(options: KafkaBatchServerOptions, host: BatchRunnerHost): BatchRunner {
  if (options.transactional && options.pipelined) throw new Error('KafkaBatchServer: transactional mode is for batch handlers');
  if (options.transactional) return new TransactionalBatchRunner(host, new PartitionTransactions(options.kafka, options.groupId));
  if (options.pipelined) return new PipelinedRunner(host);
  return new PlainBatchRunner(host);
}

/**
 * A Nest microservice transport over kafkajs that hands handlers whole batches.
 *
 * The stock Kafka transport calls a handler per message; the gateway needs a
 * batch to produce its outcomes in bulk and to commit once. A handler registered
 * with `@EventPattern(pattern)` receives `(batch, KafkaBatchContext)`. This class
 * connects, subscribes, follows the group (join, crash), heartbeats during long
 * batches and closes; a runner per mode handles the batches and commits: plain
 * batch (PlainBatchRunner: the batch's offset once the handler resolved),
 * transactional (TransactionalBatchRunner: records and offset in one transaction)
 * and pipelined (PipelinedRunner: per-record work, contiguous commits, rewind,
 * pauses, drains before a rejoin and at shutdown). Either way nothing is committed
 * that was not done: a handler that throws gets the batch again, and pipelined
 * work that fails rewinds its partition.
 */
export class KafkaBatchServer extends Server implements CustomTransportStrategy {
  private readonly log = new Logger(KafkaBatchServer.name);
  private consumer?: Consumer;
  private closing = false;
  /** kafkajs crashed the consumer without a restart (and disconnected it). */
  private stopped = false;
  private readonly runner: BatchRunner;
  /** When the consumer last completed a fetch (kafkajs' FETCH event), and the stall check's timer. */
  private lastFetch = 0;
  private watchdog?: NodeJS.Timeout;

  constructor(private readonly options: KafkaBatchServerOptions) {
    super();
    const { onBatchDone } = options;
    this.runner = createRunner(options, {
      consumer: () => this.consumer,
      isClosing: () => this.closing,
      batchDone: onBatchDone
        ? (batch, readAt) => !batch.isEmpty() && onBatchDone({ topic: batch.topic, partition: batch.partition, firstOffset: batch.firstOffset() ?? '', lastOffset: batch.lastOffset(), size: batch.messages.length }, readAt)
        : undefined,
    });
  }

  async listen(callback: (err?: unknown) => void): Promise<void> {
    try {
      await this.start();
      callback();
    } catch (err) {
      callback(err);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.watchdog);
    const consumer = this.consumer;
    if (!consumer) return;
    this.closing = true;
    const topics = Object.values(this.options.routes).flat();
    if (this.stopped) {
      // kafkajs already disconnected a consumer that stopped for good; there is nothing to drain.
      this.consumer = undefined;
      await this.runner.closing?.(undefined, topics);
      await this.runner.closed?.();
      return;
    }
    await this.runner.closing?.(consumer, topics);
    // Waits for the batches being processed, then leaves the group.
    await consumer.disconnect();
    await this.runner.closed?.();
    this.consumer = undefined;
  }

  on(): never {
    throw new Error('KafkaBatchServer has no events to listen to');
  }

  unwrap<T>(): T {
    if (!this.consumer) throw new Error('KafkaBatchServer is not listening');
    return this.consumer as T;
  }

  private async start(): Promise<void> {
    const patternByTopic = new Map<string, string>();
    for (const [pattern, topics] of Object.entries(this.options.routes)) {
      if (!this.getHandlerByPattern(pattern)) throw new Error(`KafkaBatchServer: no @EventPattern('${pattern}') handler is registered`);
      for (const topic of topics) patternByTopic.set(topic, pattern);
    }
    const consumer = this.options.kafka.consumer({
      groupId: this.options.groupId,
      allowAutoTopicCreation: false,
      maxBytesPerPartition: this.options.maxBytesPerPartition,
      sessionTimeout: this.options.sessionTimeoutMs ?? 30_000,
      // A fetch returns as soon as records arrive; the wait bounds how long shutdown waits for an idle fetch.
      maxWaitTimeInMs: 1_000,
      // Transactions written by the gateway are read only once committed.
      readUncommitted: false,
    });
    this.consumer = consumer;
    const topics = [...patternByTopic.keys()];
    const { groupId } = this.options;
    const explain = (err: unknown) =>
      explainKafkaError(err, { doing: `consuming ${topics.join(', ')} in group ${groupId}`, needs: [`READ on group ${groupId}`, ...topics.map((t) => `READ on topic ${t}`)] });
    await consumer.connect().catch((err: unknown) => Promise.reject(explain(err)));
    await consumer.subscribe({ topics, fromBeginning: this.options.fromBeginning });
    // listen() resolves once the group is joined, so readiness means partitions are assigned.
    const joined = new Promise<void>((resolve, reject) => {
      this.runner.attach?.(consumer);
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        const held = new Set(Object.entries(payload.memberAssignment).flatMap(([topic, partitions]) => partitions.map((p) => `${topic}|${p}`)));
        this.log.log(`group ${groupId}: joined as ${payload.memberId}, holding ${held.size} partition(s): ${[...held].join(', ') || 'none'}`);
        this.runner.joined?.(consumer, held);
        this.options.onConsuming?.(true);
        resolve();
      });
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        // kafkajs restarts the consumer after a retriable crash (e.g. a topic just created on a
        // multi-broker cluster, not yet known to every broker): start-up goes on waiting for the join.
        if (payload.restart) return;
        this.options.onConsuming?.(false);
        // The consumer stopped for good: say why (before start-up finished, start-up fails with it too).
        this.stopped = true;
        const error = explain(payload.error);
        this.log.error(`consumer of group ${groupId} stopped: ${(error as Error).message}`);
        reject(error);
      });
    });
    consumer.on(consumer.events.FETCH, () => (this.lastFetch = Date.now()));
    this.lastFetch = Date.now();
    this.watchdog = setInterval(() => this.checkProgress(), STALL_MS);
    this.watchdog.unref();
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 1,
      eachBatch: (payload) => this.handleBatch(patternByTopic.get(payload.batch.topic) ?? '', payload),
    });
    await joined;
  }

  /** Records handed out past their partition's committed offset, in pipelined mode (undefined in the others). */
  uncommitted(): number | undefined {
    return this.runner.uncommitted?.();
  }

  /**
   * Says so in the log when the consumer has not fetched for STALL_MS, or a partition's committed
   * offset has not moved for that long though work on it is pending: a stalled consumer is
   * visible, with where it stands, instead of silent.
   */
  private checkProgress(): void {
    if (this.closing || this.stopped || !this.consumer) return;
    const now = Date.now();
    const { groupId } = this.options;
    if (now - this.lastFetch >= STALL_MS) this.log.warn(`group ${groupId}: no fetch completed for ${Math.round((now - this.lastFetch) / 1000)} s`);
    const stalled = this.runner.stalled?.(now, STALL_MS) ?? [];
    if (stalled.length > 0) this.log.warn(`group ${groupId}: commits stalled on ${stalled.join('; ')}`);
  }

  private async handleBatch(pattern: string, payload: EachBatchPayload): Promise<void> {
    const handler = this.getHandlerByPattern(pattern);
    if (!handler) throw new Error(`KafkaBatchServer: no handler for topic ${payload.batch.topic}`);
    const { topic, partition } = payload.batch;
    this.options.onBatch?.(topic, partition, Number(payload.batch.offsetLag()));
    // Long batches (slow endpoints, a full in-flight cap, a transaction's set-up) must not cost the group membership.
    const heartbeat = setInterval(() => void payload.heartbeat().catch(() => undefined), 1_000);
    try {
      await this.runner.run(payload, async (batch, context) => {
        try {
          const result = await handler(batch, context);
          await lastValueFrom(this.transformToObservable(result), { defaultValue: undefined });
        } catch (err) {
          throw retriable(err);
        }
      });
    } finally {
      clearInterval(heartbeat);
    }
  }
}
