import { BaseRpcContext, type CustomTransportStrategy, Server } from '@nestjs/microservices';
import { Logger } from '@nestjs/common';
import kafkajs, { type Batch, type Consumer, type EachBatchPayload, type Kafka } from 'kafkajs';
import { lastValueFrom } from 'rxjs';
import type { RecordWriter } from './kafka-producer.js';
import { OffsetTracker } from './offset-tracker.js';
import { type PartitionTransaction, PartitionTransactions } from './partition-transactions.js';
import { explainKafkaError } from './kafka-access-errors.js';
import { holdRejoin, installRejoinHold } from './rejoin-hold.js';

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
}

/** A partition's pipelined work: what was handed out and finished, and the offset last committed. */
interface TrackedPartition {
  topic: string;
  partition: number;
  tracker: OffsetTracker;
  committed?: bigint;
  /** Set when failed work rewound the partition: it is to be read again from here. */
  rereadFrom?: bigint;
}

/**
 * A batch that failed is read again: kafkajs retries it, then restarts the consumer, but only
 * for retriable errors. A non-retriable Kafka error from a handler's write (a fenced producer,
 * OUT_OF_ORDER_SEQUENCE_NUMBER after a broker failover) would stop the consumer for good, so it
 * is passed on as retriable; other errors (a rebalance) keep their type.
 */
function retriable(err: unknown): unknown {
  if ((err as { retriable?: boolean }).retriable !== false) return err;
  // kafkajs is CommonJS and spreads its errors into its exports: ESM sees them on the default export only.
  return new kafkajs.KafkaJSError(`${(err as Error).message} (the batch is read again)`, { retriable: true });
}

/** How often completed offsets of pipelined work are committed. */
const COMMIT_INTERVAL_MS = 100;
/**
 * How long close() and a rejoin wait for pipelined work in flight: longer than the longest
 * attempt (30 s), shorter than the rebalance timeout (60 s, kafkajs' default) within which a
 * member must rejoin.
 */
const DRAIN_TIMEOUT_MS = 45_000;

/** What a batch handler gets besides the batch. */
export class KafkaBatchContext extends BaseRpcContext<[EachBatchPayload]> {
  /** Set by the server: records work for an offset (pipelined mode). */
  trackFn?: (offset: string, work: Promise<void>) => void;
  isClosing: () => boolean = () => false;
  pausedUntil?: number;
  lastTracked?: string;
  /** Transactional mode: where the handler writes the batch's records (committed with the batch's offset). */
  writer?: RecordWriter;

  get payload(): EachBatchPayload {
    return this.args[0];
  }

  /** False once the consumer is stopping or lost the partition: stop early, the offsets will not be committed. */
  isActive(): boolean {
    return !this.isClosing() && this.pausedUntil === undefined && this.payload.isRunning() && !this.payload.isStale();
  }

  /** Pipelined mode: the record at `offset` is being worked on; its offset is committed once `work` settles. */
  track(offset: string, work: Promise<void>): void {
    if (!this.trackFn) throw new Error('track() needs a pipelined KafkaBatchServer');
    this.trackFn(offset, work);
    this.lastTracked = offset;
  }

  /** Stop here: this partition is paused until `atMs` and the records not yet tracked are read again then. */
  pauseUntil(atMs: number): void {
    this.pausedUntil = atMs;
  }
}

/**
 * A Nest microservice transport over kafkajs that hands handlers whole batches.
 *
 * The stock Kafka transport calls a handler per message; the gateway needs a
 * batch to produce its outcomes in bulk and to commit once. A handler registered
 * with `@EventPattern(pattern)` receives `(batch, KafkaBatchContext)`. In batch
 * mode it resolves when every record of the batch has a durable outcome; only then
 * is the batch's last offset committed. In pipelined mode (the delivery app) it
 * dispatches each record's work with `context.track` and returns; the partition
 * moves on at once, and its offset is committed up to the contiguous prefix whose
 * work is done, so a slow record delays no other record, only the commit point.
 * Either way nothing is committed that was not done: a handler that throws gets
 * the batch again, and pipelined work that fails rewinds its partition.
 */
export class KafkaBatchServer extends Server implements CustomTransportStrategy {
  private readonly log = new Logger(KafkaBatchServer.name);
  private consumer?: Consumer;
  private trackers = new Map<string, TrackedPartition>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly resumeTimers = new Set<NodeJS.Timeout>();
  private commitTimer?: NodeJS.Timeout;
  private closing = false;
  /** kafkajs crashed the consumer without a restart (and disconnected it). */
  private stopped = false;
  private runningBatches = 0;
  private readonly transactions?: PartitionTransactions;

