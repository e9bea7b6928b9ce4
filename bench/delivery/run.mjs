#!/usr/bin/env node
// Delivery benchmark: the whole gateway (both apps, a real broker) against a local
// receiver with many endpoints, some of them slow, hanging or failing.
//
//   npm run bench:delivery -- --scenario=isolation      healthy run, then 10% faulty endpoints: p99 ratio
//   npm run bench:delivery -- --scenario=healthy        1,000 endpoints, all answer 200 at once
//   npm run bench:delivery -- --scenario=faulty         the same, 10% of endpoints hang (half) or answer 500 (half)
//   npm run bench:delivery -- --scenario=slow           100 endpoints answering after 100 ms, a 20,000-event backlog
//
// What it does: ensures a broker (scripts/kafka.sh up; stops it at the end only if it
// started it), builds dist/ (unless --no-build), forks the receiver (receiver.mjs),
// starts the producer and delivery apps from dist/ on fresh topics (a TOPIC_PREFIX of
// its own per run), creates one subscription per endpoint (each event goes to exactly
// one endpoint, through a data.ep filter), publishes events with kafkajs, reads the
// results and dlq topics back, and reports, per phase: published / delivered /
// dead-lettered / pending, duplicates, healthy endpoints' latency (receipt at the
// receiver minus the publish time stamped in the event), deliveries/s, the receiver's
// peak concurrency, and the apps' CPU seconds and peak RSS. A phase is VOID when
// published ≠ delivered + dead-lettered + pending (an event counted twice, or records
// for events this run never published). It stops everything it started, also on
// errors and Ctrl-C, and deletes its topics (unless --keep-topics).
//
// Options (defaults per scenario in SCENARIOS below):
//   --endpoints=N --rate=EV_PER_S --duration=S --warmup=S (all-ok traffic first, not reported)
//   --tick-ms=5 (the paced publisher sends what is due every tick, each event stamped with its send time)
//   --events=N (drain backlog) --backlog-rate=5000 (events/s while the backlog is published)
//   --faulty-share=0.1 --delay-ms=100 (slow endpoints) --origins=N (listening ports; default one per endpoint)
//   --retry=10,20 (subscriptions' retry schedule in seconds; default: empty list)
//   --timeout-ms=2000 (DELIVERY_TIMEOUT_MS) --max-in-flight=N (DELIVERY_MAX_IN_FLIGHT)
//   --connections-per-origin=N --partitions=6 (TOPIC_PARTITIONS) --app-env=KEY=VALUE (repeatable; faulty and
//   isolation set DELIVERY_BREAKER_COOLDOWN_MS=5000, see FAULTY_ENV)
//   --drain-timeout=S (wait for outcomes after publishing; default 120) --no-build --root=DIR (gateway
//   checkout whose dist/ runs; default this repository) --keep-topics --json=FILE (write the summary)
// Environment: KAFKA_BROKERS (default 127.0.0.1:9092). For a local broker on another port, also set
// KAFKA_PORT / KAFKA_CONTROLLER_PORT / KAFKA_DATA_DIR as for scripts/kafka.sh. The Kafka connection
// settings (KAFKA_SECURITY_PROTOCOL, KAFKA_SSL_*, KAFKA_SASL_*, KAFKA_OAUTH_*) go to the apps, and the
// harness's own clients use them too (built by the gateway's createKafka from this repository's dist/,
// which --no-build or --root=DIR leave as they are: run npm run build here first).
//
// Only 127.0.0.1 is contacted. Figures and method: docs/benchmarks.md.
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import kafkajs from 'kafkajs';
import { gatewayKafka } from '../../scripts/lib/gateway-kafka.mjs';
import { APP_NODE_FLAGS, freePort, quietKafkajsWarnings } from '../../scripts/lib/local.mjs';
import {
  CLK_TCK,
  createSubscriptions as createSubscriptionsKit,
  describeExit,
  ensureBroker as startBroker,
  findBrokerPid as brokerPidOf,
  fmtInt,
  fmtMs,
  gatewayEnv,
  machineCpu,
  now,
  num,
  parseArgs,
  percentile,
  printHeaderComment,
  procUsage,
  publishBacklog as publishBacklogKit,
  publishPaced as publishPacedKit,
  ReceiverProcess,
  runMain,
  stopBroker,
  run,
  spawnLogged,
  stopProcess,
  tail,
  topicSize as topicSizeOf,
  waitReadyz,
} from '../lib/kit.mjs';

const { logLevel, Partitioners } = kafkajs;

