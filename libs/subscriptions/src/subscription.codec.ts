import type { Subscription } from '@app/contracts';
import type { SecretBox } from './secret-box.js';

/** The value of a record on the subscriptions topic: a Subscription with sealed secrets. */
export interface StoredSubscription extends Omit<Subscription, 'secrets'> {
  sealedSecrets: { sealed: string; expiresAt?: string }[];
  schema: 1;
}

export function encodeSubscription(sub: Subscription, box: SecretBox): StoredSubscription {
  const { secrets, ...rest } = sub;
  return { ...rest, sealedSecrets: secrets.map((s) => ({ sealed: box.seal(s.secret, sub.id), expiresAt: s.expiresAt })), schema: 1 };
}

export function decodeSubscription(stored: StoredSubscription, box: SecretBox): Subscription {
  const { sealedSecrets, schema: _schema, ...rest } = stored;
  return { ...rest, secrets: sealedSecrets.map((s) => ({ secret: box.open(s.sealed, stored.id), expiresAt: s.expiresAt })) };
}
