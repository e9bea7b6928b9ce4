#!/usr/bin/env node
// Where a gateway run's latency goes, hop by hop. The paced runs of `bench/compare/run.mjs` start the
// gateway's apps with HOP_LOG=<log dir>/<run>/hops, so each app appends the times of its hops there
// (libs/runtime/src/hop-log.ts), and report this breakdown per rate. By hand, on a run kept with
// `--keep-topics`:
//
//   node bench/compare/hops.mjs <run prefix, e.g. cmp-59e579-1> [<HOP_LOG prefix>] [--phase=p500] [--timeline]
//   (KAFKA_BROKERS as for the bench)
//
// Per delivered job (first attempts read from <prefix>.deliveries) it joins, all from the one clock
// of this machine:
//   source appended      the source event's CreateTime (the bench stamps it when it sends)
//   producer read        the producer app's batch handed to the fan-out (hop log `fan-out`.read)
//   fan-out began        the batch's turn in its partition's transactions (`fan-out`.began)
//   subscriptions read   the registry's catch-up done (`fan-out`.caughtUp)
//   jobs sent            every job of the batch acknowledged inside its transaction (`fan-out`.sent)
//   committed            the batch's transaction committed with its offset (`batch`.done)
//   readable (LSO)       the latest commit among the transactions that wrote at or below the job's
//                        offset of its deliveries partition: a read-committed fetch cannot pass an
//                        open transaction, so a job is readable once every earlier one is committed
//   delivery read        the delivery app's batch handed out (hop log `job`.read)
//   request sent         the attempt's startedAt (results record; after the in-flight budget, the
//                        endpoint's gate and signing)
//   response             the attempt's finishedAt
//   result written       the outcome's records acknowledged (`job`.written)
// and prints p50 / p99 / max (ms) of each hop and of the whole. Without a hop log it falls back to the
// times in the records (source → job CreateTime → attempt start). Read-only; contacts only
// KAFKA_BROKERS, connecting as the bench did (KAFKA_SECURITY_PROTOCOL, KAFKA_SSL_*, KAFKA_SASL_*,
// KAFKA_OAUTH_*) through the gateway's createKafka from dist/ (the bench built it, else npm run build).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import kafkajs from 'kafkajs';
import { percentile } from '../lib/kit.mjs';

const { logLevel } = kafkajs;

export const HOPS = [
  ['source → producer read', 'sent', 'read'],
  ['read → fan-out began (waits for the partition\'s transaction)', 'read', 'began'],
  ['began → subscriptions caught up', 'began', 'caughtUp'],
  ['caught up → jobs sent (fan-out, produce)', 'caughtUp', 'jobsSent'],
  ['jobs sent → committed (offsets, EndTxn)', 'jobsSent', 'committed'],
  ['committed → readable (LSO)', 'committed', 'readable'],
  ['readable → delivery read (fetch)', 'readable', 'deliveryRead'],
  ['delivery read → request sent', 'deliveryRead', 'requestSent'],
  ['request → response', 'requestSent', 'response'],
  ['response → result written', 'response', 'resultWritten'],
  ['source → response (what the receiver sees)', 'sent', 'response'],
  ['source → result written (total)', 'sent', 'resultWritten'],
];

/** The hop-log lines of every process of a run: files named <prefix>.<pid>.jsonl. */
function readHopLog(prefix) {
  const dir = path.dirname(prefix);
  const base = path.basename(prefix);
  const lines = [];
  for (const f of readdirSync(dir).filter((n) => n.startsWith(`${base}.`) && n.endsWith('.jsonl'))) {
    for (const line of readFileSync(path.join(dir, f), 'utf8').split('\n')) if (line) lines.push(JSON.parse(line));
  }
  return lines;
}

