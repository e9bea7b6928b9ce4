import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { GATEWAY_CONFIG, type GatewayConfig, gatewayGroupPrefixes, gatewayTopics } from '@app/config';
import { type AttemptResult, OUTCOMES, type SubscriptionHealthView } from '@app/contracts';
import { CompactedTopicView, KAFKA_CLIENT, KafkaTopics } from '@app/kafka';
import { ResultsDigest } from './results-digest.js';

/** How long the first read of the results and dlq topics may take (they are not compacted). */
const LOAD_TIMEOUT_MS = 10 * 60_000;

function parseResult(message: KafkaMessage): AttemptResult | undefined {
  if (!message.value) return undefined;
  try {
    const value = JSON.parse(message.value.toString('utf8')) as Partial<AttemptResult>;
    const known = typeof value.subscriptionId === 'string' && OUTCOMES.includes(value.outcome!) && typeof value.reason === 'string';
    return known ? (value as AttemptResult) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The delivery console's data: reads the results and dlq topics from the beginning
 * (each in a group of its own that never commits) into a bounded `ResultsDigest`.
 * The first read runs in the background, so the app does not wait for it; once it
 * is done, `current()` catches up with both topics before the API answers, so an
 * answer includes every result written before the call.
 */
@Injectable()
export class ResultsDigestService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(ResultsDigestService.name);
  private readonly digest = new ResultsDigest();
  private readonly views: CompactedTopicView[];
  private loading?: Promise<void>;
  private loaded = false;
  private stopping = false;

  constructor(
    @Inject(KAFKA_CLIENT) kafka: Kafka,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    private readonly topics: KafkaTopics,
  ) {
    const t = gatewayTopics(config);
    const view = (topic: string, name: string, apply: (message: KafkaMessage) => void) =>
      new CompactedTopicView({ kafka, topic, groupPrefix: gatewayGroupPrefixes(config).console, apply, name, startTimeoutMs: LOAD_TIMEOUT_MS });
    this.views = [
      view(t.results, 'the results digest', (message) => {
        const result = parseResult(message);
        if (result) this.digest.addResult(result);
      }),
      view(t.dlq, 'the dead-letter digest', (message) => {
        const id = message.key?.toString('utf8');
        if (id && message.value) this.digest.addDeadLetter(id);
      }),
    ];
  }

  onModuleInit(): void {
    this.loading = this.load();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.views.map((v) => v.stop()));
    await this.loading;
  }

  /** Catches up with both topics once the first read is done; says whether it is. */
  async current(): Promise<{ caughtUp: boolean }> {
    if (!this.loaded) return { caughtUp: false };
    await Promise.all(this.views.map((v) => v.catchUp()));
    return { caughtUp: true };
  }

  known(subscriptionId: string): boolean {
    return this.digest.has(subscriptionId);
  }

  health(subscriptionId: string): SubscriptionHealthView {
    return this.digest.health(subscriptionId);
  }

  attempts(subscriptionId: string, limit?: number): AttemptResult[] {
    return this.digest.attempts(subscriptionId, limit);
  }

  private async load(): Promise<void> {
    const started = Date.now();
    try {
      await this.topics.ensure();
      await Promise.all(this.views.map((v) => v.start()));
      this.loaded = true;
      this.logger.log(`results digest caught up: ${this.digest.size} subscriptions (${Date.now() - started} ms)`);
    } catch (err) {
      if (!this.stopping) this.logger.error(`results digest: ${(err as Error).message}; the console shows what was read so far`);
    }
  }
}
