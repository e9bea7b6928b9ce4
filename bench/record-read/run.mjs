#!/usr/bin/env node
// How long reading ONE record at a known (topic, partition, offset) takes: what the attempt detail
// ("request body as sent") and "retry now" of the console and the customer portal do per call.
//
//   node bench/record-read/run.mjs --mode=fetch            RecordReader: one Fetch to the partition's leader
//   node bench/record-read/run.mjs --mode=group --root=DIR readTopicRange with an offset range (a consumer
//                                                          group of its own per read), from DIR's dist/: a
//                                                          checkout from 7bf729e to e15e040 (the option is gone since)
//   node bench/record-read/run.mjs --mode=range [--root=DIR] readTopicRange of the whole topic per call (what DLQ
//                                                          replay and its dry run do): a consumer group per call
//                                                          up to e15e040, Fetch requests since
//
// It creates a topic of its own (6 partitions), writes --records records of 1 KiB with kafkajs, then
// times --reads reads of random records (one after the other, after --warmup untimed reads), checks
// each read returned the record written there, prints the median, p90, min and max in ms, and deletes
// the topic. Against KAFKA_BROKERS (default 127.0.0.1:9092, plaintext); only 127.0.0.1 is contacted.
// The group mode waits the broker's group.initial.rebalance.delay.ms (Kafka's default 3000; the
// project's broker 0 unless KAFKA_INITIAL_REBALANCE_DELAY_MS is set for scripts/kafka.sh) per read.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';

const HERE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const opts = { mode: 'fetch', root: HERE, records: 1000, reads: 20, warmup: 2 };
for (const arg of process.argv.slice(2)) {
  const [name, raw] = arg.replace(/^--/, '').split('=');
  if (!(name in opts)) throw new Error(`unknown option ${arg}`);
  opts[name] = typeof opts[name] === 'number' ? Number(raw) : raw;
}
if (!['fetch', 'group', 'range'].includes(opts.mode)) throw new Error('--mode is fetch, group or range');
const lib = await import(pathToFileURL(path.join(path.resolve(opts.root), 'dist/libs/kafka/src/index.js')).href);

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const kafka = new Kafka({ clientId: 'bench-record-read', brokers, logLevel: logLevel.NOTHING });
const topic = `bench-record-read-${randomUUID().slice(0, 8)}`;
const admin = kafka.admin();
await admin.connect();
await admin.createTopics({ topics: [{ topic, numPartitions: 6 }], waitForLeaders: true });
const producer = kafka.producer();
await producer.connect();
const written = [];
for (let i = 0; i < opts.records; i += 100) {
  const messages = Array.from({ length: Math.min(100, opts.records - i) }, (_, j) => ({ partition: (i + j) % 6, value: `${i + j}:${'x'.repeat(1020)}` }));
  const meta = await producer.send({ topic, messages });
  for (const m of meta) {
    // One base offset per partition per send: the records of that partition in this send follow it.
    const mine = messages.filter((msg) => msg.partition === m.partition);
    mine.forEach((msg, k) => written.push({ partition: m.partition, offset: String(BigInt(m.baseOffset) + BigInt(k)), value: msg.value }));
  }
}
await producer.disconnect();

const reader = opts.mode === 'fetch' ? new lib.RecordReader(kafka) : undefined;
/** range: the whole topic, every record checked; the value returned is the target's, read on the way. */
async function readAll(target) {
  let seen = 0;
  let value;
  await lib.readTopicRange(kafka, topic, { groupPrefix: 'bench-record-read' }, (message, partition) => {
    seen++;
    if (partition === target.partition && message.offset === target.offset) value = message.value?.toString();
  });
  if (seen !== written.length) throw new Error(`read ${seen} records of ${written.length}`);
  return value;
}
async function readOne({ partition, offset }) {
  if (reader) return (await reader.read(topic, partition, offset))?.value?.toString();
  let value;
  const offsets = { partition, from: offset, to: String(BigInt(offset) + 1n) };
  await lib.readTopicRange(kafka, topic, { groupPrefix: 'bench-record-read', offsets }, (message) => (value = message.value?.toString()));
  return value;
}

const times = [];
try {
  for (let i = 0; i < opts.warmup + opts.reads; i++) {
    const target = written[Math.floor(Math.random() * written.length)];
    const started = performance.now();
    const value = opts.mode === 'range' ? await readAll(target) : await readOne(target);
    const ms = performance.now() - started;
    if (value !== target.value) throw new Error(`read ${target.partition}/${target.offset}: not the record written there`);
    if (i >= opts.warmup) times.push(ms);
  }
} finally {
  await reader?.close();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
}
times.sort((a, b) => a - b);
const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
const f = (ms) => ms.toFixed(1);
console.log(`${opts.mode}: ${times.length} reads of ${opts.mode === 'range' ? `the whole topic (${written.length} records)` : 'one record'}: median ${f(at(0.5))} ms, p90 ${f(at(0.9))} ms, min ${f(times[0])} ms, max ${f(times.at(-1))} ms`);
