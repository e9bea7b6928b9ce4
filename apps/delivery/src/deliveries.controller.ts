import { Controller, Inject, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { randomUUID } from 'node:crypto';
import { GATEWAY_CONFIG, GATEWAY_TOPICS, type GatewayConfig, type GatewayTopics } from '@app/config';
import { type Batch, isRecordTooLarge, KafkaBatchContext, KafkaProducer, type KafkaMessage } from '@app/kafka';
import { type AttemptOutcome, HOP_DUE_HEADER, outcomeJob, outcomeRecords, tooLargeOutcome } from './attempt/attempt-outcome.js';
import { ConcurrencyLimit } from './attempt/concurrency-limit.js';
import { isTransient } from './attempt/transient-error.js';
import { DELIVERY_JOBS } from './delivery.constants.js';
import { DeliveryMetrics } from './delivery-metrics.js';
import { DeliveryService } from './delivery.service.js';
import { HopLog } from '@app/runtime';

/**
 * Kafka edge of the delivery app: delivery jobs and retry-topic records in, outcomes out.
 * Each record is dispatched on its own (up to DELIVERY_MAX_IN_FLIGHT per process, jobs waiting
 * in an endpoint's queue included; the partition waits when that is reached), so a slow endpoint
 * holds up nothing but its own jobs. The outcome's records are written, then its offset may be
 * committed. A record on a retry topic that is not due yet pauses its partition until it is.
 *
 * An attempt whose outcome is known is not made again because Kafka refused its records for a
 * while (a producer out of step after a broker failover, a lock timeout in kafkajs, a denied
 * write): the write is retried with back-off, the outcome kept, for as long as the job is still
 * this process's (`holdsWork`). The partition is not rewound for it, so the later jobs of the
 * partition, finished or in flight, are not attempted again. Only work handed over (a rejoin
 * without the partition, shutdown) gives up, uncommitted, to be done by the next owner.
 */
@Controller()
export class DeliveriesController implements OnApplicationShutdown {
  private readonly logger = new Logger(DeliveriesController.name);
  private readonly budget: ConcurrencyLimit;
  /** Jobs whose outcome was written since the watchdog last looked, and jobs in each step now. */
  private finished = 0;
  private readonly inStep = { attempt: 0, write: 0 };
  private readonly watchdog: NodeJS.Timeout;
  /** Outcome writes retried since the last log line about them. */
  private writeFailures = { count: 0, loggedAt: 0 };

  constructor(
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    @Inject(GATEWAY_TOPICS) private readonly topics: GatewayTopics,
    private readonly delivery: DeliveryService,
    private readonly producer: KafkaProducer,
    private readonly metrics: DeliveryMetrics,
    private readonly hops: HopLog,
  ) {
    this.budget = new ConcurrencyLimit(config.delivery.maxInFlight);
    metrics.onScrape((m) => {
      m.inFlight.set(this.budget.inFlight);
      m.breakersOpen.set(this.delivery.gate.openCount(Date.now()));
    });
    this.watchdog = setInterval(() => this.checkProgress(), WATCHDOG_MS);
    this.watchdog.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.watchdog);
  }

  /**
   * Says so when jobs are in flight but none finished for WATCHDOG_MS, and where they are
   * (attempting, or writing their outcome): a stalled delivery app is visible in its log.
   */
  private checkProgress(): void {
    if (this.finished === 0 && this.budget.inFlight > 0) {
      this.logger.warn(
        `no job finished in ${WATCHDOG_MS / 1000} s: ${this.budget.inFlight} in flight (${this.inStep.attempt} attempting: ${this.delivery.steps.describe()}; ${this.inStep.write} writing their outcome; ${this.producer.describe()})`,
      );
    }
    this.finished = 0;
  }

  /** Hands out each record's work; returns once the batch is handed out or the partition must wait. */
  @EventPattern<string>(DELIVERY_JOBS)
  async dispatch(@Payload() batch: Batch, @Ctx() context: KafkaBatchContext): Promise<void> {
    for (const message of batch.messages) {
      if (!context.isActive()) return;
      const hopDue = Number(message.headers?.[HOP_DUE_HEADER]?.toString() ?? 0);
      if (hopDue > Date.now()) {
        context.pauseUntil(hopDue);
        return;
      }
      const slot = this.budget.acquire();
      if (slot !== true) await slot;
      const work = this.deliver(message, batch.topic, batch.partition, () => context.holdsWork());
      if (this.hops.enabled) void work.then(() => this.hops.write('job', { topic: batch.topic, partition: batch.partition, offset: message.offset, read: context.readAt, written: Date.now() }), () => undefined);
      context.track(message.offset, work.finally(() => this.budget.release()));
    }
  }

  /** event → … → job → attempt → outcome → records. Rejects only when the records could not be written and the job is no longer ours (it is read again). */
  private async deliver(message: KafkaMessage, topic: string, partition: number, holdsWork: () => boolean): Promise<void> {
    this.inStep.attempt++;
    let outcome: AttemptOutcome;
    try {
      outcome = await this.delivery.handle(message, topic, partition);
    } finally {
      this.inStep.attempt--;
    }
    this.metrics.record(outcome);
    this.inStep.write++;
    try {
      await this.writeWhileHeld(outcome, holdsWork);
      this.finished++;
    } finally {
      this.inStep.write--;
    }
  }

  /** Writes the outcome's records, again with back-off after a Kafka error, while the job is still this process's. */
  private async writeWhileHeld(outcome: AttemptOutcome, holdsWork: () => boolean): Promise<void> {
    for (let delay = WRITE_RETRY_FIRST_MS; ; delay = Math.min(delay * 2, WRITE_RETRY_MAX_MS)) {
      try {
        return await this.write(outcome);
      } catch (err) {
        if (!isTransient(err) || !holdsWork()) throw err;
        this.writeFailed(err);
        await new Promise((r) => setTimeout(r, delay));
        if (!holdsWork()) throw err;
      }
    }
  }

  /** One log line a second at most about outcome writes being retried. */
  private writeFailed(err: unknown): void {
    this.writeFailures.count++;
    const now = Date.now();
    if (now - this.writeFailures.loggedAt < 1_000) return;
    this.logger.warn(`writing ${this.writeFailures.count} outcome(s) failed since the last report (${(err as Error).message}); writing them again, not attempting them again`);
    this.writeFailures = { count: 0, loggedAt: now };
  }

  private async write(outcome: AttemptOutcome): Promise<void> {
    try {
      await this.producer.write(outcomeRecords(outcome, this.topics));
    } catch (err) {
      const instead = isRecordTooLarge(err) ? tooLargeOutcome(outcome, (err as Error).message, randomUUID(), new Date()) : undefined;
      if (!instead) throw err;
      this.logger.error({ msg: `a job's records are over its topic's max.message.bytes: dead-lettered without its body`, ...ids(outcome) });
      this.metrics.record(instead);
      await this.producer.write(outcomeRecords(instead, this.topics));
    }
  }
}

/** Back-off of an outcome write retried after a Kafka error. */
const WRITE_RETRY_FIRST_MS = 100;
const WRITE_RETRY_MAX_MS = 5_000;

/** How long jobs may be in flight with none finishing before the log says so. */
const WATCHDOG_MS = 10_000;

function ids(outcome: AttemptOutcome): { webhookId?: string; subscriptionId?: string } {
  if (outcome.kind === 'unreadable') return {};
  const job = outcomeJob(outcome);
  return { webhookId: job?.webhookId ?? outcome.result?.webhookId, subscriptionId: job?.subscriptionId ?? outcome.result?.subscriptionId };
}
