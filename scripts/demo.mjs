#!/usr/bin/env node
// `npm run demo`: the whole gateway on this machine, end to end, in about a minute.
//
//   Kafka (scripts/kafka.sh) → producer app (management API + fan-out) → delivery app
//   → a local receiver that checks every Standard Webhooks signature.
//
// It creates four subscriptions modelled on the seed webhook docs (Edgegap, Qovery
// STANDARD + SLACK, Deep Image), starts the schema registry (scripts/registry.sh),
// publishes seven source events (four wire forms, Avro through the registry among them;
// one filtered out, one malformed), waits for the webhooks, reads the gateway's
// results and invalid topics back, prints a summary and cleans up after itself.
// Exit code 0 when everything expected happened, 1 otherwise (130 on Ctrl-C).
//
// Run `npm run demo` (it builds dist/ first); `node scripts/demo.mjs` needs a built dist/.
// Only 127.0.0.1 is ever contacted. KAFKA_PORT picks another local broker port (its plaintext
// listener: the caller's gateway settings, KAFKA_SECURITY_PROTOCOL and the like too, are replaced).
//
// Re-runs on the same broker. The topic webhooks.subscriptions is compacted and
// outlives a run, so the subscriptions of earlier runs are still on it. Each run keeps
// out of the others' way like this:
//  - SECRETS_KEY is new per run, so the apps cannot open the subscriptions of earlier
//    runs (their secrets are sealed with another key): those are skipped (the apps log
//    one error per record, which the demo counts instead of printing) and never match
//    an event. Even a run that crashed before deleting its subscriptions, whose
//    receiver port is dead anyway, cannot send anything to a later run.
//  - The demo deletes the subscriptions it created when it ends (a tombstone each),
//    so the records do not pile up once compaction runs.
//  - The producer group demo-producer commits what it reads, so a run only reads the
//    events published after the previous run (a fresh group per run would start at
//    the earliest offset and replay every earlier run's events). Events an interrupted
//    run left unread are read at start-up, before this run's subscriptions exist, so
//    they match nothing; webhook ids are checked per (event, subscription) anyway.
//  - Results and invalid records are read with a throw-away consumer group and
//    filtered to this run's subscription ids and record keys.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import kafkajs from 'kafkajs';
import { colors as c, Receiver } from './demo/receiver.mjs';
import { sourceEvents, subscriptionSpecs } from './demo/fixtures.mjs';
import { gatewayKafka, withoutGatewaySettings } from './lib/gateway-kafka.mjs';
import { APP_NODE_FLAGS, freePort, quietKafkajsWarnings } from './lib/local.mjs';

const { logLevel, Partitioners } = kafkajs;

quietKafkajsWarnings();

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const KAFKA_SH = path.join(ROOT, 'scripts', 'kafka.sh');
const REGISTRY_SH = path.join(ROOT, 'scripts', 'registry.sh');
const REGISTRY_URL = `http://127.0.0.1:${process.env.REGISTRY_PORT || '18081'}/apis/ccompat/v7`;
const BROKER = `127.0.0.1:${process.env.KAFKA_PORT || '9092'}`;
const ENTRY = {
  producer: path.join(ROOT, 'dist/apps/producer/src/main.js'),
  delivery: path.join(ROOT, 'dist/apps/delivery/src/main.js'),
};
const SOURCE_TOPIC = 'demo.events';
const TOPICS = { results: 'webhooks.results', invalid: 'webhooks.invalid' };
const PRODUCER_GROUP = 'demo-producer';
const READY_TIMEOUT_MS = 90_000;
const WEBHOOK_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 20_000;
/** How long the demo keeps listening, once everything expected is in, for webhooks that should not come. */
const QUIET_PERIOD_MS = 1_500;
/** An app's error about a subscription sealed with another run's SECRETS_KEY (see above). */
const FOREIGN_SUBSCRIPTION = /subscription \S+ at offset \d+ is skipped: its secret does not decrypt/;

const runId = randomBytes(4).toString('hex');
const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
const say = (msg) => console.log(`${c.bold('demo:')} ${msg}`);
const indent = (lines) => lines.map((l) => `      ${l}`).join('\n');

