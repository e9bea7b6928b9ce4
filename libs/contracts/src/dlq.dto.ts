import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsInt, IsISO8601, IsNotEmpty, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

export const MAX_REPLAY_LIMIT = 10_000;
export const DEFAULT_REPLAY_LIMIT = 1_000;

/** `POST /v1/dlq/replay`: which dead letters to deliver again (all filters AND). */
export class ReplayDlqDto {
  @ApiPropertyOptional({ description: 'Only dead letters of this subscription', example: 'sub_Zm9vYmFyYmF6cXV4' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  subscription_id?: string;

  @ApiPropertyOptional({ description: 'Only dead letters of this webhook (its webhook-id): one dead letter, as the portal replays it', example: 'msg_2b8f0c1d9e' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  webhook_id?: string;

  @ApiPropertyOptional({ description: "Only dead letters of this tenant's events", maxLength: 200 })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  tenant?: string;

  @ApiPropertyOptional({ description: 'Dead-lettered at or after (ISO 8601)', example: '2026-11-22T18:00:00Z' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'since must be an ISO 8601 date-time' })
  since?: string;

  @ApiPropertyOptional({ description: 'Dead-lettered before (ISO 8601)', example: '2026-11-23T06:00:00Z' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'until must be an ISO 8601 date-time' })
  until?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_REPLAY_LIMIT, default: DEFAULT_REPLAY_LIMIT, description: 'At most this many are replayed (oldest first)' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_REPLAY_LIMIT)
  limit?: number;

  @ApiPropertyOptional({ default: false, description: 'Count only: nothing is sent' })
  @IsOptional()
  @IsBoolean()
  dry_run?: boolean;
}

export class ReplayDlqView {
  @ApiProperty() dry_run!: boolean;
  @ApiProperty({ description: 'Dead letters that match the filters and were not replayed before (up to limit)' }) matched!: number;
  @ApiProperty({ description: 'Jobs written back to the deliveries topic (0 on a dry run)' }) replayed!: number;
  @ApiProperty({ description: 'Matching dead letters skipped because an earlier replay already sent them' }) already_replayed!: number;
}
