import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

/** At most this many event types are listed (and kept per tenant). */
export const MAX_EVENT_TYPES = 1_000;

export class ListEventTypesQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_EVENT_TYPES, default: MAX_EVENT_TYPES })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be a whole number' })
  @Min(1, { message: 'limit must be at least 1' })
  @Max(MAX_EVENT_TYPES, { message: `limit must be at most ${MAX_EVENT_TYPES}` })
  limit?: number;
}

/** An event of the type as seen last, without its Kafka headers; `{truncated, bytes}` when its JSON is over 4 KiB. */
export class EventTypeSample {
  @ApiPropertyOptional() id?: string;
  @ApiPropertyOptional() source?: string;
  @ApiPropertyOptional() time?: string;
  @ApiPropertyOptional() subject?: string;
  @ApiPropertyOptional({ description: 'The event data' }) data?: unknown;
  @ApiPropertyOptional({ description: 'true: the event was too big to keep as a sample' }) truncated?: boolean;
  @ApiPropertyOptional({ description: 'Size of the sample JSON that was not kept' }) bytes?: number;
}

export class EventTypeView {
  @ApiProperty() type!: string;
  @ApiPropertyOptional({ description: 'The tenant the events carried (operator tokens see every tenant)' }) tenant?: string;
  @ApiProperty() first_seen_at!: string;
  @ApiProperty() last_seen_at!: string;
  @ApiProperty({ type: EventTypeSample }) sample!: EventTypeSample;
}

export class EventTypePage {
  @ApiProperty({ type: [EventTypeView] }) data!: EventTypeView[];
}
