/** Bytes of a webhook request body kept where it is shown (a result's `requestBody`, the attempt detail). */
export const REQUEST_BODY_KEPT_BYTES = 64 * 1024;

/** The first `limit` bytes of a UTF-8 body (never cut inside a character), its full size, and whether it was cut. */
export function keptBody(body: string, limit = REQUEST_BODY_KEPT_BYTES): { body: string; bytes: number; truncated: boolean } {
  const bytes = Buffer.byteLength(body, 'utf8');
  // The common case (every attempt of a transformed subscription): measured, not copied.
  if (bytes <= limit) return { body, bytes, truncated: false };
  const raw = Buffer.from(body, 'utf8');
  let end = limit;
  // A continuation byte (10xxxxxx) at the cut: the character began before it, cut before that character.
  while (end > 0 && (raw[end]! & 0xc0) === 0x80) end--;
  return { body: raw.subarray(0, end).toString('utf8'), bytes, truncated: true };
}
