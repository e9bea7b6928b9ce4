#!/usr/bin/env node
// Side-by-side benchmark (issue #10): this gateway and its peers, each alone against the same
// broker and the same receiver, then a summary table and a chart written to docs/benchmarks.md.
//
//   npm run bench                                   everything (about an hour on 2 cores)
//   npm run bench -- --quick                        small backlogs, short phases, 1 run (a few minutes)
//   npm run bench -- --peers=gateway,kafkajs-each-batch --scenarios=S1,P --runs=1
//
// Systems (--peers=, default all):
//   kafka-hooks            @platformatic/kafka-hooks under wattpm, its defaults (schema default concurrency 1)
//   kafka-hooks-c100       the same with concurrency: 100
//   kafkajs-each-message   hand-written kafkajs consumer, eachMessage awaiting each undici POST
//   kafkajs-each-batch     hand-written kafkajs consumer, eachBatch + Promise.all, partitionsConsumedConcurrently
//   connect                Kafka Connect standalone + clescot HTTP sink, its defaults (okhttp: 5 per host)
//   connect-tuned          the same, okhttp dispatcher 256 (per host too), 256 async threads, pooled connections
//   gateway                this gateway, both apps from dist/, signing, result records, retries as shipped
// Scenarios (--scenarios=, default all):
//   S1     drain, fast receiver, fan-out 1 (every system)
//   S1x10  drain, fast receiver, fan-out 10 (gateway only: the peers post each event to one URL)
//   S2     drain, receiver answering after 100 ms, fan-out 1 (every system; measured over a window)
//   P      paced, open model, at 500 events/s and at half of the gateway's S1 figure (every system)
//   S3     1,000 endpoints, 10% hang or answer 500 (gateway only; runs bench/delivery/run.mjs --scenario=isolation)
//   S4     matching: 100,000 subscriptions, each event matches one (gateway only)
//
// Method: drain runs pre-produce a backlog on a fresh topic (6 partitions), then start the system;
// throughput = delivered ÷ (last receipt − first receipt). Paced runs start the system, wait for it
// to deliver a probe, warm up (not reported), then publish at a fixed rate stamping each event with
// its send time; latency = receipt − send. A run is VOID unless published (× fan-out) = delivered +
// dead-lettered + pending, with no delivery for an event that was not published; duplicates and
// per-key order violations are counted. CPU seconds and peak RSS cover every process of the system
// (wattpm and its workers; the JVM; both gateway apps) from the first receipt to the end.
//
// Options:
//   --runs=3 (S3 and S4 run once) --events=50000 (S1 backlog) --s2-events=30000 --s2-window=30 (s) --s4-subscriptions=100000
//   --s4-events=20000 --rates=500,half (P: events/s; "half" = half of the gateway's median S1)
//   --paced-seconds=20 --warmup=5 --partitions=6 --drain-timeout=60 (s of receipts at most per drain run: a
//   slower system is measured over that window, the rest counted as pending)
//   --app-env=KEY=VALUE (gateway setting, repeatable) --profile[=S1|S4] (one extra gateway run of that
//   scenario with --cpu-prof, summarised; default S1) --no-build --no-docs (do not touch docs/benchmarks.md) --keep-topics (leave each run's
//   topics on the broker, e.g. to read the per-hop timestamps of a gateway run) --json=FILE --quick
// Environment: KAFKA_BROKERS (default 127.0.0.1:9092); for a local broker on another port also
// KAFKA_PORT / KAFKA_CONTROLLER_PORT / KAFKA_DATA_DIR as for scripts/kafka.sh. The Kafka connection
// settings (KAFKA_SECURITY_PROTOCOL, KAFKA_SSL_*, KAFKA_SASL_*, KAFKA_OAUTH_*) go to the gateway's apps
// and the harness's own clients (the gateway's createKafka from dist/); the peers ignore them. Needs mvn
// and javac (Java 17) for the Connect peer, npm for the Node peers; both install into .cache/ on first use.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import kafkajs from 'kafkajs';
import { gatewayKafka } from '../../scripts/lib/gateway-kafka.mjs';
import { APP_NODE_FLAGS, freePort, NODE_FLAGS, quietKafkajsWarnings } from '../../scripts/lib/local.mjs';
import {
  createSubscriptions,
  describeExit,
  ensureBroker,
  fmtInt,
  fmtMs,
  gatewayEnv,
  now,
  num,
  parseArgs,
  printHeaderComment,
  publishBacklog,
  publishPaced,
  ReceiverProcess,
  runMain,
  stopBroker,
  REPO,
  run,
  spawnLogged,
  stopProcess,
  tail,
  topicSize,
  TreeSampler,
  waitReadyz,
} from '../lib/kit.mjs';
import { formatHops, hopBreakdown } from './hops.mjs';
import { renderDocsSection, writeDocs } from './report.mjs';

const { logLevel, Partitioners } = kafkajs;
quietKafkajsWarnings();

