#!/usr/bin/env node
// The ingest path per core: source record → event → match, for the same events as plain JSON and
// as Avro in the Confluent wire format (issue 22). `npm run bench:ingest` builds the apps (dist/)
// and the filter bench's workload (.cache/bench-build), then runs:
//   JSON: readEvent (JSON.parse) → SubscriptionIndex.match
//   Avro: SchemaDecoder.decode (schema compiled once, cached by id) → readEvent(decoded) → match
// The schema comes from an in-process schema source (asked once; the registry's HTTP is not
// timed: a running gateway asks it once per schema id). One thread, a seeded workload.
// Options: --subscriptions (10000), --events (200000 per timed run), --warmup (20000), --runs (3),
//          --seed (20250101), --pool (65536 distinct events, cycled).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import avro from 'avsc';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const need = (rel) => {
  const file = path.join(ROOT, rel);
  if (!existsSync(file)) throw new Error(`${rel} is missing: run 'npm run bench:ingest' (it builds first)`);
  return import(pathToFileURL(file).href);
};
const { readEvent } = await need('dist/apps/producer/src/ingest/event-reader.js');
const { SchemaDecoder, wireFormat } = await need('dist/apps/producer/src/ingest/schemas/schema-decoder.js');
const { SubscriptionIndex } = await need('.cache/bench-build/libs/filter/src/index.js');
const { generateEvents, generateSubscriptions } = await need('.cache/bench-build/bench/workload.js');

const opts = { subscriptions: 10_000, events: 200_000, warmup: 20_000, runs: 3, seed: 20250101, pool: 65_536 };
for (const arg of process.argv.slice(2)) {
  const [name, raw] = arg.replace(/^--/, '').split('=');
  if (!(name in opts) || !Number.isInteger(Number(raw))) throw new Error(`unknown option or not a whole number: ${arg}`);
  opts[name] = Number(raw);
}

/** The workload's events (bench/workload.ts) as an Avro record: the event's attributes, its data in field order. */
const SCHEMA = {
  type: 'record',
  name: 'BenchEvent',
  namespace: 'bench',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'type', type: 'string' },
    { name: 'source', type: 'string' },
    { name: 'time', type: 'string' },
    { name: 'tenant', type: ['null', 'string'], default: null },
    {
      name: 'data',
      type: {
        type: 'record',
        name: 'Data',
        fields: [
          { name: 'environment', type: { type: 'record', name: 'Environment', fields: [{ name: 'type', type: 'string' }] } },
          { name: 'project', type: { type: 'record', name: 'Project', fields: [{ name: 'name', type: 'string' }, { name: 'id', type: 'string' }] } },
          { name: 'region', type: ['null', 'string'], default: null },
          { name: 'revision', type: 'int' },
        ],
      },
    },
  ],
};
const SCHEMA_ID = 1;
let registryCalls = 0;
const schemas = {
  byId: async (id) => {
    registryCalls++;
    if (id !== SCHEMA_ID) throw new Error(`no schema ${id}`);
    return { schema: JSON.stringify(SCHEMA) };
  },
  byVersion: async () => {
    throw new Error('no references here');
  },
  subjectsOf: async () => [],
};

const type = avro.Type.forSchema(SCHEMA);
const plainOf = (e) => ({ id: e.id, type: e.type, source: e.source, time: e.time, tenant: e.tenant ?? null, data: { environment: e.data.environment, project: e.data.project, region: e.data.region ?? null, revision: e.data.revision } });

const events = generateEvents(opts.pool, opts.seed);
const json = events.map((e) => ({ value: Buffer.from(JSON.stringify(plainOf(e))) }));
const wired = events.map((e) => wireFormat(SCHEMA_ID, type.toBuffer(plainOf(e))));
// First with no subscriptions (reading alone: parse or decode, then the event reader), then with them.
let index = new SubscriptionIndex();
const now = new Date();
const readerOptions = {
  maxEventBytes: 1_048_576,
  paths: { id: 'id', type: 'type', data: 'data', subject: 'subject', time: 'time' },
  tenantPath: 'tenant',
  callbacks: { urlPaths: [], urlHeader: 'webhook-url' },
  now: () => now,
};
const decoder = new SchemaDecoder(schemas);

async function runJson(n) {
  let matches = 0;
  for (let i = 0; i < n; i++) {
    const read = readEvent(json[i % json.length], 'bench.events', readerOptions);
    if (!read.ok) throw new Error(read.reason);
    matches += index.match(read.event).length;
  }
  return matches;
}

async function runAvro(n) {
  let matches = 0;
  for (let i = 0; i < n; i++) {
    const value = wired[i % wired.length];
    const decoded = await decoder.decode(value);
    if (!decoded.ok) throw new Error(decoded.reason);
    const read = readEvent({ value, decoded: decoded.value }, 'bench.events', readerOptions);
    if (!read.ok) throw new Error(read.reason);
    matches += index.match(read.event).length;
  }
  return matches;
}

const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const rows = [];
for (const size of [0, opts.subscriptions]) {
  index = new SubscriptionIndex();
  for (const s of generateSubscriptions(size, opts.seed)) index.upsert(s);
  // The same events must give the same matches either way.
  const [a, b] = [await runJson(2_000), await runAvro(2_000)];
  if (a !== b) throw new Error(`the Avro path matched ${b}, the JSON path ${a}: not the same events`);
 for (const [path, run] of [['JSON', runJson], ['Avro', runAvro]]) {
  const name = `${path}, ${size.toLocaleString('en-US')} subscriptions`;
  await run(opts.warmup);
  const rates = [];
  const cpu = [];
  let perEvent = 0;
  for (let r = 0; r < opts.runs; r++) {
    globalThis.gc?.();
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const matches = await run(opts.events);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const c = process.cpuUsage(c0);
    rates.push(opts.events / (ms / 1000));
    cpu.push((c.user + c.system) / 1000 / ms);
    perEvent = matches / opts.events;
    console.log(`${name} run ${r + 1}/${opts.runs}: ${opts.events.toLocaleString('en-US')} events in ${ms.toFixed(0)} ms = ${Math.round(rates.at(-1)).toLocaleString('en-US')} events/s (CPU/wall ${cpu.at(-1).toFixed(2)})`);
  }
  rows.push({ name, median: median(rates), min: Math.min(...rates), max: Math.max(...rates), cpu: median(cpu), perEvent });
 }
}

const bytes = (xs) => Math.round(xs.reduce((n, x) => n + (x.value ?? x).length, 0) / xs.length);
console.log(`\nrecord value ${bytes(json)} B as JSON, ${bytes(wired)} B as Avro; schema asked for ${registryCalls} time(s) in all`);
console.log('| path | events/s (median) | min–max | CPU/wall | µs/event | matches/event |');
console.log('|:--|--:|--:|--:|--:|--:|');
for (const r of rows) {
  console.log(`| ${r.name} | ${Math.round(r.median).toLocaleString('en-US')} | ${Math.round(r.min).toLocaleString('en-US')}–${Math.round(r.max).toLocaleString('en-US')} | ${r.cpu.toFixed(2)} | ${(1e6 / r.median).toFixed(2)} | ${r.perEvent.toFixed(2)} |`);
}
console.log(`Avro ÷ JSON: ${(rows[1].median / rows[0].median).toFixed(2)} reading alone, ${(rows[3].median / rows[2].median).toFixed(2)} with ${opts.subscriptions.toLocaleString('en-US')} subscriptions`);