quietKafkajsWarnings();

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BROKERS = (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(',').map((s) => s.trim()).filter(Boolean);
const READY_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 30_000;
const EVENT_TYPE = 'bench.event';

// ------------------------------------------------------------------ options
// With faulty endpoints the circuit breaker's cool-down is 5 s instead of the gateway's default 30 s:
// an open breaker lets one held-back job through per cool-down, so with 30 s the jobs of a dead
// endpoint take minutes to be dead-lettered and the run could not account for every event in time.
// (Gateways without a breaker ignore the setting.) --app-env=DELIVERY_BREAKER_COOLDOWN_MS=30000 overrides it.
const FAULTY_ENV = { DELIVERY_BREAKER_COOLDOWN_MS: '5000' };
const SCENARIOS = {
  healthy: { endpoints: 1000, mode: 'paced', rate: 500, duration: 30, warmup: 15, phases: ['healthy'] },
  faulty: { endpoints: 1000, mode: 'paced', rate: 500, duration: 30, warmup: 15, phases: ['faulty'], appEnv: FAULTY_ENV },
  isolation: { endpoints: 1000, mode: 'paced', rate: 500, duration: 30, warmup: 15, phases: ['healthy', 'faulty'], appEnv: FAULTY_ENV },
  slow: { endpoints: 100, mode: 'drain', events: 20_000, phases: ['slow'] },
};

const raw = parseArgs(process.argv.slice(2));
const known = new Set([
  'appEnv', 'scenario', 'endpoints', 'rate', 'duration', 'warmup', 'events', 'faultyShare', 'delayMs', 'origins', 'retry', 'timeoutMs', 'maxInFlight',
  'connectionsPerOrigin', 'partitions', 'tickMs', 'backlogRate', 'drainTimeout', 'noBuild', 'root', 'keepTopics', 'json', 'help',
]);
for (const k of Object.keys(raw)) if (!known.has(k)) throw new Error(`unknown option --${k.replace(/[A-Z]/g, (ch) => `-${ch.toLowerCase()}`)}`);
if (raw.help) {
  printHeaderComment(fileURLToPath(import.meta.url));
  process.exit(0);
}
const scenarioName = raw.scenario ?? 'isolation';
const scenario = SCENARIOS[scenarioName];
if (!scenario) throw new Error(`--scenario must be one of ${Object.keys(SCENARIOS).join(', ')}`);
const opts = {
  scenario: scenarioName,
  mode: scenario.mode,
  phases: scenario.phases,
  endpoints: num(raw.endpoints ?? scenario.endpoints, 'endpoints', { min: 1, int: true }),
  rate: num(raw.rate ?? scenario.rate ?? 0, 'rate', { min: 0 }),
  duration: num(raw.duration ?? scenario.duration ?? 0, 'duration', { min: 0 }),
  warmup: num(raw.warmup ?? scenario.warmup ?? 0, 'warmup', { min: 0 }),
  events: num(raw.events ?? scenario.events ?? 0, 'events', { min: 0, int: true }),
  faultyShare: num(raw.faultyShare ?? 0.1, 'faulty-share', { min: 0 }),
  delayMs: num(raw.delayMs ?? 100, 'delay-ms', { min: 0, int: true }),
  retry: raw.retry === undefined || raw.retry === true || raw.retry === '' ? [] : String(raw.retry).split(',').map((s) => num(s, 'retry', { int: true })),
  timeoutMs: num(raw.timeoutMs ?? 2000, 'timeout-ms', { min: 100, int: true }),
  maxInFlight: raw.maxInFlight === undefined ? undefined : num(raw.maxInFlight, 'max-in-flight', { min: 1, int: true }),
  connectionsPerOrigin: raw.connectionsPerOrigin === undefined ? undefined : num(raw.connectionsPerOrigin, 'connections-per-origin', { min: 1, int: true }),
  partitions: num(raw.partitions ?? 6, 'partitions', { min: 1, int: true }),
  tickMs: num(raw.tickMs ?? 5, 'tick-ms', { min: 1, int: true }),
  backlogRate: num(raw.backlogRate ?? 5000, 'backlog-rate', { min: 10 }),
  drainTimeoutMs: num(raw.drainTimeout ?? 120, 'drain-timeout', { min: 1 }) * 1000,
  build: !raw.noBuild,
  root: path.resolve(typeof raw.root === 'string' ? raw.root : REPO),
  keepTopics: Boolean(raw.keepTopics),
  json: typeof raw.json === 'string' ? path.resolve(raw.json) : undefined,
  appEnv: { ...scenario.appEnv, ...raw.appEnv },
};
opts.origins = num(raw.origins ?? opts.endpoints, 'origins', { min: 1, int: true });
if (opts.faultyShare > 1) throw new Error('--faulty-share is a fraction between 0 and 1');
if (opts.mode === 'paced' && (opts.rate <= 0 || opts.duration <= 0)) throw new Error('--rate and --duration must be positive');
if (opts.mode === 'drain' && opts.events <= 0) throw new Error('--events must be positive');

// ------------------------------------------------------------------ run state (cleaned up at the end)
const runId = randomBytes(3).toString('hex');
const prefix = `bench-${scenarioName}-${runId}`;
const topics = {
  source: `${prefix}.events`,
  deliveries: `${prefix}.deliveries`,
  results: `${prefix}.results`,
  dlq: `${prefix}.dlq`,
  invalid: `${prefix}.invalid`,
  subscriptions: `${prefix}.subscriptions`,
};
const logDir = path.join(os.tmpdir(), 'bench-delivery', prefix);
const state = { brokerStarted: false, brokerUp: false, apps: [], receiver: undefined, clients: [], admin: undefined, topicsTouched: false };
const interrupt = new globalThis.AbortController();
const checkpoint = () => interrupt.signal.throwIfAborted();
const pause = (ms) => sleep(ms, undefined, { signal: interrupt.signal });
const t0 = now();
const say = (msg) => console.log(`[bench ${((now() - t0) / 1000).toFixed(1).padStart(6)} s] ${msg}`);

// ------------------------------------------------------------------ small helpers
const findBrokerPid = () => brokerPidOf(BROKERS);
const topicSize = (topic) => topicSizeOf(state.admin, topic);
const publishPaced = (producer, phase, rate, seconds) =>
  publishPacedKit({ producer, topic: topics.source, rate, seconds, tickMs: opts.tickMs, makeEvent: (seq, sentAt) => makeEvent(phase, seq, sentAt), checkpoint });
const publishBacklog = (producer, phase, count, rate) =>
  publishBacklogKit({ producer, topic: topics.source, count, rate, makeEvent: (seq, sentAt) => makeEvent(phase, seq, sentAt), pause, checkpoint });

function snapshot() {
  const apps = {};
  for (const a of state.apps) apps[a.name] = procUsage(a.child.pid);
  if (state.brokerPid) apps.broker = procUsage(state.brokerPid);
  return {
    at: now(),
    apps,
    receiver: state.receiver ? procUsage(state.receiver.child.pid) : undefined,
    harness: process.cpuUsage(),
    machine: machineCpu(),
  };
}

function usageBetween(a, b) {
  const out = { wallS: (b.at - a.at) / 1000, cpuS: {}, peakRssMb: {} };
  for (const [name, u] of Object.entries(b.apps)) {
    if (!u) continue;
    out.cpuS[name] = u.cpu - (a.apps[name]?.cpu ?? 0);
    out.peakRssMb[name] = u.hwmMb;
  }
  if (b.receiver) out.cpuS.receiver = b.receiver.cpu - (a.receiver?.cpu ?? 0);
  out.cpuS.harness = (b.harness.user + b.harness.system - a.harness.user - a.harness.system) / 1e6;
  const dt = b.machine.total - a.machine.total;
  out.machineBusyPct = dt > 0 ? (100 * (b.machine.busy - a.machine.busy)) / dt : NaN;
  // CPU of every other process on the machine (other users' work, the kernel): the benchmark shares the cores with it.
  const ours = Object.values(out.cpuS).reduce((x, y) => x + y, 0);
  out.othersCpuS = Math.max(0, (b.machine.busy - a.machine.busy) / CLK_TCK - ours);
  return out;
}

// ------------------------------------------------------------------ receiver process
// ------------------------------------------------------------------ gateway apps
const appEnv = (ports, token, secretsKey) =>
  gatewayEnv({
    root: opts.root,
    brokers: BROKERS,
    clientId: `bench-${runId}`,
    prefix,
    partitions: opts.partitions,
    sourceTopic: topics.source,
    ports,
    token,
    secretsKey,
    timeoutMs: opts.timeoutMs,
    extra: {
      ...(opts.maxInFlight !== undefined && { DELIVERY_MAX_IN_FLIGHT: String(opts.maxInFlight) }),
      ...(opts.connectionsPerOrigin !== undefined && { DELIVERY_CONNECTIONS_PER_ORIGIN: String(opts.connectionsPerOrigin) }),
      ...opts.appEnv,
    },
  });

function startApp(name, env, port) {
  const entry = path.join(opts.root, `dist/apps/${name}/src/main.js`);
  const app = spawnLogged(name, process.execPath, [...APP_NODE_FLAGS, entry], { cwd: opts.root, env, logDir });
  app.port = port;
  state.apps.push(app);
  return app;
}

function assertAppsRunning() {
  for (const a of state.apps) {
    if (a.exit) throw new Error(`the ${a.name} app exited with ${describeExit(a.exit)}; last lines of ${a.logFile}:\n${tail(a.logFile)}`);
  }
}

const waitReady = (app) =>
  waitReadyz(`http://127.0.0.1:${app.port}`, {
    name: app.name,
    timeoutMs: READY_TIMEOUT_MS,
    pause,
    assertRunning: () => {
      checkpoint();
      assertAppsRunning();
    },
  });

const stopApp = (app) => stopProcess(app, { timeoutMs: STOP_TIMEOUT_MS, say });

// ------------------------------------------------------------------ subscriptions
const createSubscriptions = (apiUrl, token, receiverPorts) =>
  createSubscriptionsKit({
    apiUrl,
    token,
    checkpoint,
    bodies: Array.from({ length: opts.endpoints }, (_, i) => ({
      url: `http://127.0.0.1:${receiverPorts[i % receiverPorts.length]}/ep/${i}`,
      events: [EVENT_TYPE],
      filters: { 'data.ep': [String(i)] },
      retry: { schedule: opts.retry },
      description: `${prefix} endpoint ${i}`,
    })),
  });

// ------------------------------------------------------------------ events and outcomes
/** eventId → { phase, ep, seq, sentAt } */
const published = new Map();
/** phase → { published, accounted } (accounted: events with a delivered result or a dead letter) */
const phaseBook = new Map();
/** eventId → { delivered, dlq, resultDead, skipped, other, records, retries } */
const outcomes = new Map();
const recordCounts = { results: 0, dlq: 0, invalid: 0, strays: 0, byOutcome: {} };

function bookFor(phase) {
  let b = phaseBook.get(phase);
  if (!b) phaseBook.set(phase, (b = { published: 0, accounted: 0 }));
  return b;
}

function outcomeOf(eventId) {
  let o = outcomes.get(eventId);
  if (!o) outcomes.set(eventId, (o = { delivered: 0, dlq: 0, resultDead: 0, skipped: 0, other: 0, records: 0, retries: 0 }));
  return o;
}

/** Counts one record from the results or dlq topic against the event it is about. */
function account(topic, value) {
  const isDlq = topic === topics.dlq;
  const eventId = isDlq ? value?.job?.eventId : value?.eventId;
  const ev = published.get(eventId);
  if (!ev) {
    recordCounts.strays++;
    return;
  }
  const o = outcomeOf(eventId);
  const wasAccounted = o.delivered > 0 || o.dlq > 0;
  if (isDlq) {
    recordCounts.dlq++;
    o.dlq++;
  } else {
    recordCounts.results++;
    o.records++;
    recordCounts.byOutcome[value.outcome] = (recordCounts.byOutcome[value.outcome] ?? 0) + 1;
    if (value.attempt > 1) o.retries++;
    if (value.outcome === 'delivered') o.delivered++;
    else if (value.outcome === 'dead_lettered') o.resultDead++;
    else if (value.outcome === 'skipped') o.skipped++;
    else o.other++;
  }
  const book = bookFor(ev.phase);
  if (!wasAccounted && (o.delivered > 0 || o.dlq > 0)) book.accounted++;
}

async function startReader(kafka) {
  const admin = state.admin;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const existing = new Set(await admin.listTopics());
    if ([topics.results, topics.dlq, topics.invalid].every((t) => existing.has(t))) break;
    if (Date.now() > deadline) throw new Error(`the gateway topics ${topics.results}, ${topics.dlq} and ${topics.invalid} do not exist after 60 s`);
    await pause(250);
  }
  const reader = kafka.consumer({ groupId: `${prefix}-reader`, allowAutoTopicCreation: false, maxWaitTimeInMs: 100 });
  state.clients.push(reader);
  state.reader = reader;
  await reader.connect();
  await reader.subscribe({ topics: [topics.results, topics.dlq, topics.invalid], fromBeginning: true });
  reader.on(reader.events.CRASH, ({ payload }) => {
    if (!payload.restart) state.readerError = payload.error; // kafkajs restarts after a retriable crash
  });
  await reader.run({
    autoCommit: false,
    partitionsConsumedConcurrently: 3,
    eachBatch: async ({ batch }) => {
      for (const message of batch.messages) {
        if (batch.topic === topics.invalid) {
          recordCounts.invalid++;
          continue;
        }
        let value;
        try {
          value = JSON.parse(message.value?.toString('utf8') ?? 'null');
        } catch {
          recordCounts.strays++;
          continue;
        }
        account(batch.topic, value);
      }
    },
  });
}

