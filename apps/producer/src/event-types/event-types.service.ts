import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { GATEWAY_CONFIG, GATEWAY_TOPICS, type GatewayConfig, gatewayGroupPrefixes, type GatewayTopics } from '@app/config';
import type { EventTypePage, GatewayEvent } from '@app/contracts';
import { CompactedTopicStore, KAFKA_CLIENT, KafkaProducer, KafkaTopics } from '@app/kafka';
import { decodeEventTypeEntry, EventCatalogue, type EventTypeEntry, eventTypeKey } from './event-catalogue.js';

/**
 * The event catalogue (`GET /v1/event-types`): the fan-out tells it every event it reads; new
 * types (and types last written over 10 minutes ago) go to the compacted event-types topic
 * with the process's idempotent producer, outside any fan-out transaction and without the batch
 * waiting for them: a write that fails is logged and dropped. Every instance reads the whole
 * topic, so each serves every instance's types.
 */
@Injectable()
export class EventTypesService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(EventTypesService.name);
  private readonly catalogue = new EventCatalogue();
  private readonly store: CompactedTopicStore<EventTypeEntry>;

  constructor(
    @Inject(KAFKA_CLIENT) kafka: Kafka,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    @Inject(GATEWAY_TOPICS) topics: GatewayTopics,
    private readonly kafkaTopics: KafkaTopics,
    private readonly producer: KafkaProducer,
  ) {
    this.store = new CompactedTopicStore<EventTypeEntry>({
      kafka,
      topic: topics.eventTypes,
      groupPrefix: gatewayGroupPrefixes(config).eventTypes,
      name: 'the event catalogue',
      decode: (value) => decodeEventTypeEntry(value),
      keepValues: false,
      onChange: (key, value) => this.catalogue.apply(key, value),
    });
  }

  async onModuleInit(): Promise<void> {
    await this.kafkaTopics.ensure();
    await this.store.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.store.stop();
  }

  /** Notes events the fan-out read; returns at once (the writes are not waited for). */
  record(events: GatewayEvent[], now: number): void {
    for (const event of events) {
      let entry: EventTypeEntry | undefined;
      try {
        entry = this.catalogue.observe(event, now);
      } catch (err) {
        // E.g. data JSON cannot spell: the catalogue never fails a batch.
        this.logger.warn(`event type ${event.type} not recorded in the catalogue: ${(err as Error).message}`);
        continue;
      }
      if (!entry) continue;
      this.producer.write([this.store.record(eventTypeKey(entry.tenant, entry.type), entry)]).catch((err: unknown) => {
        this.catalogue.failed(entry, now);
        this.logger.warn(`event type ${entry.type} not recorded in the catalogue: ${(err as Error).message}`);
      });
    }
  }

  /** The types the caller's tenant (undefined: every tenant) has seen, by type; read up to now from the topic. */
  async list(tenant: string | undefined, limit?: number): Promise<EventTypePage> {
    await this.store.catchUp();
    return { data: this.catalogue.list(tenant, limit) };
  }
}
