#!/usr/bin/env node
// Soak run: the whole gateway (both apps from dist/, a real broker) under steady load for a long
// time, sampling each app's RSS and both consumer groups' lag, to see memory or lag creep.
//
//   npm run bench:soak                       30 minutes at 3,400 deliveries/s (half the measured maximum,
//                                            S1 x10 6,894/s in docs/benchmarks.md)
//   npm run bench:soak -- --duration=180     a 3-minute run
//
// Options: --duration=S (1800) --rate=EVENTS_PER_S (340) --subscriptions=N (10; deliveries/s = rate × N)
//   --delay-ms=MS (20, the receiver's answer delay) --sample=S (10) --drain=S (120, wait for the last
//   deliveries after publishing stops) --json=FILE (write samples and summary) --no-build
// Environment: KAFKA_BROKERS (default 127.0.0.1:9092; the broker must be running, e.g. npm run kafka:up);
//   the Kafka connection settings (KAFKA_SECURITY_PROTOCOL, KAFKA_SSL_*, KAFKA_SASL_*, KAFKA_OAUTH_*) go to
//   the apps and to the run's own clients (the gateway's createKafka from dist/: --no-build needs a built dist/).
//
// Each sample line: elapsed, events published, webhooks received, producer and delivery RSS (MiB),
// source lag (producer group) and deliveries + retry lag (delivery group). The summary gives the RSS
// at the first sample after warm-up, the peak and the end, the lag at the end, and the accounting:
// published × subscriptions = received (distinct webhook ids) + missing; duplicates. Exit code 1 when
// a webhook is missing after the drain. Only 127.0.0.1 is contacted. Not part of CI.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import kafkajs from 'kafkajs';
import { gatewayKafka, kafkaConnectionEnv } from '../../scripts/lib/gateway-kafka.mjs';
import { APP_NODE_FLAGS, freePort, quietKafkajsWarnings } from '../../scripts/lib/local.mjs';

const { logLevel, Partitioners } = kafkajs;
quietKafkajsWarnings();

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BROKERS = (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(',');
const opts = { duration: 1800, rate: 340, subscriptions: 10, delayMs: 20, sample: 10, drain: 120, json: undefined, build: true };
for (const arg of process.argv.slice(2)) {
  const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
  if (!m) throw new Error(`unknown argument ${arg}`);
  const key = m[1].replace(/-([a-z])/g, (_, c) => c.toUpperCase());
  if (key === 'noBuild') opts.build = false;
  else if (key === 'json') opts.json = m[2];
  else if (key in opts) opts[key] = Number(m[2]);
  else throw new Error(`unknown option --${m[1]}`);
}

const run = `soak-${randomBytes(3).toString('hex')}`;
const token = randomBytes(16).toString('hex');
const started = Date.now();
const elapsed = () => Math.round((Date.now() - started) / 1000);
const mib = (bytes) => Math.round(bytes / 1048576);

// ------------------------------------------------------------------ receivers: count webhook ids
// One receiver (one origin) per subscription, as subscribers are: a single origin would be held to
// DELIVERY_MAX_IN_FLIGHT_PER_ENDPOINT for the whole load.
const seen = new Map();
let received = 0;
const receivers = [];
for (let i = 0; i < opts.subscriptions; i++) {
  const receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received++;
      const id = String(req.headers['webhook-id']);
      seen.set(id, (seen.get(id) ?? 0) + 1);
      setTimeout(() => res.writeHead(200).end('ok'), opts.delayMs);
    });
  });
  receiver.keepAliveTimeout = 60_000;
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  receivers.push(receiver);
}

// ------------------------------------------------------------------ apps
if (opts.build) execFileSync('npx', ['nest', 'build'], { cwd: ROOT, stdio: 'inherit' });
const ports = { api: await freePort(), delivery: await freePort() };
const env = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  ...kafkaConnectionEnv(),
  KAFKA_BROKERS: BROKERS.join(','),
  TOPIC_PREFIX: run,
  SOURCE_TOPICS: `${run}.events`,
  SOURCE_GROUP_ID: `${run}-producer`,
  DELIVERY_GROUP_ID: `${run}-delivery`,
  API_HOST: '127.0.0.1',
  API_PORT: String(ports.api),
  DELIVERY_HOST: '127.0.0.1',
  DELIVERY_PORT: String(ports.delivery),
  API_TOKENS: token,
  SECRETS_KEY: randomBytes(32).toString('hex'),
  DELIVERY_TARGET_ALLOWLIST: '127.0.0.1/32',
  LOG_LEVEL: 'warn',
};
const apps = ['producer', 'delivery'].map((name) => {
  const child = spawn(process.execPath, [...APP_NODE_FLAGS, path.join(ROOT, `dist/apps/${name}/src/main.js`)], { cwd: ROOT, env, stdio: ['ignore', 'inherit', 'inherit'] });
  return { name, child };
});
const stopApps = async () => {
  for (const { child } of apps) if (child.exitCode === null) child.kill('SIGTERM');
  await Promise.all(apps.map(({ child }) => (child.exitCode === null ? new Promise((r) => child.once('exit', r)) : undefined)));
};
process.once('SIGINT', () => void stopApps().then(() => process.exit(130)));