/** Reads a topic from the beginning to its end offsets at the time of the call (read committed). */
async function readAll(kafka, admin, topic, group, onRecord) {
  const ends = new Map((await admin.fetchTopicOffsets(topic)).filter((o) => o.high !== o.low).map((o) => [o.partition, BigInt(o.high)]));
  if (ends.size === 0) return;
  const consumer = kafka.consumer({ groupId: `${group}-${Date.now()}-${Math.random()}` });
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

/**
 * The per-hop breakdown of one gateway run: { hops: { name: { n, p50, p99, max } }, jobs, phase }.
 * `phase` keeps only the events whose id has it (`<run>-<phase>-<seq>`, as the bench names them).
 */
export async function hopBreakdown({ kafka, prefix, hopLog, phase }) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const lines = hopLog ? readHopLog(hopLog) : [];
    // Producer side, per source partition, by offset range: kafkajs' batches (read, committed) and the fan-outs
    // (one per transaction, over the batches it took). A range run again after an abort logs again: the last line wins.
    const ranges = { batch: new Map(), 'fan-out': new Map() }; // kind → source partition → [{ first, last, line }]
    const jobLines = new Map(); // "deliveries partition|offset" → job line
    for (const l of lines) {
      if (l.kind === 'fan-out' || (l.kind === 'batch' && l.app === 'producer')) {
        const byPartition = ranges[l.kind];
        const list = byPartition.get(l.partition) ?? [];
        list.push({ first: BigInt(l.firstOffset), last: BigInt(l.lastOffset), line: l });
        byPartition.set(l.partition, list);
      } else if (l.kind === 'job' && l.topic === `${prefix}.deliveries`) jobLines.set(`${l.partition}|${l.offset}`, l);
    }
    const lineOf = (kind, partition, offset) => {
      const o = BigInt(offset);
      let found;
      for (const r of ranges[kind].get(partition) ?? []) if (r.first <= o && o <= r.last) found = r.line;
      return found;
    };

    const sent = new Map(); // source "partition|offset" → CreateTime
    await readAll(kafka, admin, `${prefix}.events`, `hops-${prefix}`, (m, partition) => sent.set(`${partition}|${m.offset}`, Number(m.timestamp)));
    const jobs = new Map(); // webhookId → times
    const perPartition = new Map(); // deliveries partition → jobs in offset order
    await readAll(kafka, admin, `${prefix}.deliveries`, `hops-${prefix}`, (m, partition) => {
      const job = JSON.parse(m.value.toString());
      if (phase && !job.eventId.includes(`-${phase}-`)) return;
      const b = lineOf('batch', job.source.partition, job.source.offset);
      const fan = lineOf('fan-out', job.source.partition, job.source.offset);
      const line = jobLines.get(`${partition}|${m.offset}`);
      const t = {
        sent: sent.get(`${job.source.partition}|${job.source.offset}`),
        read: b?.read,
        began: fan?.began,
        caughtUp: fan?.caughtUp,
        jobsSent: fan?.sent ?? Number(m.timestamp),
        committed: b?.done,
        deliveryRead: line?.read,
        resultWritten: line?.written,
      };
      jobs.set(job.webhookId, t);
      const list = perPartition.get(partition) ?? [];
      list.push({ offset: BigInt(m.offset), t });
      perPartition.set(partition, list);
    });
    // Readable: a read-committed fetch returns a job once every transaction that wrote at or below it has committed.
    for (const list of perPartition.values()) {
      list.sort((a, b) => (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
      let latest = -Infinity;
      for (const { t } of list) {
        if (t.committed !== undefined) latest = Math.max(latest, t.committed);
        t.readable = Number.isFinite(latest) ? latest : undefined;
      }
    }
    await readAll(kafka, admin, `${prefix}.results`, `hops-${prefix}`, (m) => {
      const result = JSON.parse(m.value.toString());
      const t = jobs.get(result.webhookId);
      if (!t || result.attempt !== 1 || result.outcome !== 'delivered') return;
      t.requestSent = Date.parse(result.startedAt);
      t.response = Date.parse(result.finishedAt);
      t.resultWritten ??= Number(m.timestamp);
      t.done = true;
    });
    const values = Object.fromEntries(HOPS.map(([name]) => [name, []]));
    const timeline = [];
    for (const t of jobs.values()) {
      if (!t.done) continue;
      for (const [name, from, to] of HOPS) if (t[from] !== undefined && t[to] !== undefined) values[name].push(t[to] - t[from]);
      if (t.sent !== undefined) timeline.push(t);
    }
    const hops = {};
    for (const [name, list] of Object.entries(values)) {
      const s = list.sort((a, b) => a - b);
      hops[name] = { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s.at(-1) ?? NaN };
    }
    return { phase, jobs: timeline.length, withHopLog: lines.length > 0, hops, timeline };
  } finally {
    await admin.disconnect();
  }
}

/** The breakdown as text lines. */
export function formatHops(b) {
  const out = [];
  for (const [name, h] of Object.entries(b.hops)) {
    if (h.n === 0) continue;
    out.push(`${name.padEnd(60)} n ${String(h.n).padStart(6)}  p50 ${String(h.p50).padStart(4)}  p99 ${String(h.p99).padStart(4)}  max ${h.max}`);
  }
  return out;
}

async function main() {
  const args = process.argv.slice(2);
  const [prefix, hopLog] = args.filter((a) => !a.startsWith('--'));
  if (!prefix) throw new Error('usage: node bench/compare/hops.mjs <run prefix> [<HOP_LOG prefix>] [--phase=p500] [--timeline] (see --keep-topics)');
  const phase = args.find((a) => a.startsWith('--phase='))?.slice('--phase='.length);
  const { gatewayKafka } = await import('../../scripts/lib/gateway-kafka.mjs');
  const kafka = await gatewayKafka('hops', { brokers: (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(','), clientId: 'bench', logLevel: logLevel.NOTHING });
  const b = await hopBreakdown({ kafka, prefix, hopLog, phase });
  console.log(`${b.jobs} first attempts${b.withHopLog ? '' : ' (no hop log: record times only)'}${phase ? `, phase ${phase}` : ''}; ms:`);
  for (const line of formatHops(b)) console.log(line);
  // --timeline: per second of the run, how many jobs took over 50 ms from source to response, and the slowest:
  // shows whether the tail is spread or comes in stalls.
  if (args.includes('--timeline')) {
    const first = Math.min(...b.timeline.map((t) => t.sent));
    const seconds = new Map();
    for (const t of b.timeline) {
      const s = Math.floor((t.sent - first) / 1000);
      const e = seconds.get(s) ?? { n: 0, slow: 0, worst: 0 };
      const total = t.response - t.sent;
      e.n++;
      if (total > 50) e.slow++;
      e.worst = Math.max(e.worst, total);
      seconds.set(s, e);
    }
    for (const [s, e] of [...seconds].sort((x, y) => x[0] - y[0])) console.log(`${String(s).padStart(4)} s  n ${String(e.n).padStart(4)}  over 50 ms ${String(e.slow).padStart(4)}  slowest ${e.worst} ms`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
