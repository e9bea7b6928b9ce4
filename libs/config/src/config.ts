import { readFileSync } from 'node:fs';
import { ConfigValueError } from './config.parsers.js';
import { type GatewayConfig, type KafkaSecurityConfig, SETTINGS, type Setting } from './config.schema.js';

type Settings = typeof SETTINGS;
type Values = { [K in keyof Settings]: Settings[K] extends Setting<infer T> ? T : never };

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** What the operator CLI reads: every setting but the apps' own secrets (API_TOKENS, SECRETS_KEY). */
export type CliConfig = Omit<GatewayConfig, 'api' | 'subscriptions'>;

/** Settings only the apps need; the CLI's lenient read skips them. */
const APP_ONLY: (keyof Settings)[] = ['apiHost', 'apiPort', 'apiTokens', 'apiTenantTokens', 'secretsKey', 'rotationWindowSeconds'];

/**
 * Reads every setting from `env`, and throws one ConfigError listing every bad or
 * missing key. Nothing else in the gateway reads process.env. Every secret setting can
 * also come from a file named by `<NAME>_FILE` (a mounted Kubernetes Secret, say).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const v = readSettings(env, []);
  return {
    ...sections(v),
    api: { host: v.apiHost, port: v.apiPort, tokens: v.apiTokens, tenantTokens: v.apiTenantTokens },
    subscriptions: { secretsKey: v.secretsKey, rotationWindowSeconds: v.rotationWindowSeconds },
  };
}

/** The lenient read for the operator CLI: the same schema, without the apps' own (required) settings. */
export function loadCliConfig(env: NodeJS.ProcessEnv = process.env): CliConfig {
  return sections(readSettings(env, APP_ONLY));
}

function readSettings(env: NodeJS.ProcessEnv, skip: (keyof Settings)[]): Values {
  const problems: string[] = [];
  const values = {} as Record<string, unknown>;
  for (const [name, setting] of Object.entries(SETTINGS) as [keyof Settings, Setting<unknown>][]) {
    if (skip.includes(name)) continue;
    let raw: string | undefined;
    try {
      raw = rawValue(env, setting);
    } catch (err) {
      if (!(err instanceof ConfigValueError)) throw err;
      problems.push(err.message);
      continue;
    }
    if (raw === undefined) {
      problems.push(`${setting.env} is required: ${setting.description}`);
      continue;
    }
    try {
      values[name] = setting.parse(raw);
    } catch (err) {
      if (!(err instanceof ConfigValueError)) throw err;
      const shown = setting.secret ? '<redacted>' : raw;
      problems.push(`${setting.env}=${shown} ${err.message}`);
    }
  }
  if (problems.length === 0) problems.push(...kafkaSecurityProblems(values as Values));
  if (problems.length > 0) throw new ConfigError(problems);
  return values as Values;
}

