import type { Subscription } from '@app/contracts';
import type { SecretBox } from './secret-box.js';

/**
 * The value of a record on the subscriptions topic: a Subscription with its
 * signing secrets and its static headers (which often carry a shared secret, such
 * as Qovery's `Qovery-Secret`) sealed with AES-256-GCM, bound to the subscription id.
 */
export interface StoredSubscription extends Omit<Subscription, 'secrets' | 'headers' | 'tls'> {
  sealedSecrets: { sealed: string; expiresAt?: string }[];
  /** The headers as sealed JSON; absent when there are none. */
  sealedHeaders?: string;
  /** Records written before headers were sealed carry them in clear. */
  headers?: Record<string, string>;
  /** The mutual TLS material (client key included) as sealed JSON; absent when there is none. */
  sealedTls?: string;
  schema: 1;
}

export function encodeSubscription(sub: Subscription, box: SecretBox): StoredSubscription {
  const { secrets, headers, tls, ...rest } = sub;
  return {
    ...rest,
    sealedSecrets: secrets.map((s) => ({ sealed: box.seal(s.secret, sub.id), expiresAt: s.expiresAt })),
    ...(Object.keys(headers).length > 0 && { sealedHeaders: box.seal(JSON.stringify(headers), sub.id) }),
    ...(tls !== undefined && { sealedTls: box.seal(JSON.stringify(tls), sub.id) }),
    schema: 1,
  };
}

export function decodeSubscription(stored: StoredSubscription, box: SecretBox): Subscription {
  const { sealedSecrets, sealedHeaders, headers, sealedTls, schema: _schema, ...rest } = stored;
  return {
    ...rest,
    headers: sealedHeaders === undefined ? (headers ?? {}) : (JSON.parse(box.open(sealedHeaders, stored.id)) as Record<string, string>),
    secrets: sealedSecrets.map((s) => ({ secret: box.open(s.sealed, stored.id), expiresAt: s.expiresAt })),
    ...(sealedTls !== undefined && { tls: JSON.parse(box.open(sealedTls, stored.id)) as Subscription['tls'] }),
  };
}
