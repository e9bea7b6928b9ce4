/**
 * Checks of settings that are each valid but cannot work together. Each runs at boot once the
 * settings it reads were read without a problem, and its problems are listed with the others.
 */

import { isDeepStrictEqual } from 'node:util';
import { type ParsedConfig, type Setting, type SettingPrefix, SETTINGS, usesSasl, usesTls } from './config.schema.js';
import { isUnder, valueAt } from './config.tree.js';

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

/** Every check, in the order their problems are listed. */
export const CHECKS: readonly ConfigCheck[] = [kafkaSecurity];
