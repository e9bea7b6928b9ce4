import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/** What a portal session token carries: nothing secret, only who it acts for and until when. */
export interface PortalSessionClaims {
  /** `ps_…` */
  id: string;
  tenant: string;
  readOnly: boolean;
  /** Expiry, in seconds since the epoch. */
  exp: number;
}

const PREFIX = 'ps1';
const HKDF_LABEL = 'portal-session';

/** Why a token is refused: not one of ours (or tampered with), or past its expiry. */
export type PortalTokenProblem = 'invalid' | 'expired';

export class PortalTokenError extends Error {
  constructor(readonly problem: PortalTokenProblem) {
    super(problem === 'expired' ? 'portal session expired' : 'invalid portal session token');
  }
}

/** The signing key of portal sessions: HKDF-SHA256 of SECRETS_KEY with the label "portal-session" (never the key itself). */
export function portalSessionKey(secretsKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', secretsKey, Buffer.alloc(0), HKDF_LABEL, 32));
}

/**
 * Portal session tokens: `ps1.<claims, base64url JSON>.<HMAC-SHA256 of "ps1.<claims>", base64url>`.
 * Anyone holding SECRETS_KEY (every producer instance) can sign and verify them.
 */
export class PortalSessionSigner {
  private readonly key: Buffer;

  constructor(secretsKey: Buffer) {
    this.key = portalSessionKey(secretsKey);
  }

  /** Whether the string looks like a portal session token (so other bearer tokens are checked as such). */
  static looksLike(token: string): boolean {
    return token.startsWith(`${PREFIX}.`);
  }

  sign(claims: PortalSessionClaims): string {
    const body = `${PREFIX}.${Buffer.from(JSON.stringify({ id: claims.id, tenant: claims.tenant, ro: claims.readOnly, exp: claims.exp })).toString('base64url')}`;
    return `${body}.${this.mac(body).toString('base64url')}`;
  }

  /** The claims of a token signed with this key and not expired at `nowMs`; else throws PortalTokenError. */
  verify(token: string, nowMs = Date.now()): PortalSessionClaims {
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== PREFIX) throw new PortalTokenError('invalid');
    const [, payload, mac] = parts as [string, string, string];
    const expected = this.mac(`${PREFIX}.${payload}`);
    const presented = Buffer.from(mac, 'base64url');
    if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) throw new PortalTokenError('invalid');
    let raw: unknown;
    try {
      raw = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      throw new PortalTokenError('invalid');
    }
    const { id, tenant, ro, exp } = (raw ?? {}) as Record<string, unknown>;
    if (typeof id !== 'string' || typeof tenant !== 'string' || typeof ro !== 'boolean' || typeof exp !== 'number') throw new PortalTokenError('invalid');
    if (exp * 1000 <= nowMs) throw new PortalTokenError('expired');
    return { id, tenant, readOnly: ro, exp };
  }

  private mac(body: string): Buffer {
    return createHmac('sha256', this.key).update(body).digest();
  }
}
