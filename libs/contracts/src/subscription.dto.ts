import { ApiExtraModels, ApiProperty, ApiPropertyOptional, getSchemaPath, OmitType, PartialType } from '@nestjs/swagger';
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
import { type FilterCondition, filterConditionProblem } from '@app/filter';
import {
  BODY_FORMATS,
  type BodyFormat,
  ENDPOINT_AUTH_TYPES,
  OAUTH_CLIENT_AUTH,
  type OAuthClientAuth,
  ORDERING_MODES,
  type OrderingMode,
  SUBSCRIPTION_KINDS,
  type SubscriptionKind,
  TRANSFORM_OUTPUTS,
  type TransformOutput,
} from './subscription.js';
import { expressionProblem, MAX_EXPRESSION_LENGTH } from './transform-expression.js';
import { ClientTlsDto, ClientTlsView } from './client-tls.dto.js';

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
          // A problem naming a key's field (`.data.x must …`) continues the property's name.
          return problem?.startsWith('.') ? `${args.property}${problem}` : `${args.property} ${problem ?? 'must be an object'}`;
        },
      },
    });
  };
}

const checkFilter = (key: string, value: unknown): string | null => {
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(key) || key.length > 200) return `key "${key}" must be a dotted path like data.project.name`;
  return filterConditionProblem(key, value);
};

const COMPARABLE_SCHEMA = { oneOf: [{ type: 'number' }, { type: 'string', format: 'date-time' }] };
const PATTERNS_SCHEMA = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 200 }, minItems: 1, maxItems: 100, description: 'case-insensitive patterns with * wildcards; any may match' };
const OPERATORS_PROPERTIES = {
  gt: COMPARABLE_SCHEMA,
  gte: COMPARABLE_SCHEMA,
  lt: COMPARABLE_SCHEMA,
  lte: COMPARABLE_SCHEMA,
  exists: { type: 'boolean', description: 'true: the path has a value other than null; false: it has none' },
  in: {
    type: 'array',
    items: { oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] },
    minItems: 1,
    maxItems: 100,
    description: 'literal values (strings case-insensitive, no wildcards)',
  },
};
/** OpenAPI schema of one path's filter condition: a pattern list, or operators that must all hold. */
const FILTER_CONDITION_SCHEMA = {
  oneOf: [
    PATTERNS_SCHEMA,
    {
      type: 'object',
      description: 'operators, all of which must hold; comparisons take numbers or RFC 3339 date-times (compared as instants)',
      minProperties: 1,
      additionalProperties: false,
      properties: {
        ...OPERATORS_PROPERTIES,
        not: {
          description: 'negated: a pattern list or an operator object (without not); an absent value satisfies it',
          oneOf: [PATTERNS_SCHEMA, { type: 'object', minProperties: 1, additionalProperties: false, properties: OPERATORS_PROPERTIES }],
        },
      },
    },
  ],
};

/** Why a header name or value is not one a subscription may send (null when it may). */
export const checkHeader = (key: string, value: unknown): string | null => {
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

/** A JSONata expression that parses (the message names the field and the position of the error). */
function IsJsonata(options?: ValidationOptions): PropertyDecorator {
  return (object, propertyName) => {
    registerDecorator({
      name: 'isJsonata',
      target: object.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value: unknown) => typeof value === 'string' && expressionProblem(value) === null,
        defaultMessage: (args: ValidationArguments) =>
          `${args.property} ${typeof args.value === 'string' ? expressionProblem(args.value) : 'must be a JSONata expression (a string)'}`,
      },
    });
  };
}

export class TransformDto {
  @ApiProperty({
    description:
      'JSONata expression evaluated on the normalised event ($ = {id, type, source, time, subject?, tenant?, datacontenttype?, data, extensions?, headers?}) at each attempt',
    example: '{"order": data.id, "amount": data.total, "event": type}',
    maxLength: MAX_EXPRESSION_LENGTH,
  })
  @IsJsonata()
  expression!: string;