function makeEvent(phase, seq, sentAt) {
  const ep = seq % opts.endpoints;
  const id = `${runId}-${phase}-${seq}`;
  published.set(id, { phase, ep, seq, sentAt });
  bookFor(phase).published++;
  return { key: String(ep), value: JSON.stringify({ id, type: EVENT_TYPE, data: { ep: String(ep), seq, phase, sentAt } }) };
}

/** Until every event of `phase` is delivered or dead-lettered, or the timeout; false on timeout. */
async function waitAccounted(phase, timeoutMs) {
  const book = bookFor(phase);
  const deadline = now() + timeoutMs;
  let lastReport = now();
  while (book.accounted < book.published) {
    checkpoint();
    assertAppsRunning();
    if (state.readerError) throw new Error(`the results reader crashed: ${state.readerError.message}`);
    if (now() > deadline) return false;
    if (now() - lastReport > 10_000) {
      lastReport = now();
      say(`  ${phase}: ${fmtInt(book.accounted)}/${fmtInt(book.published)} events accounted for…`);
    }
    await pause(100);
  }
  return true;
}

// ------------------------------------------------------------------ behaviours and reports
/** The endpoints that misbehave in a faulty phase: `share` of them, evenly spread; half hang, half answer 500. */
function faultyBehaviours(n, share) {
  const list = new Array(n).fill('ok');
  let k = 0;
  for (let i = 0; i < n; i++) {
    if (Math.floor((i + 1) * share) > Math.floor(i * share)) list[i] = k++ % 2 === 0 ? 'hang' : '500';
  }
  return list;
}