// ------------------------------------------------------------------ state cleaned up at the end
const state = {
  brokerStartedByDemo: false,
  brokerUp: false,
  registryStartedByDemo: false,
  registryUp: false,
  receiver: undefined,
  apps: [],
  apiUrl: undefined,
  apiToken: undefined,
  subscriptions: [],
  kafkaClients: [],
};

/** Aborted on Ctrl-C: the demo's steps stop at their next wait while cleanup runs. */
const interrupt = new globalThis.AbortController();
const checkpoint = () => interrupt.signal.throwIfAborted();
const pause = (ms) => sleep(ms, undefined, { signal: interrupt.signal });

// ------------------------------------------------------------------ helpers
/** Runs one of the project's scripts, echoing its output (`onOutput` sees it as it comes); resolves with its exit code. */
function runScript(script, args, { detached = false, onOutput = () => {} } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
      process.stdout.write(chunk);
      onOutput(output);
    });
    child.stderr.on('data', (chunk) => process.stderr.write(chunk));
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), output }));
  });
}

const kafkaSh = (args, options) => runScript(KAFKA_SH, args, options);
const registrySh = (args, options) => runScript(REGISTRY_SH, args, options);

/** Calls the management API with this run's token. */
async function api(method, urlPath, body) {
  const res = await fetch(`${state.apiUrl}${urlPath}`, {
    method,
    headers: { authorization: `Bearer ${state.apiToken}`, ...(body && { 'content-type': 'application/json' }) },
    body: body && JSON.stringify(body),
    signal: AbortSignal.timeout(20_000),
  });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: res.status, body: json };
}


/**
 * The gateway's configuration for both apps and the demo's own Kafka clients; every gateway setting
 * the caller's environment may hold is replaced (the demo's broker is the local plaintext one).
 */
async function appEnv(ports, secretsKey) {
  return {
    ...(await withoutGatewaySettings(ROOT)),
    KAFKA_BROKERS: BROKER,
    KAFKA_CLIENT_ID: `demo-${runId}`,
    TOPIC_PREFIX: 'webhooks',
    SOURCE_TOPICS: SOURCE_TOPIC,
    SOURCE_GROUP_ID: PRODUCER_GROUP,
    SOURCE_START: 'earliest',
    DELIVERY_GROUP_ID: 'demo-delivery',
    API_HOST: '127.0.0.1',
    API_PORT: String(ports.api),
    DELIVERY_HOST: '127.0.0.1',
    DELIVERY_PORT: String(ports.delivery),
    API_TOKENS: state.apiToken,
    SECRETS_KEY: secretsKey,
    // Records in the Confluent wire format are decoded with the schema their id names.
    SCHEMA_REGISTRY_URL: REGISTRY_URL,
    // The receiver is on loopback, which the delivery app refuses unless allowed explicitly.
    DELIVERY_TARGET_ALLOWLIST: '127.0.0.1/32',
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'text',
  };
}

/** Spawns one app in a process group of its own (Ctrl-C reaches the demo only, which stops the apps in order). */
function startApp(name, env) {
  const child = spawn(process.execPath, [...APP_NODE_FLAGS, ENTRY[name]], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const app = { name, child, exit: undefined, foreignSubscriptions: 0, exited: undefined };
  app.exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      app.exit = { code, signal };
      resolve(app.exit);
    });
  });
  const prefix = c.dim(`[${name}]`.padEnd(10));
  for (const stream of [child.stdout, child.stderr]) {
    readline.createInterface({ input: stream }).on('line', (line) => {
      if (FOREIGN_SUBSCRIPTION.test(line)) {
        app.foreignSubscriptions++;
        return;
      }
      console.log(`${prefix} ${line}`);
    });
  }
  state.apps.push(app);
  return app;
}

const describeExit = (exit) => (exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`);

async function waitReady(app, port, deadline) {
  const url = `http://127.0.0.1:${port}/readyz`;
  let last;
  for (;;) {
    if (app.exit) throw new Error(`the ${app.name} app exited with ${describeExit(app.exit)} before it was ready (its output is above, prefixed [${app.name}])`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) return;
      last = `${res.status} ${await res.text()}`;
    } catch (err) {
      last = err.cause?.code ?? err.message;
    }
    if (Date.now() > deadline) throw new Error(`the ${app.name} app was not ready after ${READY_TIMEOUT_MS / 1000} s (last /readyz answer: ${last})`);
    await pause(250);
  }
}

