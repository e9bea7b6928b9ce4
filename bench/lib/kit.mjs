// What the benchmark harnesses share (bench/delivery/run.mjs, bench/compare/run.mjs): commands and
// child processes, the local broker, /proc accounting, the receiver process, percentiles, and the two
// publishers (open-model paced, and a backlog). Only 127.0.0.1 is contacted.
import { fork, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { kafkaConnectionEnv, withoutGatewaySettings } from '../../scripts/lib/gateway-kafka.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(HERE, '../..');
export const KAFKA_SH = path.join(REPO, 'scripts', 'kafka.sh');
export const RECEIVER = path.join(REPO, 'bench', 'delivery', 'receiver.mjs');
export const CLK_TCK = 100; // getconf CLK_TCK on Linux x86-64 and arm64

export const now = () => performance.timeOrigin + performance.now();

/** Parses --name=value / --flag arguments into camelCase keys; --app-env=KEY=VALUE is repeatable. */
export function parseArgs(argv) {
  const opts = { appEnv: {} };
  for (const arg of argv) {
    const m = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/.exec(arg);
    if (!m) throw new Error(`unknown argument ${arg} (options are --name=value)`);
    const [, name, value] = m;
    if (name === 'app-env') {
      const kv = /^([A-Z0-9_]+)=(.*)$/.exec(value ?? '');
      if (!kv) throw new Error('--app-env takes KEY=VALUE');
      opts.appEnv[kv[1]] = kv[2];
    } else opts[name.replace(/-([a-z])/g, (_, ch) => ch.toUpperCase())] = value ?? true;
  }
  return opts;
}

/** Prints the leading // comment block of a script (its --help). */
export function printHeaderComment(file) {
  const lines = readFileSync(file, 'utf8').split('\n').slice(1);
  console.log(lines.slice(0, lines.findIndex((l) => !l.startsWith('//'))).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
}

export function num(v, name, { min = 0, int = false } = {}) {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || (int && !Number.isInteger(n))) throw new Error(`--${name} must be a${int ? ' whole' : ''} number ≥ ${min}, got ${v}`);
  return n;
}

/** Runs a command, echoing its output; resolves with {code, output}. */
export function run(cmd, args, { env = process.env, detached = false, cwd = REPO, quiet = false } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
      if (!quiet) process.stdout.write(chunk);
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
      if (!quiet) process.stderr.write(chunk);
    });
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), output }));
  });
}

/** The environment scripts/kafka.sh needs for the broker in `brokers`, or undefined when it is not local. */
export function kafkaShEnv(brokers) {
  if (brokers.length !== 1) return undefined;
  const m = /^(127\.0\.0\.1|localhost):(\d+)$/.exec(brokers[0]);
  if (!m) return undefined;
  // A run over a secured listener uses the broker that is there (its port is not the plaintext
  // KAFKA_PORT that scripts/kafka.sh manages).
  if ((process.env.KAFKA_SECURITY_PROTOCOL || 'PLAINTEXT').toUpperCase() !== 'PLAINTEXT') return undefined;
  // The figures in docs/benchmarks.md were measured on the plain broker (no secured listeners, no
  // authorizer): a broker the bench starts is that one unless KAFKA_SECURE says otherwise. Its
  // internal topics have Kafka's default 50 partitions, as on a user's cluster (the test broker has
  // one), in storage of its own.
  return {
    ...process.env,
    KAFKA_PORT: process.env.KAFKA_PORT || m[2],
    KAFKA_SECURE: process.env.KAFKA_SECURE || '0',
    KAFKA_INTERNAL_PARTITIONS: process.env.KAFKA_INTERNAL_PARTITIONS || '50',
    KAFKA_DATA_DIR: process.env.KAFKA_DATA_DIR || path.join(REPO, '.cache', 'kafka-bench', 'data'),
  };
}

/** Starts the local broker when `brokers` is local (scripts/kafka.sh up); returns whether this call started it. */
export async function ensureBroker(brokers, say) {
  const env = kafkaShEnv(brokers);
  if (!env) {
    say(`KAFKA_BROKERS=${brokers.join(',')} is not a local broker: using it as it is`);
    return false;
  }
  const up = await run('bash', [KAFKA_SH, 'up'], { env });
  if (up.code !== 0) throw new Error(`scripts/kafka.sh up failed with exit code ${up.code}`);
  return /kafka: started pid \d+/.test(up.output);
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export const fmtMs = (v) => (Number.isFinite(v) ? v.toFixed(v < 100 ? 1 : 0) : v === Infinity ? '∞ (not received)' : '-');
export const fmtInt = (v) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '-');

