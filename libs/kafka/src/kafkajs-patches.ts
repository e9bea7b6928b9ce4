import { createRequire } from 'node:module';

type AbortedFilter = (input: {
  messages: { offset: string; key: Buffer | null; batchContext: { producerId: string; inTransaction: boolean } }[];
  abortedTransactions: { producerId: string; firstOffset: string }[];
}) => { offset: string }[];

/** kafkajs' client-side filter of aborted transactional records (read_committed), as installed. */
export function kafkajsAbortedFilter(): AbortedFilter {
  return createRequire(import.meta.url)('kafkajs/src/consumer/filterAbortedMessages.js') as AbortedFilter;
}

/** kafkajs' producer send loop (producer/sendMessages.js): a factory of the function behind `send`/`sendBatch`. */
export function kafkajsSendMessages(): (deps: Record<string, unknown>) => (args: Record<string, unknown>) => Promise<unknown[]> {
  return createRequire(import.meta.url)('kafkajs/src/producer/sendMessages.js') as ReturnType<typeof kafkajsSendMessages>;
}

/** kafkajs' idempotent/transactional producer state (producer/eosManager): a factory. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function kafkajsEosManager(): (deps: Record<string, unknown>) => Record<string, (...args: any[]) => Promise<unknown>> {
  return createRequire(import.meta.url)('kafkajs/src/producer/eosManager/index.js') as ReturnType<typeof kafkajsEosManager>;
}

let verified = false;

/**
 * Fails when the installed kafkajs lacks the fixes in patches/ (applied by patch-package on
 * `npm install`/`npm ci`): without them a read_committed consumer can receive records of aborted
 * transactions (delivery jobs a stopping producer app never committed), and a send retried after a
 * leader change can write a partition's records twice inside one transaction, or skip them. Checked
 * once per process, when a Kafka client is created.
 */
export function verifyKafkajsPatches(): void {
  if (verified) return;
  // Two producers' aborted transactions are both open where the fetch starts (offset 12): the record
  // of the second one (producer 2) must be dropped too.
  const tx = (producerId: string) => ({ producerId, inTransaction: true });
  const kept = kafkajsAbortedFilter()({
    messages: [
      { offset: '12', key: null, batchContext: tx('2') },
      { offset: '13', key: null, batchContext: tx('1') },
    ],
    abortedTransactions: [
      { producerId: '1', firstOffset: '10' },
      { producerId: '2', firstOffset: '11' },
    ],
  });
  if (kept.length > 0) throw unpatched('read_committed would let records of aborted transactions through');
  // The send loop's fix is checked by its mark (a behavioural check needs a fake cluster: kafkajs-patches.spec.ts).
  if (!kafkajsSendMessages().toString().includes('const answered = new Set()')) {
    throw unpatched('a send retried after a leader change could write a partition twice or skip it');
  }
  // Latency, not correctness: without these a transaction made four more round trips (FindCoordinator
  // before each request) and each subscriptions catch-up two more (Metadata, then the two ListOffsets in turn).
  if (!kafkajsEosManager().toString().includes('const coordinatorNodes = new Map()')) {
    throw unpatched('every transaction would look its coordinators up again, four extra round trips');
  }
  const group = createRequire(import.meta.url)('kafkajs/src/producer/groupMessagesPerPartition.js') as () => unknown;
  if (!group.toString().includes('current.push(message)')) {
    throw unpatched("a send would copy a partition's records once per record (quadratic)");
  }
  verified = true;
}

function unpatched(consequence: string): Error {
  return new Error(`kafkajs is not patched (${consequence}): run \`npm ci\` or \`npx patch-package\` (see patches/README.md)`);
}