const CACHE = path.join(REPO, '.cache');
const PEERS_DIR = path.join(REPO, 'bench', 'peers');
const PEERS_CACHE = path.join(CACHE, 'bench-peers');
const CONNECT_CACHE = path.join(CACHE, 'bench-connect');
const BROKERS = (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(',').map((s) => s.trim()).filter(Boolean);
const EVENT_TYPE = 'bench.event';
const KEYS = 64; // distinct Kafka keys; per-key order is checked at the receiver
const PAD = 'x'.repeat(150); // events of about 320 bytes, like the anchors'

// One endpoint takes every delivery in S1/S2/P: the default per-endpoint cap (64 in flight; more wait
// in the endpoint's in-memory queue) throttles it. Tuned: the process-wide cap is the only one, with a
// connection per attempt in flight.
const GATEWAY_TUNED = { DELIVERY_MAX_IN_FLIGHT: '1024', DELIVERY_MAX_IN_FLIGHT_PER_ENDPOINT: '1024', DELIVERY_CONNECTIONS_PER_ORIGIN: '1024' };
const SYSTEMS = {
  'kafka-hooks': { kind: 'kafka-hooks', label: 'kafka-hooks, defaults', settings: 'concurrency 1 (schema default), mode committed + fallbackMode earliest' },
  'kafka-hooks-c100': { kind: 'kafka-hooks', concurrency: 100, label: 'kafka-hooks, concurrency 100', settings: 'concurrency: 100' },
  'kafkajs-each-message': { kind: 'kafkajs', mode: 'each-message', label: 'kafkajs eachMessage', settings: 'await each undici POST' },
  'kafkajs-each-batch': { kind: 'kafkajs', mode: 'each-batch', label: 'kafkajs eachBatch + Promise.all', settings: 'partitionsConsumedConcurrently = partitions; unbounded in flight' },
  connect: { kind: 'connect', label: 'Kafka Connect + clescot, defaults', settings: 'tasks.max 1, okhttp 5 per host' },
  'connect-tuned': {
    kind: 'connect',
    tuned: true,
    label: 'Kafka Connect + clescot, tuned',
    settings: 'okhttp dispatcher 256 / 256 per host, httpclient.async.fixed.thread.pool.size 256, 256 idle connections',
  },
  gateway: { kind: 'gateway', label: 'this gateway, defaults', settings: 'both apps; signing, result records, retries as shipped; every setting at its default' },
  'gateway-tuned': {
    kind: 'gateway',
    label: 'this gateway, tuned',
    settings: Object.entries(GATEWAY_TUNED).map(([k, v]) => `${k}=${v}`).join(' '),
    appEnv: GATEWAY_TUNED,
  },
};
const SCENARIOS = ['S1', 'S1x10', 'S2', 'P', 'S3', 'S4'];
const GATEWAY_ONLY = new Set(['S1x10', 'S3', 'S4']);
const isGateway = (id) => SYSTEMS[id].kind === 'gateway';

// ------------------------------------------------------------------ options
const raw = parseArgs(process.argv.slice(2));
if (raw.help) {
  printHeaderComment(fileURLToPath(import.meta.url));
  process.exit(0);
}
const known = new Set([
  'appEnv', 'peers', 'scenarios', 'runs', 'events', 's2Events', 's2Window', 's4Subscriptions', 's4Events', 'rates', 'pacedSeconds', 'warmup', 'partitions',
  'drainTimeout', 'profile', 'noBuild', 'noDocs', 'keepTopics', 'json', 'quick', 'help',
]);
for (const k of Object.keys(raw)) if (!known.has(k)) throw new Error(`unknown option --${k.replace(/[A-Z]/g, (ch) => `-${ch.toLowerCase()}`)}`);
const quick = Boolean(raw.quick);
const list = (v, all, what) => {
  if (v === undefined || v === true) return all;
  const items = String(v).split(',').map((s) => s.trim()).filter(Boolean);
  for (const i of items) if (!all.includes(i)) throw new Error(`unknown ${what} ${i} (one of ${all.join(', ')})`);
  return all.filter((a) => items.includes(a));
};
const opts = {
  peers: list(raw.peers, Object.keys(SYSTEMS), 'peer'),
  scenarios: list(raw.scenarios, SCENARIOS, 'scenario'),
  runs: num(raw.runs ?? (quick ? 1 : 3), 'runs', { min: 1, int: true }),
  events: num(raw.events ?? (quick ? 10_000 : 50_000), 'events', { min: 10, int: true }),
  s2Events: num(raw.s2Events ?? (quick ? 10_000 : 30_000), 's2-events', { min: 10, int: true }),
  s2WindowS: num(raw.s2Window ?? (quick ? 10 : 30), 's2-window', { min: 1 }),
  s4Subscriptions: num(raw.s4Subscriptions ?? (quick ? 10_000 : 100_000), 's4-subscriptions', { min: 1, int: true }),
  s4Events: num(raw.s4Events ?? (quick ? 5_000 : 20_000), 's4-events', { min: 10, int: true }),
  rates: String(raw.rates ?? '500,half').split(',').map((r) => (r === 'half' ? 'half' : num(r, 'rates', { min: 1 }))),
  pacedSeconds: num(raw.pacedSeconds ?? (quick ? 8 : 20), 'paced-seconds', { min: 1 }),
  warmupS: num(raw.warmup ?? (quick ? 3 : 5), 'warmup', { min: 0 }),
  partitions: num(raw.partitions ?? 6, 'partitions', { min: 1, int: true }),
  drainTimeoutMs: num(raw.drainTimeout ?? (quick ? 30 : 60), 'drain-timeout', { min: 1 }) * 1000,
  profile: raw.profile === undefined ? undefined : raw.profile === true ? 'S1' : list(raw.profile, ['S1', 'S4'], 'profile scenario')[0],
  build: !raw.noBuild,
  docs: !raw.noDocs,
  keepTopics: Boolean(raw.keepTopics),
  json: typeof raw.json === 'string' ? path.resolve(raw.json) : undefined,
  appEnv: raw.appEnv,
};

// ------------------------------------------------------------------ state, progress, cleanup
const benchId = randomBytes(3).toString('hex');
const logRoot = path.join(os.tmpdir(), 'bench-compare', benchId);
const state = { brokerStarted: false, procs: new Set(), receiver: undefined, kafka: undefined, admin: undefined, topics: new Set() };
const interrupt = new globalThis.AbortController();
const checkpoint = () => interrupt.signal.throwIfAborted();
const pause = (ms) => sleep(ms, undefined, { signal: interrupt.signal });
const t0 = now();
const say = (msg) => console.log(`[bench ${((now() - t0) / 1000).toFixed(0).padStart(5)} s] ${msg}`);

function track(proc) {
  state.procs.add(proc);
  void proc.exited.then(() => state.procs.delete(proc));
  return proc;
}

function assertRunning(procs) {
  for (const p of procs) if (p.exit) throw new Error(`${p.name} exited with ${describeExit(p.exit)}; last lines of ${p.logFile}:\n${tail(p.logFile)}`);
}

// ------------------------------------------------------------------ setup: peers' installs
function sha256(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 16);
}