/** Polls `check` (sync or async) every 200 ms until it is true; false after the deadline. */
async function pollUntil(check, deadline) {
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await pause(200);
  }
}

// ------------------------------------------------------------------ the demo
async function main() {
  for (const [name, entry] of Object.entries(ENTRY)) {
    if (!existsSync(entry)) throw new Error(`${path.relative(ROOT, entry)} is missing: run 'npm run demo' (it builds first) or 'npm run build' (the ${name} app)`);
  }
  // The webhook-id the gateway gives each (event, subscription), from the built producer app itself.
  const { webhookId } = await import(pathToFileURL(path.join(ROOT, 'dist/apps/producer/src/fan-out/webhook-id.js')).href);
  // The Confluent wire format, as the built producer app's decoder reads it.
  const { wireFormat } = await import(pathToFileURL(path.join(ROOT, 'dist/apps/producer/src/ingest/schemas/schema-decoder.js')).href);
  say(`run ${runId}: a fresh API token, SECRETS_KEY and receiver for this run`);

  // 1. Kafka ---------------------------------------------------------------
  const before = await kafkaSh(['status']);
  const wasRunning = before.code === 0;
  say(wasRunning ? 'starting Kafka… (a broker is already running: the demo reuses it and leaves it running)' : 'starting Kafka… (none running: the demo starts one and stops it at the end)');
  // kafka.sh writes a pid file (and says "started pid") only for a broker it launched; noted as
  // soon as it is said, so that a Ctrl-C during start-up still stops that broker.
  const up = await kafkaSh(['up'], { onOutput: (output) => (state.brokerStartedByDemo ||= /kafka: started pid \d+/.test(output)) });
  checkpoint();
  if (up.code !== 0) throw new Error(`scripts/kafka.sh up failed with exit code ${up.code}`);
  state.brokerUp = true;

  // The schema registry (Apicurio, from Maven Central) that the Avro event's schema is registered in.
  say('starting the schema registry… (scripts/registry.sh: Apicurio Registry, JDK >= 21; reused when running)');
  const registryUp = await registrySh(['up'], { onOutput: (output) => (state.registryStartedByDemo ||= /registry: started pid \d+/.test(output)) });
  checkpoint();
  if (registryUp.code !== 0) throw new Error(`scripts/registry.sh up failed with exit code ${registryUp.code}`);
  state.registryUp = true;

  // 2. Credentials and settings of this run --------------------------------------
  state.apiToken = `demo_${randomBytes(24).toString('base64url')}`;
  const secretsKey = randomBytes(32).toString('hex');
  const ports = { api: await freePort(), delivery: await freePort() };
  state.apiUrl = `http://127.0.0.1:${ports.api}`;
  const env = await appEnv(ports, secretsKey);

  // The demo's Kafka clients, built by the gateway's createKafka from the apps' settings: a producer
  // for the source events, a reader for results + invalid. The idempotent producer connects first:
  // on a broker that has just started, its InitProducerId waits out "coordinator is loading" here,
  // quietly, instead of in the apps' logs.
  const kafka = await gatewayKafka('demo', { settings: env, logLevel: logLevel.NOTHING, retry: { retries: 10 } });
  const admin = kafka.admin();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  const reader = kafka.consumer({ groupId: `demo-reader-${runId}`, allowAutoTopicCreation: false });
  state.kafkaClients.push(reader, producer, admin);
  await Promise.all([admin.connect(), producer.connect()]);
  checkpoint();

  // 3. Receiver ---------------------------------------------------------------
  const receiver = (state.receiver = await new Receiver().start());
  say(`receiver listening on http://127.0.0.1:${receiver.port} (one path per subscription)`);

  // 4. Apps -------------------------------------------------------------------
  // One after the other: both create the gateway's missing topics at start-up, and on a
  // fresh broker the one that loses that race gets an ERROR line from kafkajs (harmless).
  const readyDeadline = Date.now() + READY_TIMEOUT_MS;
  say(`starting producer app (management API on ${state.apiUrl})…`);
  const producerApp = startApp('producer', env);
  await waitReady(producerApp, ports.api, readyDeadline);
  say(`starting delivery app (health on http://127.0.0.1:${ports.delivery})…`);
  const deliveryApp = startApp('delivery', env);
  await waitReady(deliveryApp, ports.delivery, readyDeadline);
  say(`both apps ready: GET /readyz = 200 [${elapsed()}]`);
  const foreign = Math.max(producerApp.foreignSubscriptions, deliveryApp.foreignSubscriptions);
  if (foreign > 0) say(c.dim(`(the apps skipped ${foreign} subscription record(s) of earlier runs on webhooks.subscriptions: sealed with another SECRETS_KEY)`));

  // 5. Subscriptions ------------------------------------------------------------
  say('creating subscriptions (POST /v1/subscriptions)…');
  const qoverySecret = `qovery_${randomBytes(9).toString('base64url')}`;
  for (const spec of subscriptionSpecs(qoverySecret)) {
    checkpoint();
    const res = await api('POST', '/v1/subscriptions', { url: receiver.url(spec.path), ...spec.body });
    if (res.status !== 201) throw new Error(`creating the ${spec.name} subscription answered ${res.status}: ${JSON.stringify(res.body)}`);
    const sub = { ...spec, id: res.body.id, secret: res.body.secret, view: res.body };
    state.subscriptions.push(sub);
    receiver.routes.set(spec.path, { name: spec.name, title: spec.title, kind: sub.view.kind, format: sub.view.format, secret: sub.secret, headers: sub.view.headers });
    const filters = Object.entries(sub.view.filters).map(([k, v]) => `${k}=${v.join('|')}`).join(', ') || 'none';
    const headers = Object.keys(sub.view.headers).join(', ');
    console.log(
      `  ${c.bold(spec.name.padEnd(13))} ${sub.id}  ${sub.view.kind}${sub.view.kind === 'SLACK' ? '' : `/${sub.view.format}`}  → ${spec.path}\n` +
        indent([
          `events ${sub.view.events.join(', ')}; filters ${filters}${headers ? `; headers ${headers}` : ''}`,
          sub.view.kind === 'SLACK' ? 'secret (not used: SLACK posts are unsigned)' : `secret ${sub.secret.slice(0, 12)}… (returned once, used by the receiver to verify)`,
        ]),
    );
  }
  const subByName = new Map(state.subscriptions.map((s) => [s.name, s]));
  const ourSubIds = new Set(state.subscriptions.map((s) => s.id));

  // The apps have created the gateway topics by now: read results and invalid records back.
  checkpoint();
  await reader.connect();
  const results = [];
  const invalidRecords = [];
  const events = await sourceEvents(runId, REGISTRY_URL, wireFormat);
  const malformedKeys = new Set(events.filter((e) => e.invalid).map((e) => e.message.key));
  await reader.subscribe({ topics: [TOPICS.results, TOPICS.invalid], fromBeginning: true });
  await reader.run({
    autoCommit: false,
    eachMessage: async ({ topic, message }) => {
      let value;
      try {
        value = JSON.parse(message.value?.toString('utf8') ?? 'null');
      } catch {
        return;
      }
      if (topic === TOPICS.results && ourSubIds.has(value?.subscriptionId)) results.push(value);
      if (topic === TOPICS.invalid && malformedKeys.has(message.key?.toString('utf8'))) invalidRecords.push(value);
    },
  });

  // 6. Events ----------------------------------------------------------------
  // What must arrive: one webhook per (event, subscription) that matches, by webhook id.
  const expected = [];
  const forbidden = new Map(); // webhook id → what it would have been, for pairs that must not match
  for (const event of events.filter((e) => !e.invalid)) {
    for (const sub of state.subscriptions) {
      const id = webhookId(event.source, event.id, sub.id);
      if (event.expect.includes(sub.name)) expected.push({ event, sub, webhookId: id });
      else forbidden.set(id, { event, sub });
    }
  }
  // The receiver shows whether a raw body is the event data byte for byte.
  const expectedByWebhookId = new Map(expected.map((x) => [x.webhookId, x]));
  for (const sub of state.subscriptions) {
    if (sub.view.format === 'raw') receiver.routes.get(sub.path).expectedBody = (r) => {
      const x = expectedByWebhookId.get(r.headers['webhook-id']);
      return x && JSON.stringify(x.event.data);
    };
  }

  say(`publishing ${events.length} events to ${SOURCE_TOPIC} (kafkajs, idempotent, acks=all)…`);
  receiver.hold(); // webhooks that arrive meanwhile are printed after the list
  const published = [];
  for (const [i, event] of events.entries()) {
    checkpoint();
    const [meta] = await producer.send({ topic: SOURCE_TOPIC, acks: -1, messages: [event.message] });
    published.push({ partition: meta.partition, offset: BigInt(meta.baseOffset) });
    const fate = event.invalid ? `→ expect a record on ${TOPICS.invalid}` : event.expect.length === 0 ? '→ expect NO webhook (filtered out: not PRODUCTION)' : `→ expect ${event.expect.map((n) => subByName.get(n).path).join(' + ')}`;
    console.log(`  ${i + 1}. ${event.label.padEnd(52)} ${c.dim(`(${event.form})`)}\n     ${fate}`);
  }

  // 7. Wait for the outcomes ------------------------------------------------------
  say(`waiting for ${expected.length} webhooks (timeout ${WEBHOOK_TIMEOUT_MS / 1000} s)…`);
  receiver.release();
  const deadline = Date.now() + WEBHOOK_TIMEOUT_MS;
  const arrivalOf = (x) =>
    receiver.received.find((r) =>
      r.route?.name === x.sub.name &&
      (x.sub.view.kind === 'SLACK'
        ? // Slack posts carry no webhook-id: the event id is in the message's context block.
          r.headers['x-webhook-event-type'] === x.event.type && r.body.includes(x.event.id)
        : r.headers['webhook-id'] === x.webhookId),
    );
  const missingWebhooks = () => expected.filter((x) => !arrivalOf(x));
  let timedOut = false;
  await receiver.waitUntil(() => missingWebhooks().length === 0, Math.max(0, deadline - Date.now()), interrupt.signal).catch(() => {
    checkpoint();
    timedOut = true;
  });

  // The producer has handled every event of this run (the filtered one included) once its group committed past them.
  const producerDone = await pollUntil(async () => {
    const [offsets] = await admin.fetchOffsets({ groupId: PRODUCER_GROUP, topics: [SOURCE_TOPIC] });
    const committed = new Map(offsets.partitions.map((p) => [p.partition, BigInt(p.offset)]));
    return published.every((p) => (committed.get(p.partition) ?? -1n) > p.offset);
  }, deadline);
  const deliveredResult = (x) => results.find((r) => r.webhookId === x.webhookId && r.outcome === 'delivered');
  const resultsDone = await pollUntil(() => expected.every(deliveredResult), deadline);
  const invalidDone = await pollUntil(() => invalidRecords.length >= malformedKeys.size, deadline);
  if (!timedOut) await pause(QUIET_PERIOD_MS); // anything that should not come would have come by now
  checkpoint();

  // 8. Report ------------------------------------------------------------------
  const problems = [];
  const missing = missingWebhooks();
  for (const x of missing) problems.push(`no webhook for "${x.event.label}" at ${x.sub.path}`);
  const badSignatures = receiver.received.filter((r) => r.route && !r.verified && !r.unsigned);
  for (const r of badSignatures) problems.push(`signature INVALID on ${r.path}: ${r.error}`);
  const slackWithSignature = receiver.received.filter((r) => r.unsigned && r.error);
  for (const r of slackWithSignature) problems.push(`${r.path}: ${r.error}`);
  const wrongBodies = expected.filter((x) => x.sub.view.format === 'raw').filter((x) => {
    const r = arrivalOf(x);
    return r && r.body !== JSON.stringify(x.event.data);
  });
  for (const x of wrongBodies) problems.push(`${x.sub.path}: the raw body is not the event data of "${x.event.label}"`);
  const qoveryHeader = expected.filter((x) => x.sub.name === 'qovery').map(arrivalOf).filter((r) => r && !r.headers['qovery-secret']);
  if (qoveryHeader.length > 0) problems.push('the Qovery-Secret header is missing on /qovery');
  const leaked = receiver.received.filter((r) => forbidden.has(r.headers['webhook-id']));
  const filteredEvents = events.filter((e) => !e.invalid && e.expect.length === 0);
  const leakedSlack = receiver.received.filter((r) => r.unsigned && filteredEvents.some((e) => r.body.includes(e.id)));
  for (const r of [...leaked, ...leakedSlack]) problems.push(`a webhook arrived at ${r.path} that the filters should have stopped`);
  const leakedResults = results.filter((r) => forbidden.has(r.webhookId));
  if (leakedResults.length > 0 && leaked.length + leakedSlack.length === 0) problems.push(`${leakedResults.length} delivery job(s) for a filtered-out event on ${TOPICS.results}`);
  const known = new Set([...expected.map(arrivalOf).filter(Boolean), ...leaked, ...leakedSlack]);
  const strays = receiver.received.filter((r) => !known.has(r));
  if (!producerDone) problems.push(`the producer group ${PRODUCER_GROUP} did not commit past this run's events in time`);

  console.log('');
  if (invalidRecords.length > 0) {
    for (const inv of invalidRecords) say(`${TOPICS.invalid}: ${inv.topic}[${inv.partition}]@${inv.offset} (${inv.size} bytes) — reason: ${c.bold(inv.reason)}`);
  } else problems.push(`no record for the malformed event on ${TOPICS.invalid}${invalidDone ? '' : ' (timed out)'}`);
  const byOutcome = {};
  for (const r of results) byOutcome[r.outcome] = (byOutcome[r.outcome] ?? 0) + 1;
  const outcomeText = Object.entries(byOutcome).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  const durations = results.filter((r) => r.outcome === 'delivered').map((r) => r.durationMs);
  say(
    `${TOPICS.results}: ${results.length} attempt record(s) for this run's subscriptions — ${outcomeText}` +
      (durations.length ? c.dim(` (HTTP ${Math.min(...durations)}–${Math.max(...durations)} ms)`) : ''),
  );
  for (const r of results.filter((r) => r.outcome !== 'delivered')) console.log(`      ${r.outcome}: ${r.subscriptionId} ${r.eventType} reason ${r.reason}${r.statusCode ? ` status ${r.statusCode}` : ''}`);
  if (!resultsDone) problems.push(`${expected.filter((x) => !deliveredResult(x)).length} expected 'delivered' record(s) missing on ${TOPICS.results}`);
  for (const e of filteredEvents) {
    const stopped = ![...leaked, ...leakedSlack].some((r) => r.body.includes(e.id) || forbidden.get(r.headers['webhook-id'])?.event === e) && !leakedResults.some((r) => r.eventId === e.id);
    if (stopped) say(`"${e.label}": filtered out, no webhook sent ${c.green('✓')} (the Qovery subscriptions want environment type PRODUCTION)`);
  }
  if (strays.length > 0) say(c.dim(`${strays.length} other request(s) reached the receiver (events an interrupted earlier run left unread?); not counted`));
  if (timedOut) problems.push(`timed out after ${WEBHOOK_TIMEOUT_MS / 1000} s waiting for webhooks`);

  const sourceCount = events.length;
  const delivered = expected.length - missing.length;
  const signed = expected.filter((x) => x.sub.view.kind !== 'SLACK' && arrivalOf(x)?.verified).length;
  const unsigned = expected.filter((x) => x.sub.view.kind === 'SLACK' && arrivalOf(x)).length;
  console.log('');
  if (problems.length === 0) {
    say(
      c.green(
        `published ${sourceCount} events → ${delivered} webhooks delivered, all signatures verified (${signed} signed, ${unsigned} Slack post${unsigned === 1 ? '' : 's'} unsigned by design); ` +
          `${invalidRecords.length} invalid event(s) on ${TOPICS.invalid}; ${filteredEvents.length} event filtered out  [${elapsed()}]`,
      ),
    );
    return 0;
  }
  say(c.red(`FAILED: published ${sourceCount} events → ${delivered}/${expected.length} webhooks delivered, ${signed} signatures verified:`));
  for (const p of problems) console.log(c.red(`  - ${p}`));
  return 1;
}

