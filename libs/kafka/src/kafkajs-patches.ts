import { createRequire } from 'node:module';

type AbortedFilter = (input: {
  messages: { offset: string; key: Buffer | null; batchContext: { producerId: string; inTransaction: boolean } }[];
  abortedTransactions: { producerId: string; firstOffset: string }[];
}) => { offset: string }[];

/** kafkajs' client-side filter of aborted transactional records (read_committed), as installed. */
export function kafkajsAbortedFilter(): AbortedFilter {
  return createRequire(import.meta.url)('kafkajs/src/consumer/filterAbortedMessages.js') as AbortedFilter;
}

let verified = false;

/**
 * Fails when the installed kafkajs lacks the fixes in patches/ (applied by patch-package on
 * `npm install`/`npm ci`): without them a read_committed consumer can receive records of aborted
 * transactions, i.e. delivery jobs a crashed or stopping producer app never committed, and the
 * gateway would deliver them twice. Checked once per process, when a consumer starts.
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
  if (kept.length > 0) {
    throw new Error('kafkajs is not patched (read_committed would let aborted records through): run `npm ci` or `npx patch-package` (see patches/README.md)');
  }
  verified = true;
}