/** npm install of bench/peers/package.json into .cache/bench-peers (again only when it changed). */
async function installNodePeers() {
  const pkg = path.join(PEERS_DIR, 'package.json');
  const stamp = path.join(PEERS_CACHE, '.installed');
  const want = sha256(pkg);
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want && existsSync(path.join(PEERS_CACHE, 'node_modules/wattpm'))) return;
  say(`installing the Node peers (${path.relative(REPO, pkg)}) into ${path.relative(REPO, PEERS_CACHE)}…`);
  mkdirSync(PEERS_CACHE, { recursive: true });
  copyFileSync(pkg, path.join(PEERS_CACHE, 'package.json'));
  const npm = path.join(path.dirname(process.execPath), 'npm');
  const r = await run(existsSync(npm) ? npm : 'npm', ['install', '--no-audit', '--no-fund', '--no-package-lock'], { cwd: PEERS_CACHE, quiet: true });
  if (r.code !== 0) throw new Error(`npm install of the peers failed:\n${r.output.slice(-3000)}`);
  writeFileSync(stamp, want);
}

/** Connect's classpath: mvn copy-dependencies, clescot's two jars from Maven Central, the Confluent stand-ins compiled. */
async function installConnect() {
  const pom = path.join(PEERS_DIR, 'connect', 'pom.xml');
  const stubsSrc = path.join(PEERS_DIR, 'connect', 'stubs');
  const want = `${sha256(pom)}-${readdirRecursive(stubsSrc).map((f) => sha256(f)).join('')}`.slice(0, 64);
  const stamp = path.join(CONNECT_CACHE, '.installed');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return;
  say(`resolving Kafka Connect and the clescot HTTP sink from Maven Central into ${path.relative(REPO, CONNECT_CACHE)}…`);
  for (const tool of ['mvn', 'javac']) if (spawnSync(tool, ['-version'], { stdio: 'ignore' }).error) throw new Error(`${tool} is needed for the Connect peer (apt-get install maven openjdk-17-jdk-headless)`);
  rmSync(CONNECT_CACHE, { recursive: true, force: true });
  const libs = path.join(CONNECT_CACHE, 'libs');
  mkdirSync(libs, { recursive: true });
  const m = await run('mvn', ['-q', '-B', '-Dstyle.color=never', '-f', pom, `-Dlibs=${libs}`, 'dependency:copy-dependencies'], { quiet: true });
  if (m.code !== 0) throw new Error(`mvn could not resolve the Connect classpath:\n${m.output.slice(-3000)}`);
  const version = /<clescot\.version>([^<]+)</.exec(readFileSync(pom, 'utf8'))[1];
  for (const a of ['kafka-connect-http-connectors', 'kafka-connect-http-core']) {
    // Published without their parent POM: Maven refuses them, so they are fetched alone and checked against Central's .sha1.
    const url = `https://repo1.maven.org/maven2/io/github/clescot/${a}/${version}/${a}-${version}.jar`;
    const [jar, sha1] = await Promise.all([fetch(url), fetch(`${url}.sha1`)]);
    if (!jar.ok || !sha1.ok) throw new Error(`could not download ${url} (${jar.status}/${sha1.status})`);
    const bytes = Buffer.from(await jar.arrayBuffer());
    const expected = (await sha1.text()).trim().split(/\s+/)[0];
    if (createHash('sha1').update(bytes).digest('hex') !== expected) throw new Error(`${url}: sha1 mismatch`);
    writeFileSync(path.join(libs, `${a}-${version}.jar`), bytes);
  }
  const stubs = path.join(CONNECT_CACHE, 'stubs');
  const j = await run('javac', ['-nowarn', '-d', stubs, '-cp', `${libs}/*`, ...readdirRecursive(stubsSrc)], { quiet: true });
  if (j.code !== 0) throw new Error(`javac failed on the Confluent stand-ins:\n${j.output}`);
  writeFileSync(stamp, want);
}

function readdirRecursive(dir) {
  return readdirSync(dir, { recursive: true })
    .map((f) => path.join(dir, f))
    .filter((f) => f.endsWith('.java'))
    .sort();
}

// ------------------------------------------------------------------ systems
/**
 * Starts `system` consuming `topic` and posting to the receiver; resolves with a handle:
 * {procs, dlqTopic?, stop()}. Gateway: subscriptions are created first (see startGateway).
 */
