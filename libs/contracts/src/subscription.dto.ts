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
import { BODY_FORMATS, type BodyFormat, SUBSCRIPTION_KINDS, type SubscriptionKind } from './subscription.js';

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

export class RetryPolicyDto {
  /** Delays in seconds before each retry (after the first attempt). */
  @IsArray({ message: 'schedule must be a list of delays in seconds' })
  @ArrayMaxSize(20)
  @IsInt({ each: true, message: SCHEDULE_MESSAGE })
  @Min(0, { each: true, message: SCHEDULE_MESSAGE })
  @Max(MAX_RETRY_DELAY_SECONDS, { each: true, message: SCHEDULE_MESSAGE })
  schedule!: number[];
}

export class RateLimitDto {
  @IsInt()
  @Min(1)
  @Max(100_000)
  per_second!: number;
}

export class CreateSubscriptionDto {
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false, require_valid_protocol: true }, { message: 'url must be an http(s) URL' })
  @MaxLength(2048)
  url!: string;

  @IsArray()
  @ArrayNotEmpty({ message: 'events must list at least one event type pattern' })
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @MaxLength(200, { each: true })
  @Matches(EVENT_PATTERN, { each: true, message: 'events must be exact types, prefix.* patterns or *' })
  events!: string[];

  @IsOptional()
  @IsIn(SUBSCRIPTION_KINDS)
  kind?: SubscriptionKind;

  @IsOptional()
  @IsObject()
  @IsStringMap(checkFilter)
  filters?: Record<string, string[]>;

  @IsOptional()
  @IsString()
  @Matches(/^whsec_[A-Za-z0-9+/]{32,88}={0,2}$/, { message: 'secret must be whsec_ followed by 24 to 64 base64-encoded bytes' })
  secret?: string;

  @IsOptional()
  @IsObject()
  @IsStringMap(checkHeader)
  headers?: Record<string, string>;

  @IsOptional()
  @IsString()
  @MaxLength(500)
  description?: string;

  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  tenant?: string;

  @IsOptional()
  @IsIn(BODY_FORMATS)
  format?: BodyFormat;

  @IsOptional()
  @ValidateNested()
  @Type(() => RetryPolicyDto)
  retry?: RetryPolicyDto;

  @IsOptional()
  @IsInt()
  @Min(100)
  @Max(30_000)
  timeout_ms?: number;

  @IsOptional()
  @ValidateNested()
  @Type(() => RateLimitDto)
  rate_limit?: RateLimitDto;
}

/** What the API returns for a subscription: never its secrets. */
export interface SubscriptionView {
  id: string;
  url: string;
  events: string[];
  kind: SubscriptionKind;
  filters: Record<string, string[]>;
  headers: Record<string, string>;
  description?: string;
  enabled: boolean;
  tenant?: string;
  format: BodyFormat;
  retry?: { schedule: number[] };
  timeout_ms?: number;
  rate_limit?: { per_second: number };
  created_at: string;
  updated_at: string;
}
