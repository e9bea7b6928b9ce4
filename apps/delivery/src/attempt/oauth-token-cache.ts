import type { OAuth2EndpointAuth } from '@app/contracts';
import { TOKEN_DEFAULT_LIFETIME_MS, TOKEN_EXPIRY_MARGIN_MS, TOKEN_EXPIRY_MARGIN_SHARE, TOKEN_MAX_LIFETIME_MS } from '../delivery-policy.js';

/** An access token, or why there is none (a message without secrets). */
export type TokenResult = { ok: true; token: string } | { ok: false; message: string };

/** What one request to a token endpoint came to: the token and how long it lives (undefined: the answer did not say). */
export type FetchedToken = { ok: true; token: string; lifetimeMs?: number } | { ok: false; message: string };

interface Entry {
  /** The auth configuration the token belongs to: another one (a PATCH) starts a new entry. */
  readonly key: string;
  token?: string;
  usableUntil: number;
  /** The request in flight, shared by every attempt that needs the token meanwhile. */
  fetching?: Promise<TokenResult>;
}

/** Subscriptions whose token is kept (a bound, not a working-set size: the cache starts over when full). */
const MAX_ENTRIES = 100_000;

/**
 * OAuth2 access tokens of the endpoints (`auth: oauth2`), one per subscription, keyed by its
 * auth configuration so that changing it drops the token. A token is used until
 * TOKEN_EXPIRY_MARGIN_MS (at most a tenth of its lifetime) before its `expires_in` runs out,
 * counted from when it was asked for; an answer without `expires_in` is kept for
 * TOKEN_DEFAULT_LIFETIME_MS. Attempts that need a token while it is being fetched share that one
 * request. A failed fetch is not remembered: the next attempt asks again.
 */
export class OAuthTokenCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly fetchToken: (auth: OAuth2EndpointAuth, timeoutMs: number) => Promise<FetchedToken>,
    private readonly now: () => number = Date.now,
  ) {}

  /** The subscription's token: the one held while usable, else a new one. */
  get(subscriptionId: string, auth: OAuth2EndpointAuth, timeoutMs: number): Promise<TokenResult> {
    const key = JSON.stringify([auth.tokenUrl, auth.clientId, auth.clientSecret, auth.scope, auth.audience, auth.clientAuth]);
    let entry = this.entries.get(subscriptionId);
    if (entry?.key !== key) {
      if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
      this.entries.set(subscriptionId, (entry = { key, usableUntil: 0 }));
    }
    if (entry.token !== undefined && this.now() < entry.usableUntil) return Promise.resolve({ ok: true, token: entry.token });
    return (entry.fetching ??= this.fetch(entry, auth, timeoutMs));
  }

  /** The endpoint refused `token` (401): it is not handed out again (unless a newer one already replaced it, kept). */
  drop(subscriptionId: string, token: string): void {
    const entry = this.entries.get(subscriptionId);
    if (entry?.token === token) entry.token = undefined;
  }

  private async fetch(entry: Entry, auth: OAuth2EndpointAuth, timeoutMs: number): Promise<TokenResult> {
    const askedAt = this.now();
    try {
      const fetched = await this.fetchToken(auth, timeoutMs);
      if (!fetched.ok) return fetched;
      entry.token = fetched.token;
      entry.usableUntil = askedAt + usableFor(fetched.lifetimeMs);
      return { ok: true, token: fetched.token };
    } finally {
      entry.fetching = undefined;
    }
  }
}

/** How long a token that lives `lifetimeMs` is handed out. */
export function usableFor(lifetimeMs: number | undefined): number {
  const lifetime = Math.min(lifetimeMs ?? TOKEN_DEFAULT_LIFETIME_MS, TOKEN_MAX_LIFETIME_MS);
  return lifetime - Math.min(TOKEN_EXPIRY_MARGIN_MS, lifetime * TOKEN_EXPIRY_MARGIN_SHARE);
}
