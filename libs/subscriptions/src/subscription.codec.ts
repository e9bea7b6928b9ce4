import type { EndpointAuth, Subscription } from '@app/contracts';
import type { SecretBox } from './secret-box.js';

/**
 * The value of a record on the subscriptions topic: a Subscription with its
 * signing secrets, its static headers (which often carry a shared secret, such
 * as Qovery's `Qovery-Secret`), its endpoint `auth` and its mutual TLS material
 * sealed with AES-256-GCM, bound to the subscription id.
 */
export interface StoredSubscription extends Omit<Subscription, 'secrets' | 'headers' | 'auth' | 'tls'> {
  sealedSecrets: { sealed: string; expiresAt?: string }[];
  /** The headers as sealed JSON; absent when there are none. */
  sealedHeaders?: string;
  /** Records written before headers were sealed carry them in clear. */
  headers?: Record<string, string>;
  /** The endpoint's `auth` (its type and credentials) as sealed JSON; absent when there is none. */
  sealedAuth?: string;
  /** The mutual TLS material (client key included) as sealed JSON; absent when there is none. */
  sealedTls?: string;
  schema: 1;
}

export function encodeSubscription(sub: Subscription, box: SecretBox): StoredSubscription {
  const { secrets, headers, auth, tls, ...rest } = sub;
  const seal = (value: unknown) => box.seal(JSON.stringify(value), sub.id);
  return {
    ...rest,
    sealedSecrets: secrets.map((s) => ({ sealed: box.seal(s.secret, sub.id), expiresAt: s.expiresAt })),
    ...(Object.keys(headers).length > 0 && { sealedHeaders: seal(headers) }),
    ...(auth !== undefined && { sealedAuth: seal(auth) }),
    ...(tls !== undefined && { sealedTls: seal(tls) }),
    schema: 1,
  };
}

export function decodeSubscription(stored: StoredSubscription, box: SecretBox): Subscription {
  const { sealedSecrets, sealedHeaders, headers, sealedAuth, sealedTls, schema: _schema, ...rest } = stored;
  const open = <T>(sealed: string) => JSON.parse(box.open(sealed, stored.id)) as T;
  return {
    ...rest,
    headers: sealedHeaders === undefined ? (headers ?? {}) : open<Record<string, string>>(sealedHeaders),
    secrets: sealedSecrets.map((s) => ({ secret: box.open(s.sealed, stored.id), expiresAt: s.expiresAt })),
    ...(sealedAuth !== undefined && { auth: open<EndpointAuth>(sealedAuth) }),
    ...(sealedTls !== undefined && { tls: open<NonNullable<Subscription['tls']>>(sealedTls) }),
  };
}