function behavioursFor(phase) {
  if (phase === 'faulty') return faultyBehaviours(opts.endpoints, opts.faultyShare);
  if (phase === 'slow') return new Array(opts.endpoints).fill(`delay:${opts.delayMs}`);
  return new Array(opts.endpoints).fill('ok');
}

function summarisePhase({ phase, behaviours, publishInfo, complete, usage, rstats, subset, extra = {} }) {
  const healthy = behaviours.map((b) => b === 'ok' || b.startsWith('delay:'));
  const book = bookFor(phase);
  let delivered = 0;
  let deadLettered = 0;
  let both = 0;
  let skipped = 0;
  let deadResultOnly = 0;
  let resultDupes = 0;
  let retries = 0;
  let healthyPublished = 0;
  let healthyDead = 0;
  let faultyPublished = 0;
  let faultyDead = 0;
  let faultyDelivered = 0;
  const pendingByKind = {};
  for (const [id, ev] of published) {
    if (ev.phase !== phase) continue;
    const o = outcomes.get(id);
    const isDelivered = (o?.delivered ?? 0) > 0;
    const isDead = (o?.dlq ?? 0) > 0;
    if (isDelivered) delivered++;
    if (isDead) deadLettered++;
    if (isDelivered && isDead) both++;
    if (o?.skipped) skipped++;
    if (o && o.resultDead > 0 && o.dlq === 0) deadResultOnly++;
    if (o && o.delivered > 1) resultDupes += o.delivered - 1;
    retries += o?.retries ?? 0;
    if (healthy[ev.ep]) {
      healthyPublished++;
      if (isDead) healthyDead++;
    } else {
      faultyPublished++;
      if (isDead) faultyDead++;
      if (isDelivered) faultyDelivered++;
    }
    if (!isDelivered && !isDead) pendingByKind[behaviours[ev.ep]] = (pendingByKind[behaviours[ev.ep]] ?? 0) + 1;
  }
  const pending = Object.values(pendingByKind).reduce((a, b) => a + b, 0);
  const identity = book.published === delivered + deadLettered + pending;
  const voidReasons = [];
  if (!identity) voidReasons.push(`published ${book.published} ≠ delivered ${delivered} + dead-lettered ${deadLettered} + pending ${pending} (${both} event(s) both delivered and dead-lettered)`);
  if (recordCounts.strays > 0) voidReasons.push(`${recordCounts.strays} result/dlq record(s) for events this run did not publish`);
  if (recordCounts.invalid > 0) voidReasons.push(`${recordCounts.invalid} record(s) on ${topics.invalid}: the gateway could not read some published events`);

  // Latency of healthy endpoints: first 2xx receipt per webhook-id minus the event's publish stamp.
  const firstReceipt = new Map();
  let receivedHealthy2xx = 0;
  for (const [ep, , sentAt, recvAt, status, webhookId] of rstats.rows) {
    if (status !== 200 || !healthy[ep]) continue;
    receivedHealthy2xx++;
    const prev = firstReceipt.get(webhookId);
    if (!prev || recvAt < prev[0]) firstReceipt.set(webhookId, [recvAt, sentAt]);
  }
  const latencies = [...firstReceipt.values()].map(([r, s]) => r - s).sort((a, b) => a - b);
  // p99 per window of publish time: shows warm-up, drift and stalls within the phase.
  const windowMs = 5_000;
  const firstSent = Math.min(...[...firstReceipt.values()].map(([, s]) => s));
  const windows = [];
  for (const [r, s] of firstReceipt.values()) (windows[Math.floor((s - firstSent) / windowMs)] ??= []).push(r - s);
  const p99ByWindow = Array.from(windows, (w) => (w ? percentile(w.sort((a, b) => a - b), 99) : NaN));
  // The same figure over a subset of the endpoints (isolation: the endpoints that stay healthy in the faulty phase).
  let subsetLatency;
  if (subset) {
    const ids = new Map();
    for (const [ep, , sentAt, recvAt, status, webhookId] of rstats.rows) {
      if (status !== 200 || !healthy[ep] || !subset[ep]) continue;
      const prev = ids.get(webhookId);
      if (prev === undefined || recvAt - sentAt < prev) ids.set(webhookId, recvAt - sentAt);
    }
    let expected = 0;
    for (const ev of published.values()) if (ev.phase === phase && healthy[ev.ep] && subset[ev.ep]) expected++;
    const l = [...ids.values()].sort((a, b) => a - b);
    const all = l.concat(new Array(Math.max(0, expected - l.length)).fill(Infinity));
    subsetLatency = { endpoints: subset.filter(Boolean).length, n: l.length, p50: percentile(all, 50), p99: percentile(all, 99) };
  }
  const notReceived = Math.max(0, healthyPublished - latencies.length);
  const withMissing = latencies.concat(new Array(notReceived).fill(Infinity));
  const receipts = [...firstReceipt.values()].map(([r]) => r).sort((a, b) => a - b);
  const firstR = receipts[0];
  const lastR = receipts[receipts.length - 1];
  // The middle 80% of the receipts, without the ramp-up and the tail.
  const i10 = Math.floor(0.1 * (receipts.length - 1));
  const i90 = Math.floor(0.9 * (receipts.length - 1));
  const steady = receipts[i90] > receipts[i10] ? ((i90 - i10) * 1000) / (receipts[i90] - receipts[i10]) : NaN;
  return {
    phase,
    endpoints: { total: behaviours.length, healthy: healthy.filter(Boolean).length, behaviours: countBy(behaviours) },
    publish: publishInfo,
    complete,
    published: book.published,
    delivered,
    deadLettered,
    pending,
    pendingByBehaviour: pendingByKind,
    bothDeliveredAndDeadLettered: both,
    skipped,
    deadLetteredResultWithoutDlqRecord: deadResultOnly,
    invalidRecords: recordCounts.invalid,
    identity,
    void: voidReasons,
    healthyEvents: { published: healthyPublished, deadLettered: healthyDead },
    faultyEvents: { published: faultyPublished, deadLettered: faultyDead, delivered: faultyDelivered },
    resultRecords: { ...recordCounts.byOutcome },
    retryRecords: retries,
    duplicates: { results: resultDupes, receiver: rstats.duplicateDeliveries, repeatedRequests: rstats.repeatedRequests },
    latencyMs: {
      n: latencies.length,
      notReceived,
      p50: percentile(withMissing, 50),
      p90: percentile(withMissing, 90),
      p99: percentile(withMissing, 99),
      p999: percentile(withMissing, 99.9),
      max: notReceived > 0 ? Infinity : latencies[latencies.length - 1],
      p99ByWindow,
      windowS: windowMs / 1000,
      subset: subsetLatency,
    },
    deliveriesPerS: {
      firstToLast: receipts.length > 1 ? ((receipts.length - 1) * 1000) / (lastR - firstR) : NaN,
      steady10to90: steady,
      receivedHealthy2xx,
    },
    receiver: { requests: rstats.requests, peakInFlight: rstats.peakInFlight },
    usage,
    ...extra,
  };
}

