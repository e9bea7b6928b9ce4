/**
 * Checks of settings that are each valid but cannot work together. Each runs at boot once the
 * settings it reads were read without a problem, and its problems are listed with the others.
 */

import { isDeepStrictEqual } from 'node:util';
import { type ParsedConfig, type Setting, type SettingPath, type SettingPrefix, SETTINGS, usesSasl, usesTls } from './config.schema.js';
import { isUnder, type Leaves, valueAt } from './config.tree.js';
import { gatewayTopics } from './topics.js';

export interface ConfigCheck {
  /** The settings it reads (paths, or prefixes of paths): it runs only when each of them was read. */
  reads: readonly SettingPrefix[];
  /** One message per problem, naming every setting involved by its environment variable. */
  problems(config: ParsedConfig): string[];
}

/** The env names of the settings under `prefix` that are set: given a value other than their default's. */
function setUnder(config: ParsedConfig, prefix: SettingPrefix): string[] {
  const isSet = (s: Setting) => s.default === undefined || !isDeepStrictEqual(valueAt(config, s.path), s.parse(s.default));
  return SETTINGS.filter((s) => isUnder(s.path, prefix) && isSet(s)).map((s) => s.env);
}

/** The Kafka security settings that make no sense together, each named. */
const kafkaSecurity: ConfigCheck = {
  reads: ['kafka.security'],
  problems(config) {
    const { protocol, tls, sasl } = config.kafka.security;
    const problems: string[] = [];
    if (!usesTls(protocol)) {
      for (const name of setUnder(config, 'kafka.security.tls')) problems.push(`${name} is set but KAFKA_SECURITY_PROTOCOL=${protocol} does not use TLS (use SSL or SASL_SSL)`);
    }
    if (tls.certFile && !tls.keyFile) problems.push('KAFKA_SSL_CERT_FILE is set without KAFKA_SSL_KEY_FILE: mutual TLS needs the certificate and its key');
    if (tls.keyFile && !tls.certFile) problems.push('KAFKA_SSL_KEY_FILE is set without KAFKA_SSL_CERT_FILE: mutual TLS needs the certificate and its key');
    if (tls.keyPassword && !tls.keyFile) problems.push('KAFKA_SSL_KEY_PASSWORD is set without KAFKA_SSL_KEY_FILE');
    const { mechanism } = sasl;
    if (usesSasl(protocol) && mechanism === undefined) problems.push(`KAFKA_SECURITY_PROTOCOL=${protocol} needs KAFKA_SASL_MECHANISM (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER)`);
    if (!usesSasl(protocol) && mechanism !== undefined) problems.push(`KAFKA_SASL_MECHANISM=${mechanism} is set but KAFKA_SECURITY_PROTOCOL=${protocol} does not use SASL (use SASL_SSL)`);
    const password = [...setUnder(config, 'kafka.security.sasl.username'), ...setUnder(config, 'kafka.security.sasl.password')];
    const oauth = setUnder(config, 'kafka.security.sasl.oauth');
    const used = mechanism === undefined ? [] : mechanism === 'OAUTHBEARER' ? oauth : password;
    for (const name of [...password, ...oauth].filter((n) => !used.includes(n))) {
      problems.push(`${name} is set but ${mechanism === undefined ? 'no KAFKA_SASL_MECHANISM is' : `KAFKA_SASL_MECHANISM=${mechanism} does not use it`}`);
    }
    if (mechanism !== undefined && mechanism !== 'OAUTHBEARER') {
      if (!sasl.username) problems.push(`KAFKA_SASL_MECHANISM=${mechanism} needs KAFKA_SASL_USERNAME`);
      if (!sasl.password) problems.push(`KAFKA_SASL_MECHANISM=${mechanism} needs KAFKA_SASL_PASSWORD (or KAFKA_SASL_PASSWORD_FILE)`);
    }
    if (mechanism === 'OAUTHBEARER') {
      if (!sasl.oauth.tokenUrl) problems.push('KAFKA_SASL_MECHANISM=OAUTHBEARER needs KAFKA_OAUTH_TOKEN_URL');
      if (!sasl.oauth.clientId) problems.push('KAFKA_SASL_MECHANISM=OAUTHBEARER needs KAFKA_OAUTH_CLIENT_ID');
      if (!sasl.oauth.clientSecret) problems.push('KAFKA_SASL_MECHANISM=OAUTHBEARER needs KAFKA_OAUTH_CLIENT_SECRET (or KAFKA_OAUTH_CLIENT_SECRET_FILE)');
    }
    return problems;
  },
};