for (const port of [ports.api, ports.delivery]) {
  for (let ready = false; !ready; await sleep(250)) {
    if (apps.some((a) => a.child.exitCode !== null)) throw new Error('an app exited during start-up');
    ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
  }
}
for (let i = 0; i < opts.subscriptions; i++) {
  const res = await fetch(`http://127.0.0.1:${ports.api}/v1/subscriptions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url: `http://127.0.0.1:${receivers[i].address().port}/s/${i}`, events: ['soak.*'] }),
  });
  if (res.status !== 201) throw new Error(`subscription: ${res.status} ${await res.text()}`);
}

// ------------------------------------------------------------------ load and samples
const kafka = await gatewayKafka('load', { brokers: BROKERS, clientId: run, logLevel: logLevel.NOTHING });
const producer = kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner });
const admin = kafka.admin();
await Promise.all([producer.connect(), admin.connect()]);
let published = 0;
const publishUntil = started + opts.duration * 1000;
const load = (async () => {
  const t0 = Date.now();
  while (Date.now() < publishUntil) {
    const due = Math.floor(((Date.now() - t0) / 1000) * opts.rate) - published;
    if (due > 0) {
      const messages = Array.from({ length: due }, (_, i) => {
        const n = published + i;
        return { key: `k${n % 64}`, value: JSON.stringify({ id: `${run}-${n}`, type: 'soak.event', data: { n, pad: 'x'.repeat(200) } }) };
      });
      published += due;
      await producer.send({ topic: `${run}.events`, acks: -1, messages });
    }
    await sleep(50);
  }
})();

const rss = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
async function lag(groupId, topics) {
  let total = 0;
  for (const { topic, partitions } of await admin.fetchOffsets({ groupId, topics })) {
    const ends = await admin.fetchTopicOffsets(topic);
    for (const p of partitions) total += Number(ends.find((e) => e.partition === p.partition).high) - Math.max(0, Number(p.offset));
  }
  return total;
}
const retryTopics = (await admin.listTopics()).filter((t) => t.startsWith(`${run}.retry.`));
const samples = [];
async function sample() {
  const s = {
    t: elapsed(),
    published,
    received,
    producerRss: rss(apps[0].child.pid),
    deliveryRss: rss(apps[1].child.pid),
    sourceLag: await lag(`${run}-producer`, [`${run}.events`]),
    deliveryLag: await lag(`${run}-delivery`, [`${run}.deliveries`, ...retryTopics]),
  };
  samples.push(s);
  console.log(
    `t=${String(s.t).padStart(5)}s published ${String(s.published).padStart(8)} received ${String(s.received).padStart(9)}  RSS producer ${mib(s.producerRss)} MiB delivery ${mib(s.deliveryRss)} MiB  lag source ${s.sourceLag} deliveries ${s.deliveryLag}`,
  );
}
console.log(`soak: ${opts.rate} events/s × ${opts.subscriptions} subscriptions = ${opts.rate * opts.subscriptions} deliveries/s for ${opts.duration} s (run ${run})`);
while (Date.now() < publishUntil) {
  await sleep(opts.sample * 1000);
  await sample();
}
await load;
const expected = published * opts.subscriptions;
const drainUntil = Date.now() + opts.drain * 1000;
while (seen.size < expected && Date.now() < drainUntil) await sleep(500);
await sample();

// ------------------------------------------------------------------ summary
const warm = samples.find((s) => s.t >= 60) ?? samples[0];
const last = samples.at(-1);
const duplicates = [...seen.values()].reduce((n, c) => n + c - 1, 0);
const summary = {
  run,
  options: opts,
  published,
  expected,
  received: seen.size,
  missing: expected - seen.size,
  duplicates,
  rssMiB: Object.fromEntries(['producer', 'delivery'].map((a) => [a, { afterWarmUp: mib(warm[`${a}Rss`]), peak: mib(Math.max(...samples.map((s) => s[`${a}Rss`]))), end: mib(last[`${a}Rss`]) }])),
  lagAtEnd: { source: last.sourceLag, deliveries: last.deliveryLag },
  maxLag: { source: Math.max(...samples.map((s) => s.sourceLag)), deliveries: Math.max(...samples.map((s) => s.deliveryLag)) },
};
console.log(JSON.stringify(summary, null, 2));
if (opts.json) writeFileSync(opts.json, `${JSON.stringify({ summary, samples }, null, 2)}\n`);
await stopApps();
// The run's topics go (its subscriptions are on <run>.subscriptions, so nothing is left behind).
await admin.deleteTopics({ topics: (await admin.listTopics()).filter((t) => t.startsWith(`${run}.`)) }).catch(() => undefined);
await Promise.all([producer.disconnect(), admin.disconnect()]);
for (const receiver of receivers) {
  receiver.closeAllConnections();
  receiver.close();
}
process.exit(summary.missing === 0 ? 0 : 1);