/** utime + stime of a process in seconds, and its peak RSS (VmHWM) in MB; undefined once it is gone. */
export function procUsage(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpu = (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
    const rss = /VmRSS:\s+(\d+) kB/.exec(status);
    return { cpu, hwmMb: hwm ? Number(hwm[1]) / 1024 : NaN, rssMb: rss ? Number(rss[1]) / 1024 : NaN, ppid: Number(fields[1]) };
  } catch {
    return undefined;
  }
}

/** Busy and total jiffies of the whole machine (/proc/stat). */
export function machineCpu() {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = v[3] + (v[4] ?? 0);
  return { busy: total - idle, total };
}

const numericDirs = () => {
  try {
    return readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return [];
  }
};

/** The pid of the local Kafka broker serving `brokers` (a JVM running kafka.Kafka with a config that listens on its port), if any. */
export function findBrokerPid(brokers) {
  const m = /:(\d+)$/.exec(brokers[0] ?? '');
  if (brokers.length !== 1 || !m) return undefined;
  for (const pid of numericDirs()) {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const i = args.indexOf('kafka.Kafka');
      if (i === -1 || !args[i + 1]) continue;
      if (new RegExp(`PLAINTEXT://[^,\\s]*:${m[1]}(,|\\s|$)`).test(readFileSync(args[i + 1], 'utf8'))) return Number(pid);
    } catch {
      // not ours to read, or gone
    }
  }
  return undefined;
}

/** Every process under the given roots (the roots included): pid → usage. */
export function treeUsage(rootPids) {
  const usage = new Map();
  for (const d of numericDirs()) {
    const u = procUsage(d);
    if (u) usage.set(Number(d), u);
  }
  const mine = new Set(rootPids.filter((p) => usage.has(p)));
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, u] of usage) {
      if (!mine.has(pid) && mine.has(u.ppid)) {
        mine.add(pid);
        grew = true;
      }
    }
  }
  return new Map([...mine].map((p) => [p, usage.get(p)]));
}

/**
 * CPU seconds and peak RSS of a process tree over a window, sampled every `everyMs` (processes
 * that come and go between samples are seen at their last sample). `mark()` starts the window.
 */
export class TreeSampler {
  constructor(rootPids, everyMs = 500) {
    this.roots = rootPids;
    this.last = new Map(); // pid → latest usage
    this.base = new Map(); // pid → cpu at mark()
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  sample() {
    for (const [pid, u] of treeUsage(this.roots)) this.last.set(pid, u);
  }

  mark() {
    this.sample();
    this.base = new Map([...this.last].map(([pid, u]) => [pid, u.cpu]));
  }

  /** {cpuS, peakRssMb (sum of each process's VmHWM), maxProcessRssMb, processes} since mark(). */
  read() {
    this.sample();
    let cpuS = 0;
    let peakRssMb = 0;
    let maxProcessRssMb = 0;
    for (const [pid, u] of this.last) {
      cpuS += u.cpu - (this.base.get(pid) ?? 0);
      peakRssMb += u.hwmMb;
      maxProcessRssMb = Math.max(maxProcessRssMb, u.hwmMb);
    }
    return { cpuS, peakRssMb, maxProcessRssMb, processes: this.last.size };
  }

  stop() {
    clearInterval(this.timer);
  }
}

/** The receiver (bench/delivery/receiver.mjs) in a process of its own, driven over IPC. */
export class ReceiverProcess {
  constructor() {
    this.child = fork(RECEIVER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
    this.nextId = 1;
    this.waiting = new Map();
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    this.child.on('message', (msg) => {
      const w = this.waiting.get(msg.id);
      if (!w) return;
      this.waiting.delete(msg.id);
      if (msg.ok) w.resolve(msg.result);
      else w.reject(new Error(`receiver: ${msg.error}`));
    });
    this.child.once('exit', (code, signal) => {
      this.exit = { code, signal };
      for (const w of this.waiting.values()) w.reject(new Error(`the receiver exited (${signal ?? code})`));
      this.waiting.clear();
    });
  }

  call(cmd, args = {}) {
    return new Promise((resolve, reject) => {
      if (this.exit) return reject(new Error('the receiver is not running'));
      const id = this.nextId++;
      this.waiting.set(id, { resolve, reject });
      this.child.send({ id, cmd, ...args });
    });
  }

  async close() {
    if (this.exit) return;
    await Promise.race([this.call('close').catch(() => undefined), sleep(5_000)]);
    const gone = await Promise.race([this.exited, sleep(5_000)]);
    if (!gone) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}

/**
 * Spawns a long-running process in a process group of its own (a Ctrl-C reaches the harness only,
 * which stops it in order), its output going to `<logDir>/<name>.log`.
 */
export function spawnLogged(name, cmd, args, { cwd = REPO, env = process.env, logDir }) {
  mkdirSync(logDir, { recursive: true });
  const logFile = path.join(logDir, `${name}.log`);
  const log = createWriteStream(logFile);
  const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const app = { name, child, logFile, lines: 0, exit: undefined };
  app.exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      app.exit = { code, signal };
      resolve(app.exit);
    });
  });
  for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', (chunk) => {
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) app.lines++;
      log.write(chunk);
    });
  }
  child.once('exit', () => log.end());
  return app;
}

