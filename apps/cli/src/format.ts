import type { AttemptResult } from '@app/contracts';

/** One attempt on one line: time, outcome, subscription, event, attempt, status, duration, reason, error. */
export function formatAttempt(r: AttemptResult): string {
  const status = r.statusCode === undefined ? '-' : String(r.statusCode);
  const error = r.error ? `  (${r.error.message})` : '';
  return `${r.finishedAt}  ${r.outcome.padEnd(15)}  ${r.subscriptionId}  ${r.eventType} ${r.eventId}  #${r.attempt}  ${status}  ${r.durationMs}ms  ${r.reason}${error}`;
}

/** Rows as aligned columns, the first row being the header. */
export function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '));
}
