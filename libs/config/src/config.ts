import { ConfigValueError, type GatewayConfig, SETTINGS, type Setting } from './config.schema.js';

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
 * missing key. Nothing else in the gateway reads process.env.
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
    const raw = env[setting.env] ?? setting.default;
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
  if (problems.length > 0) throw new ConfigError(problems);
  return values as Values;
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
