import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { OUTCOMES, type Outcome } from './attempt-result.js';
import { REQUEST_BODY_KEPT_BYTES } from './request-body.js';
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

export class JobRecordPlaceView {
  @ApiProperty({ description: 'webhooks.deliveries or a retry tier' }) topic!: string;
  @ApiProperty() partition!: number;
  @ApiProperty() offset!: string;
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
  @ApiPropertyOptional({ type: JobRecordPlaceView, description: 'The record of the job this attempt was made from (absent on results of older versions)' }) job?: JobRecordPlaceView;
  @ApiPropertyOptional({ description: `A transformed subscription's attempt: the body as sent, its first ${REQUEST_BODY_KEPT_BYTES} bytes` }) requestBody?: string;
  @ApiPropertyOptional({ description: 'The full size of the body as sent, in bytes (with requestBody)' }) requestBodyBytes?: number;
}

export class AttemptPage {
  @ApiProperty({ type: [AttemptResultView], description: `The most recent attempts, newest first (at most ${RECENT_ATTEMPTS})` }) data!: AttemptResultView[];
}

export const REQUEST_BODY_SOURCES = ['job', 'attempt'] as const;

export class AttemptRequestView {
  @ApiProperty({ type: String, nullable: true, description: `The request body as sent, its first ${REQUEST_BODY_KEPT_BYTES} bytes; null when it is no longer known (see note)` }) body!: string | null;
  @ApiProperty({ description: 'Full size of the body in bytes (0 when body is null)' }) bytes!: number;
  @ApiProperty({ description: 'Only the first bytes of the body are shown' }) truncated!: boolean;
  @ApiProperty({ enum: REQUEST_BODY_SOURCES, description: "job: read from the job's record (deliveries or retry topic); attempt: recorded by the attempt (a transformation made the body)" }) from!: (typeof REQUEST_BODY_SOURCES)[number];
  @ApiProperty({ example: 'application/json' }) content_type!: string;
  @ApiPropertyOptional({ description: 'Why body is null: the job record is past its retention, or the result predates job coordinates' }) note?: string;
}

export class AttemptDetailView {
  @ApiProperty({ type: AttemptResultView }) attempt!: AttemptResultView;
  @ApiProperty({ type: AttemptRequestView }) request!: AttemptRequestView;
}

export class RetryAttemptView {
  @ApiProperty({ description: 'The webhook-id sent again (the same as the attempt’s)' }) webhook_id!: string;
  @ApiProperty({ description: 'The delivery id of the failed attempt this repeats' }) retry_of!: string;
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
