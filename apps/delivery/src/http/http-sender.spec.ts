import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '@app/config';
import { HttpSender } from './http-sender.js';

/** The sender against a real HTTP server on 127.0.0.1. */
describe('HttpSender', () => {
  let server: Server;
  let port: number;
  const senders: HttpSender[] = [];
  const sender = (env: Record<string, string> = {}) => {
    const s = new HttpSender(loadConfig({ API_TOKENS: 't', SECRETS_KEY: randomBytes(32).toString('hex'), DELIVERY_TIMEOUT_MS: '1000', DELIVERY_CONNECT_TIMEOUT_MS: '500', ...env }));
    senders.push(s);
    return s;
  };
  const post = (s: HttpSender, url: string) => s.send({ url, headers: { 'content-type': 'application/json' }, body: '{}', timeoutMs: 1000 });

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/big') {
        res.writeHead(200);
        res.end('x'.repeat(200_000));
      } else if (req.url === '/redirect') {
        res.writeHead(302, { location: '/ok' });
        res.end();
      } else if (req.url === '/hang') {
        res.writeHead(200);
        res.write('partial');
      } else if (req.url === '/slow-down?x=1') {
        res.writeHead(429, { 'retry-after': '7' });
        res.end('later');
      } else {
        res.writeHead(200);
        res.end('ok');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await Promise.all(senders.map((s) => s.onApplicationShutdown()));
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('refuses loopback by default, by IP literal and through DNS (localhost), before any request', async () => {
    const s = sender();
    for (const host of ['127.0.0.1', 'localhost', '[::ffff:127.0.0.1]']) {
      const r = await post(s, `http://${host}:${port}/ok`);
      expect(r).toMatchObject({ kind: 'error', errorClass: 'target_refused' });
    }
  });

  it('delivers to loopback once the allowlist names it', async () => {
    const s = sender({ DELIVERY_TARGET_ALLOWLIST: '127.0.0.1/32' });
    expect(await post(s, `http://127.0.0.1:${port}/ok`)).toMatchObject({ kind: 'response', status: 200, body: 'ok' });
    expect(await post(s, `http://localhost:${port}/ok`)).toMatchObject({ kind: 'response', status: 200 });
  });

  it('refuses http:// when HTTPS is required', async () => {
    const r = await post(sender({ DELIVERY_TARGET_ALLOWLIST: '127.0.0.1/32', DELIVERY_REQUIRE_HTTPS: 'true' }), `http://127.0.0.1:${port}/ok`);
    expect(r).toMatchObject({ kind: 'error', errorClass: 'target_refused' });
  });

  it('does not follow redirects, keeps only the first bytes of a body, and times out a hanging answer', async () => {
    const s = sender({ DELIVERY_TARGET_ALLOWLIST: '127.0.0.1/32', DELIVERY_RESPONSE_BODY_BYTES: '16' });
    expect(await post(s, `http://127.0.0.1:${port}/redirect`)).toMatchObject({ kind: 'response', status: 302 });
    const big = await post(s, `http://127.0.0.1:${port}/big`);
    expect(big).toMatchObject({ kind: 'response', status: 200, body: 'x'.repeat(16) });
    expect(await post(s, `http://127.0.0.1:${port}/hang`)).toMatchObject({ kind: 'error', errorClass: 'timeout' });
  });

  it('passes on the response headers, and posts the query string', async () => {
    const r = await post(sender({ DELIVERY_TARGET_ALLOWLIST: '127.0.0.1/32' }), `http://127.0.0.1:${port}/slow-down?x=1`);
    expect(r).toMatchObject({ kind: 'response', status: 429, body: 'later', headers: { 'retry-after': '7' } });
  });

  it('times out an attempt still waiting for a connection, and the connection serves the next one', async () => {
    const s = sender({ DELIVERY_TARGET_ALLOWLIST: '127.0.0.1/32', DELIVERY_CONNECTIONS_PER_ORIGIN: '1', DELIVERY_MAX_IN_FLIGHT_PER_ENDPOINT: '1' });
    const hanging = post(s, `http://127.0.0.1:${port}/hang`);
    const queued = await post(s, `http://127.0.0.1:${port}/ok`);
    expect(queued).toMatchObject({ kind: 'error', errorClass: 'timeout' });
    expect(await hanging).toMatchObject({ kind: 'error', errorClass: 'timeout' });
    expect(await post(s, `http://127.0.0.1:${port}/ok`)).toMatchObject({ kind: 'response', status: 200, body: 'ok' });
  });

  it('reports a refused connection', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const r = await post(sender({ DELIVERY_TARGET_ALLOWLIST: '127.0.0.1/32' }), `http://127.0.0.1:${closedPort}/`);
    expect(r).toMatchObject({ kind: 'error', errorClass: 'connection_refused' });
  });
});
