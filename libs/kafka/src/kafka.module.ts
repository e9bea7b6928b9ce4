import { DynamicModule, Global, Inject, Injectable, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { GATEWAY_CONFIG, type GatewayConfig } from '@app/config';
import { createKafka } from './kafka-client.js';
import { KafkaCredentials } from './kafka-credentials.js';
import { KAFKA_CLIENT, KAFKA_MODULE_OPTIONS } from './kafka.constants.js';
import { KafkaProducer } from './kafka-producer.js';
import { ensureTopics, TopicSpec } from './topic-admin.js';

export interface KafkaModuleOptions {
  /** Names this process's client (`<KAFKA_CLIENT_ID>-<clientName>`). */
  clientName: string;
  /** Topics this process needs; the missing ones are created once, before anything consumes. */
  topics: (config: GatewayConfig) => TopicSpec[];
}

/** Creates the process's missing topics once; everything that consumes awaits `ensure()` first. */
@Injectable()
export class KafkaTopics {
  private ensured?: Promise<void>;

  constructor(
    @Inject(KAFKA_CLIENT) private readonly kafka: Kafka,
    @Inject(KAFKA_MODULE_OPTIONS) private readonly options: KafkaModuleOptions,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly credentials: KafkaCredentials,
  ) {}

  /** The first Kafka step of the process: credentials checked (TLS trust, first token), then the topics. */
  ensure(): Promise<void> {
    this.ensured ??= this.prepare().catch((err: unknown) => {
      this.ensured = undefined;
      throw err;
    });
    return this.ensured;
  }

  private async prepare(): Promise<void> {
    const { brokers, security } = this.config.kafka;
    await this.credentials.preflight(brokers);
    await ensureTopics(this.kafka, this.options.topics(this.config), security);
  }
}

/** Connects the producer at start-up and closes it last at shutdown. */
@Injectable()
class ProducerLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    private readonly producer: KafkaProducer,
    private readonly topics: KafkaTopics,
    private readonly credentials: KafkaCredentials,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.topics.ensure();
    await this.producer.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.producer.disconnect();
    this.credentials.close();
  }
}

/** One kafkajs client and one idempotent producer per process. */
@Global()
@Module({})
export class KafkaModule {
  static forRoot(options: KafkaModuleOptions): DynamicModule {
    return {
      module: KafkaModule,
      providers: [
        { provide: KAFKA_MODULE_OPTIONS, useValue: options },
        { provide: KafkaCredentials, inject: [GATEWAY_CONFIG], useFactory: (config: GatewayConfig) => new KafkaCredentials(config.kafka.security) },
        {
          provide: KAFKA_CLIENT,
          inject: [GATEWAY_CONFIG, KafkaCredentials],
          useFactory: (config: GatewayConfig, credentials: KafkaCredentials) => createKafka(config, options.clientName, { credentials }),
        },
        KafkaTopics,
        { provide: KafkaProducer, inject: [KAFKA_CLIENT], useFactory: (kafka: Kafka) => new KafkaProducer(kafka) },
        ProducerLifecycle,
      ],
      exports: [KAFKA_CLIENT, KafkaProducer, KafkaTopics, KafkaCredentials],
    };
  }
}