  constructor(private readonly options: KafkaBatchServerOptions) {
    super();
    if (options.transactional && options.pipelined) throw new Error('KafkaBatchServer: transactional mode is for batch handlers');
    if (options.transactional) this.transactions = new PartitionTransactions(options.kafka, options.groupId);
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
    const consumer = this.consumer;
    if (!consumer) return;
    this.closing = true;
    for (const t of this.resumeTimers) clearTimeout(t);
    if (this.stopped) {
      // kafkajs already disconnected a consumer that stopped for good; there is nothing to drain.
      this.consumer = undefined;
      await this.transactions?.close();
      return;
    }
    if (this.options.pipelined) {
      // No new fetches; let the work in flight finish and commit it before leaving the group.
      consumer.pause(Object.values(this.options.routes).flat().map((topic) => ({ topic })));
      await this.drain();
    }
    // Waits for the batches being processed, then leaves the group.
    await consumer.disconnect();
    await this.transactions?.close();
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
      // kafkajs rejoins right after this event, and every partition may then move (eager rebalancing,
      // no revoke callback). Pipelined work is held back from the rejoin until the work in flight
      // has finished and is committed, while the group still accepts this generation's commits: a
      // partition handed over carries no attempt that its new owner would make a second time.
      if (this.options.pipelined) {
        installRejoinHold();
        consumer.on(consumer.events.REBALANCING, ({ payload }) => holdRejoin(payload.memberId, this.drain('rebalance')));
      }
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        const held = new Set(Object.entries(payload.memberAssignment).flatMap(([topic, partitions]) => partitions.map((p) => `${topic}|${p}`)));
        this.keepTrackers(consumer, held);
        void this.transactions?.reassigned();
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
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 1,
      eachBatch: (payload) => this.handleBatch(patternByTopic.get(payload.batch.topic) ?? '', payload),
    });
    await joined;
  }

  /**
   * A new generation reads from the committed offsets again. A partition this process keeps
   * keeps its tracker and reads on after the last record it handed out: work in flight is
   * committed when it finishes instead of being done a second time (a rebalance, e.g. another
   * instance's rolling restart, costs no duplicate). Trackers of partitions gone elsewhere are
   * dropped; their work in flight may be repeated by the new owner.
   */
  private keepTrackers(consumer: Consumer, held: Set<string>): void {
    const kept = new Map<string, TrackedPartition>();
    let handedOver = 0;
    for (const [key, entry] of this.trackers) {
      const last = entry.tracker.lastAdded;
      if (!held.has(key) || last === undefined) {
        handedOver += entry.tracker.pending;
        continue;
      }
      kept.set(key, entry);
      consumer.seek({ topic: entry.topic, partition: entry.partition, offset: (entry.rereadFrom ?? last + 1n).toString() });
    }
    this.trackers = kept;
    if (handedOver > 0) this.log.log(`rejoined: ${handedOver} record(s) in flight on partitions handed over may be done again by their new owner`);
  }

  private async handleBatch(pattern: string, payload: EachBatchPayload): Promise<void> {
    const handler = this.getHandlerByPattern(pattern);
    if (!handler) throw new Error(`KafkaBatchServer: no handler for topic ${payload.batch.topic}`);
    const context = new KafkaBatchContext([payload]);
    context.isClosing = () => this.closing;
    const { topic, partition } = payload.batch;
    this.options.onBatch?.(topic, partition, Number(payload.batch.offsetLag()));
    if (this.options.pipelined) context.trackFn = (offset, work) => this.track(topic, partition, offset, work);
    // Long batches (slow endpoints, a full in-flight cap) must not cost the group membership.
    const heartbeat = setInterval(() => void payload.heartbeat().catch(() => undefined), 1_000);
    this.runningBatches++;
    const run = async (batch: Batch) => {
      const result = await handler(batch, context);
      await lastValueFrom(this.transformToObservable(result), { defaultValue: undefined });
    };
    try {
      if (this.transactions) return await this.handleInTransaction(this.transactions, payload, context, run);
      await run(payload.batch);
    } catch (err) {
      throw retriable(err);
    } finally {
      clearInterval(heartbeat);
      this.runningBatches--;
    }
    if (this.options.pipelined) {
      // The partition reads on from the last record handed out; commits follow the work.
      if (context.lastTracked !== undefined) payload.resolveOffset(context.lastTracked);
      if (context.pausedUntil !== undefined && !this.closing) this.pauseUntil(payload, context.pausedUntil);
      return;
    }
    if (!context.isActive()) return;
    const last = payload.batch.lastOffset();
    payload.resolveOffset(last);
    // Explicit offsets: with autoCommit off, kafkajs commits only what it is given.
    await payload.commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset: (BigInt(last) + 1n).toString() }] }] });
  }

  /** The batch, its records and its offset in one transaction; records an earlier owner already committed are skipped. */
  private async handleInTransaction(
    transactions: PartitionTransactions,
    payload: EachBatchPayload,
    context: KafkaBatchContext,
    run: (batch: Batch) => Promise<void>,
  ): Promise<void> {
    const { batch } = payload;
    if (batch.isEmpty() || !context.isActive()) return;
    const txn: PartitionTransaction = await transactions.begin(batch.topic, batch.partition);
    const from = txn.committedOffset;
    const todo = from === undefined ? batch : Object.assign(Object.create(batch) as Batch, { messages: batch.messages.filter((m) => BigInt(m.offset) >= from) });
    context.writer = txn;
    try {
      if (todo.messages.length > 0) await run(todo);
    } catch (err) {
      await txn.abort();
      throw err;
    }
    // Lost the partition or stopping: what was written is discarded, the new owner reads it again.
    if (!context.isActive()) return txn.abort();
    const last = batch.lastOffset();
    await txn.commit((BigInt(last) + 1n).toString());
    payload.resolveOffset(last);
  }

  private pauseUntil(payload: EachBatchPayload, atMs: number): void {
    const resume = payload.pause();
    const timer = setTimeout(() => {
      this.resumeTimers.delete(timer);
      resume();
    }, Math.max(0, atMs - Date.now()));
    this.resumeTimers.add(timer);
  }

  private track(topic: string, partition: number, offset: string, work: Promise<void>): void {
    const key = `${topic}|${partition}`;
    const at = BigInt(offset);
    let entry = this.trackers.get(key);
    const lastAdded = entry?.tracker.lastAdded;
    // An offset at or below the last one handed out means the partition was read again from its
    // last commit (a rebalance, a rewind): start a fresh tracker; late completions of the old work go to the old one.
    if (!entry || (lastAdded !== undefined && at <= lastAdded)) {
      if (lastAdded !== undefined && at <= lastAdded) this.log.log(`${key} is read again from offset ${at} (handed out up to ${lastAdded}): those records may be attempted again`);
      this.trackers.set(key, (entry = { topic, partition, tracker: new OffsetTracker() }));
    }
    const { tracker } = entry;
    tracker.add(at);
    const settled = work.then(
      () => {
        tracker.complete(at);
        this.commitTimer ??= setTimeout(() => void this.commitCompleted(), COMMIT_INTERVAL_MS);
      },
      (err: unknown) => this.rewind(key, tracker, err),
    );
    this.inFlight.add(settled);
    void settled.finally(() => this.inFlight.delete(settled));
  }

  /** Work that failed (not an outcome: a bug or Kafka refusing writes) is done again from the first uncompleted offset. */
  private rewind(key: string, tracker: OffsetTracker, err: unknown): void {
    const entry = this.trackers.get(key);
    if (!entry || entry.tracker !== tracker || !this.consumer) return;
    const offset = tracker.committable();
    this.log.error(`work on ${key} failed (${(err as Error).message}); reading again from offset ${offset}`);
    if (offset === undefined) {
      this.trackers.delete(key);
      return;
    }
    // Until the partition is read again from `offset`, nothing past it may be committed: the batch
    // being handled goes on tracking later records, and a commit past the failed one followed by a
    // crash or a rebalance would skip it for good. The placeholder never completes.
    const blocked = new OffsetTracker();
    blocked.add(offset);
    this.trackers.set(key, { topic: entry.topic, partition: entry.partition, tracker: blocked, committed: entry.committed, rereadFrom: offset });
    this.consumer.seek({ topic: entry.topic, partition: entry.partition, offset: offset.toString() });
  }

  /** Waits (up to DRAIN_TIMEOUT_MS) for the pipelined work in flight and the batches being handled, then commits what finished. */
  private async drain(reason?: string): Promise<void> {
    const started = Date.now();
    const pending = this.inFlight.size;
    const deadline = started + DRAIN_TIMEOUT_MS;
    while ((this.inFlight.size > 0 || this.runningBatches > 0) && Date.now() < deadline) {
      await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((r) => setTimeout(r, 100))]);
    }
    await this.commitCompleted();
    if (reason && pending > 0) {
      const left = this.inFlight.size > 0 ? `, ${this.inFlight.size} still in flight (may be done again by a new owner)` : '';
      this.log.log(`${reason}: finished and committed ${pending - this.inFlight.size} record(s) in flight in ${Date.now() - started} ms before rejoining${left}`);
    }
  }

  private async commitCompleted(): Promise<void> {
    clearTimeout(this.commitTimer);
    this.commitTimer = undefined;
    if (!this.consumer) return;
    const due: { entry: { committed?: bigint }; offset: bigint; topic: string; partition: number }[] = [];
    for (const entry of this.trackers.values()) {
      const offset = entry.tracker.committable();
      if (offset !== undefined && offset !== entry.committed) due.push({ entry, offset, topic: entry.topic, partition: entry.partition });
    }
    if (due.length === 0) return;
    try {
      await this.consumer.commitOffsets(due.map((d) => ({ topic: d.topic, partition: d.partition, offset: d.offset.toString() })));
      for (const d of due) d.entry.committed = d.offset;
    } catch (err) {
      // A rebalance in progress: the next generation reads from the last commit; work is not lost, maybe repeated.
      this.log.warn(`offset commit failed: ${(err as Error).message}`);
    }
  }
}
