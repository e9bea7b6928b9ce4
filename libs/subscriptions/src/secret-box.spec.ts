import { randomBytes } from 'node:crypto';
import { SecretBox, SecretOpenError } from './secret-box.js';

describe('SecretBox', () => {
  const box = new SecretBox(randomBytes(32));

  it('round-trips and hides the plaintext', () => {
    const sealed = box.seal('whsec_abc', 'sub_1');
    expect(sealed).not.toContain('whsec_abc');
    expect(box.open(sealed, 'sub_1')).toBe('whsec_abc');
  });

  it('refuses another context, another key and tampering', () => {
    const sealed = box.seal('whsec_abc', 'sub_1');
    expect(() => box.open(sealed, 'sub_2')).toThrow(SecretOpenError);
    expect(() => new SecretBox(randomBytes(32)).open(sealed, 'sub_1')).toThrow(SecretOpenError);
    const parts = sealed.split('.');
    parts[3] = Buffer.from('whsec_abd').toString('base64url');
    expect(() => box.open(parts.join('.'), 'sub_1')).toThrow();
  });

  it('uses a fresh IV per seal', () => {
    expect(box.seal('x', 'c')).not.toBe(box.seal('x', 'c'));
  });
});
