import { Inject, Injectable, Logger } from '@nestjs/common';
import { GATEWAY_CONFIG, GATEWAY_TOPICS, type GatewayConfig, type GatewayTopics } from '@app/config';
import { GatewayMetrics, statusClass } from '@app/runtime';
import { type AttemptOutcome, nextJob } from './attempt/attempt-outcome.js';
import { nextHop } from './retry/retry-tiers.js';

/** Metrics and (at debug level) a log line per attempt, read from outcomes. */
@Injectable()
export class DeliveryMetrics {
  private readonly logger = new Logger('DeliveryAttempts');
  private readonly logAttempts: boolean;

  constructor(
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    @Inject(GATEWAY_TOPICS) private readonly topics: GatewayTopics,
    private readonly metrics: GatewayMetrics,
  ) {
    this.logAttempts = config.logLevel === 'debug' || config.logLevel === 'verbose';
  }

  /** Samples taken when /metrics is scraped. */
  onScrape(sample: (metrics: GatewayMetrics) => void): void {
    this.metrics.onScrape(() => sample(this.metrics));
  }

  record(outcome: AttemptOutcome): void {
    if (outcome.kind === 'unreadable') return;
    const result = outcome.result;
    if (result) {
      if (this.logAttempts) {
        const { webhookId, deliveryId, subscriptionId, eventId, attempt, outcome: kind, reason, statusCode, durationMs, nextAttemptAt } = result;
        this.logger.debug({ msg: `attempt ${attempt}: ${kind} (${reason})`, webhookId, deliveryId, subscriptionId, eventId, attempt, outcome: kind, statusCode, durationMs, nextAttemptAt });
      }
      this.metrics.attempts.inc({ outcome: result.outcome, status_class: statusClass(result.statusCode) });
      if (result.statusCode !== undefined || result.error !== undefined) this.metrics.attemptDuration.observe({ outcome: result.outcome }, result.durationMs / 1000);
    }
    if (outcome.kind === 'dead_letter') this.metrics.deadLetters.inc();
    const next = nextJob(outcome);
    if (next) this.metrics.retries.inc({ tier: nextHop(this.topics.retry, next.waitMs).tier.label });
  }
}
