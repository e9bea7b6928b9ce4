/**
 * Every setting of the gateway, declared once: its environment variable, default, parser,
 * place in the typed config and description. `loadConfig` reads them once at boot and fails
 * with every bad key listed. The README's configuration table is this file in prose: keep them together.
 */

import { BODY_FORMATS, type BodyFormat } from '@app/contracts';
import {
  bool,
  brokers,
  dottedPath,
  dottedPaths,
  duration,
  frameAncestors,
  durations,
  headerName,
  httpUrl,
  httpUrls,
  int,
  key32,
  keyValues,
  list,
  negated,
  nonEmptyList,
  oneOf,
  optionalHttpUrl,
  optionalProxyUrl,
  optionalReadableFile,
  optionalStr,
  optionalUpperOneOf,
  optionalWebhookSecret,
  type Parser,
  str,
  tenantTokens,
  upperOneOf,
} from './config.parsers.js';
import { type Leaves, type PathPrefix, type Replace, type Tree } from './config.tree.js';

export type StartPolicy = 'earliest' | 'latest';

/** Kafka's `security.protocol`: TLS or not, SASL or not. */
export const KAFKA_SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const;
export type KafkaSecurityProtocol = (typeof KAFKA_SECURITY_PROTOCOLS)[number];
export const KAFKA_SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'] as const;
export type KafkaSaslMechanism = (typeof KAFKA_SASL_MECHANISMS)[number];

/** One setting: one row of the table below. */
export interface Setting<T = unknown, P extends string = string> {
  /** Its place in GatewayConfig, dotted: `delivery.timeoutMs`. */
  path: P;
  env: string;
  /** Absent: the setting is required. */
  default?: string;
  /** Shown in messages and the README. */
  description: string;
  parse: Parser<T>;
  /** Never shown in messages; may also come from the file named by `<env>_FILE`. */
  secret?: boolean;
}

/**
 * Every setting, in README order: its environment variable, its default (none: required),
 * its parser, and its place in GatewayConfig (`path`). The config's type and the object
 * `loadConfig` returns follow from this table, then from the derived steps below.
 */