function countBy(list) {
  const out = {};
  for (const x of list) out[x] = (out[x] ?? 0) + 1;
  return out;
}

function printPhase(s) {
  const line = (k, v) => console.log(`  ${k.padEnd(22)} ${v}`);
  console.log('');
  console.log(`=== phase ${s.phase}: ${s.endpoints.total} endpoints (${Object.entries(s.endpoints.behaviours).map(([k, v]) => `${v} ${k}`).join(', ')}) ===`);
  if (s.void.length > 0) {
    console.log('  ################################################################');
    console.log(`  ###  VOID RUN: ${s.void.join('; ')}`);
    console.log('  ################################################################');
  }
  if (s.publish.achievedRate !== undefined)
    line('published', `${fmtInt(s.published)} (paced, target ${opts.rate}/s for ${opts.duration} s, achieved ${s.publish.achievedRate.toFixed(1)}/s)`);
  else line('published', `${fmtInt(s.published)} (backlog, published in ${s.publish.seconds.toFixed(1)} s, fanned out in ${s.fanOutSeconds?.toFixed(1)} s)`);
  line('delivered', fmtInt(s.delivered));
  line('dead-lettered', fmtInt(s.deadLettered));
  line('pending', `${fmtInt(s.pending)}${s.pending ? ` ${JSON.stringify(s.pendingByBehaviour)}` : ''}${s.complete ? '' : `  (gave up after --drain-timeout=${opts.drainTimeoutMs / 1000} s)`}`);
  line(
    'accounting',
    `published ${s.published} ${s.identity ? '=' : '≠'} delivered ${s.delivered} + dead-lettered ${s.deadLettered} + pending ${s.pending}` +
      `  ${s.identity && s.pending === 0 ? '✓ exact' : s.identity ? '(incomplete)' : '✗'}`,
  );
  line('healthy endpoints', `${fmtInt(s.healthyEvents.published)} events, ${s.healthyEvents.deadLettered} dead-lettered`);
  if (s.faultyEvents.published > 0) line('faulty endpoints', `${fmtInt(s.faultyEvents.published)} events, ${s.faultyEvents.deadLettered} dead-lettered, ${s.faultyEvents.delivered} delivered`);
  if (s.deadLetteredResultWithoutDlqRecord > 0) line('dead_lettered, no dlq', `${s.deadLetteredResultWithoutDlqRecord} event(s) have a dead_lettered result but no record on ${topics.dlq}`);
  line('result records', Object.entries(s.resultRecords).map(([k, v]) => `${k} ${v}`).join(', ') + ` (whole run so far); retry attempts ${s.retryRecords}`);
  line('duplicates', `results ${s.duplicates.results}, receiver ${s.duplicates.receiver} (requests repeating a webhook-id: ${s.duplicates.repeatedRequests})`);
  const l = s.latencyMs;
  line(opts.mode === 'drain' ? 'latency ms (backlog)' : 'healthy latency ms', `p50 ${fmtMs(l.p50)}  p90 ${fmtMs(l.p90)}  p99 ${fmtMs(l.p99)}  p99.9 ${fmtMs(l.p999)}  max ${fmtMs(l.max)}  (n=${l.n}${l.notReceived ? `, ${l.notReceived} not received` : ''})`);
  if (l.subset) line(`  same ${l.subset.endpoints} endpoints`, `p50 ${fmtMs(l.subset.p50)}  p99 ${fmtMs(l.subset.p99)}  (n=${l.subset.n}; the endpoints that stay healthy in the faulty phase)`);
  if (l.p99ByWindow.length > 1) line(`p99 per ${l.windowS} s sent`, l.p99ByWindow.map((v) => fmtMs(v)).join(' '));
  line('deliveries/s', `${fmtInt(s.deliveriesPerS.firstToLast)} (first→last receipt), ${fmtInt(s.deliveriesPerS.steady10to90)} (10%→90% of receipts)`);
  line('receiver', `${fmtInt(s.receiver.requests)} requests, peak ${s.receiver.peakInFlight} in flight`);
  const u = s.usage;
  line('CPU seconds', `${Object.entries(u.cpuS).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')} over ${u.wallS.toFixed(1)} s; other processes ${u.othersCpuS.toFixed(1)}; machine ${u.machineBusyPct.toFixed(0)}% busy (${os.cpus().length} cores)`);
  line('peak RSS (VmHWM)', Object.entries(u.peakRssMb).map(([k, v]) => `${k} ${v.toFixed(0)} MB`).join(', '));
}