async function startSystem(id, ctx) {
  const sys = SYSTEMS[id];
  if (sys.kind === 'gateway') return startGateway({ ...ctx, appEnv: { ...sys.appEnv, ...ctx.appEnv } });
  const dir = path.join(logRoot, ctx.tag);
  mkdirSync(dir, { recursive: true });
  const url = `${ctx.receiverUrl}/ep/0`;
  let proc;
  let dlqTopic;
  if (sys.kind === 'kafkajs') {
    proc = spawnLogged(id, process.execPath, [...NODE_FLAGS, path.join(PEERS_DIR, 'kafkajs', 'consumer.mjs')], {
      env: { ...process.env, KAFKA_BROKERS: BROKERS.join(','), TOPIC: ctx.topic, GROUP_ID: `${ctx.tag}-group`, TARGET_URL: url, MODE: sys.mode },
      logDir: dir,
    });
  } else if (sys.kind === 'kafka-hooks') {
    // The committed watt.json (mode committed, fallbackMode earliest: the default 'latest' skips a backlog), plus the variant's concurrency.
    const config = JSON.parse(readFileSync(path.join(PEERS_DIR, 'kafka-hooks', 'watt.json'), 'utf8'));
    if (sys.concurrency) config.kafka.concurrency = sys.concurrency;
    const runDir = path.join(PEERS_CACHE, 'runs', ctx.tag);
    mkdirSync(runDir, { recursive: true });
    writeFileSync(path.join(runDir, 'watt.json'), JSON.stringify(config, null, 2));
    dlqTopic = `${ctx.tag}.dlq`;
    await createTopic(dlqTopic, 1);
    const wattpm = path.join(PEERS_CACHE, 'node_modules', 'wattpm', 'bin', 'cli.js');
    proc = spawnLogged(id, process.execPath, [existsSync(wattpm) ? wattpm : path.join(PEERS_CACHE, 'node_modules', '.bin', 'wattpm'), 'start'], {
      cwd: runDir,
      env: {
        ...process.env,
        PLT_SERVER_PORT: String(await freePort()),
        PLT_KAFKA_BROKER: BROKERS[0],
        PLT_KAFKA_TOPIC: ctx.topic,
        PLT_KAFKA_URL: url,
        PLT_KAFKA_DLQ: dlqTopic,
        PLT_KAFKA_CONSUMER_GROUP: `${ctx.tag}-group`,
      },
      logDir: dir,
    });
  } else if (sys.kind === 'connect') {
    const port = await freePort();
    const worker = [
      `bootstrap.servers=${BROKERS.join(',')}`,
      'key.converter=org.apache.kafka.connect.storage.StringConverter',
      'value.converter=org.apache.kafka.connect.storage.StringConverter',
      `offset.storage.file.filename=${path.join(dir, 'connect.offsets')}`,
      `listeners=http://127.0.0.1:${port}`,
      'plugin.discovery=service_load',
    ];
    const sink = [
      `name=${ctx.tag}`,
      'connector.class=io.github.clescot.kafka.connect.http.sink.HttpSinkConnector',
      'tasks.max=1',
      `topics=${ctx.topic}`,
      // Each record's value is the body, POSTed to one URL (the JEXL request mapper of clescot's docs).
      'http.request.mapper.default.mode=JEXL',
      `http.request.mapper.default.url='${url}'`,
      "http.request.mapper.default.method='POST'",
      'http.request.mapper.default.body=sinkRecord.value()',
      ...(SYSTEMS[id].tuned
        ? [
            'config.default.okhttp.dispatcher.max.requests=256',
            'config.default.okhttp.dispatcher.max.requests.per.host=256',
            'httpclient.async.fixed.thread.pool.size=256',
            'config.default.okhttp.connection.pool.max.idle.connections=256',
            'config.default.okhttp.connection.pool.keep.alive.duration=60000',
          ]
        : []),
    ];
    writeFileSync(path.join(dir, 'worker.properties'), `${worker.join('\n')}\n`);
    writeFileSync(path.join(dir, 'sink.properties'), `${sink.join('\n')}\n`);
    const cp = `${path.join(CONNECT_CACHE, 'libs')}/*${path.delimiter}${path.join(CONNECT_CACHE, 'stubs')}`;
    // -Xms256M -Xmx2G: what Kafka's bin/connect-standalone.sh sets.
    proc = spawnLogged(
      id,
      'java',
      ['-Xms256M', '-Xmx2G', '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn', '-cp', cp, 'org.apache.kafka.connect.cli.ConnectStandalone', path.join(dir, 'worker.properties'), path.join(dir, 'sink.properties')],
      { env: process.env, logDir: dir },
    );
  }
  track(proc);
  return { procs: [proc], dlqTopic, stop: () => stopProcess(proc, { timeoutMs: 20_000, say }) };
}

/**
 * The gateway on topics of its own (TOPIC_PREFIX = ctx.tag): the producer app starts, the
 * subscriptions are created through the API; for a drain run the producer app stops again
 * (ctx.beforeStart publishes the backlog meanwhile) and both apps start.
 */
async function startGateway(ctx) {
  const logDir = path.join(logRoot, ctx.tag);
  const ports = { api: await freePort(), delivery: await freePort() };
  const token = `bench_${randomBytes(18).toString('base64url')}`;
  const env = await gatewayEnv({
    root: REPO,
    brokers: BROKERS,
    clientId: ctx.tag,
    prefix: ctx.tag,
    partitions: opts.partitions,
    sourceTopic: ctx.topic,
    ports,
    token,
    secretsKey: randomBytes(32).toString('hex'),
    extra: { ...ctx.appEnv, ...opts.appEnv },
  });
  let starts = 0;
  const app = (name) => {
    // Profiles named <app>-<n>: producer-1 is the producer app that only served the subscriptions' creation.
    const prof = ctx.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${ctx.cpuProf}`, `--cpu-prof-name=${name}-${++starts}.cpuprofile`] : [];
    const a = track(spawnLogged(name, process.execPath, [...APP_NODE_FLAGS, ...prof, path.join(REPO, `dist/apps/${name}/src/main.js`)], { env, logDir }));
    a.port = name === 'producer' ? ports.api : ports.delivery;
    return a;
  };
  const ready = (a, all) =>
    waitReadyz(`http://127.0.0.1:${a.port}`, {
      name: a.name,
      pause,
      assertRunning: () => {
        checkpoint();
        assertRunning(all);
      },
    });
  let producer = app('producer');
  await ready(producer, [producer]);
  const t = now();
  await createSubscriptions({ apiUrl: `http://127.0.0.1:${ports.api}`, token, checkpoint, concurrency: 16, bodies: ctx.subscriptions });
  if (ctx.subscriptions.length > 100) say(`  ${fmtInt(ctx.subscriptions.length)} subscriptions created in ${((now() - t) / 1000).toFixed(1)} s`);
  if (ctx.beforeStart) {
    await stopProcess(producer, { say });
    await ctx.beforeStart();
    producer = app('producer');
  }
  const delivery = app('delivery');
  const procs = [producer, delivery];
  if (!ctx.beforeStart) await Promise.all(procs.map((a) => ready(a, procs)));
  return {
    procs,
    dlqTopic: `${ctx.tag}.dlq`,
    resultsTopic: `${ctx.tag}.results`,
    gatewayPrefix: ctx.tag,
    // Delivery first: it finishes its in-flight jobs; then the producer.
    stop: async () => {
      await stopProcess(delivery, { say });
      await stopProcess(producer, { say });
    },
  };
}

// ------------------------------------------------------------------ one measured run
let runSeq = 0;

function makeEventFor(tag, phase) {
  return (seq, sentAt) => {
    const key = String(seq % KEYS);
    const id = `${tag}-${phase}-${seq}`;
    return {
      key,
      value: JSON.stringify({ id, type: EVENT_TYPE, data: { id, ep: String(seq % ctxEndpoints.n), seq, phase, sentAt, key, kseq: Math.floor(seq / KEYS), pad: PAD } }),
    };
  };
}
// S4 spreads events over its subscriptions (data.ep); other scenarios use endpoint 0.
const ctxEndpoints = { n: 1 };

