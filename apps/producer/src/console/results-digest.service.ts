import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { GATEWAY_CONFIG, GATEWAY_TOPICS, type GatewayConfig, gatewayGroupPrefixes, type GatewayTopics } from '@app/config';
import { type AttemptResult, OUTCOMES, type SubscriptionHealthView } from '@app/contracts';
import { CompactedTopicStore, KAFKA_CLIENT, KafkaTopics } from '@app/kafka';
import { ResultsDigest } from './results-digest.js';

/** How long the first read of the results and dlq topics may take (they are not compacted). */
const LOAD_TIMEOUT_MS = 10 * 60_000;

function parseResult(value: Buffer): AttemptResult {
  const result = JSON.parse(value.toString('utf8')) as Partial<AttemptResult>;
  const known = typeof result.subscriptionId === 'string' && OUTCOMES.includes(result.outcome!) && typeof result.reason === 'string';
  if (!known) throw new Error('not an attempt result');
  return result as AttemptResult;
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
  /** The two topics read as streams: nothing is kept but the digest. */
  private readonly views: CompactedTopicStore<unknown>[];
  private loading?: Promise<void>;
  private loaded = false;
  private stopping = false;

  constructor(
    @Inject(KAFKA_CLIENT) kafka: Kafka,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    @Inject(GATEWAY_TOPICS) t: GatewayTopics,
    private readonly topics: KafkaTopics,
  ) {
    const stream = <T>(topic: string, name: string, decode: (value: Buffer) => T, onChange: (key: string, value: T | undefined) => void) =>
      new CompactedTopicStore<T>({ kafka, topic, groupPrefix: gatewayGroupPrefixes(config).console, name, decode, onChange, keepValues: false, startTimeoutMs: LOAD_TIMEOUT_MS });
    this.views = [
      stream(t.results, 'the results digest', parseResult, (_key, result) => {
        if (result) this.digest.addResult(result);
      }),
      // A dead letter counts whatever its value holds.
      stream(t.dlq, 'the dead-letter digest', () => true, (id, letter) => {
        if (letter) this.digest.addDeadLetter(id);
      }) as CompactedTopicStore<unknown>,
    ] as CompactedTopicStore<unknown>[];
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