// ------------------------------------------------------------------ the run
async function ensureBroker() {
  state.brokerStarted = await startBroker(BROKERS, say);
  checkpoint();
  state.brokerUp = true;
}

async function main() {
  say(`scenario ${opts.scenario}, run ${runId}, topics ${prefix}.*, broker ${BROKERS.join(',')}, gateway ${opts.root}`);
  const commit = await run('git', ['-C', opts.root, 'rev-parse', '--short', 'HEAD'], { quiet: true }).catch(() => ({ output: '?' }));
  const dirty = await run('git', ['-C', opts.root, 'status', '--porcelain', '--', 'apps', 'libs'], { quiet: true }).catch(() => ({ output: '' }));
  const gatewayCommit = `${commit.output.trim() || 'not a git checkout'}${dirty.output.trim() ? ' (apps/ or libs/ modified)' : ''}`;
  const settings = { DELIVERY_TIMEOUT_MS: opts.timeoutMs, TOPIC_PARTITIONS: opts.partitions, DELIVERY_MAX_IN_FLIGHT: opts.maxInFlight, DELIVERY_CONNECTIONS_PER_ORIGIN: opts.connectionsPerOrigin, ...opts.appEnv };
  say(`gateway settings: ${Object.entries(settings).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`).join(' ')} (others: the gateway's defaults)`);
  await ensureBroker();
  state.brokerPid = findBrokerPid();
  if (opts.build) {
    const b = await run('bash', [path.join(opts.root, 'scripts/run.sh'), 'build'], { cwd: opts.root });
    checkpoint();
    if (b.code !== 0) throw new Error(`build failed with exit code ${b.code}`);
  }
  for (const name of ['producer', 'delivery']) {
    const entry = path.join(opts.root, `dist/apps/${name}/src/main.js`);
    if (!existsSync(entry)) throw new Error(`${entry} is missing: build first (drop --no-build)`);
  }

  const kafka = await gatewayKafka('load', { brokers: BROKERS, clientId: `bench-${runId}`, logLevel: logLevel.NOTHING, retry: { retries: 10 } });
  state.admin = kafka.admin();
  const producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  state.clients.push(producer, state.admin);
  await Promise.all([state.admin.connect(), producer.connect()]);

  state.receiver = new ReceiverProcess();
  const { ports: receiverPorts } = await state.receiver.call('listen', { endpoints: opts.endpoints, origins: opts.origins });
  say(`receiver (pid ${state.receiver.child.pid}) listening on ${receiverPorts.length} port(s) of 127.0.0.1`);

  const token = `bench_${randomBytes(18).toString('base64url')}`;
  const ports = { api: await freePort(), delivery: await freePort() };
  const env = await appEnv(ports, token, randomBytes(32).toString('hex'));
  state.topicsTouched = true;
  const producerApp = startApp('producer', env, ports.api);
  await waitReady(producerApp);
  say(`producer app ready (pid ${producerApp.child.pid}); creating ${opts.endpoints} subscriptions…`);
  const subStart = now();
  await createSubscriptions(`http://127.0.0.1:${ports.api}`, token, receiverPorts);
  say(`${opts.endpoints} subscriptions created in ${((now() - subStart) / 1000).toFixed(1)} s (retry schedule [${opts.retry.join(', ')}])`);

  const phases = [];
  const report = {
    scenario: opts.scenario,
    runId,
    gatewayCommit,
    options: { ...opts, appEnv: opts.appEnv },
    machine: { cores: os.cpus().length, model: os.cpus()[0]?.model, node: process.version, memGiB: +(os.totalmem() / 2 ** 30).toFixed(1) },
    phases,
  };

  if (opts.mode === 'paced') {
    const deliveryApp = startApp('delivery', env, ports.delivery);
    await waitReady(deliveryApp);
    say(`delivery app ready (pid ${deliveryApp.child.pid})`);
    await startReader(kafka);
    const steps = [...(opts.warmup > 0 ? [{ phase: 'warmup', seconds: opts.warmup }] : []), ...opts.phases.map((p) => ({ phase: p, seconds: opts.duration }))];
    for (const { phase, seconds } of steps) {
      const behaviours = phase === 'warmup' ? new Array(opts.endpoints).fill('ok') : behavioursFor(phase);
      await state.receiver.call('behave', { behaviours });
      await state.receiver.call('phase', { name: phase });
      const before = snapshot();
      say(`phase ${phase}: publishing ${fmtInt(opts.rate * seconds)} events at ${opts.rate}/s for ${seconds} s…`);
      const publishInfo = await publishPaced(producer, phase, opts.rate, seconds);
      say(`phase ${phase}: published (achieved ${publishInfo.achievedRate.toFixed(1)}/s); waiting for every outcome…`);
      const complete = await waitAccounted(phase, opts.drainTimeoutMs);
      const usage = usageBetween(before, snapshot());
      const rstats = await state.receiver.call('stats', { phase });
      // Isolation: the healthy phase's figure is also taken over the endpoints that stay healthy in the faulty phase.
      const subset = phase === 'healthy' && opts.phases.includes('faulty') ? behavioursFor('faulty').map((b) => b === 'ok') : undefined;
      const summary = summarisePhase({ phase, behaviours, publishInfo, complete, usage, rstats, subset });
      if (phase === 'warmup') {
        say(`warm-up done: ${summary.delivered}/${summary.published} delivered, healthy p99 ${fmtMs(summary.latencyMs.p99)} ms (not reported)`);
        continue;
      }
      phases.push(summary);
      printPhase(summary);
      console.log('');
    }
  } else {
    await startReader(kafka);
    const phase = opts.phases[0];
    const behaviours = behavioursFor(phase);
    await state.receiver.call('behave', { behaviours });
    await state.receiver.call('phase', { name: phase });
    say(`phase ${phase}: publishing a backlog of ${fmtInt(opts.events)} events before the delivery app starts…`);
    const pubStart = now();
    const publishInfo = await publishBacklog(producer, phase, opts.events, opts.backlogRate);
    const deadline = now() + opts.drainTimeoutMs;
    while ((await topicSize(topics.deliveries)) < opts.events) {
      checkpoint();
      assertAppsRunning();
      if (now() > deadline) throw new Error(`the producer app did not fan out ${opts.events} jobs in time (its log: ${producerApp.logFile})`);
      await pause(200);
    }
    const fanOutSeconds = (now() - pubStart) / 1000;
    say(`backlog ready: ${fmtInt(opts.events)} jobs on ${topics.deliveries} (${fanOutSeconds.toFixed(1)} s); starting the delivery app…`);
    const before = snapshot();
    const deliveryApp = startApp('delivery', env, ports.delivery);
    const started = now();
    await waitReady(deliveryApp);
    say(`delivery app ready (pid ${deliveryApp.child.pid}, ${((now() - started) / 1000).toFixed(1)} s); draining…`);
    const complete = await waitAccounted(phase, opts.drainTimeoutMs);
    const drainedAt = now();
    const usage = usageBetween(before, snapshot());
    const rstats = await state.receiver.call('stats', { phase });
    const summary = summarisePhase({ phase, behaviours, publishInfo, complete, usage, rstats, extra: { fanOutSeconds } });
    const firstReceipt = Math.min(...rstats.rows.map((r) => r[3]));
    summary.drain = {
      deliveryAppStartToAllAccountedS: (drainedAt - started) / 1000,
      firstReceiptToAllAccountedS: (drainedAt - firstReceipt) / 1000,
      accountedPerS: (summary.delivered + summary.deadLettered) / ((drainedAt - firstReceipt) / 1000),
    };
    phases.push(summary);
    printPhase(summary);
    console.log(
      `  ${'drain'.padEnd(22)} all accounted ${summary.drain.firstReceiptToAllAccountedS.toFixed(1)} s after the first receipt ` +
        `(${fmtInt(summary.drain.accountedPerS)} outcomes/s); ${summary.drain.deliveryAppStartToAllAccountedS.toFixed(1)} s after the delivery app was spawned`,
    );
    console.log('');
  }

  // ---------------------------------------------------------------- verdicts
  let verdictFailed = false;
  const verdict = (ok, text) => {
    if (!ok) verdictFailed = true;
    console.log(`${ok ? 'MET   ' : 'MISSED'}  ${text}`);
  };
  console.log(`=== ${opts.scenario}: gateway ${gatewayCommit}, ${os.cpus().length} cores, ${process.version} ===`);
  for (const s of phases) {
    if (s.void.length > 0) console.log(`VOID    phase ${s.phase}: ${s.void.join('; ')}`);
    verdict(s.identity && s.pending === 0 && s.void.length === 0, `phase ${s.phase}: published ${s.published} = delivered ${s.delivered} + dead-lettered ${s.deadLettered} exactly (pending ${s.pending})`);
  }
  const byPhase = Object.fromEntries(phases.map((s) => [s.phase, s]));
  if (byPhase.healthy && byPhase.faulty) {
    const ratio = byPhase.faulty.latencyMs.p99 / byPhase.healthy.latencyMs.p99;
    const sameEndpoints = byPhase.healthy.latencyMs.subset;
    report.isolation = { healthyP99: byPhase.healthy.latencyMs.p99, faultyHealthyP99: byPhase.faulty.latencyMs.p99, ratio, sameEndpointsRatio: byPhase.faulty.latencyMs.p99 / sameEndpoints.p99 };
    verdict(
      Number.isFinite(ratio) && ratio <= 1.5,
      `healthy endpoints' p99 with ${Math.round(opts.faultyShare * 100)}% faulty endpoints: ${fmtMs(byPhase.faulty.latencyMs.p99)} ms vs ${fmtMs(byPhase.healthy.latencyMs.p99)} ms all-healthy = ` +
        `${Number.isFinite(ratio) ? ratio.toFixed(2) : '∞'}× (target ≤ 1.5×; over the same ${sameEndpoints.endpoints} endpoints in both phases: ${report.isolation.sameEndpointsRatio.toFixed(2)}×)`,
    );
  }
  if (byPhase.slow) {
    const s = byPhase.slow;
    const maxInFlight = opts.maxInFlight ?? 512;
    const ceiling = (maxInFlight * 1000) / Math.max(1, opts.delayMs);
    verdict(
      s.deliveriesPerS.steady10to90 >= 2000,
      `${opts.delayMs} ms receiver: ${fmtInt(s.deliveriesPerS.steady10to90)} deliveries/s (10%→90%), target ≥ 2,000; ` +
        `concurrency ceiling ${maxInFlight} in flight / ${opts.delayMs} ms = ${fmtInt(ceiling)}/s; receiver peak ${s.receiver.peakInFlight} in flight; ${opts.partitions} partitions`,
    );
  }
  console.log(`app logs: ${logDir}`);
  if (opts.json) {
    writeFileSync(opts.json, JSON.stringify(report, (_k, v) => (v === Infinity ? 'Infinity' : v), 2));
    console.log(`summary written to ${opts.json}`);
  }
  const anyVoid = phases.some((s) => s.void.length > 0);
  return anyVoid ? 2 : verdictFailed ? 1 : 0;
}