export const SETTINGS = [
  { path: 'kafka.brokers', env: 'KAFKA_BROKERS', default: '127.0.0.1:9092', description: 'Kafka bootstrap servers, comma-separated host:port', parse: brokers },
  { path: 'kafka.clientId', env: 'KAFKA_CLIENT_ID', default: 'webhook-gateway', description: 'Kafka client id prefix', parse: str },
  { path: 'kafka.topicPrefix', env: 'TOPIC_PREFIX', default: 'webhooks', description: 'Prefix of the gateway topics (<prefix>.deliveries, <prefix>.results, ...)', parse: str },
  { path: 'kafka.partitions', env: 'TOPIC_PARTITIONS', default: '6', description: 'Partitions of gateway topics created at start-up when missing', parse: int(1, 10_000) },
  { path: 'kafka.replicationFactor', env: 'TOPIC_REPLICATION_FACTOR', default: '-1', description: 'Replication factor of created topics (-1 = broker default)', parse: int(-1, 32) },
  {
    path: 'kafka.security.protocol',
    env: 'KAFKA_SECURITY_PROTOCOL',
    default: 'PLAINTEXT',
    description: 'How the clients talk to the brokers, as Kafka\'s security.protocol: PLAINTEXT, SSL (TLS), SASL_PLAINTEXT or SASL_SSL (SASL over TLS)',
    parse: upperOneOf(...KAFKA_SECURITY_PROTOCOLS),
  },
  { path: 'kafka.security.tls.caFile', env: 'KAFKA_SSL_CA_FILE', default: '', description: 'PEM file of the CA certificates that sign the brokers\' certificates (default: the system\'s CAs)', parse: optionalReadableFile },
  { path: 'kafka.security.tls.certFile', env: 'KAFKA_SSL_CERT_FILE', default: '', description: 'Mutual TLS: PEM file of the client certificate (chain)', parse: optionalReadableFile },
  { path: 'kafka.security.tls.keyFile', env: 'KAFKA_SSL_KEY_FILE', default: '', description: 'Mutual TLS: PEM file of the client certificate\'s private key', parse: optionalReadableFile },
  { path: 'kafka.security.tls.keyPassword', env: 'KAFKA_SSL_KEY_PASSWORD', default: '', description: 'Passphrase of an encrypted KAFKA_SSL_KEY_FILE', parse: optionalStr, secret: true },
  { path: 'kafka.security.tls.servername', env: 'KAFKA_SSL_SERVERNAME', default: '', description: 'Name checked against the brokers\' certificates instead of the host in KAFKA_BROKERS (TLS SNI too)', parse: optionalStr },
  {
    path: 'kafka.security.tls.verify',
    env: 'KAFKA_SSL_INSECURE_SKIP_VERIFY',
    default: 'false',
    description: 'true accepts any broker certificate (no verification; logged as a warning at every start). For tests only',
    parse: negated(bool),
  },
  { path: 'kafka.security.sasl.mechanism', env: 'KAFKA_SASL_MECHANISM', default: '', description: 'SASL mechanism with SASL_SSL / SASL_PLAINTEXT: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER', parse: optionalUpperOneOf(...KAFKA_SASL_MECHANISMS) },
  { path: 'kafka.security.sasl.username', env: 'KAFKA_SASL_USERNAME', default: '', description: 'PLAIN and SCRAM: the user name (Confluent Cloud: the API key)', parse: optionalStr },
  { path: 'kafka.security.sasl.password', env: 'KAFKA_SASL_PASSWORD', default: '', description: 'PLAIN and SCRAM: the password (Confluent Cloud: the API secret)', parse: optionalStr, secret: true },
  { path: 'kafka.security.sasl.oauth.tokenUrl', env: 'KAFKA_OAUTH_TOKEN_URL', default: '', description: 'OAUTHBEARER: the OIDC token endpoint (client-credentials grant)', parse: optionalHttpUrl },
  { path: 'kafka.security.sasl.oauth.clientId', env: 'KAFKA_OAUTH_CLIENT_ID', default: '', description: 'OAUTHBEARER: the OIDC client id', parse: optionalStr },
  { path: 'kafka.security.sasl.oauth.clientSecret', env: 'KAFKA_OAUTH_CLIENT_SECRET', default: '', description: 'OAUTHBEARER: the OIDC client secret', parse: optionalStr, secret: true },
  { path: 'kafka.security.sasl.oauth.scope', env: 'KAFKA_OAUTH_SCOPE', default: '', description: 'OAUTHBEARER: the scope requested with the token, if the provider needs one', parse: optionalStr },
  {
    path: 'kafka.security.sasl.oauth.extensions',
    env: 'KAFKA_OAUTH_EXTENSIONS',
    default: '',
    description: 'OAUTHBEARER: SASL extensions sent with the token, key=value pairs (Confluent Cloud: logicalCluster=lkc-…,identityPoolId=pool-…)',
    parse: keyValues,
  },
  { path: 'kafka.sessionTimeoutMs', env: 'KAFKA_SESSION_TIMEOUT_MS', default: '30000', description: 'Consumer group session timeout: how long a crashed instance\'s partitions wait before another instance takes them', parse: int(6_000, 300_000) },
  { path: 'source.topics', env: 'SOURCE_TOPICS', default: 'events', description: 'Source topics with domain events, comma-separated', parse: nonEmptyList },
  { path: 'source.groupId', env: 'SOURCE_GROUP_ID', default: 'webhooks-producer', description: 'Consumer group of the producer app on the source topics', parse: str },
  { path: 'source.start', env: 'SOURCE_START', default: 'earliest', description: 'Where a new producer group starts on source topics: earliest (nothing published before the first start is skipped) or latest', parse: oneOf<StartPolicy>('earliest', 'latest') },
  { path: 'source.transactions', env: 'SOURCE_TRANSACTIONS', default: 'true', description: 'Write each source batch\'s delivery jobs and its offsets in one Kafka transaction (exactly-once fan-out); false = at least once, without transactions', parse: bool },
  { path: 'source.concurrency', env: 'SOURCE_CONCURRENCY', default: '8', description: 'Source partitions one producer instance fans out at once, each in a transaction of its own (1 = one after another)', parse: int(1, 256) },
  { path: 'source.maxEventBytes', env: 'MAX_EVENT_BYTES', default: '1048576', description: 'Largest accepted source event; larger ones go to the invalid topic', parse: int(1024, 100 * 1024 * 1024) },
  { path: 'source.paths.id', env: 'EVENT_ID_PATH', default: 'id', description: 'Plain-JSON events: path of the event id', parse: dottedPath },
  { path: 'source.paths.type', env: 'EVENT_TYPE_PATH', default: 'type', description: 'Plain-JSON events: path of the event type', parse: dottedPath },
  { path: 'source.paths.data', env: 'EVENT_DATA_PATH', default: 'data', description: 'Plain-JSON events: path of the event data', parse: dottedPath },
  { path: 'source.paths.subject', env: 'EVENT_SUBJECT_PATH', default: 'subject', description: 'Plain-JSON events: path of the subject', parse: dottedPath },
  { path: 'source.paths.time', env: 'EVENT_TIME_PATH', default: 'time', description: 'Plain-JSON events: path of the occurrence time (RFC 3339)', parse: dottedPath },
  { path: 'source.tenantPath', env: 'EVENT_TENANT_PATH', default: 'tenant', description: 'Path into the normalised event naming its tenant (default: the tenant field or CloudEvents extension)', parse: dottedPath },
  { path: 'source.schemaRegistry.urls', env: 'SCHEMA_REGISTRY_URL', default: '', description: 'Schema registry (Confluent API, or Apicurio\'s ccompat API: <apicurio>/apis/ccompat/v7) decoding source records in the Confluent wire format, comma-separated URLs tried in order; off when empty', parse: httpUrls },
  { path: 'source.schemaRegistry.username', env: 'SCHEMA_REGISTRY_USERNAME', default: '', description: 'Schema registry: HTTP Basic user name (with SCHEMA_REGISTRY_PASSWORD)', parse: optionalStr },
  { path: 'source.schemaRegistry.password', env: 'SCHEMA_REGISTRY_PASSWORD', default: '', description: 'Schema registry: HTTP Basic password', parse: optionalStr, secret: true },
  { path: 'source.schemaRegistry.token', env: 'SCHEMA_REGISTRY_TOKEN', default: '', description: 'Schema registry: bearer token (instead of Basic credentials)', parse: optionalStr, secret: true },
  { path: 'source.schemaRegistry.caFile', env: 'SCHEMA_REGISTRY_CA_FILE', default: '', description: 'Schema registry: PEM file of the CA certificates that sign its certificate (default: the system\'s CAs)', parse: optionalReadableFile },
  { path: 'source.schemaRegistry.topics', env: 'SCHEMA_REGISTRY_TOPICS', default: '*', description: 'Source topics whose wire-format records are decoded with the schema registry: * (every source topic) or a comma-separated list', parse: nonEmptyList },
  { path: 'source.schemaRegistry.decodeKeys', env: 'SCHEMA_REGISTRY_DECODE_KEYS', default: 'false', description: 'Decode record keys in the wire format too (the decoded key, as text, is the key of ordered delivery)', parse: bool },
  { path: 'callbacks.urlPaths', env: 'CALLBACK_URL_PATHS', default: 'data.webhook_url,data.webhooks.complete', description: 'Paths into the normalised event that may carry a per-event callback URL (Edgegap, Deep Image)', parse: dottedPaths },
  { path: 'callbacks.urlHeader', env: 'CALLBACK_URL_HEADER', default: 'webhook-url', description: 'Kafka header that may carry a per-event callback URL', parse: headerName },
  { path: 'callbacks.secret', env: 'CALLBACK_SECRET', default: '', description: 'whsec_ secret signing per-event callbacks; callbacks are off when empty', parse: optionalWebhookSecret, secret: true },
  { path: 'callbacks.format', env: 'CALLBACK_FORMAT', default: 'raw', description: 'Body format of per-event callbacks: standard, raw or cloudevents', parse: oneOf<BodyFormat>(...BODY_FORMATS) },
  { path: 'api.host', env: 'API_HOST', default: '0.0.0.0', description: 'Address the management API listens on', parse: str },
  { path: 'api.port', env: 'API_PORT', default: '3000', description: 'Port of the management API (producer app)', parse: int(0, 65535) },
  {
    path: 'api.tenantTokens',
    env: 'API_TENANT_TOKENS',
    default: '',
    description: 'Tenant-scoped bearer tokens, comma-separated <tenant>:<token> pairs: such a token sees and changes only its tenant\'s subscriptions and dead letters',
    parse: tenantTokens,
    secret: true,
  },
  { path: 'api.portalBaseUrl', env: 'PORTAL_BASE_URL', default: '', description: 'Base URL of the customer portal in the URLs of portal sessions (<base>/portal#session=<token>); default http://127.0.0.1:<API_PORT>', parse: optionalHttpUrl },
  { path: 'api.tokens', env: 'API_TOKENS', description: 'Bearer tokens accepted by the management API, comma-separated (required)', parse: nonEmptyList, secret: true },
  { path: 'subscriptions.secretsKey', env: 'SECRETS_KEY', description: '32-byte key encrypting subscription secrets at rest, hex or base64 (required; openssl rand -hex 32)', parse: key32, secret: true },
  { path: 'subscriptions.rotationWindowSeconds', env: 'SECRET_ROTATION_WINDOW_SECONDS', default: '86400', description: 'How long the old secret keeps signing after a rotation', parse: int(0, 30 * 86400) },
  { path: 'delivery.groupId', env: 'DELIVERY_GROUP_ID', default: 'webhooks-delivery', description: 'Consumer group of the delivery app', parse: str },
  { path: 'delivery.host', env: 'DELIVERY_HOST', default: '0.0.0.0', description: 'Address the delivery app health endpoint listens on', parse: str },
  { path: 'delivery.port', env: 'DELIVERY_PORT', default: '3001', description: 'Port of the delivery app health endpoint', parse: int(0, 65535) },
  { path: 'delivery.connectTimeoutMs', env: 'DELIVERY_CONNECT_TIMEOUT_MS', default: '2000', description: 'TCP/TLS connect timeout per attempt (below DELIVERY_TIMEOUT_MS)', parse: int(100, 60_000) },
  { path: 'delivery.timeoutMs', env: 'DELIVERY_TIMEOUT_MS', default: '10000', description: 'Total timeout per attempt (a subscription may set its own up to 30 s)', parse: int(100, 30_000) },
  { path: 'delivery.maxInFlight', env: 'DELIVERY_MAX_IN_FLIGHT', default: '512', description: 'Attempts in flight per delivery process; partitions wait when it is reached', parse: int(1, 100_000) },
  { path: 'delivery.maxInFlightPerEndpoint', env: 'DELIVERY_MAX_IN_FLIGHT_PER_ENDPOINT', default: '64', description: 'Attempts in flight per endpoint (a subscription URL; at most DELIVERY_MAX_IN_FLIGHT); more wait in the endpoint in-memory queue while it drains within 2 s', parse: int(1, 100_000) },
  { path: 'delivery.breakerThreshold', env: 'DELIVERY_BREAKER_THRESHOLD', default: '10', description: 'Consecutive failed attempts that open an endpoint circuit breaker', parse: int(1, 1_000_000) },
  { path: 'delivery.breakerCooldownMs', env: 'DELIVERY_BREAKER_COOLDOWN_MS', default: '30000', description: 'How long an open breaker holds attempts back before one probe goes through', parse: int(100, 86_400_000) },
  { path: 'delivery.autoDisableAfterMs', env: 'DELIVERY_AUTO_DISABLE_AFTER', default: '5d', description: 'Disable a subscription whose attempts have failed continuously this long (0 = never)', parse: duration },
  { path: 'delivery.maxBodyBytes', env: 'DELIVERY_MAX_BODY_BYTES', default: '2097152', description: 'Largest webhook request body; a larger job is dead-lettered', parse: int(1024, 100 * 1024 * 1024) },
  { path: 'delivery.retryTiers', env: 'RETRY_TIERS', default: '1s,5s,30s,5m,30m,2h', description: 'Delay tiers of the retry topics (<prefix>.retry.<tier>); a longer delay hops through them', parse: durations },
  { path: 'delivery.connectionsPerOrigin', env: 'DELIVERY_CONNECTIONS_PER_ORIGIN', default: '256', description: 'Keep-alive connections per target host (at least DELIVERY_MAX_IN_FLIGHT_PER_ENDPOINT; more, so that one endpoint at its cap leaves connections to the other endpoints of its host)', parse: int(1, 10_000) },
  { path: 'delivery.responseBodyBytes', env: 'DELIVERY_RESPONSE_BODY_BYTES', default: '4096', description: 'Bytes of a response body kept in the result record', parse: int(0, 1024 * 1024) },
  { path: 'delivery.targetAllowlist', env: 'DELIVERY_TARGET_ALLOWLIST', default: '', description: 'CIDRs or host names that may be delivered to although private/loopback (e.g. 127.0.0.1/32)', parse: list },
  {
    path: 'delivery.proxyUrl',
    env: 'DELIVERY_PROXY_URL',
    default: '',
    description: 'HTTP CONNECT proxy every webhook goes through, http://[user:pass@]host:port (a static egress IP); the SSRF guard still checks the resolved target address, which is what the proxy is asked to connect to',
    parse: optionalProxyUrl,
    secret: true,
  },
  { path: 'delivery.requireHttps', env: 'DELIVERY_REQUIRE_HTTPS', default: 'false', description: 'Refuse http:// targets', parse: bool },
  { path: 'transform.workers', env: 'TRANSFORM_WORKERS', default: '2', description: 'Worker threads per app evaluating subscriptions\' JSONata transformations (one evaluation at a time each)', parse: int(1, 64) },
  { path: 'transform.timeoutMs', env: 'TRANSFORM_TIMEOUT_MS', default: '1000', description: 'Longest evaluation of a transformation; past it the job is dead-lettered (reason transform_failed) and a worker that does not yield is replaced', parse: int(10, 30_000) },
  { path: 'console.enabled', env: 'CONSOLE_ENABLED', default: 'true', description: 'Serve the delivery console at /console and its API (/v1/console/..., /v1/subscriptions/:id/attempts), fed by reading the results and dlq topics', parse: bool },
  { path: 'portal.enabled', env: 'PORTAL_ENABLED', default: 'true', description: 'Serve the customer portal at /portal (opened with a portal session link; it needs the console API and its results digest, which it turns on)', parse: bool },
  {
    path: 'portal.frameAncestors',
    env: 'PORTAL_FRAME_ANCESTORS',
    default: '',
    description: "Who may show the portal in an iframe: origins (https://app.example.com, https://*.example.com) or 'self', comma-separated, written into the page's CSP frame-ancestors; empty = nobody",
    parse: frameAncestors,
  },
  { path: 'portal.title', env: 'PORTAL_TITLE', default: 'Webhooks', description: 'Heading and window title of the customer portal (your product name)', parse: str },
  { path: 'portal.themeFile', env: 'PORTAL_THEME_FILE', default: '', description: 'A CSS file served as the portal\'s theme.css after its own stylesheet: set the --portal-* variables (colours, font, radius) to match your site', parse: optionalReadableFile },
  { path: 'cli.apiUrl', env: 'GATEWAY_API_URL', default: 'http://127.0.0.1:3000', description: 'Operator CLI: base URL of the management API', parse: httpUrl },
  { path: 'cli.apiToken', env: 'GATEWAY_API_TOKEN', default: '', description: 'Operator CLI: bearer token for the management API (one of API_TOKENS)', parse: optionalStr, secret: true },
  { path: 'logLevel', env: 'LOG_LEVEL', default: 'log', description: 'error, warn, log, debug or verbose', parse: oneOf('error', 'warn', 'log', 'debug', 'verbose') },
  { path: 'tracing.otlpUrl', env: 'TRACING_OTLP_URL', default: '', description: 'OTLP/HTTP traces endpoint (e.g. http://127.0.0.1:4318/v1/traces); OpenTelemetry spans are off when empty', parse: optionalHttpUrl },
  { path: 'tracing.serviceName', env: 'TRACING_SERVICE_NAME', default: 'kafka-webhook-gateway', description: 'service.name of the spans', parse: str },
  { path: 'tracing.hopLog', env: 'HOP_LOG', default: '', description: 'Diagnostics: a path prefix; each app appends the times of every source batch (producer) or job (delivery) hop to <prefix>.<pid>.jsonl, for bench/compare/hops.mjs. Off when empty', parse: optionalStr },
  { path: 'logFormat', env: 'LOG_FORMAT', default: 'json', description: 'json (one JSON object per line, secrets and authorization redacted) or text (one readable line per entry, redacted the same way)', parse: oneOf('json', 'text') },
] as const satisfies readonly Setting[];