/**
 * An admin and a producer of the run's own (kafkajs keeps refreshing the metadata of every topic a
 * client ever used, and fails once a previous run's topic is deleted). One request in flight: records
 * reach the topic in the order they were sent, which the per-key order check relies on.
 */
async function runClients() {
  state.admin = state.kafka.admin();
  await state.admin.connect();
  const producer = state.kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner, maxInFlightRequests: 1 });
  await producer.connect();
  return producer;
}

async function closeRunClients(producer) {
  await producer.disconnect().catch(() => undefined);
  await state.admin.disconnect().catch(() => undefined);
  state.admin = undefined;
}

/**
 * Creates a topic and waits until every partition has a leader. Not createTopics' waitForLeaders (on
 * by default in kafkajs):
 * right after the creation the broker may answer the metadata request with
 * UNKNOWN_TOPIC_OR_PARTITION, which kafkajs does not retry there.
 */
async function createTopic(topic, numPartitions) {
  await state.admin.createTopics({ topics: [{ topic, numPartitions }], waitForLeaders: false });
  state.topics.add(topic);
  const deadline = now() + 30_000;
  for (;;) {
    checkpoint();
    try {
      const { topics } = await state.admin.fetchTopicMetadata({ topics: [topic] });
      const parts = topics[0]?.partitions ?? [];
      if (parts.length === numPartitions && parts.every((p) => p.leader >= 0)) return topic;
    } catch (err) {
      if (now() > deadline) throw err;
    }
    if (now() > deadline) throw new Error(`topic ${topic}: partitions without a leader after 30 s`);
    await pause(100);
  }
}

const freshTopic = (tag) => createTopic(`${tag}.events`, opts.partitions);

async function deleteRunTopics(tag) {
  if (opts.keepTopics) return;
  try {
    const mine = (await state.admin.listTopics()).filter((t) => t.startsWith(`${tag}.`) || t.startsWith(`${tag}-`));
    if (mine.length > 0) await Promise.race([state.admin.deleteTopics({ topics: mine, timeout: 10_000 }), sleep(15_000)]);
    for (const t of mine) state.topics.delete(t);
  } catch (err) {
    say(`  could not delete the topics of ${tag}: ${err.message}`);
  }
}

async function dlqCount(handle) {
  if (!handle.dlqTopic) return 0;
  try {
    return await topicSize(state.admin, handle.dlqTopic);
  } catch {
    return 0;
  }
}

function accounting({ published, fanOut, sum, deadLettered }) {
  const expected = published * fanOut;
  const pending = expected - sum.delivered - deadLettered;
  const voids = [];
  if (pending < 0) voids.push(`delivered ${sum.delivered} + dead-lettered ${deadLettered} > published ${published} × fan-out ${fanOut}`);
  if (sum.strays > 0) voids.push(`${sum.strays} request(s) for events this run did not publish`);
  return { published, fanOut, expected, delivered: sum.delivered, deadLettered, pending: Math.max(0, pending), duplicates: sum.duplicates, orderViolations: sum.orderViolations, void: voids };
}

/** Drain: backlog first, then the system; delivered ÷ (last − first receipt) within the window. */
async function drainRun({ system, scenario, events, fanOut = 1, behaviour = 'ok', windowS, subscriptions, appEnv, cpuProf }) {
  const tag = `cmp-${benchId}-${++runSeq}`;
  const phase = `${scenario}`;
  const r = state.receiver;
  await r.call('reset');
  await r.call('behave', { behaviours: [], fallback: behaviour });
  await r.call('phase', { name: phase });
  const producer = await runClients();
  const topic = await freshTopic(tag);
  const makeEvent = makeEventFor(tag, phase);
  let published;
  const publish = async () => {
    const t = now();
    published = await publishBacklog({ producer, topic, count: events, rate: 50_000, makeEvent, pause, checkpoint });
    say(`  ${system} ${scenario}: backlog of ${fmtInt(events)} events published in ${((now() - t) / 1000).toFixed(1)} s; starting ${system}…`);
  };
  const gatewaySubs = isGateway(system) ? (subscriptions ?? Array.from({ length: fanOut }, (_, i) => subscription(i))) : undefined;
  if (!gatewaySubs) await publish();
  const handle = await startSystem(system, { tag, topic, receiverUrl: state.receiverUrl, admin: state.admin, subscriptions: gatewaySubs, beforeStart: gatewaySubs ? publish : undefined, appEnv, cpuProf });
  const sampler = new TreeSampler(handle.procs.map((p) => p.child.pid));
  const expected = events * fanOut;
  const startedAt = now();
  let firstAt;
  let lastReport = now();
  let c;
  try {
    for (;;) {
      checkpoint();
      assertRunning(handle.procs);
      c = await r.call('count', { phase });
      if (c.delivered > 0 && firstAt === undefined) {
        firstAt = now();
        sampler.mark();
      }
      if (c.delivered >= expected) break;
      if (firstAt === undefined && now() - startedAt > 120_000) throw new Error(`${system} delivered nothing within 120 s of its start (logs: ${path.join(logRoot, tag)})`);
      if (firstAt !== undefined && windowS && now() - firstAt > windowS * 1000) break;
      if (firstAt !== undefined && now() - firstAt > opts.drainTimeoutMs) break;
      if (now() - lastReport > 5_000) {
        lastReport = now();
        say(`  ${system} ${scenario}: ${fmtInt(c.delivered)}/${fmtInt(expected)} delivered, ${c.inFlight} in flight at the receiver`);
      }
      await pause(100);
    }
    const usage = sampler.read();
    const sum = await r.call('summary', { phase, expected: events });
    const deadLettered = await dlqCount(handle);
    // The gateway's results topic: records per delivered event (1 = one result per delivery, no hold records).
    const resultRecords = handle.resultsTopic ? await topicSize(state.admin, handle.resultsTopic).catch(() => undefined) : undefined;
    const acc = accounting({ published: published.events, fanOut, sum, deadLettered });
    const spanS = (sum.lastReceipt - sum.firstReceipt) / 1000;
    return {
      system,
      scenario,
      mode: 'drain',
      ...acc,
      complete: acc.pending === 0,
      windowS: windowS ?? null,
      perS: spanS > 0 ? (sum.delivered - 1) / spanS : NaN,
      peakInFlight: sum.peakInFlight,
      latencyMs: sum.latencyMs,
      cpuS: usage.cpuS,
      peakRssMb: usage.peakRssMb,
      maxProcessRssMb: usage.maxProcessRssMb,
      processes: usage.processes,
      cpuMsPer1k: sum.delivered > 0 ? (usage.cpuS * 1e6) / sum.delivered : NaN,
      resultsPerDelivered: resultRecords !== undefined && sum.delivered > 0 ? resultRecords / sum.delivered : undefined,
    };
  } finally {
    sampler.stop();
    await handle.stop();
    await deleteRunTopics(tag);
    await closeRunClients(producer);
  }
}

