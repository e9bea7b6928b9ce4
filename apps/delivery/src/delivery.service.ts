import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { GATEWAY_CONFIG, type GatewayConfig, gatewayTopics, type GatewayTopics } from '@app/config';
import type { AttemptResult, DeadLetter, DeliveryJob, Subscription } from '@app/contracts';
import { type Batch, invalidEvent, type KafkaBatchContext, KafkaProducer, type KafkaMessage, type OutgoingRecord } from '@app/kafka';
import { GatewayMetrics, SpanKind, statusClass, Tracing } from '@app/runtime';
import { SubscriptionRegistry, SubscriptionStore } from '@app/subscriptions';
import { CircuitBreakers } from './attempt/circuit-breaker.js';
import { ConcurrencyLimit } from './attempt/concurrency-limit.js';
import { EndpointSlots } from './attempt/endpoint-slots.js';
import { RateLimiter } from './attempt/rate-limiter.js';
import { judge } from './attempt/outcome.js';
import { webhookHeaders } from './attempt/webhook-request.js';
import { ENDPOINT_SLOT_WAIT_MS, GONE_STATUS, MAX_IN_PROCESS_RATE_WAIT_MS, REASONS, RETRY_AFTER_STATUSES } from './delivery-policy.js';
import { HttpSender } from './http/http-sender.js';
import { KeyOrderGate } from './ordering/key-order.gate.js';
import { orderPlace } from './ordering/key-order.js';
import { nextHop } from './retry/retry-tiers.js';
import { parseRetryAfter, planRetry } from './retry/retry-plan.js';

/** Header of a record on a retry topic: when it may leave that topic (ms since the epoch). */
export const HOP_DUE_HEADER = 'gateway-hop-due';

/**
 * job → attempt → result. Each record of a deliveries or retry-topic batch is
 * dispatched on its own (up to DELIVERY_MAX_IN_FLIGHT per process; the partition
 * waits when that is reached), so a slow endpoint holds up nothing but its own
 * attempts. Every attempt writes one result record, plus the job's next step: a
 * retry-topic record, or a dead letter. A record on a retry topic that is not
 * due yet pauses its partition until it is.
 */