// ------------------------------------------------------------------ cleanup
let cleaning;
function cleanup() {
  cleaning ??= (async () => {
    for (const app of [...state.apps].reverse()) {
      try {
        await stopApp(app);
      } catch (err) {
        say(`stopping ${app.name}: ${err.message}`);
      }
    }
    await state.receiver?.close().catch(() => undefined);
    if (state.topicsTouched && !opts.keepTopics && state.admin) {
      try {
        // The named topics and any other the gateway made under this run's prefix (retry tiers).
        const mine = (await state.admin.listTopics()).filter((t) => t.startsWith(`${prefix}.`));
        if (mine.length > 0) await Promise.race([state.admin.deleteTopics({ topics: mine, timeout: 10_000 }), sleep(15_000)]);
      } catch (err) {
        say(`could not delete the run's topics: ${err.message}`);
      }
    }
    await Promise.all(state.clients.map((c) => Promise.race([c.disconnect().catch(() => undefined), sleep(10_000)])));
    if (state.brokerStarted) await stopBroker(BROKERS, say);
  })();
  return cleaning;
}

runMain(main, {
  name: 'bench',
  say,
  interrupt,
  cleanup,
  killNow: () => {
    for (const a of state.apps) if (!a.exit) a.child.kill('SIGKILL');
    if (state.receiver && !state.receiver.exit) state.receiver.child.kill('SIGKILL');
  },
});