/** S4: one subscription per endpoint, each with a data.ep filter; events spread over them, one match each. */
async function s4Run({ system, cpuProf }) {
  ctxEndpoints.n = opts.s4Subscriptions;
  try {
    const subs = Array.from({ length: opts.s4Subscriptions }, (_, i) => ({ ...subscription(i), filters: { 'data.ep': [String(i)] } }));
    return await drainRun({ system, scenario: 'S4', events: opts.s4Events, subscriptions: subs, cpuProf });
  } finally {
    ctxEndpoints.n = 1;
  }
}

function subscription(i) {
  return { url: `${state.receiverUrl}/ep/${i}`, events: [EVENT_TYPE], description: `bench endpoint ${i}` };
}

/** Paced: the system started and warm; per rate, warm-up then `pacedSeconds` at that rate. */
async function pacedRuns({ system, rates }) {
  const tag = `cmp-${benchId}-${++runSeq}`;
  const r = state.receiver;
  await r.call('reset');
  await r.call('behave', { behaviours: [], fallback: 'ok' });
  const producer = await runClients();
  const topic = await freshTopic(tag);
  const gatewaySubs = isGateway(system) ? [subscription(0)] : undefined;
  // The gateway's apps log the times of their hops (libs/runtime/src/hop-log.ts) for the per-hop breakdown.
  const hopLog = isGateway(system) ? path.join(logRoot, tag, 'hops') : undefined;
  if (hopLog) mkdirSync(path.dirname(hopLog), { recursive: true });
  const handle = await startSystem(system, { tag, topic, receiverUrl: state.receiverUrl, admin: state.admin, subscriptions: gatewaySubs, appEnv: hopLog ? { HOP_LOG: hopLog } : undefined });
  const sampler = new TreeSampler(handle.procs.map((p) => p.child.pid));
  const out = [];
  let stopped = false;
  try {
    // Ready = a probe event delivered.
    const t = now();
    for (let i = 0; ; i++) {
      checkpoint();
      assertRunning(handle.procs);
      await producer.send({ topic, messages: [makeEventFor(tag, 'probe')(i, now())] });
      await pause(500);
      if ((await r.call('count', { phase: 'probe' })).delivered > 0) break;
      if (now() - t > 120_000) throw new Error(`${system} delivered no probe within 120 s (logs: ${path.join(logRoot, tag)})`);
    }
    say(`  ${system} P: ready after ${((now() - t) / 1000).toFixed(1)} s`);
    let saturated = false;
    for (const rate of rates) {
      if (saturated) {
        out.push({ system, scenario: 'P', rate, skipped: 'above its knee (the previous rate saturated it)' });
        continue;
      }
      for (const phase of [`warm${rate}`, `p${rate}`]) {
        const warm = phase.startsWith('warm');
        const seconds = warm ? opts.warmupS : opts.pacedSeconds;
        if (seconds <= 0) continue;
        await r.call('phase', { name: phase });
        if (!warm) sampler.mark();
        const pub = await publishPaced({ producer, topic, rate, seconds, makeEvent: makeEventFor(tag, phase), checkpoint });
        const end = now();
        let c;
        do {
          await pause(100);
          assertRunning(handle.procs);
          c = await r.call('count', { phase });
        } while (c.delivered < pub.events && now() - end < (warm ? 30_000 : 20_000));
        if (warm) {
          if (c.delivered < pub.events) say(`  ${system} P ${rate}/s: warm-up not drained 30 s after it ended (${c.delivered}/${pub.events})`);
          continue;
        }
        const usage = sampler.read();
        const sum = await r.call('summary', { phase, expected: pub.events });
        const acc = accounting({ published: pub.events, fanOut: 1, sum, deadLettered: 0 });
        // Over the knee: events still missing 20 s after the phase, or receipts slower than the rate.
        const span = (sum.lastReceipt - sum.firstReceipt) / 1000;
        saturated = acc.pending > 0 || (span > 0 && (sum.delivered - 1) / span < 0.9 * rate);
        out.push({
          system,
          scenario: 'P',
          mode: 'paced',
          rate,
          achievedRate: pub.achievedRate,
          ...acc,
          saturated,
          latencyMs: sum.latencyMs,
          peakInFlight: sum.peakInFlight,
          cpuS: usage.cpuS,
          peakRssMb: usage.peakRssMb,
          cpuMsPer1k: sum.delivered > 0 ? (usage.cpuS * 1e6) / sum.delivered : NaN,
        });
        say(
          `  ${system} P ${rate}/s: p50 ${fmtMs(sum.latencyMs.p50)} p99 ${fmtMs(sum.latencyMs.p99)} max ${fmtMs(sum.latencyMs.max)} ms, ` +
            `${acc.delivered}/${acc.published} delivered${saturated ? ' (saturated)' : ''}${acc.void.length ? ` VOID: ${acc.void.join('; ')}` : ''}`,
        );
      }
    }
    sampler.stop();
    await handle.stop();
    stopped = true;
    // Per rate: where each first attempt's time went, from the hop log and the run's topics.
    for (const r of hopLog ? out.filter((x) => !x.skipped) : []) {
      try {
        r.hops = (await hopBreakdown({ kafka: state.kafka, prefix: tag, hopLog, phase: `p${r.rate}` })).hops;
        say(`  ${system} P ${r.rate}/s per hop (ms):`);
        for (const line of formatHops({ hops: r.hops })) say(`    ${line}`);
      } catch (err) {
        say(`  ${system} P ${r.rate}/s: no per-hop breakdown (${err.message})`);
      }
    }
    return out;
  } finally {
    sampler.stop();
    if (!stopped) await handle.stop();
    await deleteRunTopics(tag);
    await closeRunClients(producer);
  }
}

