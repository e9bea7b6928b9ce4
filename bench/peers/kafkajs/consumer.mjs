// The hand-written peer of the side-by-side benchmark (npm run bench): a kafkajs consumer that
// POSTs each record's value to one URL with undici, in the two forms teams write:
//
//   MODE=each-message   eachMessage, awaiting each POST (what most teams write); kafkajs commits
//                       after each message's handler returns
//   MODE=each-batch     eachBatch, Promise.all over the whole fetched batch, then resolveOffset and
//                       heartbeat; partitionsConsumedConcurrently = PARTITIONS_CONCURRENTLY (default
//                       the topic's partition count) (what a careful team writes). In flight: every
//                       record of every batch being processed, unbounded.
//
// A failed POST (non-2xx or error) is retried after 1 s, forever: no dead letters (the benchmark's
// endpoints all answer 200). Environment: KAFKA_BROKERS, TOPIC, GROUP_ID, TARGET_URL, MODE,
// PARTITIONS_CONCURRENTLY. Stops on SIGTERM/SIGINT (disconnects, which commits).
import kafkajs from 'kafkajs';
import { Agent, request } from 'undici';

const { Kafka, logLevel } = kafkajs;
const env = (name, fallback) => {
  const v = process.env[name] ?? fallback;
  if (v === undefined) throw new Error(`${name} is required`);
  return v;
};
const brokers = env('KAFKA_BROKERS').split(',');
const topic = env('TOPIC');
const url = env('TARGET_URL');
const mode = env('MODE', 'each-message');
const dispatcher = new Agent({ keepAliveTimeout: 60_000, connections: null });

async function post(value) {
  for (;;) {
    try {
      const res = await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: value, dispatcher });
      await res.body.dump();
      if (res.statusCode >= 200 && res.statusCode < 300) return;
    } catch {
      // retried below
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

const kafka = new Kafka({ clientId: `bench-kafkajs-${mode}`, brokers, logLevel: logLevel.WARN });
const consumer = kafka.consumer({ groupId: env('GROUP_ID') });
await consumer.connect();
await consumer.subscribe({ topic, fromBeginning: true });
if (mode === 'each-message') {
  await consumer.run({ eachMessage: async ({ message }) => post(message.value) });
} else if (mode === 'each-batch') {
  const admin = kafka.admin();
  await admin.connect();
  const partitions = (await admin.fetchTopicOffsets(topic)).length;
  await admin.disconnect();
  await consumer.run({
    partitionsConsumedConcurrently: Number(process.env.PARTITIONS_CONCURRENTLY ?? partitions),
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
      await Promise.all(batch.messages.map((m) => post(m.value)));
      resolveOffset(batch.messages[batch.messages.length - 1].offset);
      await heartbeat();
    },
  });
} else throw new Error(`MODE must be each-message or each-batch, got ${mode}`);

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    consumer.disconnect().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 10_000).unref();
  });
}