/** SIGTERM, then SIGKILL after `timeoutMs`. */
export async function stopProcess(app, { timeoutMs = 30_000, say = () => undefined, signal = 'SIGTERM' } = {}) {
  if (app.exit) return;
  app.child.kill(signal);
  const exit = await Promise.race([app.exited, sleep(timeoutMs)]);
  if (!exit) {
    say(`${app.name} still running ${timeoutMs / 1000} s after ${signal}: SIGKILL`);
    try {
      process.kill(-app.child.pid, 'SIGKILL');
    } catch {
      app.child.kill('SIGKILL');
    }
    await app.exited;
  }
}

export const describeExit = (e) => (e.signal ? `signal ${e.signal}` : `code ${e.code}`);

export function tail(file, n = 30) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Open model: `rate` events/s for `seconds`, each stamped with its send time (makeEvent(seq, sentAt)
 * returns a kafkajs message); sends are not awaited one by one.
 */
export async function publishPaced({ producer, topic, rate, seconds, tickMs = 5, makeEvent, checkpoint = () => undefined }) {
  const total = Math.round(rate * seconds);
  const start = now();
  let seq = 0;
  let failure;
  let outstanding = 0;
  let maxOutstanding = 0;
  let lastSend = start;
  const inFlight = new Set();
  while (seq < total) {
    checkpoint();
    if (failure) throw failure;
    const due = Math.min(total, Math.floor(((now() - start) / 1000) * rate) + 1);
    if (due > seq) {
      const sentAt = now();
      lastSend = sentAt;
      const messages = [];
      for (; seq < due; seq++) messages.push(makeEvent(seq, sentAt));
      outstanding++;
      maxOutstanding = Math.max(maxOutstanding, outstanding);
      const p = producer.send({ topic, acks: -1, messages }).then(
        () => undefined,
        (err) => {
          failure ??= err;
        },
      );
      inFlight.add(p);
      void p.finally(() => {
        outstanding--;
        inFlight.delete(p);
      });
    }
    await sleep(tickMs);
  }
  await Promise.all(inFlight);
  if (failure) throw failure;
  const spanS = (lastSend - start) / 1000;
  return { events: total, achievedRate: spanS > 0 ? (total - 1) / spanS : NaN, maxOutstandingSends: maxOutstanding };
}

/**
 * A backlog of `count` events, published in chunks of a tenth of `rate` every 100 ms (sentAt is each
 * chunk's send time), at most 2,000 events per produce call so the harness's own record batches stay
 * far below 1 MB. Not all at once: the gateway's producer app fans a whole fetched batch out in one
 * produce call, and a source batch of ~1 MB makes a deliveries record batch over the broker's
 * message.max.bytes when few partitions take it (see docs/benchmarks.md).
 */
export async function publishBacklog({ producer, topic, count, rate, makeEvent, pause = sleep, checkpoint = () => undefined }) {
  const start = now();
  const chunk = Math.max(1, Math.round(rate / 10));
  let seq = 0;
  for (let tick = 1; seq < count; tick++) {
    checkpoint();
    const sentAt = now();
    // One produce call after the other: records reach each partition in the order of their seq.
    for (const end = Math.min(count, seq + chunk); seq < end; ) {
      const messages = [];
      for (const stop = Math.min(end, seq + 2000); seq < stop; seq++) messages.push(makeEvent(seq, sentAt));
      await producer.send({ topic, acks: -1, messages });
    }
    const wait = start + tick * 100 - now();
    if (wait > 0) await pause(wait);
  }
  return { events: count, seconds: (now() - start) / 1000 };
}

/** Sum of the end offsets of a topic (fresh topics, no transactions: the number of records). */
export async function topicSize(admin, topic) {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, p) => sum + Number(p.high), 0);
}

