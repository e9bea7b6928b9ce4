#!/usr/bin/env node
// Where a gateway run's latency goes, hop by hop, from the topics of a run kept with
// `node bench/compare/run.mjs --peers=gateway --scenarios=P … --keep-topics`:
//
//   node bench/compare/hops.mjs <run prefix, e.g. cmp-59e579-1>   (KAFKA_BROKERS as for the bench)
//
// Per delivered job it joins three timestamps Kafka already holds, all from the one clock of this
// machine: the source event's CreateTime (the bench stamps it when it sends), the job's CreateTime
// on <prefix>.deliveries (set by the producer app's kafkajs producer when it sends the job, inside
// its transaction), and the attempt's startedAt / finishedAt and CreateTime on <prefix>.results.
// Prints p50 / p90 / p99 / max in ms of: source → job written (the producer app's fetch wait,
// batch and fan-out), job written → attempt start (transaction commit, read-committed fetch of the
// delivery app, queueing), attempt end → result written, and source → attempt start. Warm-up
// events are included. Read-only; contacts only KAFKA_BROKERS, connecting as the bench did (the
// Kafka connection settings KAFKA_SECURITY_PROTOCOL, KAFKA_SSL_*, KAFKA_SASL_*, KAFKA_OAUTH_*). Its
// client is the gateway's createKafka from dist/: the bench built it (else npm run build).
import kafkajs from 'kafkajs';
import { gatewayKafka } from '../../scripts/lib/gateway-kafka.mjs';
import { percentile } from '../lib/kit.mjs';

const { logLevel } = kafkajs;
const prefix = process.argv[2];
if (!prefix) throw new Error('usage: node bench/compare/hops.mjs <run prefix> (see --keep-topics)');
const kafka = await gatewayKafka('hops', { brokers: (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(','), clientId: 'bench', logLevel: logLevel.NOTHING });
const admin = kafka.admin();
await admin.connect();

/** Reads a topic from the beginning to its end offsets at the time of the call (read committed). */
async function readAll(topic, onRecord) {
  const ends = new Map((await admin.fetchTopicOffsets(topic)).filter((o) => o.high !== o.low).map((o) => [o.partition, BigInt(o.high)]));
  if (ends.size === 0) return;
  const consumer = kafka.consumer({ groupId: `hops-${prefix}-${Date.now()}-${Math.random()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise((resolve) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) onRecord(m, batch.partition);
        if (BigInt(batch.lastOffset()) + 1n >= (ends.get(batch.partition) ?? 0n)) ends.delete(batch.partition);
        if (ends.size === 0) resolve();
      },
    });
  });
  await consumer.disconnect();
}

const sent = new Map(); // "partition|offset" of the source event → its CreateTime
const jobs = new Map(); // webhookId → { written, sent }
await readAll(`${prefix}.events`, (m, partition) => sent.set(`${partition}|${m.offset}`, Number(m.timestamp)));
await readAll(`${prefix}.deliveries`, (m) => {
  const job = JSON.parse(m.value.toString());
  jobs.set(job.webhookId, { written: Number(m.timestamp), sent: sent.get(`${job.source.partition}|${job.source.offset}`), partition: job.source.partition });
});
const timeline = [];
const hops = { 'source → job written': [], 'job written → attempt start': [], 'attempt end → result written': [], 'source → attempt start': [] };
await readAll(`${prefix}.results`, (m) => {
  const result = JSON.parse(m.value.toString());
  const job = jobs.get(result.webhookId);
  if (!job || result.attempt !== 1) return;
  const started = Date.parse(result.startedAt);
  hops['job written → attempt start'].push(started - job.written);
  hops['attempt end → result written'].push(Number(m.timestamp) - Date.parse(result.finishedAt));
  if (job.sent === undefined) return;
  hops['source → job written'].push(job.written - job.sent);
  hops['source → attempt start'].push(started - job.sent);
  timeline.push({ sent: job.sent, partition: job.partition, toJob: job.written - job.sent, toAttempt: started - job.written });
});
await admin.disconnect();

for (const [name, values] of Object.entries(hops)) {
  const s = values.sort((a, b) => a - b);
  console.log(`${name.padEnd(30)} n ${String(s.length).padStart(6)}  p50 ${percentile(s, 50)}  p90 ${percentile(s, 90)}  p99 ${percentile(s, 99)}  max ${s.at(-1)}`);
}

// --timeline: per second of the run, how many jobs took over 50 ms from source to attempt, and the slowest
// (source → job written + job written → attempt start): shows whether the tail is spread or comes in stalls.
if (process.argv.includes('--timeline')) {
  const first = Math.min(...timeline.map((t) => t.sent));
  const seconds = new Map();
  for (const t of timeline) {
    const s = Math.floor((t.sent - first) / 1000);
    const e = seconds.get(s) ?? { n: 0, slow: 0, worst: undefined };
    e.n++;
    if (t.toJob + t.toAttempt > 50) e.slow++;
    if (!e.worst || t.toJob + t.toAttempt > e.worst.toJob + e.worst.toAttempt) e.worst = t;
    seconds.set(s, e);
  }
  for (const [s, e] of [...seconds].sort((a, b) => a[0] - b[0])) {
    console.log(`${String(s).padStart(4)} s  n ${String(e.n).padStart(4)}  over 50 ms ${String(e.slow).padStart(4)}  slowest ${e.worst.toJob} + ${e.worst.toAttempt} ms (source partition ${e.worst.partition})`);
  }
}
