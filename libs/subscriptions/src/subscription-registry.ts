import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit, Optional } from '@nestjs/common';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { GATEWAY_CONFIG, type GatewayConfig, gatewayGroupPrefixes, gatewayTopics } from '@app/config';
import type { GatewayEvent, Subscription } from '@app/contracts';
import { SubscriptionIndex } from '@app/filter';
import { CompactedTopicView, KAFKA_CLIENT, KafkaTopics } from '@app/kafka';
import { Readiness } from '@app/runtime';
import { SecretBox, SecretOpenError } from './secret-box.js';
import { decodeSubscription, StoredSubscription } from './subscription.codec.js';

/**
 * Every instance's in-memory copy of the compacted subscriptions topic (the
 * source of truth), kept by a `CompactedTopicView`. It is ready once it has
 * applied everything up to the topic's end offsets as they were at start-up.
 * `catchUp()` does the same at any moment: the producer app calls it before each
 * source batch, so an event published after a subscription write returned is
 * matched against it, whichever instance took the write.
 */
@Injectable()
export class SubscriptionRegistry implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(SubscriptionRegistry.name);
  private readonly index = new SubscriptionIndex<Subscription>();
  private readonly box: SecretBox;
  private readonly view: CompactedTopicView;
  private ready = false;

  constructor(
    @Inject(KAFKA_CLIENT) kafka: Kafka,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    private readonly topics: KafkaTopics,
    @Optional() readiness?: Readiness,
  ) {
    readiness?.register('subscriptions', () => (this.ready ? undefined : 'the subscription registry has not caught up yet'));
    this.box = new SecretBox(config.subscriptions.secretsKey);
    this.view = new CompactedTopicView({
      kafka,
      topic: gatewayTopics(config).subscriptions,
      groupPrefix: gatewayGroupPrefixes(config).registry,
      apply: (message) => this.apply(message),
      name: 'the subscription registry',
    });
  }

  async onModuleInit(): Promise<void> {
    await this.topics.ensure();
    const started = Date.now();
    await this.view.start();
    this.ready = true;
    this.logger.log(`caught up: ${this.index.size} subscriptions (${Date.now() - started} ms)`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.view.stop();
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
    return this.view.waitFor(partition, offset);
  }

  /** Resolves once every record on the topic now (up to its current end offsets) is applied here. */
  catchUp(): Promise<void> {
    return this.view.catchUp();
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
