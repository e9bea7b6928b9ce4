/** A retry topic: jobs wait there for `ms` before their next hop or attempt. */
export interface RetryTier {
  label: string;
  ms: number;
  topic: string;
}

/**
 * The tier a job with `remainingMs` to wait goes to, and how long it waits there.
 * Every job in a tier waits that tier's full delay, so a tier topic is in due order
 * and its head is always due first: the consumer pauses until the head is due and is
 * never early. A longer wait hops through tiers; a wait shorter than the smallest tier
 * waits exactly that long in it (late by less than the smallest tier, at worst).
 */
export function nextHop(tiers: readonly RetryTier[], remainingMs: number): { tier: RetryTier; waitMs: number } {
  let chosen: RetryTier | undefined;
  for (const tier of tiers) if (tier.ms <= remainingMs) chosen = tier;
  if (chosen) return { tier: chosen, waitMs: chosen.ms };
  return { tier: tiers[0]!, waitMs: Math.max(0, remainingMs) };
}
