import type { GatewayTopics } from '@app/config';
import type { AttemptResult, DeadLetter, DeliveryJob, InvalidEvent, JobRecordPlace } from '@app/contracts';
import type { OutgoingRecord } from '@app/kafka';
import { REASONS } from '../delivery-policy.js';
import { nextHop } from '../retry/retry-tiers.js';

/** Header of a record on a retry topic: when it may leave that topic (ms since the epoch). */
export const HOP_DUE_HEADER = 'gateway-hop-due';

/**
 * What came of one delivery job, as a value: the attempt path returns it, and everything after
 * (the records written, metrics, logs, the ordering gate) reads it.
 */
export type AttemptOutcome =
  /** The endpoint answered 2xx. */
  | { kind: 'delivered'; result: AttemptResult }
  /** The attempt failed and another is scheduled: `next` waits `waitMs` on the retry tiers. */
  | { kind: 'retry'; result: AttemptResult; next: DeliveryJob; waitMs: number }
  /** No further attempt: the job goes to the dead-letter topic. */
  | { kind: 'dead_letter'; result: AttemptResult; letter: DeadLetter }
  /**
   * Not attempted now (not due yet, circuit open, endpoint busy, rate limited, waiting for an
   * earlier event of its key): `next` waits `waitMs`, its attempt number unchanged. `result` is
   * there only when the job is first held for this reason.
   */
  | { kind: 'held'; reason: string; result?: AttemptResult; next: DeliveryJob; waitMs: number }
  /** Not attempted at all (subscription deleted or disabled, callbacks off). */
  | { kind: 'skipped'; result: AttemptResult }
  /** The record is not a delivery job: it goes to the invalid topic with the reason. */
  | { kind: 'unreadable'; key: string | null; invalid: InvalidEvent };

/** The job whose next step the outcome schedules (retry or held), if any. */
export function nextJob(outcome: AttemptOutcome): { job: DeliveryJob; waitMs: number } | undefined {
  return outcome.kind === 'retry' || outcome.kind === 'held' ? { job: outcome.next, waitMs: outcome.waitMs } : undefined;
}

/** The job an outcome carries on (its next step, or its dead letter), if any. */
export function outcomeJob(outcome: AttemptOutcome): DeliveryJob | undefined {
  return outcome.kind === 'dead_letter' ? outcome.letter.job : nextJob(outcome)?.job;
}

/** The records that make an outcome durable: its result, and the job's next step. The one place outcomes become records. */
export function outcomeRecords(outcome: AttemptOutcome, topics: Pick<GatewayTopics, 'results' | 'dlq' | 'invalid' | 'retry'>, now = Date.now()): OutgoingRecord[] {
  const records: OutgoingRecord[] = [];
  if (outcome.kind === 'unreadable') return [{ topic: topics.invalid, key: outcome.key, value: outcome.invalid }];
  if (outcome.result) records.push({ topic: topics.results, key: outcome.result.subscriptionId, value: outcome.result });
  const next = nextJob(outcome);
  if (next) {
    const { tier, waitMs } = nextHop(topics.retry, next.waitMs);
    records.push({ topic: tier.topic, key: next.job.subscriptionId, value: next.job, headers: { [HOP_DUE_HEADER]: String(now + waitMs) } });
  }
  if (outcome.kind === 'dead_letter') records.push({ topic: topics.dlq, key: outcome.letter.job.subscriptionId, value: outcome.letter });
  return records;
}

/**
 * The outcome with the coordinates of the job's record (deliveries topic or retry tier) on its
 * result, and on its dead letter's last result: where the attempt came from.
 */
export function withJobPlace(outcome: AttemptOutcome, job: JobRecordPlace): AttemptOutcome {
  if (outcome.kind === 'unreadable' || !outcome.result) return outcome;
  const result: AttemptResult = { ...outcome.result, job };
  if (outcome.kind === 'dead_letter') return { ...outcome, result, letter: { ...outcome.letter, lastResult: result } };
  return { ...outcome, result };
}

/** A dead letter of `job` with `result` as its last result. */
export function deadLetter(job: DeliveryJob, result: AttemptResult, attemptTimestamps: string[] = job.attemptTimestamps ?? []): AttemptOutcome {
  return { kind: 'dead_letter', result, letter: { job, lastResult: result, attemptTimestamps, deadLetteredAt: result.finishedAt } };
}

/** What every result record of one attempt of `job` says, before its outcome is known. */
export function resultBase(job: DeliveryJob, deliveryId: string, started: Date): Omit<AttemptResult, 'outcome' | 'reason' | 'durationMs' | 'finishedAt'> {
  return {
    webhookId: job.webhookId,
    deliveryId,
    eventId: job.eventId,
    eventType: job.eventType,
    subscriptionId: job.subscriptionId,
    tenant: job.tenant,
    url: job.url,
    attempt: job.attempt,
    startedAt: started.toISOString(),
  };
}

/**
 * The outcome when its records were refused as larger than a topic's max.message.bytes (a
 * pre-created retry or dead-letter topic with a smaller limit than the deliveries topic): a dead
 * letter whose job keeps everything but its body, with the reason. Writing the same records again
 * could never succeed, so the job is not read again forever. Undefined when the outcome carries
 * no job (a result record alone is never that large).
 */
export function tooLargeOutcome(outcome: AttemptOutcome, message: string, deliveryId: string, now: Date): AttemptOutcome | undefined {
  const job = outcomeJob(outcome);
  if (!job) return undefined;
  const base = (outcome.kind !== 'unreadable' && outcome.result) || { ...resultBase(job, deliveryId, now), durationMs: 0, finishedAt: now.toISOString() };
  const result: AttemptResult = {
    ...base,
    responseBody: undefined,
    outcome: 'dead_lettered',
    reason: REASONS.jobTooLarge,
    error: { class: 'job_too_large', message: `${message}: the job (a ${Buffer.byteLength(job.body)}-byte body) is dead-lettered without its body` },
  };
  return deadLetter({ ...job, body: '' }, result);
}
