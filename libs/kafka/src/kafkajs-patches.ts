import * as internals from './kafkajs-internals.js';

let verified = false;

/**
 * Fails when the installed kafkajs lacks any fix of patches/kafkajs+2.2.4.patch (applied by
 * patch-package on `npm install`/`npm ci`), one check per file the patch changes: without them a
 * read_committed consumer can receive records of aborted transactions (delivery jobs a stopping
 * producer app never committed), a send retried after a leader change can write a partition's
 * records twice inside one transaction, or skip them, and transactions, offset lookups and sends
 * are slower. Checked once per process, when a Kafka client is created.
 */
export function verifyKafkajsPatches(): void {
  if (verified) return;
  // src/consumer/filterAbortedMessages.js. Two producers' aborted transactions are both open where
  // the fetch starts (offset 12): the record of the second one (producer 2) must be dropped too.
  const tx = (producerId: string) => ({ producerId, inTransaction: true });
  const kept = internals.kafkajsAbortedFilter()({
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
  // src/producer/sendMessages.js, by its mark (a behavioural check needs a fake cluster: kafkajs-patches.spec.ts).
  if (!internals.kafkajsSendMessages().toString().includes('const answered = new Set()')) {
    throw unpatched('a send retried after a leader change could write a partition twice or skip it');
  }
  // Latency, not correctness: without the next three a transaction made four more round trips
  // (FindCoordinator before each request) and each subscriptions catch-up two more (Metadata, then
  // the two ListOffsets in turn). src/producer/eosManager/index.js:
  if (!internals.kafkajsEosManager().toString().includes('const coordinatorNodes = new Map()')) {
    throw unpatched('every transaction would look its coordinators up again, four extra round trips');
  }
  // A transaction begun while its predecessor's markers are still being written is answered
  // CONCURRENT_TRANSACTIONS and retried: without these, each retry also looked the coordinator up
  // again and refreshed the metadata (src/producer/eosManager/index.js, src/producer/sendMessages.js).
  if (!internals.kafkajsEosManager().toString().includes("e.type !== 'CONCURRENT_TRANSACTIONS'")) {
    throw unpatched('a transaction retried after CONCURRENT_TRANSACTIONS would look its coordinator up again');
  }
  if (!internals.kafkajsSendMessages().toString().includes("if (e.type === 'CONCURRENT_TRANSACTIONS') throw e")) {
    throw unpatched('a send retried after CONCURRENT_TRANSACTIONS would refresh the metadata first');
  }
  // src/index.js: an admin client keeps its metadata as long as the producer and consumer do.
  if (internals.kafkajsAdminClusterOptions().metadataMaxAge === undefined) {
    throw unpatched('every offsets lookup of an admin client would begin with a Metadata request');
  }
  // src/admin/index.js, by its mark (the behaviour is asynchronous: kafkajs-patches.spec.ts).
  if (!internals.kafkajsCreateAdmin().toString().includes('const [high, low] = await Promise.all([')) {
    throw unpatched('an offsets lookup would ask for the high and the low offsets one after the other');
  }
  // src/producer/groupMessagesPerPartition.js, by its mark (the behaviour is only faster).
  if (!internals.kafkajsGroupMessagesPerPartition().toString().includes('current.push(message)')) {
    throw unpatched("a send would copy a partition's records once per record (quadratic)");
  }
  verified = true;
}

function unpatched(consequence: string): Error {
  return new Error(`kafkajs is not patched (${consequence}): run \`npm ci\` or \`npx patch-package\` (see patches/README.md)`);
}
