import { Controller, Inject, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { randomUUID } from 'node:crypto';
import { GATEWAY_CONFIG, GATEWAY_TOPICS, type GatewayConfig, type GatewayTopics } from '@app/config';
import { type Batch, isRecordTooLarge, KafkaBatchContext, KafkaProducer, type KafkaMessage } from '@app/kafka';
import { type AttemptOutcome, HOP_DUE_HEADER, outcomeRecords, tooLargeOutcome } from './attempt/attempt-outcome.js';
import { ConcurrencyLimit } from './attempt/concurrency-limit.js';
import { isTransient } from './attempt/transient-error.js';
import { DELIVERY_JOBS } from './delivery.constants.js';
import { DeliveryMetrics } from './delivery-metrics.js';
import { DeliveryService } from './delivery.service.js';

/**
 * Kafka edge of the delivery app: delivery jobs and retry-topic records in, outcomes out.
 * Each record is dispatched on its own (up to DELIVERY_MAX_IN_FLIGHT per process, jobs waiting
 * in an endpoint's queue included; the partition waits when that is reached), so a slow endpoint
 * holds up nothing but its own jobs. The outcome's records are written, then its offset may be
 * committed. A record on a retry topic that is not due yet pauses its partition until it is.
 *
 * Kafka being briefly unavailable never repeats an HTTP attempt: a step that fails for that
 * reason (reading the subscription's state before the attempt, writing the outcome after it) is
 * retried in place, with the outcome kept, until it succeeds. The partition is not rewound for it,
 * so the jobs after it, finished or in flight, are not attempted a second time. Only when the app
 * stops does the work give up: its offset is not committed, and the next owner makes the attempt.
 */
@Controller()
export class DeliveriesController implements OnApplicationShutdown {
  private readonly logger = new Logger(DeliveriesController.name);
  private readonly budget: ConcurrencyLimit;
  private stopping = false;
  /** Failed steps since the last log line about them (one line a second at most). */
  private failures = { count: 0, loggedAt: 0 };

  constructor(
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    @Inject(GATEWAY_TOPICS) private readonly topics: GatewayTopics,
    private readonly delivery: DeliveryService,
    private readonly producer: KafkaProducer,
    private readonly metrics: DeliveryMetrics,
  ) {
    this.budget = new ConcurrencyLimit(config.delivery.maxInFlight);
    metrics.onScrape((m) => {
      m.inFlight.set(this.budget.inFlight);
      m.breakersOpen.set(this.delivery.gate.openCount(Date.now()));
    });
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
      context.track(message.offset, this.deliver(message, batch.topic, batch.partition).finally(() => this.budget.release()));
    }
  }

  onApplicationShutdown(): void {
    this.stopping = true;
  }

  /** job → attempt → outcome → records. Rejects only when the app stops before the outcome is written. */
  private async deliver(message: KafkaMessage, topic: string, partition: number): Promise<void> {
    const outcome = await this.untilDone('reading the state of the job', () => this.delivery.handle(message, topic, partition));
    this.metrics.record(outcome);
    await this.untilDone('writing the outcome', () => this.write(outcome));
  }

  /** Runs a step again, with back-off, while it fails because Kafka is unavailable. */
  private async untilDone<T>(what: string, step: () => Promise<T>): Promise<T> {
    for (let delay = RETRY_FIRST_MS; ; delay = Math.min(delay * 2, RETRY_MAX_MS)) {
      try {
        return await step();
      } catch (err) {
        if (this.stopping || !isTransient(err)) throw err;
        this.failed(what, err);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private failed(what: string, err: unknown): void {
    this.failures.count++;
    const now = Date.now();
    if (now - this.failures.loggedAt < 1_000) return;
    this.logger.warn(`${what} failed ${this.failures.count} time(s) since the last report (${(err as Error).message}); retrying it, not the attempt`);
    this.failures = { count: 0, loggedAt: now };
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

/** Back-off of a step retried because Kafka is unavailable. */
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 5_000;

function ids(outcome: AttemptOutcome): { webhookId?: string; subscriptionId?: string } {
  if (outcome.kind === 'unreadable') return {};
  const job = outcome.kind === 'dead_letter' ? outcome.letter.job : outcome.kind === 'retry' || outcome.kind === 'held' ? outcome.next : undefined;
  return { webhookId: job?.webhookId ?? outcome.result?.webhookId, subscriptionId: job?.subscriptionId ?? outcome.result?.subscriptionId };
}
