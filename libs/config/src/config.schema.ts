/**
 * Every setting of the gateway, with its environment variable, default and parser.
 * `loadConfig` reads them once at boot and fails with every bad key listed.
 * The README's configuration table is this file in prose: keep them together.
 */

import { BODY_FORMATS, type BodyFormat } from '@app/contracts';
import {
  bool,
  brokers,
  dottedPath,
  dottedPaths,
  duration,
  durations,
  httpUrl,
  int,
  key32,
  keyValues,
  list,
  nonEmptyList,
  oneOf,
  optionalHttpUrl,
  optionalReadableFile,
  optionalStr,
  optionalUpperOneOf,
  optionalWebhookSecret,
  type Parser,
  str,
  tenantTokens,
  upperOneOf,
} from './config.parsers.js';

export type StartPolicy = 'earliest' | 'latest';

/** Kafka's `security.protocol`: TLS or not, SASL or not. */
export const KAFKA_SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const;
export type KafkaSecurityProtocol = (typeof KAFKA_SECURITY_PROTOCOLS)[number];
export const KAFKA_SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'] as const;
export type KafkaSaslMechanism = (typeof KAFKA_SASL_MECHANISMS)[number];

/** TLS towards the brokers (KAFKA_SECURITY_PROTOCOL SSL or SASL_SSL). Files are paths, checked readable at boot. */
export interface KafkaTlsConfig {
  /** PEM bundle of the CAs that may sign the brokers' certificates; the system's CAs when absent. */
  caFile?: string;
  /** Mutual TLS: the client certificate chain and its key (PEM), with the key's passphrase if it is encrypted. */
  certFile?: string;
  keyFile?: string;
  keyPassword?: string;
  /** The name checked against the brokers' certificates instead of the host in KAFKA_BROKERS. */
  servername?: string;
  /** false only with KAFKA_SSL_INSECURE_SKIP_VERIFY=true: any certificate is accepted (logged loudly at start). */
  verify: boolean;
}

/** OAUTHBEARER: an OIDC client-credentials grant at the token endpoint. */
export interface KafkaOAuthConfig {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope?: string;
  /** SASL extensions sent with the token (e.g. Confluent Cloud's logicalCluster, identityPoolId). */
  extensions: Record<string, string>;
}