/**
 * The environment of the gateway's apps for a benchmark run: the caller's environment without any
 * gateway setting (SETTINGS of <root>/dist/libs/config) but the Kafka connection settings
 * (KAFKA_SECURITY_PROTOCOL, KAFKA_SSL_*, KAFKA_SASL_*, KAFKA_OAUTH_*: the apps connect as the
 * harness's own clients do, see gatewayKafka), then these values, then `extra` (timeoutMs
 * undefined: the gateway's default DELIVERY_TIMEOUT_MS; 2 s or less: DELIVERY_CONNECT_TIMEOUT_MS half of it).
 */
export async function gatewayEnv({ root, brokers, clientId, prefix, partitions, sourceTopic, ports, token, secretsKey, timeoutMs, extra = {} }) {
  return {
    ...(await withoutGatewaySettings(root)),
    ...kafkaConnectionEnv(),
    KAFKA_BROKERS: brokers.join(','),
    KAFKA_CLIENT_ID: clientId,
    TOPIC_PREFIX: prefix,
    TOPIC_PARTITIONS: String(partitions),
    SOURCE_TOPICS: sourceTopic,
    SOURCE_GROUP_ID: `${prefix}-producer`,
    SOURCE_START: 'earliest',
    DELIVERY_GROUP_ID: `${prefix}-delivery`,
    API_HOST: '127.0.0.1',
    API_PORT: String(ports.api),
    DELIVERY_HOST: '127.0.0.1',
    DELIVERY_PORT: String(ports.delivery),
    API_TOKENS: token,
    SECRETS_KEY: secretsKey,
    DELIVERY_TARGET_ALLOWLIST: '127.0.0.1/32',
    ...(timeoutMs !== undefined && { DELIVERY_TIMEOUT_MS: String(timeoutMs) }),
    // The connect timeout must be below the attempt's: the gateway's default (2 s), or half a shorter attempt timeout.
    ...(timeoutMs !== undefined && timeoutMs <= 2000 && { DELIVERY_CONNECT_TIMEOUT_MS: String(Math.max(100, Math.floor(timeoutMs / 2))) }),
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'text',
    ...extra,
  };
}

/** Polls <url>/readyz until 200; throws when `assertRunning` throws or after `timeoutMs`. */
export async function waitReadyz(url, { name, timeoutMs = 120_000, assertRunning = () => undefined, pause = sleep }) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    assertRunning();
    try {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) return;
      last = `${res.status} ${(await res.text()).slice(0, 200)}`;
    } catch (err) {
      last = err.cause?.code ?? err.message;
    }
    if (Date.now() > deadline) throw new Error(`the ${name} app was not ready after ${timeoutMs / 1000} s (last /readyz: ${last})`);
    await pause(200);
  }
}

/** POSTs each body to <apiUrl>/v1/subscriptions, `concurrency` at a time; returns their ids in order. */
export async function createSubscriptions({ apiUrl, token, bodies, concurrency = 16, checkpoint = () => undefined }) {
  const ids = new Array(bodies.length);
  let next = 0;
  const worker = async () => {
    while (next < bodies.length) {
      checkpoint();
      const i = next++;
      const res = await fetch(`${apiUrl}/v1/subscriptions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(bodies[i]),
        signal: AbortSignal.timeout(30_000),
      });
      const text = await res.text();
      if (res.status !== 201) throw new Error(`POST /v1/subscriptions #${i} (${bodies[i].url}) answered ${res.status}: ${text.slice(0, 500)}`);
      ids[i] = JSON.parse(text).id;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return ids;
}

/**
 * Runs a harness's main(): exits with its code after cleanup(); the first Ctrl-C / SIGTERM aborts
 * `interrupt` and cleans up, a second one calls killNow() and exits at once; killNow() also runs on exit.
 */
export function runMain(main, { name, say, interrupt, cleanup, killNow }) {
  let exiting = false;
  const finish = async (code) => {
    if (exiting) return;
    exiting = true;
    try {
      await cleanup();
    } catch (err) {
      console.error(`${name}: cleanup failed: ${err.stack ?? err}`);
      code ||= 1;
    }
    process.exit(code);
  };
  let signals = 0;
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      if (++signals === 1) {
        say(`${signal}: stopping everything this run started (again to kill at once)…`);
        interrupt.abort();
        void finish(130);
      } else {
        killNow();
        process.exit(130);
      }
    });
  }
  process.on('exit', killNow);
  main().then(
    (code) => finish(code),
    (err) => {
      if (exiting) return;
      console.error(`${name}: FAILED: ${err.stack ?? err.message}`);
      void finish(1);
    },
  );
}

/** scripts/kafka.sh down for the local broker in `brokers` (detached: a second Ctrl-C does not interrupt it). */
export async function stopBroker(brokers, say) {
  say('stopping the Kafka broker this run started…');
  await run('bash', [KAFKA_SH, 'down'], { env: kafkaShEnv(brokers), detached: true });
}
