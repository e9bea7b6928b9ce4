#!/usr/bin/env node
// A tiny OAuth 2.0 / OIDC token service for the local Kafka broker's OAUTHBEARER listener
// (scripts/kafka.sh starts it before the broker). Node built-ins only.
//
//   node scripts/oidc-issuer.mjs --dir <secure dir> [--host 127.0.0.1] [--port 9097]
//                                [--audience local-kafka] [--token-lifetime 30]
//
// <dir>/oidc-key.pem       RSA signing key; created on first start (mode 600), kept across restarts
//                          so tokens and the broker's cached JWKS stay valid over a restart.
// <dir>/oidc-clients.json  {"<client_id>": "<client_secret>", ...}; read on every /token request.
//
// Endpoints (issuer = http://<host>:<port>):
//   GET  /.well-known/openid-configuration   issuer, token_endpoint, jwks_uri
//   GET  /jwks                               the public key (RSA, RS256, use sig, kid)
//   POST /token                              client_credentials grant; client authentication by
//                                            HTTP Basic or client_id/client_secret in the form.
//                                            -> {access_token, token_type: "Bearer", expires_in[, scope]}
//   POST /test/outage  {"ms": 5000}          /token answers 503 for that long (0 ends an outage)
//   GET  /test/stats                         {tokens: {<client_id>: <tokens issued>}, outageMsLeft}
// The /test/* hooks answer only loopback clients.
//
// The token lifetime (seconds) comes from --token-lifetime, else OIDC_TOKEN_LIFETIME_SECONDS, else 30.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { URLSearchParams } from 'node:url';

function parseArgs(argv) {
  const opts = {
    host: '127.0.0.1',
    port: 9097,
    dir: '',
    audience: 'local-kafka',
    lifetime: Number(process.env.OIDC_TOKEN_LIFETIME_SECONDS || 30),
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`missing value for ${arg}`);
      return argv[++i];
    };
    if (arg === '--host') opts.host = value();
    else if (arg === '--port') opts.port = Number(value());
    else if (arg === '--dir') opts.dir = value();
    else if (arg === '--audience') opts.audience = value();
    else if (arg === '--token-lifetime') opts.lifetime = Number(value());
    else usage(`unknown argument ${arg}`);
  }
  if (!opts.dir) usage('--dir is required');
  if (!Number.isInteger(opts.port) || opts.port < 1 || opts.port > 65535) usage('bad --port');
  if (!Number.isInteger(opts.lifetime) || opts.lifetime < 1) usage('bad token lifetime (whole seconds >= 1)');
  opts.dir = path.resolve(opts.dir);
  return opts;
}

function usage(message) {
  console.error(`oidc-issuer: ${message}`);
  console.error('usage: node scripts/oidc-issuer.mjs --dir <dir> [--host 127.0.0.1] [--port 9097] [--audience local-kafka] [--token-lifetime 30]');
  process.exit(2);
}

const log = (...args) => console.log(new Date().toISOString(), ...args);
const b64url = (buf) => Buffer.from(buf).toString('base64url');