// ------------------------------------------------------------------ cleanup
let cleaning;
function cleanup() {
  cleaning ??= (async () => {
    say('cleaning up…');
    const producerApp = state.apps.find((a) => a.name === 'producer');
    if (state.subscriptions.length > 0 && producerApp && !producerApp.exit) {
      let deleted = 0;
      for (const sub of state.subscriptions) {
        try {
          const res = await api('DELETE', `/v1/subscriptions/${sub.id}`);
          if (res.status === 204 || res.status === 404) deleted++;
          else say(`DELETE ${sub.id} answered ${res.status}: ${JSON.stringify(res.body)}`);
        } catch (err) {
          say(`DELETE ${sub.id} failed: ${err.message}`);
        }
      }
      say(`deleted ${deleted}/${state.subscriptions.length} subscriptions of this run (DELETE /v1/subscriptions/:id) [${elapsed()}]`);
    }
    await Promise.all(
      state.kafkaClients.map((client) => Promise.race([client.disconnect().catch(() => undefined), sleep(10_000)])),
    );
    const running = state.apps.filter((a) => !a.exit);
    if (running.length > 0) {
      say(`stopping ${running.map((a) => `${a.name} (pid ${a.child.pid})`).join(' and ')} with SIGTERM…`);
      for (const a of running) a.child.kill('SIGTERM');
      await Promise.all(
        running.map(async (a) => {
          const exit = await Promise.race([a.exited, sleep(STOP_TIMEOUT_MS)]);
          if (!exit) {
            say(`${a.name} still running after ${STOP_TIMEOUT_MS / 1000} s: SIGKILL`);
            a.child.kill('SIGKILL');
            await a.exited;
          }
        }),
      );
      say(`apps stopped (${running.map((a) => `${a.name}: ${describeExit(a.exit)}`).join(', ')}) [${elapsed()}]`);
    }
    await state.receiver?.close();
    if (state.brokerStartedByDemo) {
      say('stopping the Kafka broker the demo started…');
      // Detached: a second Ctrl-C does not interrupt the broker's shutdown.
      const down = await kafkaSh(['down'], { detached: true });
      if (down.code !== 0) say(`scripts/kafka.sh down failed with exit code ${down.code}`);
    } else if (state.brokerUp) {
      say(`leaving the Kafka broker on ${BROKER} running (the demo did not start it)`);
    }
    if (state.registryStartedByDemo) {
      say('stopping the schema registry the demo started…');
      const down = await registrySh(['down'], { detached: true });
      if (down.code !== 0) say(`scripts/registry.sh down failed with exit code ${down.code}`);
    } else if (state.registryUp) {
      say(`leaving the schema registry at ${REGISTRY_URL} running (the demo did not start it)`);
    }
  })();
  return cleaning;
}

let exiting = false;
async function finish(code) {
  if (exiting) return;
  exiting = true;
  try {
    await cleanup();
  } catch (err) {
    console.error(`demo: cleanup failed: ${err.stack ?? err}`);
    code = code || 1;
  }
  say(`done in ${elapsed()}, exit code ${code}`);
  process.exit(code);
}

let signals = 0;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    signals++;
    if (signals === 1) {
      console.log('');
      say(`${signal}: stopping (press Ctrl-C again to kill the apps at once)…`);
      interrupt.abort();
      void finish(130);
    } else {
      for (const a of state.apps) if (!a.exit) a.child.kill('SIGKILL');
      process.exit(130);
    }
  });
}
// Last resort (e.g. an uncaught error after cleanup): never leave an app behind.
process.on('exit', () => {
  for (const a of state.apps) if (!a.exit) a.child.kill('SIGKILL');
});

main().then(
  (code) => finish(code),
  (err) => {
    if (exiting) return; // interrupted: errors of aborted steps do not matter
    console.error(c.red(`demo: FAILED: ${err.message}`));
    if (process.env.DEMO_DEBUG) console.error(err.stack);
    void finish(1);
  },
);
