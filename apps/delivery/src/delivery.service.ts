import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { GATEWAY_CONFIG, GATEWAY_TOPICS, type GatewayConfig, type GatewayTopics } from '@app/config';
import { type AttemptResult, type DeliveryJob, invalidEvent, keptBody, type Subscription } from '@app/contracts';
import type { KafkaMessage } from '@app/kafka';
import { SpanKind, Tracing } from '@app/runtime';
import { SubscriptionRegistry } from '@app/subscriptions';
import { Transformer } from '@app/body';
import { type AttemptOutcome, deadLetter, resultBase, withJobPlace } from './attempt/attempt-outcome.js';
import { type AuthorizedAttempt, EndpointAuthorizer } from './attempt/endpoint-auth.js';
import { EndpointGate } from './attempt/endpoint-gate.js';
import { RateLimiter } from './attempt/rate-limiter.js';
import { gateReport, isEgressFailure, judge } from './attempt/outcome.js';
import { webhookBody } from './attempt/webhook-body.js';
import { webhookHeaders } from './attempt/webhook-request.js';
import { ENDPOINT_QUEUE_MAX_WAIT_MS, GONE_STATUS, MAX_IN_PROCESS_RATE_WAIT_MS, REASONS, RETRY_AFTER_STATUSES } from './delivery-policy.js';
import { StepCounts } from './attempt/step-counts.js';
import { isTransient } from './attempt/transient-error.js';
import { HealthTracker } from './health/health-tracker.js';
import { HttpSender } from './http/http-sender.js';
import { KeyOrderGate } from './ordering/key-order.gate.js';
import { orderPlace } from './ordering/key-order.js';
import { parseRetryAfter, planRetry } from './retry/retry-plan.js';

type Base = ReturnType<typeof resultBase>;

/**
 * job → attempt → outcome. `handle` reads one record of the deliveries or a retry topic and
 * returns what came of it as a value (`AttemptOutcome`); the deliveries controller writes the
 * outcome's records and commits. An attempt goes through the subscription's current settings,
 * its rate limit, the endpoint's protection (breakers, in-flight cap and queue: EndpointGate),
 * the signed request, and the retry plan.
 */