export type SettingPath = (typeof SETTINGS)[number]['path'];
/** A setting's path or a prefix of paths (`kafka.security`): what a check of several settings reads. */
export type SettingPrefix = PathPrefix<SettingPath>;

/** Every setting's parsed value at its place: the tree the table describes, before the derived steps. */
export type ParsedConfig = Tree<Leaves<(typeof SETTINGS)[number]>>;

// ---- Derived steps: the composites built from several settings, one small function each.

type ParsedSecurity = ParsedConfig['kafka']['security'];

/** TLS towards the brokers (KAFKA_SECURITY_PROTOCOL SSL or SASL_SSL). Files are paths, checked readable at boot. */
export type KafkaTlsConfig = ParsedSecurity['tls'];

/** OAUTHBEARER: an OIDC client-credentials grant at the token endpoint. */
export type KafkaOAuthConfig = Replace<Replace<ParsedSecurity['sasl']['oauth'], 'clientId', string>, 'clientSecret', string>;

export type KafkaSaslConfig =
  | { mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'; username: string; password: string }
  | { mechanism: 'OAUTHBEARER'; oauth: KafkaOAuthConfig };

export interface KafkaSecurityConfig {
  protocol: KafkaSecurityProtocol;
  tls?: KafkaTlsConfig;
  sasl?: KafkaSaslConfig;
}

export const usesTls = (protocol: KafkaSecurityProtocol): boolean => protocol === 'SSL' || protocol === 'SASL_SSL';
export const usesSasl = (protocol: KafkaSecurityProtocol): boolean => protocol === 'SASL_SSL' || protocol === 'SASL_PLAINTEXT';

/**
 * kafka.security: the TLS settings only with a TLS protocol, and SASL as the union its mechanism
 * selects (the credentials are there: the kafka.security check ran before).
 */
function kafkaSecurity({ protocol, tls, sasl }: ParsedSecurity): KafkaSecurityConfig {
  const { mechanism, username, password, oauth } = sasl;
  return {
    protocol,
    tls: usesTls(protocol) ? tls : undefined,
    sasl:
      mechanism === undefined
        ? undefined
        : mechanism === 'OAUTHBEARER'
          ? { mechanism, oauth: { ...oauth, clientId: oauth.clientId!, clientSecret: oauth.clientSecret! } }
          : { mechanism, username: username!, password: password! },
  };
}

/** The typed config: the parsed tree with each composite replaced by its derived value. */
export type GatewayConfig = Derived<ParsedConfig>;
type Derived<C extends { kafka: ParsedConfig['kafka'] }> = Replace<C, 'kafka', Replace<C['kafka'], 'security', KafkaSecurityConfig>>;

/** The derived steps applied to a parsed tree (the whole one, or the CLI's part of it). */
export function derive<C extends { kafka: ParsedConfig['kafka'] }>(parsed: C): Derived<C> {
  return { ...parsed, kafka: { ...parsed.kafka, security: kafkaSecurity(parsed.kafka.security) } } as Derived<C>;
}

/** Whether the producer app reads the results and dlq topics into the console digest: for the delivery console, the customer portal, or both. */
export const resultsDigestEnabled = (config: Pick<GatewayConfig, 'console' | 'portal'>): boolean => config.console.enabled || config.portal.enabled;
