import { EGRESS_FAILURES, GONE_STATUS, HOST_FAILURES, isDelivered, NOT_RETRYABLE_ERRORS, REASONS } from '../delivery-policy.js';
import type { AuthorizedAttempt } from './endpoint-auth.js';
import type { AttemptReport } from './endpoint-gate.js';

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

/**
 * What an attempt tells the endpoint's and its host's breakers. A final answer (410, a refused
 * target) is no reason to hold the endpoint back; a failure to connect holds its host. Nothing
 * reached the endpoint when its OAuth2 token could not be had or the gateway's own egress (the
 * proxy) failed: neither breaker learns anything from that (`notSent`).
 */
export function gateReport(attempt: AuthorizedAttempt, verdict: AttemptVerdict): AttemptReport {
  if (attempt.kind === 'token_fetch' || isEgressFailure(attempt)) return { ok: false, hostReached: true, notSent: true };
  const errorClass = attempt.kind === 'error' ? attempt.errorClass : undefined;
  return { ok: verdict.delivered || !verdict.retryable, hostReached: !(errorClass !== undefined && HOST_FAILURES.includes(errorClass)) };
}

/**
 * The gateway's own egress failed (DELIVERY_PROXY_URL down or refusing): says nothing about the
 * subscription either, so it does not count towards its failure streak (a long proxy outage must
 * not auto-disable every subscription).
 */
export function isEgressFailure(attempt: AuthorizedAttempt): boolean {
  return attempt.kind === 'error' && EGRESS_FAILURES.includes(attempt.errorClass);
}