@Injectable()
export class DeliveryService {
  private readonly logger = new Logger(DeliveryService.name);
  readonly gate: EndpointGate;
  /** Jobs in each step of their attempt now (for the delivery watchdog). */
  readonly steps = new StepCounts();
  private readonly rateLimiter = new RateLimiter();
  /** The endpoint's Authorization header (basic, bearer, OAuth2 tokens and their refresh on 401). */
  private readonly endpointAuth: EndpointAuthorizer;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(GATEWAY_TOPICS) private readonly topics: GatewayTopics,
    private readonly registry: SubscriptionRegistry,
    private readonly health: HealthTracker,
    private readonly sender: HttpSender,
    private readonly keyOrder: KeyOrderGate,
    private readonly tracing: Tracing,
    private readonly transformer: Transformer,
  ) {
    const d = config.delivery;
    this.gate = new EndpointGate(d.maxInFlightPerEndpoint, d.breakerThreshold, d.breakerCooldownMs, ENDPOINT_QUEUE_MAX_WAIT_MS);
    this.endpointAuth = new EndpointAuthorizer(sender);
  }

  /** One record of a deliveries or retry topic, and what came of it (its result names the record). */
  async handle(message: KafkaMessage, topic: string, partition: number): Promise<AttemptOutcome> {
    return withJobPlace(await this.handleRecord(message, topic, partition), { topic, partition, offset: message.offset });
  }

  private async handleRecord(message: KafkaMessage, topic: string, partition: number): Promise<AttemptOutcome> {
    let job: DeliveryJob;
    try {
      job = readJob(message.value);
    } catch (err) {
      this.logger.error({ msg: `unreadable delivery job: sent to ${this.topics.invalid}`, topic, partition, offset: message.offset });
      const reason = `unreadable delivery job: ${(err as Error).message}`;
      return { kind: 'unreadable', key: message.key?.toString('utf8') ?? null, invalid: invalidEvent(message, topic, partition, reason, new Date()) };
    }
    try {
      const remaining = job.dueAt ? Date.parse(job.dueAt) - Date.now() : 0;
      // Not due yet: one more hop on the tiers, nothing to report.
      if (remaining > 0) return { kind: 'held', reason: 'not_due', next: job, waitMs: remaining };
      const place = orderPlace(job);
      if (!place) return await this.attempt(job);
      return await this.steps.during('ordered chain', this.keyOrder.run(job, place, {
        attempt: () => this.attempt(job),
        park: (waitMs) => this.hold(job, this.base(job, new Date()), REASONS.orderedBehind, waitMs),
      }));
    } catch (err) {
      // Kafka unavailable (a write, a catch-up): the partition is read again from this job, as for a failed write.
      if (isTransient(err)) throw err;
      // A job that breaks the attempt path (a bug, not Kafka) would be read again forever: it is dead-lettered with the reason.
      this.logger.error({ msg: `delivery job failed: ${(err as Error).message}; dead-lettered`, webhookId: job.webhookId, subscriptionId: job.subscriptionId });
      const now = new Date();
      return deadLetter(job, { ...this.base(job, now), outcome: 'dead_lettered', reason: REASONS.internalError, error: { class: 'internal_error', message: (err as Error).message }, durationMs: 0, finishedAt: now.toISOString() });
    }
  }

  /** One attempt of one job, and what came of it. */
  async attempt(job: DeliveryJob): Promise<AttemptOutcome> {
    const started = new Date();
    const base = this.base(job, started);
    const sub = job.callback ? this.callbackSubscription(job) : await this.subscription(job.subscriptionId);
    if (!sub || !sub.enabled) {
      const reason = job.callback ? REASONS.callbacksOff : sub ? REASONS.subscriptionDisabled : REASONS.subscriptionDeleted;
      return { kind: 'skipped', result: { ...base, outcome: 'skipped', reason, durationMs: 0, finishedAt: started.toISOString() } };
    }
    const made = webhookBody(job, sub, this.transformer);
    const request = made instanceof Promise ? await this.steps.during('transform', made) : made;
    if (request.kind === 'skip') return { kind: 'skipped', result: { ...base, url: sub.url, outcome: 'skipped', reason: REASONS.transformSkipped, durationMs: Date.now() - started.getTime(), finishedAt: new Date().toISOString() } };
    if (request.kind === 'failed') {
      const failed: AttemptResult = { ...base, url: sub.url, outcome: 'dead_lettered', reason: REASONS.transformFailed, error: { class: 'transform', message: request.message }, durationMs: Date.now() - started.getTime(), finishedAt: new Date().toISOString() };
      this.logger.warn({ msg: `dead-lettered: the transformation failed: ${request.message}`, webhookId: job.webhookId, subscriptionId: job.subscriptionId, eventId: job.eventId });
      return deadLetter(job, failed);
    }
    const here = { ...base, url: request.url };
    if (Buffer.byteLength(request.body) > this.config.delivery.maxBodyBytes) {
      return deadLetter(job, { ...here, outcome: 'dead_lettered', reason: REASONS.bodyTooLarge, durationMs: 0, finishedAt: base.startedAt });
    }
    if (sub.rateLimit) {
      let wait = this.rateLimiter.take(sub.id, sub.rateLimit.perSecond, Date.now());
      while (wait > 0 && wait <= MAX_IN_PROCESS_RATE_WAIT_MS) {
        await this.steps.during('rate limit', new Promise((r) => setTimeout(r, wait)));
        wait = this.rateLimiter.take(sub.id, sub.rateLimit.perSecond, Date.now());
      }
      if (wait > 0) return this.hold(job, here, REASONS.rateLimited, wait);
    }
    const admitted = this.gate.admit(sub.url, this.sender.target(sub.url).origin, Date.now());
    const admission = admitted instanceof Promise ? await this.steps.during('endpoint queue', admitted) : admitted;
    if (!admission.go) return this.hold(job, here, admission.reason, admission.waitMs);
    // Signed now, after any wait in the endpoint's queue: a fresh timestamp.
    const sent = new Date();
    const span = this.tracing.start('webhook attempt', job.traceparent, this.spanAttributes(job, sub.url, base.deliveryId), SpanKind.CLIENT);
    let http: AuthorizedAttempt;
    let tokenRefreshed: boolean;
    try {
      const headers = webhookHeaders(job, sub, base.deliveryId, sent, request.body, request.headers);
      if (span) headers.traceparent = span.traceparent;
      const tls = sub.tls && { subscriptionId: sub.id, ...sub.tls };
      ({ http, tokenRefreshed } = await this.steps.during('http', this.endpointAuth.send(sub, { url: request.url, headers, body: request.body, timeoutMs: sub.timeoutMs ?? this.config.delivery.timeoutMs, tls })));
    } catch (err) {
      this.gate.finish(admission.ticket, { ok: false, hostReached: true }, Date.now());
      throw err;
    }
    const finished = new Date();
    const verdict = judge(http);
    this.gate.finish(admission.ticket, gateReport(http, verdict), finished.getTime());
    if (span) {
      if (verdict.statusCode !== undefined) span.set({ 'http.response.status_code': verdict.statusCode });
      span.end(verdict.delivered ? undefined : verdict.reason);
    }
    const retryAfterMs =
      http.kind === 'response' && RETRY_AFTER_STATUSES.includes(http.status) ? parseRetryAfter(http.headers['retry-after'], finished) : undefined;
    const plan = planRetry({ verdict, attempt: job.attempt, schedule: sub.retry?.schedule, retryAfterMs, random: Math.random() });
    const attempted: AttemptResult = {
      ...here,
      startedAt: sent.toISOString(),
      outcome: 'delivered',
      reason: verdict.reason,
      statusCode: verdict.statusCode,
      error: verdict.error,
      responseBody: http.kind === 'response' && http.body.length > 0 ? http.body : undefined,
      tokenRefreshed: tokenRefreshed || undefined,
      ...madeAtAttempt(job, request.body),
      durationMs: http.durationMs,
      finishedAt: finished.toISOString(),
    };
    // Only a job that goes on (a retry, a dead letter) carries its attempts' timestamps.
    const attemptTimestamps = [...(job.attemptTimestamps ?? []), attempted.startedAt];
    if (!job.callback && !isEgressFailure(http)) {
      if (verdict.delivered) await this.steps.during('health write', this.health.delivered(sub));
      else {
        const disabled = await this.steps.during('health write', this.health.failed(sub, finished));
        if (disabled) return deadLetter(job, { ...attempted, outcome: 'dead_lettered', reason: REASONS.autoDisabled }, attemptTimestamps);
      }
    }
    switch (plan.action) {
      case 'delivered':
        return { kind: 'delivered', result: attempted };
      case 'retry': {
        const nextAttemptAt = new Date(finished.getTime() + plan.delayMs).toISOString();
        const { heldFor: _held, ...rest } = job;
        const next: DeliveryJob = { ...rest, attempt: job.attempt + 1, attemptTimestamps, dueAt: nextAttemptAt };
        return { kind: 'retry', result: { ...attempted, outcome: 'retry_scheduled', nextAttemptAt }, next, waitMs: plan.delayMs };
      }
      case 'dead_letter': {
        if (verdict.statusCode === GONE_STATUS && !job.callback) await this.steps.during('health write', this.health.disable(sub, `the endpoint answered 410 Gone at ${attempted.finishedAt}`, finished));
        this.logger.warn({ msg: `dead-lettered after attempt ${job.attempt}: ${plan.reason}`, webhookId: job.webhookId, subscriptionId: job.subscriptionId, eventId: job.eventId, attempt: job.attempt });
        return deadLetter(job, { ...attempted, outcome: 'dead_lettered', reason: plan.reason }, attemptTimestamps);
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

  private base(job: DeliveryJob, started: Date): Base {
    return resultBase(job, randomUUID(), started);
  }

  /**
   * Held back, not attempted (the attempt number stays): the job waits `waitMs` on the retry
   * tiers. A result says so when it is first held for this reason, not at every hold.
   */
  private hold(job: DeliveryJob, base: Base, reason: string, waitMs: number): AttemptOutcome {
    const nextAttemptAt = new Date(Date.parse(base.startedAt) + waitMs).toISOString();
    const next: DeliveryJob = { ...job, dueAt: nextAttemptAt, heldFor: reason };
    if (job.heldFor === reason) return { kind: 'held', reason, next, waitMs };
    const result: AttemptResult = { ...base, outcome: 'retry_scheduled', reason, durationMs: 0, finishedAt: base.startedAt, nextAttemptAt };
    return { kind: 'held', reason, result, next, waitMs };
  }

  /**
   * The subscription as it is now. A miss may only mean this instance's registry
   * has not yet read a subscription the producer app already matched: catch up
   * to the topic's end once before calling it deleted.
   */
  private async subscription(id: string): Promise<Subscription | undefined> {
    const known = this.registry.get(id);
    if (known) return known;
    await this.steps.during('registry catch-up', this.registry.catchUp());
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
}

/** A body made at the attempt (a job carrying the event) is known only to the attempt: its result keeps the first 64 KiB. */
function madeAtAttempt(job: DeliveryJob, body: string): Pick<AttemptResult, 'requestBody' | 'requestBodyBytes'> {
  if (job.input !== 'event') return {};
  const kept = keptBody(body);
  return { requestBody: kept.body, requestBodyBytes: kept.bytes };
}

/** A record's value as a delivery job, or why it is not one. */
function readJob(value: Buffer | null): DeliveryJob {
  const job = JSON.parse(value?.toString('utf8') ?? '') as Partial<DeliveryJob> | null;
  if (job === null || typeof job !== 'object') throw new Error('not a JSON object');
  for (const field of ['webhookId', 'subscriptionId', 'url', 'body'] as const) {
    if (typeof job[field] !== 'string') throw new Error(`${field} is missing or not a string`);
  }
  if (typeof job.attempt !== 'number') throw new Error('attempt is missing or not a number');
  return job as DeliveryJob;
}
