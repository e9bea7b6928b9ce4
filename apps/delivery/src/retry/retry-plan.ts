import type { AttemptVerdict } from '../attempt/outcome.js';
import { DEFAULT_RETRY_SCHEDULE_SECONDS, MAX_RETRY_AFTER_MS, RETRY_JITTER } from '../delivery-policy.js';

export type RetryPlan =
  | { action: 'delivered' }
  | { action: 'retry'; delayMs: number }
  | { action: 'dead_letter'; reason: string };

export interface PlanInput {
  verdict: AttemptVerdict;
  /** The attempt just made, 1-based. */
  attempt: number;
  /** The subscription's own retry schedule (seconds after each failed attempt), if it has one. */
  schedule?: readonly number[];
  /** The receiver's Retry-After, in ms, for 429 and 503 answers. */
  retryAfterMs?: number;
  /** 0 ≤ random < 1, for jitter. */
  random: number;
}

/**
 * What happens after an attempt: delivered, retried after a delay, or dead-lettered.
 * The default schedule (Standard Webhooks: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h after
 * the first attempt) gets up to +10% jitter, never less; a subscription's own schedule is
 * kept exact. Retry-After is honoured (bounded): the retry waits at least that long.
 */
export function planRetry({ verdict, attempt, schedule, retryAfterMs, random }: PlanInput): RetryPlan {
  if (verdict.delivered) return { action: 'delivered' };
  if (!verdict.retryable) return { action: 'dead_letter', reason: verdict.reason };
  const delays = schedule ?? DEFAULT_RETRY_SCHEDULE_SECONDS;
  const seconds = delays[attempt - 1];
  if (seconds === undefined) return { action: 'dead_letter', reason: `${verdict.reason}, retries exhausted after ${attempt} attempt(s)` };
  const jitter = schedule ? 0 : Math.floor(seconds * 1000 * RETRY_JITTER * random);
  const delayMs = Math.max(seconds * 1000 + jitter, Math.min(retryAfterMs ?? 0, MAX_RETRY_AFTER_MS));
  return { action: 'retry', delayMs };
}

/** `Retry-After` as seconds or an HTTP date, in ms from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now: Date): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined || raw.trim() === '') return undefined;
  if (/^\d+$/.test(raw.trim())) return Number(raw.trim()) * 1000;
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}
