#!/usr/bin/env node
// One-shot readiness probe for a Kafka broker, using only Node built-ins.
//
//   node scripts/kafka-ready.mjs [--host 127.0.0.1] [--port 9092] [--timeout-ms 3000]
//                                [--api-versions-only] [--group <id>]
//
// 1. ApiVersions (v0): does something on host:port answer as Kafka?
// 2. FindCoordinator (key type GROUP): is the group coordinator for <group> loaded?
//    The first call also makes the broker create __consumer_offsets. Only error code 0
//    counts; COORDINATOR_LOAD_IN_PROGRESS (14) / COORDINATOR_NOT_AVAILABLE (15) mean
//    "not yet".
//
// Exit codes (scripts/kafka.sh relies on them):
//   0  ready (or, with --api-versions-only, "answers as Kafka")
//   10 nothing accepts connections on host:port
//   11 something accepts connections but does not answer as Kafka
//   12 Kafka answers, but the group coordinator is not ready yet
//   13 connected, but no answer within the timeout (e.g. a broker still starting)
//   2  usage error
// One line describing the outcome goes to stdout.
import net from 'node:net';

const EXIT = { READY: 0, USAGE: 2, NO_LISTENER: 10, NOT_KAFKA: 11, NOT_READY: 12, NO_ANSWER: 13 };
const API_FIND_COORDINATOR = 10;
const API_API_VERSIONS = 18;
const ERRORS = {
  14: 'COORDINATOR_LOAD_IN_PROGRESS',
  15: 'COORDINATOR_NOT_AVAILABLE',
  16: 'NOT_COORDINATOR',
  35: 'UNSUPPORTED_VERSION',
};

class ProbeError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

function parseArgs(argv) {
  const opts = { host: '127.0.0.1', port: 9092, timeoutMs: 3000, apiVersionsOnly: false, group: 'local-kafka-ready-probe' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new ProbeError(EXIT.USAGE, `missing value for ${arg}`);
      return argv[++i];
    };
    if (arg === '--host') opts.host = value();
    else if (arg === '--port') opts.port = Number(value());
    else if (arg === '--timeout-ms') opts.timeoutMs = Number(value());
    else if (arg === '--group') opts.group = value();
    else if (arg === '--api-versions-only') opts.apiVersionsOnly = true;
    else throw new ProbeError(EXIT.USAGE, `unknown argument ${arg}`);
  }
  if (!Number.isInteger(opts.port) || opts.port < 1 || opts.port > 65535) throw new ProbeError(EXIT.USAGE, 'bad --port');
  if (!(opts.timeoutMs > 0)) throw new ProbeError(EXIT.USAGE, 'bad --timeout-ms');
  return opts;
}

// ---------------------------------------------------------------- encoding helpers
function int8(v) { const b = Buffer.alloc(1); b.writeInt8(v); return b; }
function int16(v) { const b = Buffer.alloc(2); b.writeInt16BE(v); return b; }
function int32(v) { const b = Buffer.alloc(4); b.writeInt32BE(v); return b; }
function str16(s) { const body = Buffer.from(s, 'utf8'); return Buffer.concat([int16(body.length), body]); }
function uvarint(v) {
  const out = [];
  while (v > 0x7f) { out.push((v & 0x7f) | 0x80); v >>>= 7; }
  out.push(v);
  return Buffer.from(out);
}
function compactStr(s) { const body = Buffer.from(s, 'utf8'); return Buffer.concat([uvarint(body.length + 1), body]); }
const NO_TAGS = uvarint(0);

class Reader {
  constructor(buf) { this.buf = buf; this.pos = 0; }
  need(n) { if (this.pos + n > this.buf.length) throw new ProbeError(EXIT.NOT_KAFKA, 'truncated response'); }
  int8() { this.need(1); const v = this.buf.readInt8(this.pos); this.pos += 1; return v; }
  int16() { this.need(2); const v = this.buf.readInt16BE(this.pos); this.pos += 2; return v; }
  int32() { this.need(4); const v = this.buf.readInt32BE(this.pos); this.pos += 4; return v; }
  uvarint() {
    let v = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      this.need(1);
      const b = this.buf[this.pos++];
      v |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return v >>> 0;
    }
    throw new ProbeError(EXIT.NOT_KAFKA, 'bad varint');
  }
  bytes(n) { this.need(n); const v = this.buf.subarray(this.pos, this.pos + n); this.pos += n; return v; }
  str16() { const n = this.int16(); return n < 0 ? null : this.bytes(n).toString('utf8'); }
  compactStr() { const n = this.uvarint(); return n === 0 ? null : this.bytes(n - 1).toString('utf8'); }
  skipTags() {
    const count = this.uvarint();
    for (let i = 0; i < count; i++) { this.uvarint(); this.bytes(this.uvarint()); }
  }
}

// ---------------------------------------------------------------- connection
// One TCP connection; requests are sent one at a time and answered in order.
function connect(host, port, timeoutMs) {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new ProbeError(EXIT.NO_LISTENER, `no connection to ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => { clearTimeout(timer); resolve(socket); });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(new ProbeError(EXIT.NO_LISTENER, `cannot connect to ${host}:${port}: ${err.code || err.message}`));
    });
  });
}

function exchange(socket, request, correlationId, timeoutMs) {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const cleanup = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onError);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new ProbeError(EXIT.NO_ANSWER, `connected, but no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const onData = (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < 4) return;
      const size = buf.readInt32BE(0);
      if (size < 4 || size > 16 * 1024 * 1024) {
        cleanup();
        reject(new ProbeError(EXIT.NOT_KAFKA, `answer is not a Kafka response (frame size ${size})`));
        return;
      }
      if (buf.length < 4 + size) return;
      cleanup();
      const frame = new Reader(buf.subarray(4, 4 + size));
      const got = frame.int32();
      if (got !== correlationId) {
        reject(new ProbeError(EXIT.NOT_KAFKA, `correlation id mismatch (${got} != ${correlationId})`));
        return;
      }
      resolve(frame);
    };
    const onClose = () => { cleanup(); reject(new ProbeError(EXIT.NOT_KAFKA, 'connection closed without a Kafka response')); };
    const onError = (err) => { cleanup(); reject(new ProbeError(EXIT.NOT_KAFKA, `connection error: ${err.code || err.message}`)); };
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.once('error', onError);
    socket.write(Buffer.concat([int32(request.length), request]));
  });
}

