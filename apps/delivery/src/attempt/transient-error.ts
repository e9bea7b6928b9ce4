/**
 * An error of Kafka or of waiting for it (kafkajs errors, a store that did not catch up in time,
 * a refused or unauthorised call), not of the job: retrying later can fix it.
 */
export function isTransient(err: unknown): boolean {
  for (let e = err as { name?: unknown; retriable?: unknown; getStatus?: () => number; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (typeof e.name === 'string' && (e.name.startsWith('KafkaJS') || e.name === 'KafkaSetupError')) return true;
    if (typeof e.retriable === 'boolean') return true;
    if (typeof e.getStatus === 'function' && e.getStatus() === 503) return true;
  }
  return false;
}
