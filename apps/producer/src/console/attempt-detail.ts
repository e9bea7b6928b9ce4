import { type AttemptRequestView, type AttemptResult, type DeliveryJob, HELD_BACK_REASONS, keptBody } from '@app/contracts';

/** Every webhook request body is JSON (the gateway sets `content-type: application/json` on each, transformed or not). */
export const REQUEST_CONTENT_TYPE = 'application/json';

/** Where an attempt's job record is, as far as the job reader can tell. */
export type JobLookup = { kind: 'found'; job: DeliveryJob } | { kind: 'gone' } | { kind: 'unrecorded' } | { kind: 'unreadable' };

/**
 * The request body of an attempt: its own `requestBody` when the attempt made the body (a
 * transformation), else the body of the job record it was made from, or null and why.
 */
export async function attemptRequest(attempt: AttemptResult, lookup: () => Promise<JobLookup>): Promise<AttemptRequestView> {
  if (attempt.requestBody !== undefined) {
    const bytes = attempt.requestBodyBytes ?? Buffer.byteLength(attempt.requestBody);
    return { body: attempt.requestBody, bytes, truncated: bytes > Buffer.byteLength(attempt.requestBody), from: 'attempt', content_type: REQUEST_CONTENT_TYPE };
  }
  return jobRequest(await lookup());
}

export const JOB_NOTES: Record<JobLookup['kind'], string> = {
  found: 'the transformation made this body at the attempt, and it is not kept (the console keeps the most recent such bodies only)',
  gone: 'the job record is no longer on its topic (past its retention)',
  unrecorded: 'this result does not name its job record (written by an older version of the gateway)',
  unreadable: 'the job record is not JSON (the delivery app sent it to the invalid topic instead of attempting it)',
};

/** The request view of a job lookup. */
export function jobRequest(found: JobLookup): AttemptRequestView {
  const base = { from: 'job' as const, content_type: REQUEST_CONTENT_TYPE };
  if (found.kind === 'found' && found.job.input !== 'event') return { ...base, ...keptBody(found.job.body) };
  return { ...base, body: null, bytes: 0, truncated: false, note: JOB_NOTES[found.kind] };
}

/**
 * Why "retry now" does not apply to this attempt, or undefined when it does: only a real HTTP
 * attempt that failed and has another attempt scheduled (not a hold without a request), whose
 * webhook no later attempt among `sameWebhook` (the subscription's recent results) delivered.
 */
export function retryRefusal(attempt: AttemptResult, sameWebhook: readonly AttemptResult[] = []): string | undefined {
  // Another attempt of the same webhook (the schedule's, or an earlier retry now) already delivered it.
  const delivered = sameWebhook.find((a) => a.deliveryId !== attempt.deliveryId && a.outcome === 'delivered' && a.finishedAt >= attempt.startedAt);
  if (delivered) return `a later attempt delivered this webhook at ${delivered.finishedAt}: there is nothing to retry`;
  switch (attempt.outcome) {
    case 'delivered':
      return 'this attempt was delivered: there is nothing to retry';
    case 'skipped':
      return `this attempt was skipped (${attempt.reason}): nothing was sent`;
    case 'dead_lettered':
      return 'this attempt was dead-lettered: replay the dead letter instead (POST /v1/dlq/replay with its webhook_id)';
    case 'retry_scheduled':
      return HELD_BACK_REASONS.includes(attempt.reason) ? `this job was held back without a request (${attempt.reason}): it is not a failed attempt` : undefined;
  }
}
