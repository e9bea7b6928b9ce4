import type { KafkaSecurityConfig } from '@app/config';
import { KafkaSetupError } from './kafka-credentials.js';

/** What a Kafka call needed when it was refused: the operation and the resources, as `kafka-acls` names them. */
export interface AccessNeed {
  /** What the gateway was doing, e.g. "joining consumer group x". */
  doing: string;
  /** The ACLs this call needs, e.g. ["READ on group x", "READ on topic y"]. */
  needs: string[];
}

const AUTHORIZATION_TYPES: Record<string, string> = {
  TOPIC_AUTHORIZATION_FAILED: 'a topic',
  GROUP_AUTHORIZATION_FAILED: 'a consumer group',
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 'a transactional id',
  CLUSTER_AUTHORIZATION_FAILED: 'the cluster',
};

function rootCause(err: unknown): unknown {
  let e = err;
  while (e && typeof e === 'object' && 'cause' in e && (e as { cause?: unknown }).cause) e = (e as { cause?: unknown }).cause;
  return e;
}

/** The kafkajs error type (`TOPIC_AUTHORIZATION_FAILED`, ...) of an error or its cause. */
export function kafkaErrorType(err: unknown): string | undefined {
  // kafkajs' createTopics fails with an aggregate of one error per topic.
  const parts = (err as { errors?: unknown[] } | undefined)?.errors ?? [];
  for (const e of [err, rootCause(err), ...parts]) {
    const type = (e as { type?: unknown } | undefined)?.type;
    if (typeof type === 'string') return type;
  }
  return undefined;
}

/**
 * A refused Kafka call as an error that names what to fix: the ACL that is missing (with what
 * the gateway was doing) or the credential setting the broker refused. Any other error is
 * returned as it is.
 */
export function explainKafkaError(err: unknown, need: AccessNeed, security?: KafkaSecurityConfig): unknown {
  if (err instanceof KafkaSetupError) return err;
  const type = kafkaErrorType(err);
  if (type && type in AUTHORIZATION_TYPES) {
    return new KafkaSetupError(
      `Kafka denied this principal access to ${AUTHORIZATION_TYPES[type]} (${type}) while ${need.doing}: it needs ${need.needs.join(', ')}. ` +
        'The ACLs each app needs are in the README ("Least privilege"); `webhook-gateway acls` prints them for your settings.',
      { cause: err },
    );
  }
  const name = (err as { name?: string } | undefined)?.name ?? (rootCause(err) as { name?: string } | undefined)?.name;
  const groups = need.needs.filter((n) => n.includes(' group'));
  if (name === 'KafkaJSGroupCoordinatorNotFound' && groups.length > 0) {
    // kafkajs asks every broker for the group's coordinator and drops their answers when none gives
    // one (cluster/brokerPool.js withBroker), so a GROUP_AUTHORIZATION_FAILED reaches us as this.
    return new KafkaSetupError(
      `Kafka named no coordinator for the consumer group while ${need.doing}: kafkajs reports a denied group (GROUP_AUTHORIZATION_FAILED) this way, ` +
        `so this principal most likely lacks ${groups.join(', ')} (else the group coordinator is unavailable). ` +
        'The ACLs each app needs are in the README ("Least privilege"); `webhook-gateway acls` prints them for your settings.',
      { cause: err },
    );
  }
  if (name === 'KafkaJSSASLAuthenticationError' || type === 'SASL_AUTHENTICATION_FAILED' || type === 'ILLEGAL_SASL_STATE' || type === 'UNSUPPORTED_SASL_MECHANISM') {
    return new KafkaSetupError(`Kafka refused to authenticate ${whoAmI(security)} while ${need.doing}: ${(err as Error).message}. ${credentialHint(security, type)}`, { cause: err });
  }
  return err;
}

function whoAmI(security?: KafkaSecurityConfig): string {
  const sasl = security?.sasl;
  if (!sasl) return 'this client';
  if (sasl.mechanism === 'OAUTHBEARER') return `the OAUTHBEARER token of KAFKA_OAUTH_CLIENT_ID=${sasl.oauth.clientId}`;
  return `KAFKA_SASL_USERNAME=${sasl.username} (KAFKA_SASL_MECHANISM=${sasl.mechanism})`;
}

function credentialHint(security: KafkaSecurityConfig | undefined, type: string | undefined): string {
  const sasl = security?.sasl;
  if (type === 'UNSUPPORTED_SASL_MECHANISM') return 'The listener does not enable this mechanism: check KAFKA_SASL_MECHANISM and the port in KAFKA_BROKERS.';
  if (sasl?.mechanism === 'OAUTHBEARER') {
    return 'Check that the broker trusts the issuer of KAFKA_OAUTH_TOKEN_URL (its JWKS), and the audience and scope (KAFKA_OAUTH_SCOPE) it expects.';
  }
  return 'Check KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (or KAFKA_SASL_PASSWORD_FILE), and that the broker has this user for this mechanism.';
}
