export const SUBSCRIPTION_KINDS = ['STANDARD', 'SLACK'] as const;
export type SubscriptionKind = (typeof SUBSCRIPTION_KINDS)[number];

export const BODY_FORMATS = ['standard', 'raw', 'cloudevents'] as const;
export type BodyFormat = (typeof BODY_FORMATS)[number];

/** A subscription as the gateway holds it in memory (secrets in clear). */
export interface Subscription {
  id: string;
  url: string;
  /** Event type patterns: exact, `prefix.*` or `*`. */
  events: string[];
  kind: SubscriptionKind;
  /** Dotted path into the normalised event → case-insensitive patterns with `*`. */
  filters: Record<string, string[]>;
  /** Signing secrets, newest first (`whsec_...`). */
  secrets: string[];
  headers: Record<string, string>;
  description?: string;
  enabled: boolean;
  tenant?: string;
  format: BodyFormat;
  retry?: { schedule: number[] };
  timeoutMs?: number;
  rateLimit?: { perSecond: number };
  createdAt: string;
  updatedAt: string;
}
