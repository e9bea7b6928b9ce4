import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { loadConfig } from '@app/config';
import { ConnectProxy } from '../../../../test/support/connect-proxy.js';
import { type Pem, TestPki } from '../../../../test/support/test-pki.js';
import { Receiver } from '../../../../test/support/receiver.js';
import { HttpSender } from './http-sender.js';

/** The sender's connections through a real CONNECT proxy, and with client certificates, against real servers on 127.0.0.1. */
describe('HttpSender egress: proxy and mutual TLS', () => {
  const proxy = new ConnectProxy();
  const plain = new Receiver();
  let pki: TestPki;
  let ca: Pem;
  let client: Pem;
  let strangerClient: Pem;
  let secure: Receiver;
  const senders: HttpSender[] = [];
  const sender = (env: Record<string, string> = {}) => {
    const s = new HttpSender(loadConfig({ API_TOKENS: 't', SECRETS_KEY: randomBytes(32).toString('hex'), DELIVERY_TIMEOUT_MS: '2000', DELIVERY_CONNECT_TIMEOUT_MS: '1000', DELIVERY_TARGET_ALLOWLIST: '127.0.0.1/32', ...env }));
    senders.push(s);
    return s;
  };
  const viaProxy = (env: Record<string, string> = {}) => sender({ DELIVERY_PROXY_URL: proxy.url(), ...env });
  const post = (s: HttpSender, url: string, tls?: Pem & { ca?: string }, subscriptionId = 'sub_1') =>
    s.send({ url, headers: { 'content-type': 'application/json' }, body: '{}', timeoutMs: 2000, tls: tls && { subscriptionId, ...tls } });

  beforeAll(async () => {
    pki = await TestPki.create();
    ca = await pki.ca('receiver-ca');
    const server = await pki.issue(ca, 'localhost', { server: ['localhost', '127.0.0.1'] });
    client = await pki.issue(ca, 'gateway-client', { client: true });
    strangerClient = await pki.issue(await pki.ca('other-ca'), 'stranger', { client: true });
    secure = new Receiver(true, { ...server, ca: ca.cert, requestCert: true, rejectUnauthorized: true });
    await Promise.all([proxy.start(), plain.start(), secure.start()]);
  });

  afterAll(async () => {
    await Promise.all(senders.map((s) => s.onApplicationShutdown()));
    await Promise.all([proxy.stop(), plain.stop(), secure.stop()]);
    await pki.remove();
  });

  beforeEach(() => {
    proxy.connects.length = 0;
    proxy.refuseWith = undefined;
  });

  it('asks the proxy to CONNECT to the checked address, never the name, and keeps the Host header', async () => {
    const r = await post(viaProxy(), plain.url('/via-proxy', 'localhost'));
    expect(r).toMatchObject({ kind: 'response', status: 200 });
    expect(proxy.connects.map((c) => c.target)).toEqual([`127.0.0.1:${plain.port}`]);
    expect(plain.on('/via-proxy')[0]!.headers.host).toBe(`localhost:${plain.port}`);
  });

  it('reuses the tunnel for the next attempt (the pool keeps it alive)', async () => {
    const s = viaProxy();
    await post(s, plain.url('/again'));
    // The attempt resolves on the response's end, a moment before undici marks the connection free.
    await new Promise((r) => setTimeout(r, 20));
    await post(s, plain.url('/again'));
    expect(plain.on('/again')).toHaveLength(2);
    expect(proxy.connects).toHaveLength(1);
  });

  it('sends Proxy-Authorization when the proxy URL has credentials, and never shows them', async () => {
    const s = sender({ DELIVERY_PROXY_URL: proxy.url('egress:p%40ss-9') });
    expect(await post(s, plain.url('/auth'))).toMatchObject({ kind: 'response', status: 200 });
    expect(proxy.connects[0]!.authorization).toBe(`Basic ${Buffer.from('egress:p@ss-9').toString('base64')}`);
    proxy.refuseWith = 407;
    const refused = await post(s, plain.url('/auth-refused', 'localhost'));
    expect(refused).toMatchObject({ kind: 'error', errorClass: 'proxy' });
    expect(JSON.stringify(refused)).toContain('407');
    expect(JSON.stringify(refused)).not.toMatch(/p%40ss|p@ss|egress:/);
  });

  it('refuses a private target the allowlist does not name before asking the proxy', async () => {
    const r = await post(viaProxy({ DELIVERY_TARGET_ALLOWLIST: '' }), plain.url('/private', 'localhost'));
    expect(r).toMatchObject({ kind: 'error', errorClass: 'target_refused' });
    expect(proxy.connects).toEqual([]);
  });

  it('reports a proxy that refuses the CONNECT or cannot be reached as a proxy failure', async () => {
    proxy.refuseWith = 403;
    const refused = await post(viaProxy(), plain.url('/forbidden'));
    expect(refused).toMatchObject({ kind: 'error', errorClass: 'proxy' });
    expect(refused.kind === 'error' && refused.message).toContain('403');
    const closed: Server = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const down = await post(sender({ DELIVERY_PROXY_URL: `http://127.0.0.1:${closedPort}` }), plain.url('/down'));
    expect(down).toMatchObject({ kind: 'error', errorClass: 'proxy' });
    expect(plain.on('/forbidden')).toEqual([]);
  });

  it('reports a refused https connection as such, directly (the connector fails with the error alone)', async () => {
    const closed: Server = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    expect(await post(sender(), `https://127.0.0.1:${closedPort}/`)).toMatchObject({ kind: 'error', errorClass: 'connection_refused' });
  });

  it('runs TLS over the tunnel with the original host as SNI and presents the client certificate', async () => {
    const r = await post(viaProxy(), secure.url('/mtls', 'localhost'), { ...client, ca: ca.cert });
    expect(r).toMatchObject({ kind: 'response', status: 200 });
    expect(proxy.connects.map((c) => c.target)).toEqual([`127.0.0.1:${secure.port}`]);
    expect(secure.on('/mtls')[0]).toMatchObject({ headers: { host: `localhost:${secure.port}` }, tls: { servername: 'localhost', clientCN: 'gateway-client' } });
  });

  it('checks the certificate against the original host name through the tunnel', async () => {
    const elsewhere = new Receiver(true, await pki.issue(ca, 'elsewhere', { server: ['elsewhere.example'] }));
    await elsewhere.start();
    try {
      const r = await post(viaProxy(), elsewhere.url('/wrong-name', 'localhost'), { ...client, ca: ca.cert });
      expect(r).toMatchObject({ kind: 'error', errorClass: 'tls' });
      expect(r.kind === 'error' && r.message).toMatch(/localhost/);
      expect(elsewhere.on('/wrong-name')).toEqual([]);
    } finally {
      await elsewhere.stop();
    }
  });

  it.each([
    ['directly', () => sender()],
    ['through the proxy', () => viaProxy()],
  ])('reports a refused client certificate as tls (%s)', async (_how, make) => {
    const s = make();
    expect(await post(s, secure.url('/direct'), { ...client, ca: ca.cert }, 'sub_ok')).toMatchObject({ kind: 'response', status: 200 });
    const stranger = await post(s, secure.url('/stranger'), { ...strangerClient, ca: ca.cert }, 'sub_stranger');
    expect(stranger).toMatchObject({ kind: 'error', errorClass: 'tls' });
    // No client certificate at all: the default pool, made to trust the test CA, so that it is the server that refuses.
    const roots = getCACertificates('default');
    setDefaultCACertificates([...roots, ca.cert]);
    try {
      const none = await post(s, secure.url('/none'));
      expect(none).toMatchObject({ kind: 'error', errorClass: 'tls', message: expect.stringMatching(/client certificate|CERTIFICATE_REQUIRED/i) });
    } finally {
      setDefaultCACertificates(roots);
    }
    expect(secure.on('/stranger')).toEqual([]);
  });
});