/** A setting's text: from the environment, from `<NAME>_FILE` for a secret, or its default. */
function rawValue(env: NodeJS.ProcessEnv, setting: Setting<unknown>): string | undefined {
  const file = setting.secret ? env[`${setting.env}_FILE`] : undefined;
  if (file === undefined || file === '') return env[setting.env] ?? setting.default;
  if (env[setting.env] !== undefined) throw new ConfigValueError(`${setting.env} and ${setting.env}_FILE are both set: set one`);
  try {
    // A mounted secret file usually ends with a newline that is not part of the secret.
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new ConfigValueError(`${setting.env}_FILE=${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/** The Kafka security settings that make no sense together, each named. */
function kafkaSecurityProblems(v: Values): string[] {
  const problems: string[] = [];
  const protocol = v.kafkaSecurityProtocol;
  const tls = protocol === 'SSL' || protocol === 'SASL_SSL';
  const sasl = protocol === 'SASL_SSL' || protocol === 'SASL_PLAINTEXT';
  // The env name of a setting given a value (not empty, not false, not an empty key=value list), else nothing.
  const unset = (value: unknown) => value === undefined || value === '' || value === false || (typeof value === 'object' && value !== null && Object.keys(value).length === 0);
  const set = (name: keyof Settings, value: unknown) => (unset(value) ? [] : [SETTINGS[name].env]);
  if (!tls) {
    const tlsOnly = [
      ...set('kafkaSslCaFile', v.kafkaSslCaFile),
      ...set('kafkaSslCertFile', v.kafkaSslCertFile),
      ...set('kafkaSslKeyFile', v.kafkaSslKeyFile),
      ...set('kafkaSslKeyPassword', v.kafkaSslKeyPassword),
      ...set('kafkaSslServername', v.kafkaSslServername),
      ...set('kafkaSslInsecureSkipVerify', v.kafkaSslInsecureSkipVerify),
    ];
    for (const name of tlsOnly) problems.push(`${name} is set but KAFKA_SECURITY_PROTOCOL=${protocol} does not use TLS (use SSL or SASL_SSL)`);
  }
  if (v.kafkaSslCertFile && !v.kafkaSslKeyFile) problems.push('KAFKA_SSL_CERT_FILE is set without KAFKA_SSL_KEY_FILE: mutual TLS needs the certificate and its key');
  if (v.kafkaSslKeyFile && !v.kafkaSslCertFile) problems.push('KAFKA_SSL_KEY_FILE is set without KAFKA_SSL_CERT_FILE: mutual TLS needs the certificate and its key');
  if (v.kafkaSslKeyPassword && !v.kafkaSslKeyFile) problems.push('KAFKA_SSL_KEY_PASSWORD is set without KAFKA_SSL_KEY_FILE');
  const mechanism = v.kafkaSaslMechanism;
  if (sasl && mechanism === undefined) problems.push(`KAFKA_SECURITY_PROTOCOL=${protocol} needs KAFKA_SASL_MECHANISM (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER)`);
  if (!sasl && mechanism !== undefined) problems.push(`KAFKA_SASL_MECHANISM=${mechanism} is set but KAFKA_SECURITY_PROTOCOL=${protocol} does not use SASL (use SASL_SSL)`);
  const password = [...set('kafkaSaslUsername', v.kafkaSaslUsername), ...set('kafkaSaslPassword', v.kafkaSaslPassword)];
  const oauth = [
    ...set('kafkaOauthTokenUrl', v.kafkaOauthTokenUrl),
    ...set('kafkaOauthClientId', v.kafkaOauthClientId),
    ...set('kafkaOauthClientSecret', v.kafkaOauthClientSecret),
    ...set('kafkaOauthScope', v.kafkaOauthScope),
    ...set('kafkaOauthExtensions', v.kafkaOauthExtensions),
  ];
  const used = mechanism === undefined ? [] : mechanism === 'OAUTHBEARER' ? oauth : password;
  for (const name of [...password, ...oauth].filter((n) => !used.includes(n))) {
    problems.push(`${name} is set but ${mechanism === undefined ? 'no KAFKA_SASL_MECHANISM is' : `KAFKA_SASL_MECHANISM=${mechanism} does not use it`}`);
  }
  if (mechanism !== undefined && mechanism !== 'OAUTHBEARER') {
    if (!v.kafkaSaslUsername) problems.push(`KAFKA_SASL_MECHANISM=${mechanism} needs KAFKA_SASL_USERNAME`);
    if (!v.kafkaSaslPassword) problems.push(`KAFKA_SASL_MECHANISM=${mechanism} needs KAFKA_SASL_PASSWORD (or KAFKA_SASL_PASSWORD_FILE)`);
  }
  if (mechanism === 'OAUTHBEARER') {
    if (!v.kafkaOauthTokenUrl) problems.push('KAFKA_SASL_MECHANISM=OAUTHBEARER needs KAFKA_OAUTH_TOKEN_URL');
    if (!v.kafkaOauthClientId) problems.push('KAFKA_SASL_MECHANISM=OAUTHBEARER needs KAFKA_OAUTH_CLIENT_ID');
    if (!v.kafkaOauthClientSecret) problems.push('KAFKA_SASL_MECHANISM=OAUTHBEARER needs KAFKA_OAUTH_CLIENT_SECRET (or KAFKA_OAUTH_CLIENT_SECRET_FILE)');
  }
  return problems;
}

function kafkaSecurity(v: Values): KafkaSecurityConfig {
  const protocol = v.kafkaSecurityProtocol;
  const tls =
    protocol === 'SSL' || protocol === 'SASL_SSL'
      ? {
          caFile: v.kafkaSslCaFile,
          certFile: v.kafkaSslCertFile,
          keyFile: v.kafkaSslKeyFile,
          keyPassword: v.kafkaSslKeyPassword,
          servername: v.kafkaSslServername,
          verify: !v.kafkaSslInsecureSkipVerify,
        }
      : undefined;
  const mechanism = v.kafkaSaslMechanism;
  const sasl =
    mechanism === undefined
      ? undefined
      : mechanism === 'OAUTHBEARER'
        ? {
            mechanism,
            oauth: { tokenUrl: v.kafkaOauthTokenUrl, clientId: v.kafkaOauthClientId!, clientSecret: v.kafkaOauthClientSecret!, scope: v.kafkaOauthScope, extensions: v.kafkaOauthExtensions },
          }
        : { mechanism, username: v.kafkaSaslUsername!, password: v.kafkaSaslPassword! };
  return { protocol, tls, sasl };
}

function sections(v: Values): CliConfig {
  return {
    kafka: {
      brokers: v.kafkaBrokers,
      clientId: v.kafkaClientId,
      topicPrefix: v.topicPrefix,
      partitions: v.topicPartitions,
      replicationFactor: v.topicReplicationFactor,
      sessionTimeoutMs: v.kafkaSessionTimeoutMs,
      security: kafkaSecurity(v),
    },
    source: {
      topics: v.sourceTopics,
      groupId: v.sourceGroupId,
      start: v.sourceStart,
      maxEventBytes: v.maxEventBytes,
      paths: { id: v.eventIdPath, type: v.eventTypePath, data: v.eventDataPath, subject: v.eventSubjectPath, time: v.eventTimePath },
      tenantPath: v.eventTenantPath,
      transactions: v.sourceTransactions,
      concurrency: v.sourceConcurrency,
    },
    callbacks: { urlPaths: v.callbackUrlPaths, urlHeader: v.callbackUrlHeader.toLowerCase(), secret: v.callbackSecret, format: v.callbackFormat },
    delivery: {
      groupId: v.deliveryGroupId,
      host: v.deliveryHost,
      port: v.deliveryPort,
      connectTimeoutMs: v.connectTimeoutMs,
      timeoutMs: v.timeoutMs,
      maxInFlight: v.maxInFlight,
      maxInFlightPerEndpoint: v.maxInFlightPerEndpoint,
      breakerThreshold: v.breakerThreshold,
      breakerCooldownMs: v.breakerCooldownMs,
      maxBodyBytes: v.maxBodyBytes,
      autoDisableAfterMs: v.autoDisableAfterMs,
      retryTiers: v.retryTiers,
      connectionsPerOrigin: v.connectionsPerOrigin,
      responseBodyBytes: v.responseBodyBytes,
      targetAllowlist: v.targetAllowlist,
      requireHttps: v.requireHttps,
    },
    console: { enabled: v.consoleEnabled },
    cli: { apiUrl: v.cliApiUrl, apiToken: v.cliApiToken },
    logLevel: v.logLevel,
    logFormat: v.logFormat,
    tracing: { otlpUrl: v.tracingOtlpUrl, serviceName: v.tracingServiceName },
  };
}
