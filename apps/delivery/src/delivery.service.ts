import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { GATEWAY_CONFIG, type GatewayConfig, gatewayTopics, type GatewayTopics } from '@app/config';
import type { AttemptResult, DeadLetter, DeliveryJob, Subscription } from '@app/contracts';
import { type Batch, invalidEvent, KafkaProducer, type KafkaMessage, type OutgoingRecord } from '@app/kafka';
import { SubscriptionRegistry } from '@app/subscriptions';
import { ConcurrencyLimit } from './attempt/concurrency-limit.js';
import { judge } from './attempt/outcome.js';
import { webhookHeaders } from './attempt/webhook-request.js';
import { REASONS } from './delivery-policy.js';
import { HttpSender } from './http/http-sender.js';

/**
 * job → attempt → result: sends each delivery job of a batch (many at once, up
 * to DELIVERY_MAX_IN_FLIGHT per process), and writes one result record per
 * attempt, plus a dead letter for a job that failed. Resolves once every
 * outcome of the batch is durably in Kafka.
 */
@Injectable()
export class DeliveryService {
  private readonly logger = new Logger(DeliveryService.name);
  private readonly topics: GatewayTopics;
  private readonly limit: ConcurrencyLimit;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly registry: SubscriptionRegistry,
    private readonly sender: HttpSender,
    private readonly producer: KafkaProducer,
  ) {
    this.topics = gatewayTopics(config);
    this.limit = new ConcurrencyLimit(config.delivery.maxInFlight);
  }

  async processBatch(batch: Pick<Batch, 'topic' | 'partition' | 'messages'>): Promise<void> {
    const outcomes = await Promise.all(batch.messages.map((message) => this.limit.run(() => this.handle(message, batch))));
    await this.producer.send(outcomes.flat());
  }

  private async handle(message: KafkaMessage, batch: Pick<Batch, 'topic' | 'partition'>): Promise<OutgoingRecord[]> {
    let job: DeliveryJob;
    try {
      job = JSON.parse(message.value?.toString('utf8') ?? '') as DeliveryJob;
    } catch (err) {
      this.logger.error(`unreadable delivery job at ${batch.topic}[${batch.partition}]@${message.offset}: sent to ${this.topics.invalid}`);
      const reason = `unreadable delivery job: ${(err as Error).message}`;
      return [{ topic: this.topics.invalid, key: message.key?.toString('utf8') ?? null, value: invalidEvent(message, batch.topic, batch.partition, reason, new Date()) }];
    }
    return this.attempt(job);
  }

  /** One attempt of one job, and the records that say what came of it. */
  async attempt(job: DeliveryJob): Promise<OutgoingRecord[]> {
    const started = new Date();
    const deliveryId = randomUUID();
    const base = {
      webhookId: job.webhookId,
      deliveryId,
      eventId: job.eventId,
      eventType: job.eventType,
      subscriptionId: job.subscriptionId,
      tenant: job.tenant,
      url: job.url,
      attempt: job.attempt,
      startedAt: started.toISOString(),
    };
    const sub = job.callback ? this.callbackSubscription(job) : await this.subscription(job.subscriptionId);
    if (!sub || !sub.enabled) {
      const reason = job.callback ? REASONS.callbacksOff : sub ? REASONS.subscriptionDisabled : REASONS.subscriptionDeleted;
      return [this.resultRecord({ ...base, outcome: 'skipped', reason, durationMs: 0, finishedAt: started.toISOString() })];
    }
    const http = await this.sender.send({
      url: sub.url,
      headers: webhookHeaders(job, sub, deliveryId, started),
      body: job.body,
      timeoutMs: sub.timeoutMs ?? this.config.delivery.timeoutMs,
    });
    const verdict = judge(http);
    const result: AttemptResult = {
      ...base,
      url: sub.url,
      outcome: verdict.delivered ? 'delivered' : 'dead_lettered',
      reason: verdict.reason,
      statusCode: verdict.statusCode,
      error: verdict.error,
      responseBody: http.kind === 'response' && http.body.length > 0 ? http.body : undefined,
      durationMs: http.durationMs,
      finishedAt: new Date().toISOString(),
    };
    if (verdict.delivered) return [this.resultRecord(result)];
    this.logger.warn(`${job.webhookId} to ${job.subscriptionId} failed (${verdict.reason}): dead-lettered, retry topics are not built yet`);
    const deadLetter: DeadLetter = { job, lastResult: result, attemptTimestamps: [result.startedAt], deadLetteredAt: result.finishedAt };
    return [this.resultRecord(result), { topic: this.topics.dlq, key: job.subscriptionId, value: deadLetter }];
  }

  /**
   * The subscription as it is now. A miss may only mean this instance's registry
   * has not yet read a subscription the producer app already matched: catch up
   * to the topic's end once before calling it deleted.
   */
  private async subscription(id: string): Promise<Subscription | undefined> {
    const known = this.registry.get(id);
    if (known) return known;
    await this.registry.catchUp();
    return this.registry.get(id);
  }

  /** A per-event callback is delivered like a one-off subscription, signed with CALLBACK_SECRET. */
  private callbackSubscription(job: DeliveryJob): Subscription | undefined {
    const secret = this.config.callbacks.secret;
    if (!secret) return undefined;
    return {
      id: job.subscriptionId,
      url: job.url,
      events: [job.eventType],
      kind: 'STANDARD',
      filters: {},
      secrets: [{ secret }],
      headers: {},
      enabled: true,
      format: job.format,
      createdAt: job.createdAt,
      updatedAt: job.createdAt,
    };
  }

  private resultRecord(result: AttemptResult): OutgoingRecord {
    return { topic: this.topics.results, key: result.subscriptionId, value: result };
  }
}
