import { createHmac, randomBytes } from 'node:crypto';

const SECRET_PREFIX = 'whsec_';

/** A new Standard Webhooks secret: `whsec_` + base64 of 32 random bytes. */
export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

/** The HMAC key of a `whsec_...` secret (the bytes its base64 part encodes). */
export function secretKey(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  return Buffer.from(encoded, 'base64');
}

/**
 * The `webhook-signature` header value: one `v1,<base64 HMAC-SHA256>` entry per
 * secret, space-separated, over `id.timestamp.body` (Standard Webhooks).
 * `body` must be the exact bytes that are sent.
 */
export function signatureHeader(keys: readonly Buffer[], webhookId: string, timestampSeconds: number, body: string | Buffer): string {
  return keys
    .map((key) => {
      const mac = createHmac('sha256', key);
      mac.update(`${webhookId}.${timestampSeconds}.`);
      mac.update(body);
      return `v1,${mac.digest('base64')}`;
    })
    .join(' ');
}
