import { GONE_STATUS, isDelivered, NOT_RETRYABLE_ERRORS, REASONS } from '../delivery-policy.js';
import type { AuthorizedAttempt } from './endpoint-auth.js';

export interface AttemptVerdict {
  delivered: boolean;
  /** Whether another attempt may succeed (false for deliveries, 410, refused targets). */
  retryable: boolean;
  /** `2xx`, `http_500`, `redirect_not_followed`, `gone`, `timeout`, `connection_refused`, ... */
  reason: string;
  statusCode?: number;
  error?: { class: string; message: string };
}

/** What an HTTP attempt means for the delivery (one place for the rules). */
export function judge(attempt: AuthorizedAttempt): AttemptVerdict {
  // The endpoint's OAuth2 token could not be had: a failure like any other, retried on the schedule.
  if (attempt.kind === 'token_fetch') return { delivered: false, retryable: true, reason: REASONS.tokenFetch, error: { class: REASONS.tokenFetch, message: attempt.message } };
  if (attempt.kind === 'error') {
    return {
      delivered: false,
      retryable: !NOT_RETRYABLE_ERRORS.includes(attempt.errorClass),
      reason: attempt.errorClass,
      error: { class: attempt.errorClass, message: attempt.message },
    };
  }
  const status = attempt.status;
  if (isDelivered(status)) return { delivered: true, retryable: false, reason: REASONS.delivered, statusCode: status };
  const error = { class: 'http_status', message: `receiver answered ${status}` };
  if (status === GONE_STATUS) return { delivered: false, retryable: false, reason: REASONS.gone, statusCode: status, error };
  const reason = status >= 300 && status < 400 ? REASONS.redirect : `http_${status}`;
  return { delivered: false, retryable: true, reason, statusCode: status, error };
}
