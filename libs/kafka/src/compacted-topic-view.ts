import { Logger, ServiceUnavailableException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { explainKafkaError } from './kafka-access-errors.js';
import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';

const WAIT_TIMEOUT_MS = 15_000;
/** Tries of an end-offset lookup that hit a leadership change (a new topic, a broker restart). */
const END_OFFSET_TRIES = 20;
const END_OFFSET_BACKOFF_MS = 250;

interface Waiter {
  partition: number;
  offset: bigint;
  resolve: () => void;
  reject: (err: Error) => void;
}

export interface CompactedTopicViewOptions {
  kafka: Kafka;
  topic: string;
  /** Prefix of the view's consumer group (a new group per process: the view never commits). */
  groupPrefix: string;
  /** Applies one record (a null value is a tombstone), in log order per partition. */
  apply: (message: KafkaMessage) => void;
  /** Names the view in errors, e.g. "the subscription registry". */
  name: string;
  /**
   * How long `start()` waits for the topic's contents at start-up (default 15 s, like
   * `catchUp()`). A view of a long, non-compacted topic (the results digest) reads for longer.
   */
  startTimeoutMs?: number;
}

/**
 * A process's in-memory copy of a compacted topic (the way Kafka Connect and
 * Schema Registry keep their state): it reads the topic from the beginning in a
 * group of its own, never commits, and hands every record to `apply`. It serves
 * a non-compacted topic the same way when `apply` keeps a bounded digest of it
 * (the console's results digest).
 * `catchUp()` resolves once everything on the topic at the moment of the call is
 * applied; `waitFor()` once a given record (one this process wrote) is.
 */
export class CompactedTopicView {
  private readonly logger: Logger;
  private readonly applied = new Map<number, bigint>();
  private waiters: Waiter[] = [];
  private consumer?: Consumer;
  /** Connecting and starting the consumer (start's first part). */
  private running?: Promise<void>;
  private admin?: Admin;
  /** The catch-up in flight, shared by the callers that arrive before its offsets are read. */
  private nextCatchUp?: Promise<void>;
  /** The latest catch-up begun (when its end offsets were asked for), until it fails. */
  private latest?: { askedAt: number; run: Promise<void> };
  /** Why the consumer stopped for good, if it did. */
  private failure?: Error;

  constructor(private readonly options: CompactedTopicViewOptions) {
    this.logger = new Logger(`CompactedTopicView(${options.topic})`);
  }

  /** Starts reading; resolves once the topic's contents at start-up are applied. */
  async start(): Promise<void> {
    this.running = this.run();
    await this.running;
    await this.catchUp(this.options.startTimeoutMs);
  }

  private async run(): Promise<void> {
    await this.consume().catch((err: unknown) => {
      throw this.explain(err);
    });
  }

  /** A refused read names the ACLs it needs. */
  private explain(err: unknown): unknown {
    const { topic, groupPrefix, name } = this.options;
    return explainKafkaError(err, { doing: `reading ${topic} (${name})`, needs: [`READ on topic ${topic}`, `READ on groups prefixed ${groupPrefix}.`] });
  }

  /** The consumer stopped for good (e.g. an ACL is missing): every waiter learns why at once. */
  private fail(err: unknown): void {
    this.failure = err instanceof Error ? err : new Error(String(err));
    this.logger.error(this.failure.message);
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) w.reject(this.failure);
  }

  private async consume(): Promise<void> {
    this.admin = await this.connectAdmin();
    const consumer = this.options.kafka.consumer({
      groupId: `${this.options.groupPrefix}.${randomUUID()}`,
      allowAutoTopicCreation: false,
      // Short fetch waits: a new record is applied at once anyway, and shutdown does not wait 5 s.
      maxWaitTimeInMs: 500,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) this.fail(this.explain(payload.error));
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [this.options.topic], fromBeginning: true });
    await consumer.run({ autoCommit: false, eachBatch: (payload) => this.applyBatch(payload) });
  }

  /** Stops reading; whoever still waits for a record is told so at once. */
  async stop(): Promise<void> {
    // A stop during start-up lets the consumer finish connecting, so that it is disconnected too.
    await this.running?.catch(() => undefined);
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) w.reject(new ServiceUnavailableException(`${this.options.name} is stopping`));
    await Promise.all([this.consumer?.disconnect(), this.admin?.disconnect()]);
  }

  /** Resolves once the record at `offset` of `partition` has been applied here (read-your-writes). */
  waitFor(partition: number, offset: bigint, timeoutMs = WAIT_TIMEOUT_MS): Promise<void> {
    if ((this.applied.get(partition) ?? -1n) >= offset) return Promise.resolve();
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new ServiceUnavailableException(`${this.options.name} did not catch up in time`));
      }, timeoutMs);
      const waiter: Waiter = {
        partition,
        offset,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /**
   * Resolves once every record on the topic at the moment of the call (up to its
   * end offsets) is applied here. Callers that arrive while a catch-up is still
   * reading its offsets share it. Given `since` (a `Date.now()` time), the end offsets
   * of any moment from then on serve: the latest catch-up is shared if its offsets were
   * asked for at or after `since` (done or not), which saves the producer app a round
   * trip per transaction when its partitions' transactions begin close together.
   */
  catchUp(timeoutMs = WAIT_TIMEOUT_MS, since?: number): Promise<void> {
    if (since !== undefined) {
      if (this.latest && this.latest.askedAt >= since) return this.latest.run;
    } else if (this.nextCatchUp) return this.nextCatchUp;
    let offsetsRead!: () => void;
    const read = new Promise<void>((r) => (offsetsRead = r));
    const askedAt = Date.now();
    const run = (async () => {
      try {
        const offsets = await this.endOffsets();
        offsetsRead();
        await Promise.all(
          offsets.filter((o) => BigInt(o.high) > BigInt(o.low)).map((o) => this.waitFor(o.partition, BigInt(o.high) - 1n, timeoutMs)),
        );
      } finally {
        offsetsRead();
      }
    })();
    this.nextCatchUp = run;
    const latest = { askedAt, run };
    this.latest = latest;
    void read.then(() => {
      if (this.nextCatchUp === run) this.nextCatchUp = undefined;
    });
    // A failed catch-up is not shared any more: the next caller asks again.
    run.catch(() => {
      if (this.latest === latest) this.latest = undefined;
    });
    return run;
  }

  /**
   * The topic's offsets. kafkajs' fetchTopicOffsets gives up on a retriable
   * NOT_LEADER answer (a partition just created, or moving after a broker
   * restart) and keeps its stale metadata, so a retriable failure is retried
   * with a new admin client, which reads fresh metadata.
   */
  private async endOffsets(): Promise<{ partition: number; high: string; low: string }[]> {
    for (let attempt = 1; ; attempt++) {
      if (!this.admin) throw new Error(`${this.options.name} is not started`);
      try {
        return await this.admin.fetchTopicOffsets(this.options.topic);
      } catch (err) {
        if (!(err as { retriable?: boolean }).retriable || attempt >= END_OFFSET_TRIES) throw err;
        this.logger.debug(`end offsets: ${(err as Error).message}; retrying with fresh metadata`);
        const stale = this.admin;
        this.admin = await this.connectAdmin();
        await stale.disconnect().catch(() => undefined);
        await new Promise((r) => setTimeout(r, END_OFFSET_BACKOFF_MS));
      }
    }
  }

  private async connectAdmin(): Promise<Admin> {
    const admin = this.options.kafka.admin();
    await admin.connect();
    return admin;
  }

  private applyBatch({ batch }: EachBatchPayload): Promise<void> {
    for (const message of batch.messages) this.options.apply(message);
    this.applied.set(batch.partition, BigInt(batch.lastOffset()));
    const applied = this.applied.get(batch.partition) ?? -1n;
    const due = this.waiters.filter((w) => w.partition === batch.partition && w.offset <= applied);
    if (due.length > 0) {
      this.waiters = this.waiters.filter((w) => !due.includes(w));
      for (const w of due) w.resolve();
    }
    return Promise.resolve();
  }
}
