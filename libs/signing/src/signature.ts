import { createHmac, createSecretKey, type KeyObject, randomBytes } from 'node:crypto';

const SECRET_PREFIX = 'whsec_';

/** A new Standard Webhooks secret: `whsec_` + base64 of 32 random bytes. */
export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

/** The bytes of a `whsec_...` secret (what its base64 part encodes). */
export function secretBytes(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  return Buffer.from(encoded, 'base64');
}

/** Prepared keys by secret. Node prepares a raw Buffer key anew on every HMAC (3-5x the HMAC itself). */
const preparedKeys = new Map<string, KeyObject>();
const MAX_CACHED_KEYS = 100_000;

/** The HMAC key of a `whsec_...` secret, prepared once. */
export function secretKey(secret: string): KeyObject {
  let key = preparedKeys.get(secret);
  if (!key) {
    if (preparedKeys.size >= MAX_CACHED_KEYS) preparedKeys.clear();
    preparedKeys.set(secret, (key = createSecretKey(secretBytes(secret))));
  }
  return key;
}

/**
 * The `webhook-signature` header value: one `v1,<base64 HMAC-SHA256>` entry per
 * secret, space-separated, over `id.timestamp.body` (Standard Webhooks).
 * `body` must be the exact bytes that are sent.
 */
export function signatureHeader(keys: readonly KeyObject[], webhookId: string, timestampSeconds: number, body: string | Buffer): string {
  return keys
    .map((key) => {
      const mac = createHmac('sha256', key);
      mac.update(`${webhookId}.${timestampSeconds}.`);
      mac.update(body);
      return `v1,${mac.digest('base64')}`;
    })
    .join(' ');
}
