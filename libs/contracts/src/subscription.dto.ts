import { ApiProperty, ApiPropertyOptional, OmitType, PartialType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
  ValidationArguments,
  ValidationOptions,
  registerDecorator,
} from 'class-validator';
import { ClientTlsDto, ClientTlsView } from './client-tls.dto.js';
import { BODY_FORMATS, type BodyFormat, ORDERING_MODES, type OrderingMode, SUBSCRIPTION_KINDS, type SubscriptionKind } from './subscription.js';

/** `deployment.succeeded`, `deployment.*`, `*`. */
export const EVENT_PATTERN = /^(\*|[A-Za-z0-9_\-:/]+(\.[A-Za-z0-9_\-:/]+)*(\.\*)?)$/;
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Headers the gateway sets itself and that a subscription may not override. */
export const RESERVED_HEADERS = ['content-type', 'content-length', 'host', 'connection', 'transfer-encoding', 'traceparent'];

/** Why the last map check failed, per validated object and property (validation is synchronous). */
const mapProblems = new WeakMap<object, Map<string, string>>();

function IsStringMap(
  check: (key: string, value: unknown) => string | null,
  options?: ValidationOptions,
): PropertyDecorator {
  return (object, propertyName) => {
    registerDecorator({
      name: 'isStringMap',
      target: object.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate(value: unknown, args: ValidationArguments) {
          if (value === undefined) return true;
          if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
          for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
            const problem = check(k, v);
            if (problem) {
              const problems = mapProblems.get(args.object) ?? new Map<string, string>();
              problems.set(args.property, problem);
              mapProblems.set(args.object, problems);
              return false;
            }
          }
          return true;
        },
        defaultMessage(args: ValidationArguments) {
          const problem = mapProblems.get(args.object)?.get(args.property);
          return `${args.property} ${problem ?? 'must be an object'}`;
        },
      },
    });
  };
}

const checkFilter = (key: string, value: unknown): string | null => {
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(key) || key.length > 200) return `key "${key}" must be a dotted path like data.project.name`;
  if (!Array.isArray(value) || value.length === 0) return `.${key} must be a non-empty list of patterns`;
  if (value.length > 100) return `.${key} must have at most 100 patterns`;
  for (const p of value) {
    if (typeof p !== 'string' || p.length === 0 || p.length > 200) return `.${key} patterns must be strings of 1 to 200 characters`;
  }
  return null;
};

const checkHeader = (key: string, value: unknown): string | null => {
  if (!HEADER_NAME.test(key) || key.length > 100) return `name "${key}" is not a valid header name`;
  if (RESERVED_HEADERS.includes(key.toLowerCase()) || key.toLowerCase().startsWith('webhook-') || key.toLowerCase().startsWith('x-webhook-'))
    return `name "${key}" is set by the gateway and cannot be overridden`;
  if (typeof value !== 'string' || value.length > 1000 || /[\r\n\0]/.test(value)) return `.${key} must be a single-line string of at most 1000 characters`;
  return null;
};

const MAX_RETRY_DELAY_SECONDS = 7 * 24 * 3600;
const SCHEDULE_MESSAGE = `schedule must list whole seconds from 0 to ${MAX_RETRY_DELAY_SECONDS}`;
const SECRET_PATTERN = /^whsec_[A-Za-z0-9+/]{32,88}={0,2}$/;
const SECRET_MESSAGE = 'secret must be whsec_ followed by 24 to 64 base64-encoded bytes';

export class RetryPolicyDto {
  @ApiProperty({ description: 'Delays in seconds before each retry after the first attempt, e.g. [10, 20]', type: [Number], example: [10, 20] })
  @IsArray({ message: 'schedule must be a list of delays in seconds' })
  @ArrayMaxSize(20)
  @IsInt({ each: true, message: SCHEDULE_MESSAGE })
  @Min(0, { each: true, message: SCHEDULE_MESSAGE })
  @Max(MAX_RETRY_DELAY_SECONDS, { each: true, message: SCHEDULE_MESSAGE })
  schedule!: number[];
}

export class RateLimitDto {
  @ApiProperty({ minimum: 1, maximum: 100_000 })
  @IsInt()
  @Min(1)
  @Max(100_000)
  per_second!: number;
}

