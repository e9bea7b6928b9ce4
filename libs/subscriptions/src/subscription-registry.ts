import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit, Optional } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { GATEWAY_CONFIG, GATEWAY_TOPICS, type GatewayConfig, gatewayGroupPrefixes, type GatewayTopics } from '@app/config';
import { type GatewayEvent, type Subscription, type SubscriptionHealth, withHealth } from '@app/contracts';
import { SubscriptionIndex } from '@app/filter';
import { CompactedTopicStore, KAFKA_CLIENT, KafkaProducer, KafkaTopics } from '@app/kafka';
import { Readiness } from '@app/runtime';
import { SecretBox, SecretOpenError } from './secret-box.js';
import { decodeSubscription, encodeSubscription, type StoredSubscription } from './subscription.codec.js';

/**
 * Every instance's in-memory copy of two compacted topics: the subscriptions topic (each
 * subscription's configuration, written only by the management API) and the health topic (what
 * the delivery side learnt about its endpoint: failing since, disabled by the gateway; written
 * only by the delivery app). The index holds their merge (`withHealth`). It is ready once both
 * are applied up to their end offsets as they were at start-up; `catchUp()` does the same at any
 * moment (the producer app calls it before each source batch, so an event published after a
 * subscription write returned is matched against it, whichever instance took the write).
 */
@Injectable()
export class SubscriptionRegistry implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(SubscriptionRegistry.name);
  private readonly index = new SubscriptionIndex<Subscription>();
  /** Configurations (the API's records). */
  readonly configs: CompactedTopicStore<Subscription>;
  /** Health records (the delivery side's records). */
  readonly health: CompactedTopicStore<SubscriptionHealth>;
  private ready = false;

  constructor(
    @Inject(KAFKA_CLIENT) kafka: Kafka,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    @Inject(GATEWAY_TOPICS) topics: GatewayTopics,
    private readonly kafkaTopics: KafkaTopics,
    producer: KafkaProducer,
    @Optional() readiness?: Readiness,
  ) {
    readiness?.register('subscriptions', () => (this.ready ? undefined : 'the subscription registry has not caught up yet'));
    const box = new SecretBox(config.subscriptions.secretsKey);
    const groups = gatewayGroupPrefixes(config);
    this.configs = new CompactedTopicStore<Subscription>({
      kafka,
      topic: topics.subscriptions,
      groupPrefix: groups.registry,
      name: 'the subscription registry',
      writer: producer,
      decode: (value) => {
        try {
          return decodeSubscription(JSON.parse(value.toString('utf8')) as StoredSubscription, box);
        } catch (err) {
          throw new Error(
            err instanceof SecretOpenError ? 'its secret does not decrypt: is SECRETS_KEY the key it was written with?' : `it is not a subscription record (${(err as Error).message})`,
            { cause: err },
          );
        }
      },
      // The configuration only: health is never written into it.
      encode: (sub) => encodeSubscription({ ...sub, failingSince: undefined }, box),
      onChange: (id) => this.refresh(id),
    });
    this.health = new CompactedTopicStore<SubscriptionHealth>({
      kafka,
      topic: topics.health,
      groupPrefix: groups.health,
      name: 'the subscription health records',
      writer: producer,
      decode: (value) => JSON.parse(value.toString('utf8')) as SubscriptionHealth,
      onChange: (id) => this.refresh(id),
    });
  }

  async onModuleInit(): Promise<void> {
    await this.kafkaTopics.ensure();
    const started = Date.now();
    await Promise.all([this.configs.start(), this.health.start()]);
    this.ready = true;
    this.logger.log(`caught up: ${this.index.size} subscriptions, ${this.health.size} health records (${Date.now() - started} ms)`);
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.configs.stop(), this.health.stop()]);
  }

  isReady(): boolean {
    return this.ready;
  }

  /** Enabled subscriptions that want this event. */
  match(event: GatewayEvent): Subscription[] {
    return this.index.match(event);
  }

  /** The subscription as it acts now (configuration merged with health). */
  get(id: string): Subscription | undefined {
    return this.index.get(id);
  }

  all(): Subscription[] {
    return this.index.all();
  }

  /**
   * Resolves once every configuration written so far (through any instance's API) is applied
   * here; given `since`, see CompactedTopicView.catchUp. Read-your-writes for the producer app:
   * an event published after a subscription write returned is matched against it. Health records
   * are the delivery side's own and are not waited for (the delivery app checks the subscription
   * as it is at every attempt).
   */
  async catchUpConfigurations(since?: number): Promise<void> {
    await this.configs.catchUp(undefined, since);
  }

  /**
   * Resolves once everything on both topics now (up to their current end offsets) is applied here;
   * given `since` (a `Date.now()` time), everything up to their end offsets as they were at any
   * moment from then on (a catch-up begun since then serves).
   */
  async catchUp(since?: number): Promise<void> {
    await Promise.all([this.configs.catchUp(undefined, since), this.health.catchUp(undefined, since)]);
  }

  private refresh(id: string): void {
    const config = this.configs.get(id);
    if (config === undefined) this.index.remove(id);
    else this.index.upsert(withHealth(config, this.health.get(id)));
  }
}