type NumberPath = Extract<Leaves<(typeof SETTINGS)[number]>, { value: number }>['path'];

/** `ENV=value` of the setting at `path`. */
const shown = (config: ParsedConfig, path: SettingPath): string => `${SETTINGS.find((s) => s.path === path)!.env}=${String(valueAt(config, path))}`;

/** Two numbers that must stand in a relation (`holds`), else one problem naming both, and why. */
function compare(a: NumberPath, relation: string, b: NumberPath, holds: (a: number, b: number) => boolean, why: string): ConfigCheck {
  return {
    reads: [a, b],
    problems: (config) => (holds(valueAt(config, a) as number, valueAt(config, b) as number) ? [] : [`${shown(config, a)} ${relation} ${shown(config, b)}: ${why}`]),
  };
}

/** The two apps' consumer groups: one group for both would hand each app the other's partitions. */
const distinctGroups: ConfigCheck = {
  reads: ['source.groupId', 'delivery.groupId'],
  problems: (config) =>
    config.source.groupId !== config.delivery.groupId
      ? []
      : [`${shown(config, 'source.groupId')} and ${shown(config, 'delivery.groupId')} must differ: the producer and delivery apps would share one consumer group and be handed each other's partitions`],
};

/** A source topic that is one of the gateway's own topics would be read back as events. */
const sourceNotOwnTopic: ConfigCheck = {
  reads: ['source.topics', 'kafka.topicPrefix', 'delivery.retryTiers'],
  problems(config) {
    const own = new Set(Object.values(gatewayTopics(config)).flatMap((t: string | { topic: string }[]) => (typeof t === 'string' ? [t] : t.map((r) => r.topic))));
    return config.source.topics
      .filter((topic) => own.has(topic))
      .map((topic) => `SOURCE_TOPICS names ${topic}, one of the gateway's own topics (${shown(config, 'kafka.topicPrefix')}): its records would be read as events and fanned out again`);
  },
};

/** Schema-registry credentials need the registry, and one kind of them: Basic (user and password) or a bearer token. */
const schemaRegistry: ConfigCheck = {
  reads: ['source.schemaRegistry', 'source.topics'],
  problems(config) {
    const { urls, username, password, token, topics } = config.source.schemaRegistry;
    const problems: string[] = [];
    if (urls.length === 0) {
      const set = setUnder(config, 'source.schemaRegistry').filter((name) => name !== 'SCHEMA_REGISTRY_TOPICS' && name !== 'SCHEMA_REGISTRY_DECODE_KEYS');
      for (const name of set) problems.push(`${name} is set but SCHEMA_REGISTRY_URL is empty (no schema registry)`);
      return problems;
    }
    if (token && (username || password)) problems.push('SCHEMA_REGISTRY_TOKEN and SCHEMA_REGISTRY_USERNAME/SCHEMA_REGISTRY_PASSWORD are both set: use Basic credentials or a bearer token, not both');
    if (username && !password) problems.push('SCHEMA_REGISTRY_USERNAME is set without SCHEMA_REGISTRY_PASSWORD (or SCHEMA_REGISTRY_PASSWORD_FILE)');
    if (password && !username) problems.push('SCHEMA_REGISTRY_PASSWORD is set without SCHEMA_REGISTRY_USERNAME');
    for (const topic of topics) {
      if (topic !== '*' && !config.source.topics.includes(topic)) problems.push(`SCHEMA_REGISTRY_TOPICS names ${topic}, which is not one of SOURCE_TOPICS`);
    }
    return problems;
  },
};

/** Every check, in the order their problems are listed. */
export const CHECKS: readonly ConfigCheck[] = [
  kafkaSecurity,
  compare('delivery.connectTimeoutMs', 'must be below', 'delivery.timeoutMs', (a, b) => a < b, "the connect timeout is part of an attempt's total time, so it would never fire"),
  compare(
    'delivery.maxInFlightPerEndpoint',
    'must not exceed',
    'delivery.maxInFlight',
    (a, b) => a <= b,
    'an endpoint cannot have more attempts in flight than the whole process, so one slow endpoint could take every slot',
  ),
  compare(
    'delivery.connectionsPerOrigin',
    'must not be below',
    'delivery.maxInFlightPerEndpoint',
    (a, b) => a >= b,
    "an attempt without a connection waits inside the HTTP client with its timeout running, and fails as the endpoint's timeout (raise the connections or lower the attempts in flight per endpoint)",
  ),
  distinctGroups,
  sourceNotOwnTopic,
  schemaRegistry,
];