export type KafkaSaslConfig =
  | { mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'; username: string; password: string }
  | { mechanism: 'OAUTHBEARER'; oauth: KafkaOAuthConfig };

export interface KafkaSecurityConfig {
  protocol: KafkaSecurityProtocol;
  tls?: KafkaTlsConfig;
  sasl?: KafkaSaslConfig;
}

export interface GatewayConfig {
  kafka: {
    brokers: string[];
    clientId: string;
    /** Prefix of the gateway's own topics: `<prefix>.deliveries`, `<prefix>.results`, ... */
    topicPrefix: string;
    /** Partitions for topics the gateway creates when they are missing. */
    partitions: number;
    /** Replication factor for topics the gateway creates; -1 = the broker's default. */
    replicationFactor: number;
    /** How long the group waits for a silent (crashed) consumer before it hands its partitions over. */
    sessionTimeoutMs: number;
    /** TLS and SASL towards the brokers. */
    security: KafkaSecurityConfig;
  };
  source: {
    topics: string[];
    groupId: string;
    /** Where a consumer group with no committed offsets starts on the source topics. */
    start: StartPolicy;
    /** Largest accepted source event (bytes); larger ones go to the invalid topic. */
    maxEventBytes: number;
    /** Where plain-JSON events keep their attributes (dotted paths into the event object). */
    paths: { id: string; type: string; data: string; subject: string; time: string };
    /** Dotted path into the normalised event that names its tenant. */
    tenantPath: string;
    /** Source partitions fanned out at once by one producer instance (each its own transaction). */
    concurrency: number;
    /** Each source batch's jobs and offset in one Kafka transaction (exactly-once fan-out). */
    transactions: boolean;
  };
  callbacks: {
    /** Paths into the normalised event that may carry a per-event callback URL; first found wins. */
    urlPaths: string[];
    /** Kafka header that may carry a per-event callback URL (checked first). */
    urlHeader: string;
    /** Signs per-event callbacks; callbacks are off without it. */
    secret?: string;
    format: BodyFormat;
  };
  api: {
    host: string;
    port: number;
    /** Bearer tokens accepted by the management API (every tenant). */
    tokens: string[];
    /** Bearer tokens that act for one tenant only. */
    tenantTokens: { tenant: string; token: string }[];
  };
  subscriptions: {
    /** 32-byte key (hex or base64) that encrypts subscription secrets at rest. */
    secretsKey: Buffer;
    /** How long a rotated-out secret keeps signing. */
    rotationWindowSeconds: number;
  };
  delivery: {
    groupId: string;
    host: string;
    port: number;
    connectTimeoutMs: number;
    timeoutMs: number;
    /** Attempts in flight across the whole process; partitions wait when it is reached. */
    maxInFlight: number;
    /** Attempts in flight per target origin; more are moved aside to a retry tier. */
    maxInFlightPerEndpoint: number;
    /** Consecutive failed attempts that open an endpoint's circuit breaker, and how long it stays open. */
    breakerThreshold: number;
    breakerCooldownMs: number;
    /** Largest request body sent; a larger job is dead-lettered. */
    maxBodyBytes: number;
    /** A subscription whose attempts have failed for this long without a delivery is disabled; 0 = never. */
    autoDisableAfterMs: number;
    /** Delay tiers of the retry topics, in milliseconds, ascending (`<prefix>.retry.<label>`). */
    retryTiers: { label: string; ms: number }[];
    /** Connections kept per target origin. */
    connectionsPerOrigin: number;
    /** Bytes of the response body kept in the result record; the rest is discarded. */
    responseBodyBytes: number;
    /** Private, loopback and link-local targets are refused unless listed here (CIDRs or host names). */
    targetAllowlist: string[];
    requireHttps: boolean;
  };
  console: {
    /** Serve the delivery console (/console) and its API, fed by a digest of the results and dlq topics. */
    enabled: boolean;
  };
  cli: {
    /** Where the operator CLI reaches the management API, and the token it presents. */
    apiUrl: string;
    apiToken?: string;
  };
  logLevel: 'error' | 'warn' | 'log' | 'debug' | 'verbose';
  /** json: one JSON object per line (pino); text: one readable line per entry. */
  logFormat: 'json' | 'text';
  /** OpenTelemetry spans: off unless an OTLP/HTTP traces URL is set. */
  tracing: { otlpUrl: string; serviceName: string };
}

export interface Setting<T> {
  env: string;
  default?: string;
  /** Shown in messages and the README. */
  description: string;
  parse: Parser<T>;
  secret?: boolean;
}

/** The settings, in README order. */
export const SETTINGS = {
  kafkaBrokers: { env: 'KAFKA_BROKERS', default: '127.0.0.1:9092', description: 'Kafka bootstrap servers, comma-separated host:port', parse: brokers },
  kafkaClientId: { env: 'KAFKA_CLIENT_ID', default: 'webhook-gateway', description: 'Kafka client id prefix', parse: str },
  topicPrefix: { env: 'TOPIC_PREFIX', default: 'webhooks', description: 'Prefix of the gateway topics (<prefix>.deliveries, <prefix>.results, ...)', parse: str },
  topicPartitions: { env: 'TOPIC_PARTITIONS', default: '6', description: 'Partitions of gateway topics created at start-up when missing', parse: int(1, 10_000) },
  topicReplicationFactor: { env: 'TOPIC_REPLICATION_FACTOR', default: '-1', description: 'Replication factor of created topics (-1 = broker default)', parse: int(-1, 32) },
  kafkaSecurityProtocol: {
    env: 'KAFKA_SECURITY_PROTOCOL',
    default: 'PLAINTEXT',
    description: 'How the clients talk to the brokers, as Kafka\'s security.protocol: PLAINTEXT, SSL (TLS), SASL_PLAINTEXT or SASL_SSL (SASL over TLS)',
    parse: upperOneOf(...KAFKA_SECURITY_PROTOCOLS),
  },
  kafkaSslCaFile: { env: 'KAFKA_SSL_CA_FILE', default: '', description: 'PEM file of the CA certificates that sign the brokers\' certificates (default: the system\'s CAs)', parse: optionalReadableFile },
  kafkaSslCertFile: { env: 'KAFKA_SSL_CERT_FILE', default: '', description: 'Mutual TLS: PEM file of the client certificate (chain)', parse: optionalReadableFile },
  kafkaSslKeyFile: { env: 'KAFKA_SSL_KEY_FILE', default: '', description: 'Mutual TLS: PEM file of the client certificate\'s private key', parse: optionalReadableFile },
  kafkaSslKeyPassword: { env: 'KAFKA_SSL_KEY_PASSWORD', default: '', description: 'Passphrase of an encrypted KAFKA_SSL_KEY_FILE', parse: optionalStr, secret: true },
  kafkaSslServername: { env: 'KAFKA_SSL_SERVERNAME', default: '', description: 'Name checked against the brokers\' certificates instead of the host in KAFKA_BROKERS (TLS SNI too)', parse: optionalStr },
  kafkaSslInsecureSkipVerify: {
    env: 'KAFKA_SSL_INSECURE_SKIP_VERIFY',
    default: 'false',
    description: 'true accepts any broker certificate (no verification; logged as a warning at every start). For tests only',
    parse: bool,
  },
  kafkaSaslMechanism: { env: 'KAFKA_SASL_MECHANISM', default: '', description: 'SASL mechanism with SASL_SSL / SASL_PLAINTEXT: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER', parse: optionalUpperOneOf(...KAFKA_SASL_MECHANISMS) },
  kafkaSaslUsername: { env: 'KAFKA_SASL_USERNAME', default: '', description: 'PLAIN and SCRAM: the user name (Confluent Cloud: the API key)', parse: optionalStr },
  kafkaSaslPassword: { env: 'KAFKA_SASL_PASSWORD', default: '', description: 'PLAIN and SCRAM: the password (Confluent Cloud: the API secret)', parse: optionalStr, secret: true },
  kafkaOauthTokenUrl: { env: 'KAFKA_OAUTH_TOKEN_URL', default: '', description: 'OAUTHBEARER: the OIDC token endpoint (client-credentials grant)', parse: optionalHttpUrl },
  kafkaOauthClientId: { env: 'KAFKA_OAUTH_CLIENT_ID', default: '', description: 'OAUTHBEARER: the OIDC client id', parse: optionalStr },
  kafkaOauthClientSecret: { env: 'KAFKA_OAUTH_CLIENT_SECRET', default: '', description: 'OAUTHBEARER: the OIDC client secret', parse: optionalStr, secret: true },
  kafkaOauthScope: { env: 'KAFKA_OAUTH_SCOPE', default: '', description: 'OAUTHBEARER: the scope requested with the token, if the provider needs one', parse: optionalStr },
  kafkaOauthExtensions: {
    env: 'KAFKA_OAUTH_EXTENSIONS',
    default: '',
    description: 'OAUTHBEARER: SASL extensions sent with the token, key=value pairs (Confluent Cloud: logicalCluster=lkc-…,identityPoolId=pool-…)',
    parse: keyValues,
  },
  kafkaSessionTimeoutMs: { env: 'KAFKA_SESSION_TIMEOUT_MS', default: '30000', description: 'Consumer group session timeout: how long a crashed instance\'s partitions wait before another instance takes them', parse: int(6_000, 300_000) },
  sourceTopics: { env: 'SOURCE_TOPICS', default: 'events', description: 'Source topics with domain events, comma-separated', parse: nonEmptyList },
  sourceGroupId: { env: 'SOURCE_GROUP_ID', default: 'webhooks-producer', description: 'Consumer group of the producer app on the source topics', parse: str },
  sourceStart: { env: 'SOURCE_START', default: 'earliest', description: 'Where a new producer group starts on source topics: earliest (nothing published before the first start is skipped) or latest', parse: oneOf<StartPolicy>('earliest', 'latest') },
  sourceTransactions: { env: 'SOURCE_TRANSACTIONS', default: 'true', description: 'Write each source batch\'s delivery jobs and its offsets in one Kafka transaction (exactly-once fan-out); false = at least once, without transactions', parse: bool },
  sourceConcurrency: { env: 'SOURCE_CONCURRENCY', default: '8', description: 'Source partitions one producer instance fans out at once, each in a transaction of its own (1 = one after another)', parse: int(1, 256) },
  maxEventBytes: { env: 'MAX_EVENT_BYTES', default: '1048576', description: 'Largest accepted source event; larger ones go to the invalid topic', parse: int(1024, 100 * 1024 * 1024) },
  eventIdPath: { env: 'EVENT_ID_PATH', default: 'id', description: 'Plain-JSON events: path of the event id', parse: dottedPath },
  eventTypePath: { env: 'EVENT_TYPE_PATH', default: 'type', description: 'Plain-JSON events: path of the event type', parse: dottedPath },
  eventDataPath: { env: 'EVENT_DATA_PATH', default: 'data', description: 'Plain-JSON events: path of the event data', parse: dottedPath },
  eventSubjectPath: { env: 'EVENT_SUBJECT_PATH', default: 'subject', description: 'Plain-JSON events: path of the subject', parse: dottedPath },
  eventTimePath: { env: 'EVENT_TIME_PATH', default: 'time', description: 'Plain-JSON events: path of the occurrence time (RFC 3339)', parse: dottedPath },
  eventTenantPath: { env: 'EVENT_TENANT_PATH', default: 'tenant', description: 'Path into the normalised event naming its tenant (default: the tenant field or CloudEvents extension)', parse: dottedPath },
  callbackUrlPaths: { env: 'CALLBACK_URL_PATHS', default: 'data.webhook_url,data.webhooks.complete', description: 'Paths into the normalised event that may carry a per-event callback URL (Edgegap, Deep Image)', parse: dottedPaths },
  callbackUrlHeader: { env: 'CALLBACK_URL_HEADER', default: 'webhook-url', description: 'Kafka header that may carry a per-event callback URL', parse: str },
  callbackSecret: { env: 'CALLBACK_SECRET', default: '', description: 'whsec_ secret signing per-event callbacks; callbacks are off when empty', parse: optionalWebhookSecret, secret: true },
  callbackFormat: { env: 'CALLBACK_FORMAT', default: 'raw', description: 'Body format of per-event callbacks: standard, raw or cloudevents', parse: oneOf<BodyFormat>(...BODY_FORMATS) },
  apiHost: { env: 'API_HOST', default: '0.0.0.0', description: 'Address the management API listens on', parse: str },
  apiPort: { env: 'API_PORT', default: '3000', description: 'Port of the management API (producer app)', parse: int(0, 65535) },
  apiTenantTokens: {
    env: 'API_TENANT_TOKENS',
    default: '',
    description: 'Tenant-scoped bearer tokens, comma-separated <tenant>:<token> pairs: such a token sees and changes only its tenant\'s subscriptions and dead letters',
    parse: tenantTokens,
    secret: true,
  },
  apiTokens: { env: 'API_TOKENS', description: 'Bearer tokens accepted by the management API, comma-separated (required)', parse: nonEmptyList, secret: true },
  secretsKey: { env: 'SECRETS_KEY', description: '32-byte key encrypting subscription secrets at rest, hex or base64 (required; openssl rand -hex 32)', parse: key32, secret: true },
  rotationWindowSeconds: { env: 'SECRET_ROTATION_WINDOW_SECONDS', default: '86400', description: 'How long the old secret keeps signing after a rotation', parse: int(0, 30 * 86400) },
  deliveryGroupId: { env: 'DELIVERY_GROUP_ID', default: 'webhooks-delivery', description: 'Consumer group of the delivery app', parse: str },
  deliveryHost: { env: 'DELIVERY_HOST', default: '0.0.0.0', description: 'Address the delivery app health endpoint listens on', parse: str },
  deliveryPort: { env: 'DELIVERY_PORT', default: '3001', description: 'Port of the delivery app health endpoint', parse: int(0, 65535) },
  connectTimeoutMs: { env: 'DELIVERY_CONNECT_TIMEOUT_MS', default: '2000', description: 'TCP/TLS connect timeout per attempt', parse: int(100, 60_000) },
  timeoutMs: { env: 'DELIVERY_TIMEOUT_MS', default: '10000', description: 'Total timeout per attempt (a subscription may set its own up to 30 s)', parse: int(100, 30_000) },
  maxInFlight: { env: 'DELIVERY_MAX_IN_FLIGHT', default: '512', description: 'Attempts in flight per delivery process; partitions wait when it is reached', parse: int(1, 100_000) },
  maxInFlightPerEndpoint: { env: 'DELIVERY_MAX_IN_FLIGHT_PER_ENDPOINT', default: '64', description: 'Attempts in flight per target origin; more are moved aside to a retry tier', parse: int(1, 100_000) },
  breakerThreshold: { env: 'DELIVERY_BREAKER_THRESHOLD', default: '10', description: 'Consecutive failed attempts that open an endpoint circuit breaker', parse: int(1, 1_000_000) },
  breakerCooldownMs: { env: 'DELIVERY_BREAKER_COOLDOWN_MS', default: '30000', description: 'How long an open breaker holds attempts back before one probe goes through', parse: int(100, 86_400_000) },
  autoDisableAfterMs: { env: 'DELIVERY_AUTO_DISABLE_AFTER', default: '5d', description: 'Disable a subscription whose attempts have failed continuously this long (0 = never)', parse: duration },
  maxBodyBytes: { env: 'DELIVERY_MAX_BODY_BYTES', default: '2097152', description: 'Largest webhook request body; a larger job is dead-lettered', parse: int(1024, 100 * 1024 * 1024) },
  retryTiers: { env: 'RETRY_TIERS', default: '1s,5s,30s,5m,30m,2h', description: 'Delay tiers of the retry topics (<prefix>.retry.<tier>); a longer delay hops through them', parse: durations },
  connectionsPerOrigin: { env: 'DELIVERY_CONNECTIONS_PER_ORIGIN', default: '64', description: 'Keep-alive connections per target origin (as many as DELIVERY_MAX_IN_FLIGHT_PER_ENDPOINT by default, so every attempt in flight has one)', parse: int(1, 10_000) },
  responseBodyBytes: { env: 'DELIVERY_RESPONSE_BODY_BYTES', default: '4096', description: 'Bytes of a response body kept in the result record', parse: int(0, 1024 * 1024) },
  targetAllowlist: { env: 'DELIVERY_TARGET_ALLOWLIST', default: '', description: 'CIDRs or host names that may be delivered to although private/loopback (e.g. 127.0.0.1/32)', parse: list },
  requireHttps: { env: 'DELIVERY_REQUIRE_HTTPS', default: 'false', description: 'Refuse http:// targets', parse: bool },
  consoleEnabled: { env: 'CONSOLE_ENABLED', default: 'true', description: 'Serve the delivery console at /console and its API (/v1/console/..., /v1/subscriptions/:id/attempts), fed by reading the results and dlq topics', parse: bool },
  cliApiUrl: { env: 'GATEWAY_API_URL', default: 'http://127.0.0.1:3000', description: 'Operator CLI: base URL of the management API', parse: httpUrl },
  cliApiToken: { env: 'GATEWAY_API_TOKEN', default: '', description: 'Operator CLI: bearer token for the management API (one of API_TOKENS)', parse: optionalStr, secret: true },
  logLevel: { env: 'LOG_LEVEL', default: 'log', description: 'error, warn, log, debug or verbose', parse: oneOf('error', 'warn', 'log', 'debug', 'verbose') },
  tracingOtlpUrl: { env: 'TRACING_OTLP_URL', default: '', description: 'OTLP/HTTP traces endpoint (e.g. http://127.0.0.1:4318/v1/traces); OpenTelemetry spans are off when empty', parse: optionalHttpUrl },
  tracingServiceName: { env: 'TRACING_SERVICE_NAME', default: 'kafka-webhook-gateway', description: 'service.name of the spans', parse: str },
  logFormat: { env: 'LOG_FORMAT', default: 'json', description: 'json (one JSON object per line, secrets and authorization redacted) or text (one readable line per entry, redacted the same way)', parse: oneOf('json', 'text') },
} satisfies Record<string, Setting<unknown>>;
