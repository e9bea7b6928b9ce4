import type { FilterCondition } from '@app/filter';

export const SUBSCRIPTION_KINDS = ['STANDARD', 'SLACK'] as const;
export type SubscriptionKind = (typeof SUBSCRIPTION_KINDS)[number];

/** `key`: a key's events are delivered one after another, each after the previous one's final outcome. */
export const ORDERING_MODES = ['none', 'key'] as const;
export type OrderingMode = (typeof ORDERING_MODES)[number];

export const BODY_FORMATS = ['standard', 'raw', 'cloudevents'] as const;
export type BodyFormat = (typeof BODY_FORMATS)[number];

/** `body`: the expression's result is the request body; `request`: it is `{body?, headers?, path?, skip?}`. */
export const TRANSFORM_OUTPUTS = ['body', 'request'] as const;
export type TransformOutput = (typeof TRANSFORM_OUTPUTS)[number];

/** A JSONata expression that maps the normalised event to the request (evaluated at each attempt, bounded in time and size). */
export interface Transform {
  expression: string;
  output: TransformOutput;
}

export interface SigningSecret {
  /** `whsec_...` */
  secret: string;
  /** ISO time after which it no longer signs; absent for the current secret. */
  expiresAt?: string;
}

/** The secrets that sign at `now`. */
export function activeSecrets(secrets: readonly SigningSecret[], now: Date): string[] {
  return secrets.filter((s) => s.expiresAt === undefined || Date.parse(s.expiresAt) > now.getTime()).map((s) => s.secret);
}

export const ENDPOINT_AUTH_TYPES = ['basic', 'bearer', 'oauth2'] as const;
/** How the gateway authenticates to an OAuth2 token endpoint (RFC 6749 §2.3.1): HTTP Basic, or client_id/client_secret in the form body. */
export const OAUTH_CLIENT_AUTH = ['basic', 'body'] as const;
export type OAuthClientAuth = (typeof OAUTH_CLIENT_AUTH)[number];

/** OAuth2 client credentials (RFC 6749 §4.4): the endpoint gets `Bearer <access token>`. */
export interface OAuth2EndpointAuth {
  type: 'oauth2';
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope?: string;
  audience?: string;
  clientAuth: OAuthClientAuth;
}

/** The `Authorization` header of every attempt to a subscription's endpoint (secrets in clear in memory, sealed at rest). */
export type EndpointAuth = { type: 'basic'; username: string; password: string } | { type: 'bearer'; token: string } | OAuth2EndpointAuth;

/** A subscription as the gateway holds it in memory (secrets in clear). */
export interface Subscription {
  id: string;
  url: string;
  /** Event type patterns: exact, `prefix.*` or `*`. */
  events: string[];
  kind: SubscriptionKind;
  /** Dotted path into the normalised event → case-insensitive patterns with `*`, or an object of operators (libs/filter condition.ts). */
  filters: Record<string, FilterCondition>;
  /** Signing secrets, newest first. During a rotation the old one signs too, until it expires. */
  secrets: SigningSecret[];
  headers: Record<string, string>;
  description?: string;
  enabled: boolean;
  /**
   * Why the gateway disabled it (the endpoint answered 410 Gone, or failed for too long): from its
   * health record, cleared when a user re-enables it. (Records written before health records had
   * their own topic may carry it in the configuration.)
   */
  disabledReason?: string;
  /** Since when every attempt has failed (ISO): from its health record, cleared by a delivery or a re-enable. */
  failingSince?: string;
  /**
   * Configuration: the health epoch. A user's re-enable (`PATCH {enabled: true}`) starts a new
   * one; a health record of an older epoch no longer applies (absent = 0).
   */
  healthEpoch?: number;
  tenant?: string;
  format: BodyFormat;
  retry?: { schedule: number[] };
  timeoutMs?: number;
  rateLimit?: { perSecond: number };
  /** Ordered delivery per event key (the source record's key); absent: no ordering. */
  ordering?: 'key';
  /** Maps the event to the request body (and headers, path, or a skip); absent: the body is `format`'s. */
  transform?: Transform;
  /** How attempts authenticate to the endpoint (an `Authorization` header); absent: none. */
  auth?: EndpointAuth;
  /** Mutual TLS towards the endpoint (PEM): client certificate and key, and the CAs trusted instead of the default roots. Sealed at rest. */
  tls?: { cert: string; key: string; ca?: string };
  createdAt: string;
  updatedAt: string;
}

/**
 * What the delivery side learnt about a subscription's endpoint: the value of its record on the
 * compacted health topic (keyed by subscription id). Only the delivery app writes it, only the
 * API writes the configuration; readers merge the two (`withHealth`), so neither overwrites the
 * other's confirmed write.
 */
export interface SubscriptionHealth {
  /** The configuration's `healthEpoch` this record belongs to. */
  epoch: number;
  /** Since when every attempt has failed (ISO). */
  failingSince?: string;
  /** Disabled by the gateway: why and when. */
  disabled?: { reason: string; at: string };
  updatedAt: string;
}

/** The subscription as it acts now: its configuration with the health record of its current epoch. */
export function withHealth(config: Subscription, health: SubscriptionHealth | undefined): Subscription {
  const current = health !== undefined && health.epoch === (config.healthEpoch ?? 0) ? health : undefined;
  if (current === undefined) return config.failingSince === undefined ? config : { ...config, failingSince: undefined };
  return {
    ...config,
    enabled: config.enabled && current.disabled === undefined,
    disabledReason: current.disabled?.reason ?? config.disabledReason,
    failingSince: current.failingSince,
  };
}
