import { Webhook } from 'standardwebhooks';
import { generateSecret, secretKey, signatureHeader } from './signature.js';

describe('signatureHeader', () => {
  const body = JSON.stringify({ type: 'deployment.succeeded', data: { ok: true } });

  it('is verified by the standardwebhooks library', () => {
    const secret = generateSecret();
    const ts = Math.floor(Date.now() / 1000);
    const sig = signatureHeader([secretKey(secret)], 'msg_1', ts, body);
    const payload = new Webhook(secret).verify(body, { 'webhook-id': 'msg_1', 'webhook-timestamp': String(ts), 'webhook-signature': sig });
    expect(payload).toEqual(JSON.parse(body));
  });

  it('carries one entry per secret, each verifiable on its own', () => {
    const [a, b] = [generateSecret(), generateSecret()];
    const ts = Math.floor(Date.now() / 1000);
    const sig = signatureHeader([secretKey(a), secretKey(b)], 'msg_2', ts, body);
    expect(sig.split(' ')).toHaveLength(2);
    for (const s of [a, b]) {
      expect(() => new Webhook(s).verify(body, { 'webhook-id': 'msg_2', 'webhook-timestamp': String(ts), 'webhook-signature': sig })).not.toThrow();
    }
  });

  it('does not verify a changed body or another secret', () => {
    const secret = generateSecret();
    const ts = Math.floor(Date.now() / 1000);
    const sig = signatureHeader([secretKey(secret)], 'msg_3', ts, body);
    const headers = { 'webhook-id': 'msg_3', 'webhook-timestamp': String(ts), 'webhook-signature': sig };
    expect(() => new Webhook(secret).verify(body + ' ', headers)).toThrow();
    expect(() => new Webhook(generateSecret()).verify(body, headers)).toThrow();
  });

  it('generates 32-byte secrets', () => {
    expect(secretKey(generateSecret()).symmetricKeySize).toBe(32);
  });
});
