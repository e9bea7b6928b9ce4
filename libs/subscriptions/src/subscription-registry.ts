import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit, ServiceUnavailableException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { GATEWAY_CONFIG, type GatewayConfig, gatewayTopics } from '@app/config';
import type { GatewayEvent, Subscription } from '@app/contracts';
import { SubscriptionIndex } from '@app/filter';
import { KAFKA_CLIENT, KafkaTopics } from '@app/kafka';
import { SecretBox, SecretOpenError } from './secret-box.js';
import { decodeSubscription, StoredSubscription } from './subscription.codec.js';

const WAIT_TIMEOUT_MS = 15_000;
/** Tries of an end-offset lookup that hit a leadership change (a new topic, a broker restart). */
const END_OFFSET_TRIES = 20;
const END_OFFSET_BACKOFF_MS = 250;

interface Waiter {
  partition: number;
  offset: bigint;
  resolve: () => void;
}

/**
 * Every instance's in-memory copy of the compacted subscriptions topic (the
 * source of truth), the way Kafka Connect and Schema Registry keep their state.
 * It reads the topic from the beginning in a group of its own, never commits,
 * and is ready once it has applied everything up to the topic's end offsets as
 * they were at start-up. `catchUp()` does the same at any moment: the producer
 * app calls it before each source batch, so an event published after a
 * subscription write returned is matched against it, whichever instance took
 * the write.
 */
@Injectable()
export class SubscriptionRegistry implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(SubscriptionRegistry.name);
  private readonly index = new SubscriptionIndex<Subscription>();
  private readonly box: SecretBox;
  private readonly topic: string;
  private readonly applied = new Map<number, bigint>();
  private waiters: Waiter[] = [];
  private consumer?: Consumer;
  private admin?: Admin;
  private ready = false;

  constructor(
    @Inject(KAFKA_CLIENT) private readonly kafka: Kafka,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly topics: KafkaTopics,
  ) {
    this.box = new SecretBox(config.subscriptions.secretsKey);
    this.topic = gatewayTopics(config).subscriptions;
  }

  async onModuleInit(): Promise<void> {
    await this.topics.ensure();
    this.admin = await this.connectAdmin();
    const consumer = this.kafka.consumer({
      groupId: `${this.config.kafka.topicPrefix}.registry.${randomUUID()}`,
      allowAutoTopicCreation: false,
      // Short fetch waits: a new record is applied at once anyway, and shutdown does not wait 5 s.
      maxWaitTimeInMs: 500,
    });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: [this.topic], fromBeginning: true });
    await consumer.run({ autoCommit: false, eachBatch: (payload) => this.applyBatch(payload) });
    const started = Date.now();
    await this.catchUp();
    this.ready = true;
    this.logger.log(`caught up: ${this.index.size} subscriptions (${Date.now() - started} ms)`);
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.consumer?.disconnect(), this.admin?.disconnect()]);
  }

  isReady(): boolean {
    return this.ready;
  }

  /** Enabled subscriptions that want this event. */
  match(event: GatewayEvent): Subscription[] {
    return this.index.match(event);
  }

  get(id: string): Subscription | undefined {
    return this.index.get(id);
  }

  all(): Subscription[] {
    return this.index.all();
  }

  /** Resolves once the record at `offset` of `partition` has been applied here (read-your-writes). */
  waitFor(partition: number, offset: bigint): Promise<void> {
    if ((this.applied.get(partition) ?? -1n) >= offset) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new ServiceUnavailableException('the subscription registry did not catch up in time'));
      }, WAIT_TIMEOUT_MS);
      const waiter: Waiter = {
        partition,
        offset,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Resolves once every record on the topic now (up to its current end offsets) is applied here. */
  async catchUp(): Promise<void> {
    const offsets = await this.endOffsets();
    await Promise.all(
      offsets.filter((o) => BigInt(o.high) > BigInt(o.low)).map((o) => this.waitFor(o.partition, BigInt(o.high) - 1n)),
    );
  }

  /**
   * The topic's offsets. kafkajs' fetchTopicOffsets gives up on a retriable
   * NOT_LEADER answer (a partition just created, or moving after a broker
   * restart) and keeps its stale metadata, so a retriable failure is retried
   * with a new admin client, which reads fresh metadata.
   */
  private async endOffsets(): Promise<{ partition: number; high: string; low: string }[]> {
    for (let attempt = 1; ; attempt++) {
      if (!this.admin) throw new Error('the subscription registry is not started');
      try {
        return await this.admin.fetchTopicOffsets(this.topic);
      } catch (err) {
        if (!(err as { retriable?: boolean }).retriable || attempt >= END_OFFSET_TRIES) throw err;
        const stale = this.admin;
        this.admin = await this.connectAdmin();
        await stale.disconnect().catch(() => undefined);
        await new Promise((r) => setTimeout(r, END_OFFSET_BACKOFF_MS));
      }
    }
  }

  private async connectAdmin(): Promise<Admin> {
    const admin = this.kafka.admin();
    await admin.connect();
    return admin;
  }

  private applyBatch({ batch }: EachBatchPayload): Promise<void> {
    for (const message of batch.messages) this.apply(message);
    this.applied.set(batch.partition, BigInt(batch.lastOffset()));
    const applied = this.applied.get(batch.partition) ?? -1n;
    const due = this.waiters.filter((w) => w.partition === batch.partition && w.offset <= applied);
    if (due.length > 0) {
      this.waiters = this.waiters.filter((w) => !due.includes(w));
      for (const w of due) w.resolve();
    }
    return Promise.resolve();
  }

  private apply(message: KafkaMessage): void {
    const id = message.key?.toString('utf8');
    if (!id) return;
    if (message.value === null) {
      this.index.remove(id);
      return;
    }
    try {
      const stored = JSON.parse(message.value.toString('utf8')) as StoredSubscription;
      this.index.upsert(decodeSubscription(stored, this.box));
    } catch (err) {
      // Never log the record: it holds sealed secrets.
      const why = err instanceof SecretOpenError ? 'its secret does not decrypt: is SECRETS_KEY the key it was written with?' : `it is not a subscription record (${(err as Error).message})`;
      this.logger.error(`subscription ${id} at offset ${message.offset} is skipped: ${why}`);
    }
  }
}