export class CreateSubscriptionDto {
  @ApiProperty({ example: 'https://hooks.example.com/deployments', maxLength: 2048 })
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false, require_valid_protocol: true }, { message: 'url must be an http(s) URL' })
  @MaxLength(2048)
  url!: string;

  @ApiProperty({ description: 'Event type patterns: exact, prefix.* or *', example: ['deployment.*'], type: [String] })
  @IsArray()
  @ArrayNotEmpty({ message: 'events must list at least one event type pattern' })
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @MaxLength(200, { each: true })
  @Matches(EVENT_PATTERN, { each: true, message: 'events must be exact types, prefix.* patterns or *' })
  events!: string[];

  @ApiPropertyOptional({ enum: SUBSCRIPTION_KINDS, default: 'STANDARD', description: 'SLACK posts a Slack message, unsigned' })
  @IsOptional()
  @IsIn(SUBSCRIPTION_KINDS)
  kind?: SubscriptionKind;

  @ApiPropertyOptional({
    description: 'Dotted path into the event → case-insensitive patterns with * wildcards; every path must match, any pattern may',
    example: { 'data.environment.type': ['PRODUCTION'], 'data.project.name': ['shop-*'] },
    type: 'object',
    additionalProperties: { type: 'array', items: { type: 'string' } },
  })
  @IsOptional()
  @IsObject()
  @IsStringMap(checkFilter)
  filters?: Record<string, string[]> | null;

  @ApiPropertyOptional({ description: 'whsec_ signing secret; generated when absent', example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' })
  @IsOptional()
  @IsString()
  @Matches(SECRET_PATTERN, { message: SECRET_MESSAGE })
  secret?: string;

  @ApiPropertyOptional({ description: 'Static headers sent with every webhook', example: { 'Qovery-Secret': 's3cr3t' }, type: 'object', additionalProperties: { type: 'string' } })
  @IsOptional()
  @IsObject()
  @IsStringMap(checkHeader)
  headers?: Record<string, string> | null;

  @ApiPropertyOptional({ maxLength: 500 })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  description?: string | null;

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({ description: 'Only events of this tenant match', maxLength: 200 })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  tenant?: string | null;

  @ApiPropertyOptional({ enum: BODY_FORMATS, default: 'standard' })
  @IsOptional()
  @IsIn(BODY_FORMATS)
  format?: BodyFormat;

  @ApiPropertyOptional({ type: RetryPolicyDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => RetryPolicyDto)
  retry?: RetryPolicyDto | null;

  @ApiPropertyOptional({ minimum: 100, maximum: 30_000, description: 'Total timeout per attempt' })
  @IsOptional()
  @IsInt()
  @Min(100)
  @Max(30_000)
  timeout_ms?: number | null;

  @ApiPropertyOptional({ type: RateLimitDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => RateLimitDto)
  rate_limit?: RateLimitDto | null;

  @ApiPropertyOptional({
    enum: ORDERING_MODES,
    default: 'none',
    description: "key: events with the same Kafka key are delivered in order, each after the previous one's final outcome (delivered or dead-lettered)",
  })
  @IsOptional()
  @IsIn(ORDERING_MODES)
  ordering?: OrderingMode | null;

  @ApiPropertyOptional({ type: ClientTlsDto, description: 'Mutual TLS: the client certificate presented to the endpoint (GET shows its description only); null clears' })
  @IsOptional()
  @ValidateNested()
  @Type(() => ClientTlsDto)
  tls?: ClientTlsDto | null;
}

/** PATCH body: any field but the secret (rotate it instead); null clears an optional field. */
export class UpdateSubscriptionDto extends PartialType(OmitType(CreateSubscriptionDto, ['secret'] as const)) {}

export class RotateSecretDto {
  @ApiPropertyOptional({ description: 'The new whsec_ secret; generated when absent' })
  @IsOptional()
  @IsString()
  @Matches(SECRET_PATTERN, { message: SECRET_MESSAGE })
  secret?: string;

  @ApiPropertyOptional({ description: 'How long the old secret keeps signing (default SECRET_ROTATION_WINDOW_SECONDS)', minimum: 0, maximum: 30 * 86400 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(30 * 86400)
  old_secret_ttl_seconds?: number;
}

export class ListSubscriptionsQueryDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(200)
  tenant?: string;

  @ApiPropertyOptional({ enum: ['true', 'false'] })
  @IsOptional()
  @IsIn(['true', 'false'], { message: 'enabled must be true or false' })
  enabled?: 'true' | 'false';

  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be a whole number' })
  @Min(1)
  @Max(500)
  limit?: number;

  @ApiPropertyOptional({ description: 'next_cursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  cursor?: string;
}

/** What the API returns for a subscription: never its secrets. */
export class SubscriptionView {
  @ApiProperty() id!: string;
  @ApiProperty() url!: string;
  @ApiProperty({ type: [String] }) events!: string[];
  @ApiProperty({ enum: SUBSCRIPTION_KINDS }) kind!: SubscriptionKind;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } } }) filters!: Record<string, string[]>;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) headers!: Record<string, string>;
  @ApiPropertyOptional() description?: string;
  @ApiProperty() enabled!: boolean;
  @ApiPropertyOptional({ description: 'Why the gateway disabled it, e.g. the endpoint answered 410 Gone' }) disabled_reason?: string;
  @ApiPropertyOptional({ description: 'Since when every attempt has failed' }) failing_since?: string;
  @ApiPropertyOptional() tenant?: string;
  @ApiProperty({ enum: BODY_FORMATS }) format!: BodyFormat;
  @ApiPropertyOptional({ type: RetryPolicyDto }) retry?: { schedule: number[] };
  @ApiPropertyOptional() timeout_ms?: number;
  @ApiPropertyOptional({ type: RateLimitDto }) rate_limit?: { per_second: number };
  @ApiProperty({ enum: ORDERING_MODES }) ordering!: OrderingMode;
  @ApiPropertyOptional({ type: ClientTlsView }) tls?: ClientTlsView;
  @ApiProperty() created_at!: string;
  @ApiProperty() updated_at!: string;
}

export class CreatedSubscriptionView extends SubscriptionView {
  @ApiProperty({ description: 'The signing secret: shown here and on rotation only' }) secret!: string;
}

export class SubscriptionPage {
  @ApiProperty({ type: [SubscriptionView] }) data!: SubscriptionView[];
  @ApiPropertyOptional({ description: 'Pass as cursor for the next page; absent on the last page' }) next_cursor?: string;
}

export class RotatedSecretView {
  @ApiProperty() id!: string;
  @ApiProperty() secret!: string;
  @ApiPropertyOptional({ description: 'When the previous secret stops signing' }) previous_secret_expires_at?: string;
}

export class TestDeliveryView {
  @ApiProperty() webhook_id!: string;
  @ApiProperty() event_id!: string;
}
