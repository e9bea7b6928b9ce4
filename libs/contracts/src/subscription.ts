export const SUBSCRIPTION_KINDS = ['STANDARD', 'SLACK'] as const;
export type SubscriptionKind = (typeof SUBSCRIPTION_KINDS)[number];

/** `key`: a key's events are delivered one after another, each after the previous one's final outcome. */
export const ORDERING_MODES = ['none', 'key'] as const;
export type OrderingMode = (typeof ORDERING_MODES)[number];

export const BODY_FORMATS = ['standard', 'raw', 'cloudevents'] as const;
export type BodyFormat = (typeof BODY_FORMATS)[number];

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

/** A subscription as the gateway holds it in memory (secrets in clear). */
export interface Subscription {
  id: string;
  url: string;
  /** Event type patterns: exact, `prefix.*` or `*`. */
  events: string[];
  kind: SubscriptionKind;
  /** Dotted path into the normalised event → case-insensitive patterns with `*`. */
  filters: Record<string, string[]>;
  /** Signing secrets, newest first. During a rotation the old one signs too, until it expires. */
  secrets: SigningSecret[];
  headers: Record<string, string>;
  description?: string;
  enabled: boolean;
  /** Why the gateway disabled it (e.g. the endpoint answered 410 Gone); cleared when re-enabled. */
  disabledReason?: string;
  /** Since when every attempt has failed (ISO), set by the delivery app; cleared by a delivery. */
  failingSince?: string;
  tenant?: string;
  format: BodyFormat;
  retry?: { schedule: number[] };
  timeoutMs?: number;
  rateLimit?: { perSecond: number };
  /** Ordered delivery per event key (the source record's key); absent: no ordering. */
  ordering?: 'key';
  createdAt: string;
  updatedAt: string;
}