const CLIENT_ID = 'kafka-ready';

// ---------------------------------------------------------------- ApiVersions v0
// Every broker answers v0 (on an unsupported version it answers in v0 format with error 35).
async function apiVersions(socket, timeoutMs) {
  const corr = 1;
  const req = Buffer.concat([int16(API_API_VERSIONS), int16(0), int32(corr), str16(CLIENT_ID)]);
  const r = await exchange(socket, req, corr, timeoutMs);
  const errorCode = r.int16();
  const count = r.int32();
  if (count < 0 || count > 1000) throw new ProbeError(EXIT.NOT_KAFKA, 'malformed ApiVersions response');
  const versions = new Map();
  for (let i = 0; i < count; i++) {
    const key = r.int16();
    versions.set(key, { min: r.int16(), max: r.int16() });
  }
  if (errorCode !== 0 && errorCode !== 35) throw new ProbeError(EXIT.NOT_KAFKA, `ApiVersions error ${errorCode}`);
  if (!versions.has(API_API_VERSIONS)) throw new ProbeError(EXIT.NOT_KAFKA, 'ApiVersions response lists no ApiVersions API');
  return versions;
}

// ---------------------------------------------------------------- FindCoordinator (GROUP)
// v1-v2: classic encoding; v3: flexible; v4+: flexible and batched (KIP-699).
async function findGroupCoordinator(socket, versions, group, timeoutMs) {
  const range = versions.get(API_FIND_COORDINATOR);
  if (!range) throw new ProbeError(EXIT.NOT_KAFKA, 'broker does not offer FindCoordinator');
  const candidates = [6, 5, 4, 3, 2, 1].filter((v) => v >= range.min && v <= range.max);
  if (candidates.length === 0) {
    throw new ProbeError(EXIT.NOT_KAFKA, `no usable FindCoordinator version (broker offers v${range.min}-v${range.max})`);
  }
  const version = candidates[0];
  const corr = 2;
  const GROUP = 0;
  let req;
  if (version <= 2) {
    req = Buffer.concat([int16(API_FIND_COORDINATOR), int16(version), int32(corr), str16(CLIENT_ID), str16(group), int8(GROUP)]);
  } else {
    const header = Buffer.concat([int16(API_FIND_COORDINATOR), int16(version), int32(corr), str16(CLIENT_ID), NO_TAGS]);
    const body = version === 3
      ? Buffer.concat([compactStr(group), int8(GROUP), NO_TAGS])
      : Buffer.concat([int8(GROUP), uvarint(2), compactStr(group), NO_TAGS]);
    req = Buffer.concat([header, body]);
  }
  const r = await exchange(socket, req, corr, timeoutMs);
  let errorCode;
  let errorMessage;
  let host;
  let port;
  if (version <= 2) {
    r.int32(); // throttle_time_ms
    errorCode = r.int16();
    errorMessage = r.str16();
    r.int32(); // node_id
    host = r.str16();
    port = r.int32();
  } else {
    r.skipTags(); // response header v1
    r.int32(); // throttle_time_ms
    if (version === 3) {
      errorCode = r.int16();
      errorMessage = r.compactStr();
      r.int32(); // node_id
      host = r.compactStr();
      port = r.int32();
    } else {
      const n = r.uvarint() - 1;
      if (n < 1) throw new ProbeError(EXIT.NOT_KAFKA, 'FindCoordinator returned no coordinators');
      r.compactStr(); // key
      r.int32(); // node_id
      host = r.compactStr();
      port = r.int32();
      errorCode = r.int16();
      errorMessage = r.compactStr();
    }
  }
  return { version, errorCode, errorMessage, host, port };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const socket = await connect(opts.host, opts.port, opts.timeoutMs);
  try {
    const versions = await apiVersions(socket, opts.timeoutMs);
    if (opts.apiVersionsOnly) {
      return { code: EXIT.READY, message: `Kafka answers on ${opts.host}:${opts.port} (${versions.size} APIs)` };
    }
    const fc = await findGroupCoordinator(socket, versions, opts.group, opts.timeoutMs);
    if (fc.errorCode !== 0) {
      const name = ERRORS[fc.errorCode] || `error ${fc.errorCode}`;
      return { code: EXIT.NOT_READY, message: `group coordinator not ready: ${name}${fc.errorMessage ? ` (${fc.errorMessage})` : ''}` };
    }
    return { code: EXIT.READY, message: `ready: group coordinator at ${fc.host}:${fc.port} (FindCoordinator v${fc.version})` };
  } finally {
    socket.destroy();
  }
}

main().then(
  ({ code, message }) => { console.log(message); process.exit(code); },
  (err) => {
    console.log(err instanceof ProbeError ? err.message : `probe failed: ${err && err.stack ? err.stack : err}`);
    process.exit(err instanceof ProbeError ? err.code : EXIT.NOT_KAFKA);
  },
);
