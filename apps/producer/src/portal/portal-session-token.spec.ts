import { createHmac, hkdfSync } from 'node:crypto';
import { PortalSessionSigner, portalSessionKey, PortalTokenError } from './portal-session-token.js';

const secretsKey = Buffer.alloc(32, 7);
const now = Date.parse('2026-12-03T12:00:00Z');
const claims = { id: 'ps_abc', tenant: 'acme', readOnly: false, exp: now / 1000 + 3600 };

const problemOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return err instanceof PortalTokenError ? err.problem : `other: ${String(err)}`;
  }
  return undefined;
};

/** Rewrites the claims of a token and keeps its signature. */
const withClaims = (token: string, change: (c: Record<string, unknown>) => void): string => {
  const [prefix, payload, mac] = token.split('.') as [string, string, string];
  const c = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  change(c);
  return [prefix, Buffer.from(JSON.stringify(c)).toString('base64url'), mac].join('.');
};

describe('PortalSessionSigner', () => {
  const signer = new PortalSessionSigner(secretsKey);

  it('verifies its own token and gives back the claims', () => {
    const token = signer.sign(claims);
    expect(PortalSessionSigner.looksLike(token)).toBe(true);
    expect(signer.verify(token, now)).toEqual(claims);
    expect(signer.verify(signer.sign({ ...claims, readOnly: true }), now).readOnly).toBe(true);
  });

  it('carries nothing but id, tenant, read-only and expiry, readable without the key', () => {
    const [, payload] = signer.sign(claims).split('.') as [string, string];
    expect(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))).toEqual({ id: 'ps_abc', tenant: 'acme', ro: false, exp: claims.exp });
  });

  it('refuses a token whose claims were changed (expiry, tenant, read-only)', () => {
    const token = signer.sign({ ...claims, readOnly: true });
    expect(problemOf(() => signer.verify(withClaims(token, (c) => (c.exp = (c.exp as number) + 86_400)), now))).toBe('invalid');
    expect(problemOf(() => signer.verify(withClaims(token, (c) => (c.tenant = 'other')), now))).toBe('invalid');
    expect(problemOf(() => signer.verify(withClaims(token, (c) => (c.ro = false)), now))).toBe('invalid');
  });

  it('refuses a changed signature, a token of another key and malformed tokens', () => {
    const token = signer.sign(claims);
    const flipped = token.slice(0, -2) + (token.endsWith('AA') ? 'BA' : 'AA');
    expect(problemOf(() => signer.verify(flipped, now))).toBe('invalid');
    expect(problemOf(() => new PortalSessionSigner(Buffer.alloc(32, 8)).verify(token, now))).toBe('invalid');
    for (const bad of ['', 'ps1', 'ps1..', 'ps1.e30.', 'ps2.' + token.slice(4), `${token}.x`]) expect(problemOf(() => signer.verify(bad, now))).toBe('invalid');
  });

  it('refuses a well-signed token with claims of the wrong shape', () => {
    const body = `ps1.${Buffer.from(JSON.stringify({ id: 'ps_x', tenant: 'acme', exp: '9999999999' })).toString('base64url')}`;
    const mac = createHmac('sha256', portalSessionKey(secretsKey)).update(body).digest('base64url');
    expect(problemOf(() => signer.verify(`${body}.${mac}`, now))).toBe('invalid');
  });

  it('refuses a token at and after its expiry, as expired', () => {
    const token = signer.sign(claims);
    expect(problemOf(() => signer.verify(token, claims.exp * 1000 - 1))).toBeUndefined();
    expect(problemOf(() => signer.verify(token, claims.exp * 1000))).toBe('expired');
    expect(problemOf(() => signer.verify(token, claims.exp * 1000 + 60_000))).toBe('expired');
  });

  it('signs with HKDF-SHA256(SECRETS_KEY, "portal-session"), never with SECRETS_KEY itself', () => {
    const derived = portalSessionKey(secretsKey);
    expect(derived).toEqual(Buffer.from(hkdfSync('sha256', secretsKey, Buffer.alloc(0), 'portal-session', 32)));
    expect(derived).toHaveLength(32);
    expect(derived.equals(secretsKey)).toBe(false);
    expect(portalSessionKey(Buffer.alloc(32, 8)).equals(derived)).toBe(false);
    const token = signer.sign(claims);
    const body = token.slice(0, token.lastIndexOf('.'));
    expect(token.slice(token.lastIndexOf('.') + 1)).toBe(createHmac('sha256', derived).update(body).digest('base64url'));
    expect(token.slice(token.lastIndexOf('.') + 1)).not.toBe(createHmac('sha256', secretsKey).update(body).digest('base64url'));
  });
});