// ---------------------------------------------------------------- signing key
// Written atomically with mode 600; an existing key is reused so the kid stays the same.
function loadOrCreateKey(file) {
  if (!fs.existsSync(file)) {
    const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const tmp = `${file}.tmp.${process.pid}`;
    fs.writeFileSync(tmp, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    fs.renameSync(tmp, file);
    log(`created signing key ${file}`);
  }
  const privateKey = crypto.createPrivateKey(fs.readFileSync(file));
  const { kty, n, e } = crypto.createPublicKey(privateKey).export({ format: 'jwk' });
  // RFC 7638 thumbprint: SHA-256 over the required members in lexicographic order.
  const kid = b64url(crypto.createHash('sha256').update(JSON.stringify({ e, kty, n })).digest());
  return { privateKey, jwk: { kty, use: 'sig', alg: 'RS256', kid, n, e } };
}

function signJwt(key, payload) {
  const header = { alg: 'RS256', typ: 'JWT', kid: key.jwk.kid };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const signature = crypto.sign('sha256', Buffer.from(input), key.privateKey);
  return `${input}.${b64url(signature)}`;
}

// ---------------------------------------------------------------- HTTP helpers
function send(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function readBody(req, limit = 64 * 1024) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > limit) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const isLoopback = (addr) => addr === '127.0.0.1' || addr === '::1' || addr === '::ffff:127.0.0.1';

// RFC 6749 2.3.1: id and secret are form-urlencoded before they are put into the Basic header.
function formDecode(s) {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

function clientFromRequest(req, form) {
  const auth = req.headers.authorization || '';
  const basic = /^Basic\s+(.+)$/i.exec(auth);
  if (basic) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return null;
    return { id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
  }
  const id = form.get('client_id');
  const secret = form.get('client_secret');
  return id && secret !== null ? { id, secret } : null;
}

function secretMatches(expected, given) {
  const a = crypto.createHash('sha256').update(String(expected)).digest();
  const b = crypto.createHash('sha256').update(String(given)).digest();
  return crypto.timingSafeEqual(a, b);
}

// ---------------------------------------------------------------- server
function main() {
  const opts = parseArgs(process.argv.slice(2));
  fs.mkdirSync(opts.dir, { recursive: true });
  const key = loadOrCreateKey(path.join(opts.dir, 'oidc-key.pem'));
  const clientsFile = path.join(opts.dir, 'oidc-clients.json');
  const issuer = `http://${opts.host}:${opts.port}`;
  const tokensIssued = {};
  let outageUntil = 0;

  const readClients = () => {
    try {
      return JSON.parse(fs.readFileSync(clientsFile, 'utf8'));
    } catch (err) {
      log(`cannot read ${clientsFile}: ${err.message}`);
      return {};
    }
  };

  async function token(req, res) {
    if (Date.now() < outageUntil) {
      const retryAfter = Math.ceil((outageUntil - Date.now()) / 1000);
      send(res, 503, { error: 'temporarily_unavailable', error_description: 'simulated outage (POST /test/outage)' },
        { 'retry-after': String(retryAfter) });
      return;
    }
    const form = new URLSearchParams(await readBody(req));
    const client = clientFromRequest(req, form);
    const clients = readClients();
    if (!client || !Object.hasOwn(clients, client.id) || !secretMatches(clients[client.id], client.secret)) {
      log(`token refused: invalid_client ${client ? JSON.stringify(client.id) : '(no credentials)'}`);
      send(res, 401, { error: 'invalid_client' }, { 'www-authenticate': 'Basic realm="oidc-issuer"' });
      return;
    }
    const grant = form.get('grant_type');
    if (grant !== 'client_credentials') {
      send(res, 400, { error: 'unsupported_grant_type', error_description: `grant_type ${grant} is not supported` });
      return;
    }
    const now = Math.floor(Date.now() / 1000);
    const scope = form.get('scope') || undefined;
    const payload = {
      iss: issuer,
      sub: client.id,
      aud: opts.audience,
      iat: now,
      nbf: now,
      exp: now + opts.lifetime,
      jti: crypto.randomUUID(),
      client_id: client.id,
      ...(scope ? { scope } : {}),
    };
    tokensIssued[client.id] = (tokensIssued[client.id] || 0) + 1;
    log(`token #${tokensIssued[client.id]} for ${client.id} (expires in ${opts.lifetime}s${scope ? `, scope ${scope}` : ''})`);
    send(res, 200, {
      access_token: signJwt(key, payload),
      token_type: 'Bearer',
      expires_in: opts.lifetime,
      ...(scope ? { scope } : {}),
    });
  }

  async function route(req, res) {
    const { pathname } = new URL(req.url, issuer);
    const route = `${req.method} ${pathname}`;
    if (pathname.startsWith('/test/') && !isLoopback(req.socket.remoteAddress)) {
      send(res, 403, { error: 'forbidden' });
      return;
    }
    switch (route) {
      case 'GET /.well-known/openid-configuration':
        send(res, 200, {
          issuer,
          token_endpoint: `${issuer}/token`,
          jwks_uri: `${issuer}/jwks`,
          grant_types_supported: ['client_credentials'],
          token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
          id_token_signing_alg_values_supported: ['RS256'],
        });
        return;
      case 'GET /jwks':
        send(res, 200, { keys: [key.jwk] });
        return;
      case 'POST /token':
        await token(req, res);
        return;
      case 'POST /test/outage': {
        let ms;
        try {
          ms = Number(JSON.parse((await readBody(req)) || '{}').ms);
        } catch {
          ms = NaN;
        }
        if (!Number.isFinite(ms) || ms < 0) {
          send(res, 400, { error: 'invalid_request', error_description: 'body must be JSON {"ms": <non-negative number>}' });
          return;
        }
        outageUntil = Date.now() + ms;
        log(`outage: /token answers 503 for ${ms} ms`);
        send(res, 200, { outageMs: ms, until: new Date(outageUntil).toISOString() });
        return;
      }
      case 'GET /test/stats':
        send(res, 200, { tokens: { ...tokensIssued }, outageMsLeft: Math.max(0, outageUntil - Date.now()) });
        return;
      default:
        send(res, 404, { error: 'not_found' });
    }
  }

  const server = http.createServer((req, res) => {
    route(req, res).catch((err) => {
      log(`error on ${req.method} ${req.url}: ${err.message}`);
      if (!res.headersSent) send(res, 500, { error: 'server_error' });
      else res.destroy();
    });
  });
  server.on('error', (err) => {
    console.error(`oidc-issuer: cannot listen on ${opts.host}:${opts.port}: ${err.code || err.message}`);
    process.exit(1);
  });
  server.listen(opts.port, opts.host, () => {
    log(`listening on ${issuer} (audience ${opts.audience}, token lifetime ${opts.lifetime}s, kid ${key.jwk.kid})`);
  });
  const stop = (signal) => {
    log(`${signal}: stopping`);
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main();
