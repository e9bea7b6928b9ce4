// The demo's webhook receiver: a plain node:http server on 127.0.0.1 that plays
// every customer endpoint at once (one path per subscription). It checks each
// Standard Webhooks signature with the standardwebhooks package, the way a
// customer would, answers 200 and prints what it got.
import { createServer } from 'node:http';
import { Webhook } from 'standardwebhooks';

const BODY_LINES = 15;

const c = process.stdout.isTTY && !process.env.NO_COLOR
  ? { dim: (s) => `\x1b[2m${s}\x1b[0m`, bold: (s) => `\x1b[1m${s}\x1b[0m`, green: (s) => `\x1b[32m${s}\x1b[0m`, red: (s) => `\x1b[31m${s}\x1b[0m` }
  : { dim: (s) => s, bold: (s) => s, green: (s) => s, red: (s) => s };
export { c as colors };

export class Receiver {
  /** path → { name, title, kind, format, secret, headers } (set once the subscription exists) */
  routes = new Map();
  /** Every request, in arrival order: { path, route, headers, body, verified, error } */
  received = [];
  #server;
  #waiters = new Set();
  /** Printed blocks waiting for release(), or undefined when printing right away. */
  #held;

  async start() {
    this.#server = createServer((req, res) => {
      const chunks = [];
      req.on('data', (chunk) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const record = this.#check(req.url ?? '/', req.method ?? '?', req.headers, body);
        this.received.push(record);
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('ok');
        const block = this.#describe(record, this.received.length);
        if (this.#held) this.#held.push(block);
        else process.stdout.write(block);
        for (const waiter of this.#waiters) waiter();
      });
    });
    await new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(0, '127.0.0.1', resolve);
    });
    return this;
  }

  get port() {
    return this.#server.address().port;
  }

  url(path) {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Resolves when `done()` holds, checked after every request; rejects after `timeoutMs` or on `signal`. */
  waitUntil(done, timeoutMs, signal) {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        cleanup();
        reject(signal.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const check = () => {
        if (!done()) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs / 1000} s`));
      }, timeoutMs);
      const cleanup = () => {
        signal?.removeEventListener('abort', onAbort);
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
    });
  }

  /** Keeps the blocks of webhooks that arrive from now on until release(). */
  hold() {
    this.#held ??= [];
  }

  release() {
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const block of held) process.stdout.write(block);
  }

  async close() {
    this.#held = undefined; // interrupted while holding: those blocks no longer matter
    if (!this.#server?.listening) return;
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #check(path, method, headers, body) {
    const route = this.routes.get(path);
    const record = { path, method, route, headers, body, verified: false, unsigned: false, error: undefined };
    if (!route) {
      record.error = 'no subscription of this run posts to this path';
      return record;
    }
    if (route.kind === 'SLACK') {
      record.unsigned = true;
      if (headers['webhook-signature']) record.error = 'a SLACK post carries a webhook-signature';
      return record;
    }
    try {
      new Webhook(route.secret).verify(body, headers);
      record.verified = true;
    } catch (err) {
      record.error = err.message;
    }
    return record;
  }

  #describe(r, n) {
    const route = r.route;
    const lines = [];
    const head = `── webhook #${n} → ${r.path}${route ? `  (${route.title} · ${route.kind === 'SLACK' ? 'SLACK' : `format ${route.format}`})` : ''} `;
    lines.push(c.bold(head.padEnd(78, '─')));
    const field = (name, value) => lines.push(`│ ${name.padEnd(11)} ${value}`);
    field('method', `${r.method} ${r.headers['content-type'] ?? ''}`);
    field('event type', r.headers['x-webhook-event-type'] ?? '?');
    if (r.headers['webhook-id']) field('webhook-id', r.headers['webhook-id']);
    field('attempt', `${r.headers['x-webhook-attempt'] ?? '?'}  (delivery ${r.headers['x-webhook-delivery-id'] ?? '?'})`);
    if (r.unsigned && !r.error) field('signature', c.dim('unsigned (SLACK kind)'));
    else if (r.verified) {
      const sig = String(r.headers['webhook-signature']);
      field('signature', c.green(`verified ✓ (${sig.slice(0, 15)}…, timestamp ${r.headers['webhook-timestamp']})`));
    } else field('signature', c.red(`INVALID ✗ ${r.error ?? ''}`));
    for (const name of Object.keys(route?.headers ?? {})) {
      const value = r.headers[name.toLowerCase()];
      field(name, value === undefined ? c.red('missing ✗') : `${value}  (the subscription's static header)`);
    }
    let pretty;
    try {
      pretty = JSON.stringify(JSON.parse(r.body), null, 2).split('\n');
    } catch {
      pretty = r.body.split('\n');
    }
    field('body', r.body.length === 0 ? '(empty)' : `${r.body.length} bytes${route?.expectedBody && r.body === route.expectedBody(r) ? c.green(' = the event data, byte for byte ✓') : ''}`);
    for (const line of pretty.slice(0, BODY_LINES)) lines.push(`│   ${line}`);
    if (pretty.length > BODY_LINES) lines.push(`│   ${c.dim(`… ${pretty.length - BODY_LINES} more lines`)}`);
    lines.push('└'.padEnd(78, '─'));
    return lines.join('\n') + '\n';
  }
}