/** S3: the delivery benchmark's isolation scenario, as a child process, its JSON summary read back. */
async function isolationRun() {
  const file = path.join(logRoot, `s3-${++runSeq}.json`);
  const args = [path.join(REPO, 'bench/delivery/run.mjs'), '--scenario=isolation', '--no-build', `--json=${file}`, ...(quick ? ['--duration=10', '--warmup=5'] : [])];
  for (const [k, v] of Object.entries(opts.appEnv)) args.push(`--app-env=${k}=${v}`);
  const child = track(spawnLogged('delivery-bench', process.execPath, args, { env: process.env, logDir: logRoot }));
  let lines = 0;
  while (!child.exit) {
    checkpoint();
    if (child.lines !== lines) {
      lines = child.lines;
      const last = tail(child.logFile, 1);
      if (last.startsWith('[bench')) say(`  S3 ${last.replace(/^\[bench\s+[\d.]+ s\] /, '')}`);
    }
    await pause(1000);
  }
  if (!existsSync(file)) throw new Error(`bench/delivery/run.mjs --scenario=isolation ended with ${describeExit(child.exit)} and no summary:\n${tail(child.logFile)}`);
  const rep = JSON.parse(readFileSync(file, 'utf8'));
  const ph = Object.fromEntries(rep.phases.map((p) => [p.phase, p]));
  const exact = rep.phases.every((p) => p.identity && p.pending === 0 && p.void.length === 0);
  return {
    system: 'gateway',
    scenario: 'S3',
    healthyP99: ph.healthy?.latencyMs.p99,
    faultyHealthyP99: ph.faulty?.latencyMs.p99,
    ratio: rep.isolation?.ratio,
    perS: ph.faulty?.deliveriesPerS.firstToLast,
    exact,
    published: rep.phases.reduce((a, p) => a + p.published, 0),
    delivered: rep.phases.reduce((a, p) => a + p.delivered, 0),
    deadLettered: rep.phases.reduce((a, p) => a + p.deadLettered, 0),
    pending: rep.phases.reduce((a, p) => a + p.pending, 0),
    duplicates: rep.phases.reduce((a, p) => a + p.duplicates.receiver, 0),
    void: rep.phases.flatMap((p) => p.void),
    cpuS: ph.faulty ? (ph.faulty.usage.cpuS.producer ?? 0) + (ph.faulty.usage.cpuS.delivery ?? 0) : NaN,
    peakRssMb: ph.faulty ? (ph.faulty.usage.peakRssMb.producer ?? 0) + (ph.faulty.usage.peakRssMb.delivery ?? 0) : NaN,
  };
}

/** Self time per function of each .cpuprofile in `dir` (bench/profile-summary.ts, run with Node's type stripping). */
async function summariseProfiles(dir) {
  const out = {};
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.cpuprofile') && x !== 'producer-1.cpuprofile')) {
    const r = await run(process.execPath, ['--no-warnings', path.join(REPO, 'bench/profile-summary.ts'), path.join(dir, f), '15'], { quiet: true });
    out[f] = r.output.trim();
  }
  return out;
}

// ------------------------------------------------------------------ main
const loadavgAtStart = os.loadavg().map((x) => x.toFixed(2)).join(' ');

