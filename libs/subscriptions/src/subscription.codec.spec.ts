import { randomBytes } from 'node:crypto';
import { type Subscription, withHealth } from '@app/contracts';
import { SecretBox } from './secret-box.js';
import { decodeSubscription, encodeSubscription, type StoredSubscription } from './subscription.codec.js';

describe('subscription codec', () => {
  const box = new SecretBox(randomBytes(32));
  const sub: Subscription = {
    id: 'sub_1',
    url: 'https://hooks.example.com/in',
    events: ['*'],
    kind: 'STANDARD',
    filters: {},
    secrets: [{ secret: 'whsec_c2VjcmV0' }],
    headers: { 'Qovery-Secret': 'shared-header-secret' },
    enabled: true,
    format: 'standard',
    createdAt: '2026-11-23T00:00:00.000Z',
    updatedAt: '2026-11-23T00:00:00.000Z',
  };

  it('seals the signing secrets and the static headers, and reads them back', () => {
    const stored = encodeSubscription(sub, box);
    const text = JSON.stringify(stored);
    expect(text).not.toContain('c2VjcmV0');
    expect(text).not.toContain('shared-header-secret');
    expect(text).not.toContain('Qovery-Secret');
    expect(decodeSubscription(JSON.parse(text) as StoredSubscription, box)).toEqual(sub);
  });

  it('seals the endpoint auth (type and credentials) and reads it back; none when absent', () => {
    const withAuth: Subscription = {
      ...sub,
      auth: { type: 'oauth2', tokenUrl: 'https://idp.example.com/token', clientId: 'gw-client', clientSecret: 'oauth-client-secret', scope: 'hooks', clientAuth: 'basic' },
    };
    const stored = encodeSubscription(withAuth, box);
    const text = JSON.stringify(stored);
    for (const secret of ['oauth-client-secret', 'gw-client', 'idp.example.com']) expect(text).not.toContain(secret);
    expect(decodeSubscription(JSON.parse(text) as StoredSubscription, box)).toEqual(withAuth);
    // Bound to the subscription id: moved into another subscription's record, it does not open.
    const other = encodeSubscription({ ...sub, id: 'sub_2', headers: {}, secrets: [] }, box);
    expect(() => decodeSubscription(other, box)).not.toThrow();
    expect(() => decodeSubscription({ ...other, sealedAuth: stored.sealedAuth }, box)).toThrow();
    const basic = encodeSubscription({ ...sub, auth: { type: 'basic', username: 'u', password: 'basic-password' } }, box);
    expect(JSON.stringify(basic)).not.toContain('basic-password');
    expect(encodeSubscription(sub, box)).not.toHaveProperty('sealedAuth');
    expect(decodeSubscription(encodeSubscription(sub, box), box)).not.toHaveProperty('auth');
  });

  it('seals the mutual TLS material (key included) bound to the subscription id, and reads it back', () => {
    const tls = { cert: 'CERT-PEM-TEXT', key: 'KEY-PEM-TEXT', ca: 'CA-PEM-TEXT' };
    const stored = encodeSubscription({ ...sub, tls }, box);
    const text = JSON.stringify(stored);
    for (const clear of ['CERT-PEM-TEXT', 'KEY-PEM-TEXT', 'CA-PEM-TEXT']) expect(text).not.toContain(clear);
    expect(decodeSubscription(JSON.parse(text) as StoredSubscription, box).tls).toEqual(tls);
    expect(() => decodeSubscription({ ...stored, id: 'sub_2' }, box)).toThrow();
    expect(encodeSubscription(sub, box)).not.toHaveProperty('sealedTls');
  });

  it('reads records written before headers were sealed', () => {
    const { sealedHeaders: _sealed, ...old } = encodeSubscription(sub, box);
    expect(decodeSubscription({ ...old, headers: { A: 'b' } }, box).headers).toEqual({ A: 'b' });
    expect(decodeSubscription(encodeSubscription({ ...sub, headers: {} }, box), box).headers).toEqual({});
  });
});

describe('withHealth (configuration + health record, one writer each)', () => {

  const sub: Subscription = { id: 'sub_h', url: 'http://x/', events: ['*'], kind: 'STANDARD', filters: {}, secrets: [], headers: {}, enabled: true, format: 'standard', createdAt: 'c', updatedAt: 'u' };

  it('applies a health record of the current epoch: disabled by the gateway, failing since', () => {
    const merged = withHealth(sub, { epoch: 0, failingSince: 'f', disabled: { reason: 'gone', at: 'a' }, updatedAt: 'u' });
    expect(merged).toMatchObject({ enabled: false, disabledReason: 'gone', failingSince: 'f' });
  });

  it("ignores a record of an older epoch: a user's re-enable voids what the gateway recorded before it", () => {
    const merged = withHealth({ ...sub, healthEpoch: 1 }, { epoch: 0, failingSince: 'f', disabled: { reason: 'gone', at: 'a' }, updatedAt: 'u' });
    expect([merged.enabled, merged.disabledReason, merged.failingSince]).toEqual([true, undefined, undefined]);
  });

  it("keeps a user's own disable whatever the health says", () => {
    expect(withHealth({ ...sub, enabled: false }, { epoch: 0, updatedAt: 'u' }).enabled).toBe(false);
  });
});