  @ApiPropertyOptional({
    enum: TRANSFORM_OUTPUTS,
    default: 'body',
    description: 'body: the result is the request body (JSON); request: the result is {body, headers?, path?} or {skip: true}',
  })
  @IsOptional()
  @IsIn(TRANSFORM_OUTPUTS)
  output?: TransformOutput;
}

/** Characters allowed in a header value the gateway builds from a credential (visible ASCII: no spaces, no line breaks). */
const HEADER_TOKEN = /^[\x21-\x7E]+$/;

/** `auth`: its `type` picks the class the rest is validated by (an unknown type is reported by this base). */
export class EndpointAuthDto {
  @ApiProperty({ enum: ENDPOINT_AUTH_TYPES })
  @IsIn(ENDPOINT_AUTH_TYPES, { message: `type must be one of ${ENDPOINT_AUTH_TYPES.join(', ')}` })
  type!: (typeof ENDPOINT_AUTH_TYPES)[number];
}

export class BasicAuthDto extends EndpointAuthDto {
  @ApiProperty({ maxLength: 200 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  @Matches(/^[^:\r\n\0]+$/, { message: 'username must not contain a colon or a line break' })
  username!: string;

  @ApiProperty({ maxLength: 500, writeOnly: true })
  @IsString()
  @IsNotEmpty()
  @MaxLength(500)
  @Matches(/^[^\r\n\0]+$/, { message: 'password must not contain a line break' })
  password!: string;
}

export class BearerAuthDto extends EndpointAuthDto {
  @ApiProperty({ maxLength: 4096, writeOnly: true })
  @IsString()
  @MaxLength(4096)
  @Matches(HEADER_TOKEN, { message: 'token must be visible ASCII characters without spaces' })
  token!: string;
}

export class OAuth2AuthDto extends EndpointAuthDto {
  @ApiProperty({ example: 'https://idp.example.com/oauth2/token', maxLength: 2048 })
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false, require_valid_protocol: true }, { message: 'token_url must be an http(s) URL' })
  @MaxLength(2048)
  token_url!: string;

