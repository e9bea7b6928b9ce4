import { isDelivered, REASONS } from '../delivery-policy.js';
import type { HttpAttempt } from '../http/http-sender.js';

export interface AttemptVerdict {
  delivered: boolean;
  /** `2xx`, `http_500`, `redirect_not_followed`, `timeout`, `connection_refused`, ... */
  reason: string;
  statusCode?: number;
  error?: { class: string; message: string };
}

/** What an HTTP attempt means for the delivery (one place for the rules). */
export function judge(attempt: HttpAttempt): AttemptVerdict {
  if (attempt.kind === 'error') {
    return { delivered: false, reason: attempt.errorClass, error: { class: attempt.errorClass, message: attempt.message } };
  }
  const status = attempt.status;
  if (isDelivered(status)) return { delivered: true, reason: REASONS.delivered, statusCode: status };
  const reason = status >= 300 && status < 400 ? REASONS.redirect : `http_${status}`;
  return { delivered: false, reason, statusCode: status, error: { class: 'http_status', message: `receiver answered ${status}` } };
}
