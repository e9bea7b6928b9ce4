import { randomBytes } from 'node:crypto';
import type { Subscription } from '@app/contracts';
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

  it('reads records written before headers were sealed', () => {
    const { sealedHeaders: _sealed, ...old } = encodeSubscription(sub, box);
    expect(decodeSubscription({ ...old, headers: { A: 'b' } }, box).headers).toEqual({ A: 'b' });
    expect(decodeSubscription(encodeSubscription({ ...sub, headers: {} }, box), box).headers).toEqual({});
  });
});