async function main() {
  const scenarios = opts.scenarios;
  const peers = opts.peers;
  say(`systems: ${peers.join(', ')}; scenarios: ${scenarios.join(', ')}; ${opts.runs} run(s) each; broker ${BROKERS.join(',')}; logs ${logRoot}`);
  state.brokerStarted = await ensureBroker(BROKERS, say);
  checkpoint();
  if (peers.some((p) => SYSTEMS[p].kind === 'kafka-hooks')) await installNodePeers();
  if (peers.some((p) => SYSTEMS[p].kind === 'connect')) await installConnect();
  // The harness's own Kafka clients come from dist/ too (the gateway's createKafka), whichever systems run.
  if (opts.build) {
    say('building dist/…');
    const b = await run('bash', [path.join(REPO, 'scripts/run.sh'), 'build'], { quiet: true });
    if (b.code !== 0) throw new Error(`build failed:\n${b.output.slice(-3000)}`);
  }
  checkpoint();
  const kafka = await gatewayKafka('load', { brokers: BROKERS, clientId: `bench-compare-${benchId}`, logLevel: logLevel.NOTHING, retry: { retries: 10 } });
  state.kafka = kafka;
  state.receiver = new ReceiverProcess();
  const { ports } = await state.receiver.call('listen', { endpoints: 1, origins: 1 });
  state.receiverUrl = `http://127.0.0.1:${ports[0]}`;
  say(`receiver (pid ${state.receiver.child.pid}) on ${state.receiverUrl}`);

  const results = [];
  const record = (res) => {
    res.loadavg1 = os.loadavg()[0];
    results.push(res);
    if (res.scenario !== 'P' && res.scenario !== 'S3') {
      say(
        `  → ${res.system} ${res.scenario}: ${fmtInt(res.perS)}/s, ${fmtInt(res.delivered)} delivered + ${res.deadLettered} dead-lettered + ${fmtInt(res.pending)} pending of ${fmtInt(res.expected)}, ` +
          `dup ${res.duplicates}, order ${res.orderViolations}, peak ${res.peakInFlight} in flight, CPU ${res.cpuS.toFixed(1)} s (${res.cpuMsPer1k.toFixed(0)} ms/1k), RSS ${res.peakRssMb.toFixed(0)} MB; load ${res.loadavg1.toFixed(1)}` +
          `${res.void.length ? `  VOID: ${res.void.join('; ')}` : ''}`,
      );
    }
  };
  // Gateway-only scenarios run once, with the tuned gateway when it is selected (S1x10's and S4's
  // endpoints share one origin, which the default per-endpoint cap throttles); S3 runs with the defaults.
  const bestGateway = peers.includes('gateway-tuned') ? 'gateway-tuned' : peers.find(isGateway);
  const forScenario = (s) => (s === 'S3' ? (peers.includes('gateway') ? ['gateway'] : peers.filter(isGateway).slice(0, 1)) : GATEWAY_ONLY.has(s) ? (bestGateway ? [bestGateway] : []) : peers);
  const median = (xs) => {
    const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
    return v.length ? v[Math.floor((v.length - 1) / 2)] : NaN;
  };
  for (const scenario of scenarios) {
    // S3 and S4 run once: S3 is a whole delivery benchmark of its own, S4 spends minutes creating its subscriptions.
    const runs = scenario === 'S3' || scenario === 'S4' ? 1 : opts.runs;
    for (let run = 1; run <= runs; run++) {
      for (const system of forScenario(scenario)) {
        checkpoint();
        say(`${scenario} run ${run}/${runs}: ${system} (${SYSTEMS[system].label})`);
        try {
          await runOne(scenario, system, run);
          writeFileSync(path.join(logRoot, 'results-so-far.json'), JSON.stringify(results, null, 2));
        } catch (err) {
          if (interrupt.signal.aborted) throw err;
          // One failed run does not end the benchmark: it is reported as failed, and the next one starts.
          say(`  ✗ ${system} ${scenario} run ${run} FAILED: ${err.stack ?? err.message}`);
          results.push({ system, scenario, run, failed: String(err.message ?? err).slice(0, 500) });
        }
      }
    }
  }

  async function runOne(scenario, system, run) {
    if (scenario === 'S1') record({ ...(await drainRun({ system, scenario, events: opts.events })), run });
    else if (scenario === 'S1x10') record({ ...(await drainRun({ system, scenario, events: Math.round(opts.events / 5), fanOut: 10 })), run });
    else if (scenario === 'S2') record({ ...(await drainRun({ system, scenario, events: opts.s2Events, behaviour: 'delay:100', windowS: opts.s2WindowS })), run });
    else if (scenario === 'S4') record({ ...(await s4Run({ system })), run, subscriptions: opts.s4Subscriptions });
    else if (scenario === 'S3') {
      const res = { ...(await isolationRun()), system };
      results.push(res);
      say(`  → S3: healthy p99 ${fmtMs(res.healthyP99)} ms, with 10% faulty ${fmtMs(res.faultyHealthyP99)} ms (${res.ratio?.toFixed(2)}×), accounting ${res.exact ? 'exact' : 'NOT exact'}`);
    } else if (scenario === 'P') {
      const gwS1 = Math.max(...peers.filter(isGateway).map((g) => median(results.filter((x) => x.system === g && x.scenario === 'S1').map((x) => x.perS))).filter(Number.isFinite));
      const rates = [...new Set(opts.rates.map((x) => (x === 'half' ? (gwS1 > 0 && Number.isFinite(gwS1) ? Math.round(gwS1 / 2 / 100) * 100 : undefined) : x)).filter(Boolean))].sort((a, b) => a - b);
      for (const res of await pacedRuns({ system, rates })) results.push({ ...res, run, loadavg1: os.loadavg()[0] });
    }
  }

  let profile;
  if (opts.profile && bestGateway) {
    const dir = path.join(logRoot, 'cpu-prof');
    mkdirSync(dir, { recursive: true });
    say(`profiling: one more ${bestGateway} ${opts.profile} run with --cpu-prof (${dir})…`);
    let res;
    if (opts.profile === 'S4') res = await s4Run({ system: bestGateway, cpuProf: dir });
    else res = await drainRun({ system: bestGateway, scenario: 'S1', events: opts.events, cpuProf: dir });
    say(`  profiled run: ${fmtInt(res.perS)}/s (not in the table: the profiler slows it)`);
    profile = { system: bestGateway, scenario: opts.profile, run: res, summaries: await summariseProfiles(dir) };
    for (const [f, text] of Object.entries(profile.summaries)) console.log(`\n--- ${f} ---\n${text}`);
  }

  const machine = {
    cores: os.cpus().length,
    model: os.cpus()[0]?.model,
    memGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    java: (spawnSync('java', ['-version'], { encoding: 'utf8' }).stderr ?? '').split('\n')[0],
    loadavg: os.loadavg().map((x) => x.toFixed(2)).join(' '),
    loadavgAtStart,
  };
  const commit = (await run('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD'], { quiet: true })).output.trim();
  const report = { benchId, commit, date: new Date().toISOString(), argv: process.argv.slice(2), opts, machine, systems: SYSTEMS, results, profile };
  const { table } = renderDocsSection(report);
  console.log(`\n${table}`);
  if (opts.json) writeFileSync(opts.json, JSON.stringify(report, null, 2));
  writeFileSync(path.join(logRoot, 'report.json'), JSON.stringify(report, null, 2));
  if (opts.docs) {
    writeDocs(report);
    say('wrote docs/benchmarks.md (between the bench:compare markers) and docs/benchmarks-compare.svg');
  }
  say(`report: ${path.join(logRoot, 'report.json')}`);
  return results.some((x) => x.void?.length) ? 2 : 0;
}

// ------------------------------------------------------------------ cleanup
let cleaning;
function cleanup() {
  cleaning ??= (async () => {
    for (const p of [...state.procs].reverse()) await stopProcess(p, { timeoutMs: 20_000, say }).catch(() => undefined);
    await state.receiver?.close().catch(() => undefined);
    if (state.kafka && state.topics.size > 0 && !opts.keepTopics) {
      // A fresh admin: the run's own may be gone, or broken by the interruption.
      const admin = state.kafka.admin();
      await Promise.race([
        admin
          .connect()
          .then(() => admin.deleteTopics({ topics: [...state.topics], timeout: 10_000 }))
          .catch(() => undefined)
          .finally(() => admin.disconnect().catch(() => undefined)),
        sleep(15_000),
      ]);
    }
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
    for (const p of state.procs) {
      if (p.exit) continue;
      try {
        process.kill(-p.child.pid, 'SIGKILL');
      } catch {
        p.child.kill('SIGKILL');
      }
    }
    if (state.receiver && !state.receiver.exit) state.receiver.child.kill('SIGKILL');
  },
});
