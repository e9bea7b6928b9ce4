import type { AttemptResult } from '@app/contracts';
import { ConnectProxy } from './support/connect-proxy.js';
import { testKafka, TopicReader } from './support/kafka.js';
import { Receiver } from './support/receiver.js';
import { GatewayRig } from './support/rig.js';
import { type Pem, TestPki } from './support/test-pki.js';

/**
 * DELIVERY_PROXY_URL against the real broker: every webhook goes through a real CONNECT proxy on
 * 127.0.0.1, which is asked for the address the SSRF guard checked, never the host name.
 */
describe('egress proxy: CONNECT to the checked address, SNI and Host of the original host', () => {
  const proxy = new ConnectProxy();
  let rig: GatewayRig;
  let pki: TestPki;
  let ca: Pem;
  let client: Pem;
  let secure: Receiver;
  const subscribe = async (url: string, type: string, extra: Record<string, unknown> = {}) => {
    const res = await rig.gateway.api('POST', '/v1/subscriptions', { url, events: [type], retry: { schedule: [600] }, ...extra });
    expect(res.status).toBe(201);
    return res.body.id as string;
  };
  const resultOf = async (eventId: string) => (await rig.reader('results').waitFor<AttemptResult>((r) => r.eventId === eventId, 30_000)).value;

  beforeAll(async () => {
    pki = await TestPki.create();
    ca = await pki.ca('proxy-e2e-ca');
    client = await pki.issue(ca, 'gateway-e2e', { client: true });
    secure = new Receiver(true, { ...(await pki.issue(ca, 'localhost', { server: ['localhost'] })), ca: ca.cert, requestCert: true, rejectUnauthorized: true });
    await Promise.all([proxy.start(), secure.start()]);
    // The receivers are allowed by their host name only: 127.0.0.1 itself stays refused.
    rig = new GatewayRig('egress-proxy', { DELIVERY_PROXY_URL: proxy.url(), DELIVERY_TARGET_ALLOWLIST: 'localhost' }, { receivers: 2 });
    await rig.start();
  });

  afterAll(async () => {
    await rig?.stop();
    await Promise.all([proxy.stop(), secure.stop()]);
    await pki?.remove();
  });

  beforeEach(() => {
    proxy.connects.length = 0;
    proxy.refuseWith = undefined;
  });

  it('delivers through the proxy, which is asked for the resolved IP, not the name', async () => {
    await subscribe(rig.receiver.url('/plain', 'localhost'), 'proxy.plain');
    await rig.publisher.publish(rig.source, { id: 'proxy-plain-1', type: 'proxy.plain', data: {} });
    expect(await resultOf('proxy-plain-1')).toMatchObject({ outcome: 'delivered', statusCode: 200 });
    expect(rig.receiver.on('/plain')[0]!.headers.host).toBe(`localhost:${rig.receiver.port}`);
    expect(proxy.connects.map((c) => c.target)).toEqual([`127.0.0.1:${rig.receiver.port}`]);
  });

  it('runs TLS over the tunnel: SNI and Host are the original host name, its certificate is checked against it', async () => {
    await subscribe(secure.url('/tls', 'localhost'), 'proxy.tls', { tls: { client_certificate: client.cert, client_key: client.key, ca: ca.cert } });
    await rig.publisher.publish(rig.source, { id: 'proxy-tls-1', type: 'proxy.tls', data: {} });
    expect(await resultOf('proxy-tls-1')).toMatchObject({ outcome: 'delivered', statusCode: 200 });
    expect(secure.on('/tls')[0]).toMatchObject({ headers: { host: `localhost:${secure.port}` }, tls: { servername: 'localhost', clientCN: 'gateway-e2e' } });
    expect(proxy.connects.map((c) => c.target)).toEqual([`127.0.0.1:${secure.port}`]);
  });

  it('refuses a private target the allowlist does not name; the proxy never sees a CONNECT for it', async () => {
    await subscribe(rig.receiver.url('/private'), 'proxy.private');
    await rig.publisher.publish(rig.source, { id: 'proxy-private-1', type: 'proxy.private', data: {} });
    expect(await resultOf('proxy-private-1')).toMatchObject({ outcome: 'dead_lettered', reason: 'target_refused', error: { class: 'target_refused' } });
    expect(rig.receiver.on('/private')).toEqual([]);
    expect(proxy.connects).toEqual([]);
  });

  it('fails the attempt with error class proxy when the proxy refuses the CONNECT, and retries it', async () => {
    proxy.refuseWith = 403;
    // A receiver no tunnel is open to yet (the pool keeps the others' tunnels).
    const fresh = rig.receivers[1]!;
    const id = await subscribe(fresh.url('/forbidden', 'localhost'), 'proxy.forbidden');
    await rig.publisher.publish(rig.source, { id: 'proxy-forbidden-1', type: 'proxy.forbidden', data: {} });
    const result = await resultOf('proxy-forbidden-1');
    expect(result).toMatchObject({ outcome: 'retry_scheduled', reason: 'proxy', error: { class: 'proxy' } });
    expect(result.error!.message).toContain('403');
    expect(proxy.connects.map((c) => c.target)).toEqual([`127.0.0.1:${fresh.port}`]);
    expect(fresh.on('/forbidden')).toEqual([]);
    // The gateway's egress failed, not the subscription: no failure streak starts (a long proxy
    // outage must not auto-disable every subscription). A health record would be written before the result.
    const health = await new TopicReader(testKafka(), rig.topics.health).start();
    try {
      await health.waitCaughtUp();
      expect(health.records.filter((r) => r.key === id)).toEqual([]);
    } finally {
      await health.stop();
    }
  });
});