@Injectable()
export class DeliveryService {
  private readonly logger = new Logger(DeliveryService.name);
  private readonly topics: GatewayTopics;
  private readonly limit: ConcurrencyLimit;
  /** Attempts in flight per origin (DELIVERY_MAX_IN_FLIGHT_PER_ENDPOINT). */
  private readonly endpointSlots: EndpointSlots;
  private readonly breakers: CircuitBreakers;
  private readonly rateLimiter = new RateLimiter();
  /** Subscriptions whose failure streak is being written, so concurrent failures write it once. */
  private readonly streaksStarting = new Set<string>();
  /** Every attempt gets a log line at debug level (with its webhook id). */
  private readonly logAttempts: boolean;
  /** Retry topic → tier label. */
  private readonly tierOf: Map<string, string>;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly registry: SubscriptionRegistry,
    private readonly store: SubscriptionStore,
    private readonly sender: HttpSender,
    private readonly producer: KafkaProducer,
    private readonly keyOrder: KeyOrderGate,
    private readonly metrics: GatewayMetrics,
    private readonly tracing: Tracing,
  ) {
    this.topics = gatewayTopics(config);
    this.limit = new ConcurrencyLimit(config.delivery.maxInFlight);
    this.endpointSlots = new EndpointSlots(config.delivery.maxInFlightPerEndpoint, ENDPOINT_SLOT_WAIT_MS);
    this.breakers = new CircuitBreakers(config.delivery.breakerThreshold, config.delivery.breakerCooldownMs);
    this.logAttempts = config.logLevel === 'debug' || config.logLevel === 'verbose';
    this.tierOf = new Map(this.topics.retry.map((t) => [t.topic, t.label]));
    metrics.onScrape(() => {
      metrics.inFlight.set(this.limit.inFlight);
      metrics.breakersOpen.set(this.breakers.openCount(Date.now()));
    });
  }

  /** Hands out each record's work; returns once the batch is handed out or the partition must wait. */
  async dispatch(batch: Pick<Batch, 'topic' | 'partition' | 'messages'>, context: KafkaBatchContext): Promise<void> {
    for (const message of batch.messages) {
      if (!context.isActive()) return;
      const hopDue = Number(message.headers?.[HOP_DUE_HEADER]?.toString() ?? 0);
      if (hopDue > Date.now()) {
        context.pauseUntil(hopDue);
        return;
      }
      const slot = this.limit.acquire();
      if (slot !== true) await slot;
      const work = this.handle(message, batch).then((records) => {
        this.count(records);
        return this.producer.write(records);
      });
      context.track(message.offset, work.finally(() => this.limit.release()));
    }
  }

  private async handle(message: KafkaMessage, batch: Pick<Batch, 'topic' | 'partition'>): Promise<OutgoingRecord[]> {
    let job: DeliveryJob;
    try {
      job = JSON.parse(message.value?.toString('utf8') ?? '') as DeliveryJob;
    } catch (err) {
      this.logger.error({ msg: `unreadable delivery job: sent to ${this.topics.invalid}`, topic: batch.topic, partition: batch.partition, offset: message.offset });
      const reason = `unreadable delivery job: ${(err as Error).message}`;
      return [{ topic: this.topics.invalid, key: message.key?.toString('utf8') ?? null, value: invalidEvent(message, batch.topic, batch.partition, reason, new Date()) }];
    }
    const remaining = job.dueAt ? Date.parse(job.dueAt) - Date.now() : 0;
    if (remaining > 0) return [this.retryRecord(job, remaining)];
    const place = orderPlace(job);
    if (!place) return this.attempt(job);
    return this.keyOrder.run(job, place, {
      attempt: () => this.attempt(job),
      park: (waitMs) => this.holdBack(job, this.resultBase(job, new Date()), REASONS.orderedBehind, waitMs),
    });
  }

  /** One attempt of one job, and the records that say what came of it. */
  async attempt(job: DeliveryJob): Promise<OutgoingRecord[]> {
    const started = new Date();
    const base = this.resultBase(job, started);
    const sub = job.callback ? this.callbackSubscription(job) : await this.subscription(job.subscriptionId);
    if (!sub || !sub.enabled) {
      const reason = job.callback ? REASONS.callbacksOff : sub ? REASONS.subscriptionDisabled : REASONS.subscriptionDeleted;
      return [this.resultRecord({ ...base, outcome: 'skipped', reason, durationMs: 0, finishedAt: started.toISOString() })];
    }
    const holdBack = (reason: string, waitMs: number) => this.holdBack(job, { ...base, url: sub.url }, reason, waitMs);
    if (Buffer.byteLength(job.body) > this.config.delivery.maxBodyBytes) {
      const result: AttemptResult = { ...base, url: sub.url, outcome: 'dead_lettered', reason: REASONS.bodyTooLarge, durationMs: 0, finishedAt: base.startedAt };
      const letter: DeadLetter = { job, lastResult: result, attemptTimestamps: job.attemptTimestamps ?? [], deadLetteredAt: result.finishedAt };
      return [this.resultRecord(result), { topic: this.topics.dlq, key: job.subscriptionId, value: letter }];
    }
    if (sub.rateLimit) {
      let wait = this.rateLimiter.take(sub.id, sub.rateLimit.perSecond, Date.now());
      while (wait > 0 && wait <= MAX_IN_PROCESS_RATE_WAIT_MS) {
        await new Promise((r) => setTimeout(r, wait));
        wait = this.rateLimiter.take(sub.id, sub.rateLimit.perSecond, Date.now());
      }
      if (wait > 0) return holdBack(REASONS.rateLimited, wait);
    }
    const origin = this.sender.target(sub.url).origin;
    const breaker = this.breakers.before(origin, Date.now());
    if (!breaker.allow) return holdBack(REASONS.circuitOpen, breaker.retryAt - Date.now());
    const slot = this.endpointSlots.acquire(origin);
    if (!(slot === true || (await slot))) {
      if (breaker.probe) this.breakers.cancelProbe(origin);
      return holdBack(REASONS.endpointBusy, this.topics.retry[0]!.ms);
    }
    const span = this.tracing.start('webhook attempt', job.traceparent, this.spanAttributes(job, sub.url, base.deliveryId), SpanKind.CLIENT);
    let http;
    try {
      const headers = webhookHeaders(job, sub, base.deliveryId, started);
      if (span) headers.traceparent = span.traceparent;
      http = await this.sender.send({ url: sub.url, headers, body: job.body, timeoutMs: sub.timeoutMs ?? this.config.delivery.timeoutMs });
    } finally {
      this.endpointSlots.release(origin);
    }
    const finished = new Date();
    const verdict = judge(http);
    if (span) {
      if (verdict.statusCode !== undefined) span.set({ 'http.response.status_code': verdict.statusCode });
      span.end(verdict.delivered ? undefined : verdict.reason);
    }
    // The endpoint answered (delivered, or a final answer such as 410) or it failed in a way a retry may fix.
    this.breakers.after(origin, verdict.delivered || !verdict.retryable, finished.getTime());
    const retryAfterMs =
      http.kind === 'response' && RETRY_AFTER_STATUSES.includes(http.status) ? parseRetryAfter(http.headers['retry-after'], finished) : undefined;
    const plan = planRetry({ verdict, attempt: job.attempt, schedule: sub.retry?.schedule, retryAfterMs, random: Math.random() });
    const attempted: AttemptResult = {
      ...base,
      url: sub.url,
      outcome: 'delivered',
      reason: verdict.reason,
      statusCode: verdict.statusCode,
      error: verdict.error,
      responseBody: http.kind === 'response' && http.body.length > 0 ? http.body : undefined,
      durationMs: http.durationMs,
      finishedAt: finished.toISOString(),
    };
    // Only a job that goes on (a retry, a dead letter) carries its attempts' timestamps.
    const attemptTimestamps = () => [...(job.attemptTimestamps ?? []), base.startedAt];
    if (!job.callback && (await this.trackHealth(sub, verdict.delivered, finished))) {
      const result: AttemptResult = { ...attempted, outcome: 'dead_lettered', reason: REASONS.autoDisabled };
      const letter: DeadLetter = { job, lastResult: result, attemptTimestamps: attemptTimestamps(), deadLetteredAt: result.finishedAt };
      return [this.resultRecord(result), { topic: this.topics.dlq, key: job.subscriptionId, value: letter }];
    }
    switch (plan.action) {
      case 'delivered':
        return [this.resultRecord(attempted)];
      case 'retry': {
        const nextAttemptAt = new Date(finished.getTime() + plan.delayMs).toISOString();
        const next: DeliveryJob = { ...job, attempt: job.attempt + 1, attemptTimestamps: attemptTimestamps(), dueAt: nextAttemptAt };
        return [this.resultRecord({ ...attempted, outcome: 'retry_scheduled', nextAttemptAt }), this.retryRecord(next, plan.delayMs)];
      }
      case 'dead_letter': {
        if (verdict.statusCode === GONE_STATUS && !job.callback) await this.disable(sub, `the endpoint answered 410 Gone at ${attempted.finishedAt}`);
        const result: AttemptResult = { ...attempted, outcome: 'dead_lettered', reason: plan.reason };
        this.logger.warn({ msg: `dead-lettered after attempt ${job.attempt}: ${plan.reason}`, webhookId: job.webhookId, subscriptionId: job.subscriptionId, eventId: job.eventId, attempt: job.attempt });
        const letter: DeadLetter = { job, lastResult: result, attemptTimestamps: attemptTimestamps(), deadLetteredAt: result.finishedAt };
        return [this.resultRecord(result), { topic: this.topics.dlq, key: job.subscriptionId, value: letter }];
      }
    }
  }

  /** Metrics (and, at debug level, a log line per attempt) from the outcome records of one job. */
  private count(records: OutgoingRecord[]): void {
    for (const r of records) {
      if (r.topic === this.topics.results) {
        const result = r.value as AttemptResult;
        if (this.logAttempts) {
          const { webhookId, deliveryId, subscriptionId, eventId, attempt, outcome, reason, statusCode, durationMs, nextAttemptAt } = result;
          this.logger.debug({ msg: `attempt ${attempt}: ${outcome} (${reason})`, webhookId, deliveryId, subscriptionId, eventId, attempt, outcome, statusCode, durationMs, nextAttemptAt });
        }
        this.metrics.attempts.inc({ outcome: result.outcome, status_class: statusClass(result.statusCode) });
        if (result.statusCode !== undefined || result.error !== undefined) this.metrics.attemptDuration.observe({ outcome: result.outcome }, result.durationMs / 1000);
      } else if (r.topic === this.topics.dlq) {
        this.metrics.deadLetters.inc();
      } else {
        const tier = this.tierOf.get(r.topic);
        if (tier !== undefined) this.metrics.retries.inc({ tier });
      }
    }
  }

  private spanAttributes(job: DeliveryJob, url: string, deliveryId: string) {
    return {
      'webhook.id': job.webhookId,
      'webhook.delivery_id': deliveryId,
      'webhook.subscription_id': job.subscriptionId,
      'webhook.event_type': job.eventType,
      'webhook.attempt': job.attempt,
      'http.request.method': 'POST',
      'url.full': url,
    };
  }

  /** What every result record of this attempt says. */
  private resultBase(job: DeliveryJob, started: Date) {
    return {
      webhookId: job.webhookId,
      deliveryId: randomUUID(),
      eventId: job.eventId,
      eventType: job.eventType,
      subscriptionId: job.subscriptionId,
      tenant: job.tenant,
      url: job.url,
      attempt: job.attempt,
      startedAt: started.toISOString(),
    };
  }

  /** Held back, not attempted (the attempt number stays): a result record and a retry-tier record. */
  private holdBack(job: DeliveryJob, base: ReturnType<DeliveryService['resultBase']>, reason: string, waitMs: number): OutgoingRecord[] {
    const nextAttemptAt = new Date(Date.parse(base.startedAt) + waitMs).toISOString();
    const result: AttemptResult = { ...base, outcome: 'retry_scheduled', reason, durationMs: 0, finishedAt: base.startedAt, nextAttemptAt };
    return [this.resultRecord(result), this.retryRecord({ ...job, dueAt: nextAttemptAt }, waitMs)];
  }

  /** The job on the retry tier for its next hop; it is attempted (or hops again) once `dueAt` has come. */
  private retryRecord(job: DeliveryJob, remainingMs: number): OutgoingRecord {
    const { tier, waitMs } = nextHop(this.topics.retry, remainingMs);
    return { topic: tier.topic, key: job.subscriptionId, value: job, headers: { [HOP_DUE_HEADER]: String(Date.now() + waitMs) } };
  }

  /**
   * Keeps the subscription's failure streak (`failingSince`) on the subscriptions
   * topic, written only when it starts or ends, so it survives restarts. Returns
   * true when this failure ends a streak longer than DELIVERY_AUTO_DISABLE_AFTER:
   * the subscription is then disabled.
   */
  private async trackHealth(sub: Subscription, delivered: boolean, now: Date): Promise<boolean> {
    const current = this.registry.get(sub.id) ?? sub;
    if (delivered) {
      if (current.failingSince !== undefined) await this.store.put({ ...current, failingSince: undefined });
      return false;
    }
    if (current.failingSince === undefined) {
      if (!this.streaksStarting.has(sub.id)) {
        this.streaksStarting.add(sub.id);
        await this.store.put({ ...current, failingSince: now.toISOString() }).finally(() => this.streaksStarting.delete(sub.id));
      }
      return false;
    }
    const limit = this.config.delivery.autoDisableAfterMs;
    if (limit === 0 || now.getTime() - Date.parse(current.failingSince) < limit) return false;
    await this.disable(current, `every attempt failed since ${current.failingSince} (DELIVERY_AUTO_DISABLE_AFTER)`);
    return true;
  }

  private async disable(sub: Subscription, reason: string): Promise<void> {
    const current = this.registry.get(sub.id);
    if (!current?.enabled) return;
    this.logger.warn({ msg: `subscription disabled: ${reason}`, subscriptionId: sub.id });
    await this.store.put({ ...current, enabled: false, disabledReason: reason, updatedAt: new Date().toISOString() });
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
