import { GONE_STATUS, isDelivered, NOT_RETRYABLE_ERRORS, REASONS } from '../delivery-policy.js';
import type { HttpAttempt } from '../http/http-sender.js';

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
export function judge(attempt: HttpAttempt): AttemptVerdict {
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