  @ApiProperty({ maxLength: 500 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(500)
  client_id!: string;

  @ApiProperty({ maxLength: 2000, writeOnly: true })
  @IsString()
  @IsNotEmpty()
  @MaxLength(2000)
  client_secret!: string;

  @ApiPropertyOptional({ maxLength: 1000 })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  scope?: string;

  @ApiPropertyOptional({ maxLength: 2000 })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  audience?: string;

  @ApiPropertyOptional({ enum: OAUTH_CLIENT_AUTH, default: 'basic', description: 'How the client authenticates to the token endpoint: HTTP Basic, or client_id and client_secret in the form body' })
  @IsOptional()
  @IsIn(OAUTH_CLIENT_AUTH, { message: `client_auth must be one of ${OAUTH_CLIENT_AUTH.join(', ')}` })
  client_auth?: OAuthClientAuth;
}

export type EndpointAuthBody = BasicAuthDto | BearerAuthDto | OAuth2AuthDto;

@ApiExtraModels(BasicAuthDto, BearerAuthDto, OAuth2AuthDto)
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
    description:
      'Dotted path into the event (headers.<name> for the source record\'s Kafka headers) → case-insensitive patterns with * wildcards (any may match), or an object of operators (all must hold); every path must match',
    example: { 'data.environment.type': ['PRODUCTION'], 'data.project.name': ['shop-*'], 'data.amount': { gte: 100, lt: 1000 }, 'headers.x-priority': { in: ['high'] } },
    type: 'object',
    additionalProperties: FILTER_CONDITION_SCHEMA,
  })
  @IsOptional()
  @IsObject()
  @IsStringMap(checkFilter)
  filters?: Record<string, FilterCondition> | null;

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

  @ApiPropertyOptional({
    type: TransformDto,
    description:
      'A JSONata transformation of the event into the request (body, and with output "request" headers, path or a skip); evaluated at each attempt within TRANSFORM_TIMEOUT_MS and DELIVERY_MAX_BODY_BYTES; a failure dead-letters the job (reason transform_failed). The signature covers the transformed body.',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => TransformDto)
  transform?: TransformDto | null;

  @ApiPropertyOptional({
    description: 'Authorization header of every attempt: basic, bearer, or oauth2 (client credentials); cannot be combined with headers.Authorization',
    oneOf: [BasicAuthDto, BearerAuthDto, OAuth2AuthDto].map((dto) => ({ $ref: getSchemaPath(dto) })),
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => EndpointAuthDto, {
    discriminator: { property: 'type', subTypes: [{ value: BasicAuthDto, name: 'basic' }, { value: BearerAuthDto, name: 'bearer' }, { value: OAuth2AuthDto, name: 'oauth2' }] },
    keepDiscriminatorProperty: true,
  })
  auth?: EndpointAuthBody | null;

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

/** `auth` as the API shows it: what it is, never its secret. */
export class EndpointAuthView {
  @ApiProperty({ enum: ENDPOINT_AUTH_TYPES }) type!: (typeof ENDPOINT_AUTH_TYPES)[number];
  @ApiPropertyOptional() username?: string;
  @ApiPropertyOptional() token_url?: string;
  @ApiPropertyOptional() client_id?: string;
  @ApiPropertyOptional() scope?: string;
  @ApiPropertyOptional() audience?: string;
  @ApiPropertyOptional({ enum: OAUTH_CLIENT_AUTH }) client_auth?: OAuthClientAuth;
}

/** What the API returns for a subscription: never its secrets. */
export class SubscriptionView {
  @ApiProperty() id!: string;
  @ApiProperty() url!: string;
  @ApiProperty({ type: [String] }) events!: string[];
  @ApiProperty({ enum: SUBSCRIPTION_KINDS }) kind!: SubscriptionKind;
  @ApiProperty({ type: 'object', additionalProperties: FILTER_CONDITION_SCHEMA }) filters!: Record<string, FilterCondition>;
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
  @ApiPropertyOptional({ type: TransformDto, description: 'Its transformation, when it has one' }) transform?: { expression: string; output: TransformOutput };
  @ApiPropertyOptional({ type: () => EndpointAuthView, description: 'Never the password, token or client_secret' }) auth?: EndpointAuthView;
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

export class TransformTestDto {
  @ApiPropertyOptional({
    description: 'A sample normalised event; absent fields get defaults (type: the subscription\'s first exact event type, data: {})',
    example: { type: 'order.created', data: { id: 42, total: 99.5 } },
    type: 'object',
    additionalProperties: true,
  })
  @IsOptional()
  @IsObject({ message: 'event must be an object (a normalised event)' })
  event?: Record<string, unknown>;

  @ApiPropertyOptional({ type: TransformDto, description: "A transformation to try instead of the subscription's own (nothing is saved)" })
  @IsOptional()
  @ValidateNested()
  @Type(() => TransformDto)
  transform?: TransformDto;
}

export class TransformTestView {
  @ApiProperty({ description: 'false when the transformation failed for this event (the job would be dead-lettered)' }) ok!: boolean;
  @ApiPropertyOptional({ description: 'The transformation skips this event' }) skip?: boolean;
  @ApiPropertyOptional({ description: 'Where the request would go' }) url?: string;
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, description: "Headers the transformation adds (besides the subscription's and the gateway's)" }) headers?: Record<string, string>;
  @ApiPropertyOptional({ description: 'The request body as it would be sent (and signed)' }) body?: string;
  @ApiPropertyOptional({ description: 'Why it failed: class transform, with the message' }) error?: { class: string; message: string };
}

export class TestDeliveryView {
  @ApiProperty() webhook_id!: string;
  @ApiProperty() event_id!: string;
}
