// The delivery benchmark's webhook receiver: many customer endpoints in one process.
//
// Started by run.mjs with child_process.fork(), so its CPU is its own and not the
// harness's; it is driven and read over IPC. Endpoint <n> is the path /ep/<n>. The
// endpoints are spread over `origins` listening ports on 127.0.0.1 (endpoint n on
// port number n % origins), because the gateway keeps one connection pool per
// origin: with one port per endpoint (the default in run.mjs) every endpoint is its
// own origin, like distinct customers' hosts.
//
// What an endpoint does is set per phase from a behaviour list (index = endpoint):
//   ok         200 at once
//   delay:<ms> 200 after <ms>
//   hang       never answers (the gateway's timeout ends the request)
//   500        500 at once
//
// Per request it records the endpoint, the body's data.seq / data.phase / data.sentAt
// (stamped by the harness when it published the event), the receipt time (when the
// request's headers arrived), the status it answered and the webhook-id header. It
// counts requests, the peak of requests in flight (received and not yet answered or
// closed), and webhook-ids answered 2xx more than once (duplicate deliveries). A sender that
// sends no webhook-id header (the peers in bench/compare) is identified by the body's data.id.
// Per-key order: when the body carries data.key and data.kseq (the event's sequence number
// within its Kafka key), a request whose kseq is lower than one already received for the same
// endpoint and key is an order violation.
//
// Times are epoch milliseconds with sub-millisecond resolution,
// performance.timeOrigin + performance.now(), the same clock run.mjs stamps with.
//
// IPC, parent → receiver: {id, cmd, ...args}; receiver → parent: {id, ok, result | error}.
//   listen {endpoints, origins}  → {ports}
//   behave {behaviours: string[], fallback?}  set the behaviour of every endpoint
//   phase {name}                 reset the in-flight peak (records are kept, tagged by data.phase)
//   stats {phase}                the records of that phase and the counters
//   count {phase}                distinct ids answered 2xx in that phase (cheap, for progress)
//   reset                        forget every record and counter (between runs)
//   summary {phase, expected}    that phase summed up here (no rows over IPC): distinct 2xx ids,
//                                duplicates, strays (seq ≥ expected), first/last receipt,
//                                latency percentiles (receipt − data.sentAt), order violations
//   close                        drop every connection and exit
import { createServer } from 'node:http';

const now = () => performance.timeOrigin + performance.now();

const OK = 0;
const DELAY = 1;
const HANG = 2;
const FAIL = 3;

/** endpoint → [kind, delayMs] */
let behaviours = [];
let fallback = [OK, 0];
const servers = [];

let inFlight = 0;
let peakInFlight = 0;
let requests = 0;
let unknownPath = 0;
let unreadableBody = 0;
let phaseName = '';
/** phase → rows [ep, seq, sentAt, recvAt, status, webhookId] (status 0 = hung, never answered) */
const records = new Map();
/** webhook-id → number of 2xx answers */
const answered2xx = new Map();
/** webhook-id → number of requests */
const requestsById = new Map();
/** phase → distinct ids answered 2xx */
const distinct2xx = new Map();
/** `${ep}/${key}` → highest kseq received */
const lastKseq = new Map();
/** phase → requests received out of per-key order */
const orderViolations = new Map();

function parseBehaviour(spec) {
  const s = String(spec).trim();
  if (s === 'ok') return [OK, 0];
  if (s === 'hang') return [HANG, 0];
  if (s === '500') return [FAIL, 0];
  const m = /^delay:(\d+)$/.exec(s);
  if (m) return [DELAY, Number(m[1])];
  throw new Error(`unknown behaviour "${spec}" (ok, delay:<ms>, hang, 500)`);
}

function onRequest(req, res) {
  const recvAt = now();
  requests++;
  inFlight++;
  if (inFlight > peakInFlight) peakInFlight = inFlight;
  let open = true;
  const done = () => {
    if (!open) return;
    open = false;
    inFlight--;
  };
  res.once('finish', done);
  res.once('close', done);

  const m = /^\/ep\/(\d+)$/.exec(req.url ?? '');
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('error', () => undefined);
  req.once('end', () => {
    if (!m) {
      unknownPath++;
      res.writeHead(404, { 'content-length': '0' });
      res.end();
      return;
    }
    const ep = Number(m[1]);
    const [kind, delayMs] = behaviours[ep] ?? fallback;
    let data;
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      // format standard: {type, timestamp, data}; format raw: the data itself
      data = body && typeof body.data === 'object' && body.data !== null ? body.data : body;
    } catch {
      unreadableBody++;
      data = {};
    }
    const webhookId = req.headers['webhook-id'] ?? (data.id === undefined ? '' : String(data.id));
    requestsById.set(webhookId, (requestsById.get(webhookId) ?? 0) + 1);
    const status = kind === HANG ? 0 : kind === FAIL ? 500 : 200;
    const phase = typeof data.phase === 'string' ? data.phase : '';
    let rows = records.get(phase);
    if (!rows) records.set(phase, (rows = []));
    rows.push([ep, Number(data.seq ?? -1), Number(data.sentAt ?? NaN), recvAt, status, webhookId]);
    if (status === 200) {
      const n = (answered2xx.get(webhookId) ?? 0) + 1;
      answered2xx.set(webhookId, n);
      if (n === 1) distinct2xx.set(phase, (distinct2xx.get(phase) ?? 0) + 1);
    }
    if (data.key !== undefined && data.kseq !== undefined) {
      const k = `${phase}/${ep}/${data.key}`;
      const prev = lastKseq.get(k);
      if (prev !== undefined && data.kseq < prev) orderViolations.set(phase, (orderViolations.get(phase) ?? 0) + 1);
      else lastKseq.set(k, data.kseq);
    }

    switch (kind) {
      case OK:
        res.writeHead(200, { 'content-length': '0' });
        res.end();
        break;
      case DELAY:
        setTimeout(() => {
          if (res.destroyed) return;
          res.writeHead(200, { 'content-length': '0' });
          res.end();
        }, delayMs);
        break;
      case FAIL:
        res.writeHead(500, { 'content-type': 'text/plain', 'content-length': '4' });
        res.end('fail');
        break;
      case HANG:
      default:
        break; // never answered: the client gives up and closes the connection
    }
  });
}

