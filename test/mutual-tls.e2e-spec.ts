import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import type { AttemptResult } from '@app/contracts';
import { Receiver } from './support/receiver.js';
import { GatewayRig } from './support/rig.js';
import { type Pem, TestPki } from './support/test-pki.js';

/**
 * Mutual TLS per subscription against the real broker and an HTTPS receiver on 127.0.0.1 that
 * asks for a client certificate of its own test CA (requestCert + rejectUnauthorized).
 */
describe('mutual TLS per subscription', () => {
  const rig = new GatewayRig('mutual-tls');
  const roots = getCACertificates('default');
  let pki: TestPki;
  let ca: Pem;
  let client: Pem;
  let stranger: Pem;
  let receiver: Receiver;
  const tlsOf = (pem: Pem) => ({ client_certificate: pem.cert, client_key: pem.key, ca: ca.cert });
  const subscribe = async (path: string, type: string, extra: Record<string, unknown> = {}) => {
    const res = await rig.gateway.api('POST', '/v1/subscriptions', { url: receiver.url(path), events: [type], retry: { schedule: [600] }, ...extra });
    expect(res.status).toBe(201);
    return res.body;
  };
  const resultOf = async (eventId: string) => (await rig.reader('results').waitFor<AttemptResult>((r) => r.eventId === eventId, 30_000)).value;

  beforeAll(async () => {
    pki = await TestPki.create();
    ca = await pki.ca('mtls-e2e-ca');
    client = await pki.issue(ca, 'gateway-client', { client: true });
    stranger = await pki.issue(await pki.ca('other-ca'), 'stranger', { client: true });
    receiver = new Receiver(true, { ...(await pki.issue(ca, 'receiver', { server: ['127.0.0.1'] })), ca: ca.cert, requestCert: true, rejectUnauthorized: true });
    // The default pool (subscriptions without tls) trusts the test CA too, so that it is the receiver that refuses them.
    setDefaultCACertificates([...roots, ca.cert]);
    await receiver.start();
    await rig.start();
  });

  afterAll(async () => {
    await rig.stop();
    await receiver?.stop();
    setDefaultCACertificates(roots);
    await pki?.remove();
  });

  it('delivers with the subscription client certificate, and GET shows it described, never its PEM or key', async () => {
    const sub = await subscribe('/right', 'mtls.right', { tls: tlsOf(client) });
    await rig.publisher.publish(rig.source, { id: 'mtls-right-1', type: 'mtls.right', data: {} });
    expect(await resultOf('mtls-right-1')).toMatchObject({ outcome: 'delivered', statusCode: 200 });
    expect(receiver.on('/right')[0]!.tls).toMatchObject({ clientCN: 'gateway-client' });

    const got = await rig.gateway.api('GET', `/v1/subscriptions/${sub.id}`);
    expect(got.body.tls).toEqual({
      client_certificate: { subject: 'CN=gateway-client', issuer: 'CN=mtls-e2e-ca', fingerprint_sha256: expect.stringMatching(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/), not_after: expect.any(String) },
      ca: true,
    });
    const listed = await rig.gateway.api('GET', '/v1/subscriptions');
    for (const body of [sub, got.body, listed.body]) {
      const text = JSON.stringify(body);
      expect(text).not.toContain('BEGIN');
      expect(text).not.toContain(client.key.split('\n')[1]);
      expect(text).not.toContain(client.cert.split('\n')[1]);
    }
  });

  it('is refused without a client certificate: error class tls', async () => {
    await subscribe('/none', 'mtls.none');
    await rig.publisher.publish(rig.source, { id: 'mtls-none-1', type: 'mtls.none', data: {} });
    expect(await resultOf('mtls-none-1')).toMatchObject({ outcome: 'retry_scheduled', reason: 'tls', error: { class: 'tls' } });
    expect(receiver.on('/none')).toEqual([]);
  });

  it('is refused with a certificate of another CA: error class tls', async () => {
    await subscribe('/stranger', 'mtls.stranger', { tls: tlsOf(stranger) });
    await rig.publisher.publish(rig.source, { id: 'mtls-stranger-1', type: 'mtls.stranger', data: {} });
    expect(await resultOf('mtls-stranger-1')).toMatchObject({ outcome: 'retry_scheduled', reason: 'tls', error: { class: 'tls' } });
    expect(receiver.on('/stranger')).toEqual([]);
  });

  it('refuses a key that does not match the certificate with a 400 naming the field, and clears tls with null', async () => {
    const sub = await subscribe('/patched', 'mtls.patched', { tls: tlsOf(client) });
    const mismatched = await rig.gateway.api('PATCH', `/v1/subscriptions/${sub.id}`, { tls: { client_certificate: client.cert, client_key: stranger.key } });
    expect(mismatched.status).toBe(400);
    expect(JSON.stringify(mismatched.body.message)).toContain('tls.client_key does not match tls.client_certificate');
    const notPem = await rig.gateway.api('PATCH', `/v1/subscriptions/${sub.id}`, { tls: { client_certificate: 'nope', client_key: client.key } });
    expect(notPem.status).toBe(400);
    expect(JSON.stringify(notPem.body.message)).toContain('tls.client_certificate must be a PEM certificate');
    expect((await rig.gateway.api('GET', `/v1/subscriptions/${sub.id}`)).body.tls.client_certificate.subject).toBe('CN=gateway-client');
    const plain = await rig.gateway.api('PATCH', `/v1/subscriptions/${sub.id}`, { url: 'http://localhost:1/plain' });
    expect(plain.status).toBe(400);
    expect(JSON.stringify(plain.body.message)).toContain('tls needs an https:// url');
    const cleared = await rig.gateway.api('PATCH', `/v1/subscriptions/${sub.id}`, { tls: null });
    expect(cleared.status).toBe(200);
    expect(cleared.body.tls).toBeUndefined();
  });
});
