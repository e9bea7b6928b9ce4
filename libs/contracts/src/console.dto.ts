import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { OUTCOMES, type Outcome } from './attempt-result.js';
import { SubscriptionView } from './subscription.dto.js';

/** The console keeps this many recent attempts per subscription. */
export const RECENT_ATTEMPTS = 50;

export class AttemptsQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: RECENT_ATTEMPTS, default: RECENT_ATTEMPTS })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be a whole number' })
  @Min(1)
  @Max(RECENT_ATTEMPTS)
  limit?: number;
}

export class AttemptErrorView {
  @ApiProperty({ description: 'e.g. TimeoutError, ConnectionRefused' }) class!: string;
  @ApiProperty() message!: string;
}

/** A record of the results topic as it is written (docs/schemas/attempt-result.schema.json). */
export class AttemptResultView {
  @ApiProperty({ description: 'Standard Webhooks webhook-id: stable across retries' }) webhookId!: string;
  @ApiProperty({ description: 'x-webhook-delivery-id: new per attempt' }) deliveryId!: string;
  @ApiProperty() eventId!: string;
  @ApiProperty() eventType!: string;
  @ApiProperty() subscriptionId!: string;
  @ApiPropertyOptional() tenant?: string;
  @ApiProperty() url!: string;
  @ApiProperty() attempt!: number;
  @ApiProperty({ enum: OUTCOMES }) outcome!: Outcome;
  @ApiProperty({ description: '2xx, http_<status>, timeout, circuit_open, ... (docs/topics.md)' }) reason!: string;
  @ApiPropertyOptional() statusCode?: number;
  @ApiPropertyOptional({ type: AttemptErrorView }) error?: AttemptErrorView;
  @ApiPropertyOptional({ description: 'First bytes of the response body' }) responseBody?: string;
  @ApiProperty() durationMs!: number;
  @ApiProperty() startedAt!: string;
  @ApiProperty() finishedAt!: string;
  @ApiPropertyOptional({ description: 'When the next attempt is due (retry_scheduled)' }) nextAttemptAt?: string;
}

export class AttemptPage {
  @ApiProperty({ type: [AttemptResultView], description: `The most recent attempts, newest first (at most ${RECENT_ATTEMPTS})` }) data!: AttemptResultView[];
}

export class OutcomeCountsView {
  @ApiProperty() delivered!: number;
  @ApiProperty() retry_scheduled!: number;
  @ApiProperty() dead_lettered!: number;
  @ApiProperty() skipped!: number;
}

export class LastErrorView {
  @ApiProperty({ description: 'The failed attempt’s reason, e.g. http_500, timeout' }) reason!: string;
  @ApiPropertyOptional() status_code?: number;
  @ApiPropertyOptional() message?: string;
  @ApiProperty() at!: string;
}

export const BREAKER_STATES = ['open', 'closed'] as const;
export type BreakerState = (typeof BREAKER_STATES)[number];

export class SubscriptionHealthView {
  @ApiProperty({ type: OutcomeCountsView, description: 'Results recorded per outcome (held-back jobs included)' }) outcomes!: OutcomeCountsView;
  @ApiProperty({ type: Number, nullable: true, description: 'Delivered share of the last rate_window attempts (0..1); null before the first attempt' })
  success_rate!: number | null;
  @ApiProperty({ description: 'HTTP attempts the success rate is over (at most 100; held-back and skipped jobs are not attempts)' }) rate_window!: number;
  @ApiPropertyOptional() last_attempt_at?: string;
  @ApiPropertyOptional({ type: LastErrorView }) last_error?: LastErrorView;
  @ApiProperty({ enum: BREAKER_STATES, description: 'open: a job was held back by the endpoint’s circuit breaker in the last minute, and nothing was delivered since' })
  breaker!: BreakerState;
  @ApiProperty({ description: 'Dead letters written for this subscription (within the dlq topic’s retention)' }) dlq_count!: number;
}

export class ConsoleSubscriptionView extends SubscriptionView {
  @ApiProperty({ type: SubscriptionHealthView }) health!: SubscriptionHealthView;
}

export class DigestStatusView {
  @ApiProperty({ description: 'false while the gateway is still reading the results and dlq topics from the beginning' }) caught_up!: boolean;
}

export class ConsoleSubscriptionsView {
  @ApiProperty({ type: [ConsoleSubscriptionView], description: 'Subscriptions in creation order (pages as in GET /v1/subscriptions), each with its delivery health' })
  data!: ConsoleSubscriptionView[];
  @ApiPropertyOptional({ description: 'Pass as cursor for the next page; absent on the last page' }) next_cursor?: string;
  @ApiProperty({ type: DigestStatusView }) digest!: DigestStatusView;
}
