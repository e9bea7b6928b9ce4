import { type CustomTransportStrategy, Server } from '@nestjs/microservices';
import { BaseRpcContext } from '@nestjs/microservices';
import type { Batch, Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { lastValueFrom } from 'rxjs';

export interface KafkaBatchServerOptions {
  kafka: Kafka;
  groupId: string;
  /** Logical pattern (as in `@EventPattern(pattern)`) → the topics it consumes. */
  routes: Record<string, string[]>;
  /** Where the group starts when it has no committed offsets. */
  fromBeginning: boolean;
  /** Partitions processed at once by this process. */
  partitionsConsumedConcurrently?: number;
  maxBytesPerPartition?: number;
  sessionTimeoutMs?: number;
  /** Told when the consumer joins its group (true) and when it stops for good (false). */
  onConsuming?: (consuming: boolean) => void;
}

/** What a batch handler gets besides the batch: liveness checks and the raw kafkajs payload. */
export class KafkaBatchContext extends BaseRpcContext<[EachBatchPayload]> {
  get payload(): EachBatchPayload {
    return this.args[0];
  }

  /** False once the consumer is stopping or lost the partition: stop early, the offsets will not be committed. */
  isActive(): boolean {
    return this.payload.isRunning() && !this.payload.isStale();
  }
}

/**
 * A Nest microservice transport over kafkajs that hands handlers whole batches.
 *
 * The stock Kafka transport calls a handler per message; the gateway needs a
 * batch to produce its outcomes in bulk and to commit once. A handler registered
 * with `@EventPattern(pattern)` receives `(batch, KafkaBatchContext)` and resolves
 * when every record of the batch has a durable outcome; only then is the batch's
 * last offset committed. A handler that throws gets the batch again (kafkajs
 * retries, then restarts the consumer): nothing is committed that was not done.
 */
export class KafkaBatchServer extends Server implements CustomTransportStrategy {
  private consumer?: Consumer;

  constructor(private readonly options: KafkaBatchServerOptions) {
    super();
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
    // Waits for the batches being processed, then leaves the group.
    await this.consumer?.disconnect();
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
    await consumer.connect();
    await consumer.subscribe({ topics: [...patternByTopic.keys()], fromBeginning: this.options.fromBeginning });
    // listen() resolves once the group is joined, so readiness means partitions are assigned.
    const joined = new Promise<void>((resolve, reject) => {
      consumer.on(consumer.events.GROUP_JOIN, () => {
        this.options.onConsuming?.(true);
        resolve();
      });
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        // kafkajs restarts the consumer after a retriable crash; otherwise it is gone.
        if (!payload.restart) this.options.onConsuming?.(false);
        reject(payload.error);
      });
    });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 1,
      eachBatch: (payload) => this.handleBatch(patternByTopic.get(payload.batch.topic) ?? '', payload),
    });
    await joined;
  }

  private async handleBatch(pattern: string, payload: EachBatchPayload): Promise<void> {
    const handler = this.getHandlerByPattern(pattern);
    if (!handler) throw new Error(`KafkaBatchServer: no handler for topic ${payload.batch.topic}`);
    const context = new KafkaBatchContext([payload]);
    // Long batches (slow endpoints) must not cost the group membership.
    const heartbeat = setInterval(() => void payload.heartbeat().catch(() => undefined), 1_000);
    try {
      const result = await handler(payload.batch satisfies Batch, context);
      await lastValueFrom(this.transformToObservable(result), { defaultValue: undefined });
    } finally {
      clearInterval(heartbeat);
    }
    if (!context.isActive()) return;
    const { topic, partition } = payload.batch;
    const last = payload.batch.lastOffset();
    payload.resolveOffset(last);
    // Explicit offsets: with autoCommit off, kafkajs commits only what it is given.
    await payload.commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset: (BigInt(last) + 1n).toString() }] }] });
  }
}