async function listen({ endpoints, origins }) {
  const n = Math.max(1, Math.min(origins, endpoints));
  const ports = [];
  for (let i = 0; i < n; i++) {
    const server = createServer({ keepAliveTimeout: 60_000, requestTimeout: 0, headersTimeout: 60_000, noDelay: true }, onRequest);
    server.maxConnections = 1_000_000;
    server.keepAliveTimeout = 60_000;
    server.on('clientError', (_err, socket) => socket.destroy());
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, resolve);
    });
    servers.push(server);
    ports.push(server.address().port);
  }
  return { ports };
}

function stats({ phase }) {
  const rows = records.get(phase) ?? [];
  let duplicates = 0;
  let repeated = 0;
  const seen = new Set();
  for (const r of rows) {
    const id = r[5];
    if (seen.has(id)) continue;
    seen.add(id);
    const answers = answered2xx.get(id) ?? 0;
    if (answers > 1) duplicates += answers - 1;
    repeated += (requestsById.get(id) ?? 1) - 1;
  }
  return {
    phase,
    rows,
    requests: rows.length,
    /** 2xx answers beyond the first for one webhook-id: a duplicate delivery. */
    duplicateDeliveries: duplicates,
    /** Requests beyond the first for one webhook-id (retries to failing endpoints included). */
    repeatedRequests: repeated,
    peakInFlight,
    inFlight,
    totalRequests: requests,
    unknownPath,
    unreadableBody,
  };
}

function percentileOf(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** One phase summed up; `expected`: the seq numbers published in it are 0 … expected − 1. */
function summary({ phase, expected }) {
  const rows = records.get(phase) ?? [];
  const first = new Map(); // id → [recvAt, sentAt]
  let strays = 0;
  let duplicates = 0;
  for (const [, seq, sentAt, recvAt, status, id] of rows) {
    if (!(seq >= 0 && seq < expected)) {
      strays++;
      continue;
    }
    if (status !== 200) continue;
    const prev = first.get(id);
    if (prev) duplicates++;
    else first.set(id, [recvAt, sentAt]);
  }
  const receipts = [...first.values()].map(([r]) => r).sort((a, b) => a - b);
  const latencies = [...first.values()].map(([r, s]) => r - s).sort((a, b) => a - b);
  return {
    phase,
    requests: rows.length,
    delivered: first.size,
    duplicates,
    strays,
    firstReceipt: receipts[0],
    lastReceipt: receipts[receipts.length - 1],
    receipt10: receipts[Math.floor(0.1 * (receipts.length - 1))],
    receipt90: receipts[Math.floor(0.9 * (receipts.length - 1))],
    latencyMs: { n: latencies.length, p50: percentileOf(latencies, 50), p90: percentileOf(latencies, 90), p99: percentileOf(latencies, 99), max: latencies[latencies.length - 1] },
    orderViolations: orderViolations.get(phase) ?? 0,
    peakInFlight,
    inFlight,
  };
}

const commands = {
  listen,
  count({ phase }) {
    return { delivered: distinct2xx.get(phase) ?? 0, inFlight, peakInFlight };
  },
  summary,
  reset() {
    for (const m of [records, answered2xx, requestsById, distinct2xx, lastKseq, orderViolations]) m.clear();
    requests = 0;
    peakInFlight = inFlight;
    return {};
  },
  behave({ behaviours: list, fallback: fb }) {
    behaviours = list.map(parseBehaviour);
    fallback = parseBehaviour(fb ?? 'ok');
    return { endpoints: behaviours.length };
  },
  phase({ name }) {
    phaseName = name;
    peakInFlight = inFlight;
    return { phase: phaseName };
  },
  stats,
  async close() {
    await Promise.all(
      servers.map(
        (s) =>
          new Promise((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
    setTimeout(() => process.exit(0), 10);
    return {};
  },
};

process.on('message', (msg) => {
  const { id, cmd, ...args } = msg;
  Promise.resolve()
    .then(() => {
      const fn = commands[cmd];
      if (!fn) throw new Error(`unknown command ${cmd}`);
      return fn(args);
    })
    .then(
      (result) => process.send({ id, ok: true, result }),
      (err) => process.send({ id, ok: false, error: String(err?.stack ?? err) }),
    );
});
// The harness went away: nothing left to serve.
process.on('disconnect', () => process.exit(0));
