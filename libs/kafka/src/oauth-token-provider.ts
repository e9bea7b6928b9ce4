import { Logger } from '@nestjs/common';
import kafkajs from 'kafkajs';
import type { KafkaOAuthConfig } from '@app/config';
import { clientCredentialsRequest, readTokenAnswer } from '@app/contracts';

/**
 * kafkajs re-authenticates a connection (KIP-368) once less than this is left of its SASL
 * session (kafkajs' `reauthenticationThreshold`, set to this value in createKafka). A token handed
 * out must outlive it by a margin, or every request would re-authenticate with the same token.
 */
export const REAUTHENTICATION_THRESHOLD_MS = 10_000;
/** A new token is fetched once 80% of the current one's lifetime has passed, as the Java client does... */
const REFRESH_AT = 0.8;
/** ...and at the latest this long before it expires (the re-authentication threshold plus a margin). */
const REFRESH_MARGIN_MS = REAUTHENTICATION_THRESHOLD_MS + 5_000;
const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 30_000;
const REQUEST_TIMEOUT_MS = 10_000;

export interface OAuthBearerToken {
  value: string;
  extensions?: Record<string, string>;
}

interface Held {
  value: string;
  expiresAt: number;
}

export interface OAuthTokenProviderDeps {
  fetch?: typeof fetch;
  now?: () => number;
}

/**
 * OAUTHBEARER tokens by the OIDC client-credentials grant, shared by every Kafka client of the
 * process (kafkajs' `oauthBearerProvider`). The token is cached and a new one is fetched in the
 * background before the current one expires; a failing token endpoint is retried with back-off
 * (1 s doubling to 30 s) while the current token is still used, and `problem()` says so for
 * /readyz. Nothing here ever logs or reports the client secret or a token.
 */
export class OAuthTokenProvider {
  private readonly logger = new Logger('KafkaOAuth');
  private readonly fetch: typeof fetch;
  private readonly now: () => number;
  private held?: Held;
  private fetching?: Promise<Held | undefined>;
  private timer?: NodeJS.Timeout;
  private failures = 0;
  private failingSince?: number;
  private lastError?: string;
  private closed = false;
  /** Tokens fetched so far (for tests and metrics; never the tokens themselves). */
  fetched = 0;

  constructor(
    private readonly config: KafkaOAuthConfig,
    deps: OAuthTokenProviderDeps = {},
  ) {
    this.fetch = deps.fetch ?? fetch;
    this.now = deps.now ?? Date.now;
  }

  /** kafkajs calls this for every SASL (re-)authentication. */
  readonly token = async (): Promise<OAuthBearerToken> => {
    const held = this.valid() ?? (await this.refresh());
    if (!held) {
      // Retriable: kafkajs retries the connection (and restarts a consumer) instead of giving up.
      throw new kafkajs.KafkaJSError(`OAUTHBEARER: no valid token from KAFKA_OAUTH_TOKEN_URL=${this.config.tokenUrl}: ${this.lastError ?? 'not fetched yet'}`, { retriable: true });
    }
    const { extensions } = this.config;
    return Object.keys(extensions).length > 0 ? { value: held.value, extensions } : { value: held.value };
  };

  /** Resolves once a token is held, retrying with back-off meanwhile (start-up waits here rather than crash-looping). */
  async ready(): Promise<void> {
    while (!this.closed && !this.valid()) {
      if (!(await this.refresh())) await new Promise((r) => setTimeout(r, this.backoffMs()));
    }
  }

  /** For /readyz: undefined while a valid token is held and its refresh is not failing. */
  problem(): string | undefined {
    if (this.valid()) return undefined;
    return this.failingSince === undefined ? 'no OAUTHBEARER token fetched yet' : `token endpoint ${this.config.tokenUrl} ${this.failing()}; no valid token left`;
  }

  /** Details for /readyz while the current token still works but its refresh fails. */
  warning(): string | undefined {
    const held = this.valid();
    if (this.failingSince === undefined || !held) return undefined;
    return `token endpoint ${this.failing()}; the current token expires at ${new Date(held.expiresAt).toISOString()}`;
  }

  private failing(): string {
    return `failing since ${new Date(this.failingSince!).toISOString()} (${this.failures} attempt(s), last: ${this.lastError})`;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private valid(): Held | undefined {
    return this.held && this.held.expiresAt - this.now() > REAUTHENTICATION_THRESHOLD_MS ? this.held : undefined;
  }

  /** One fetch at a time, shared by every caller that arrives meanwhile. */
  private refresh(): Promise<Held | undefined> {
    this.fetching ??= this.fetchToken().finally(() => {
      this.fetching = undefined;
    });
    return this.fetching;
  }

  private async fetchToken(): Promise<Held | undefined> {
    const startedAt = this.now();
    try {
      const held = await this.request();
      this.held = held;
      this.fetched++;
      if (this.failingSince !== undefined) this.logger.log(`token endpoint answers again after ${this.failures} failed attempt(s)`);
      this.failures = 0;
      this.failingSince = this.lastError = undefined;
      const lifetime = held.expiresAt - startedAt;
      const refreshIn = Math.max(1_000, Math.min(lifetime * REFRESH_AT * (0.95 + Math.random() * 0.05), lifetime - REFRESH_MARGIN_MS));
      this.schedule(refreshIn);
      return held;
    } catch (err) {
      this.failures++;
      this.failingSince ??= startedAt;
      this.lastError = err instanceof Error ? err.message : String(err);
      const retryIn = this.backoffMs();
      this.logger.warn(`OAUTHBEARER token request to ${this.config.tokenUrl} failed (attempt ${this.failures}, retry in ${Math.round(retryIn / 1000)} s): ${this.lastError}`);
      this.schedule(retryIn);
      return undefined;
    }
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(), ms);
    this.timer.unref();
  }

  private backoffMs(): number {
    return Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.max(0, this.failures - 1));
  }

  /** The client-credentials grant (RFC 6749 §4.4), client authenticated with HTTP Basic (§2.3.1). */
  private async request(): Promise<Held> {
    const { tokenUrl, clientId, clientSecret, scope } = this.config;
    const { headers, body } = clientCredentialsRequest({ clientId, clientSecret, scope, clientAuth: 'basic' });
    let res: Response;
    try {
      res = await this.fetch(tokenUrl, { method: 'POST', headers, body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new Error(`cannot reach it (${cause?.code ?? cause?.message ?? (err as Error).message})`, { cause: err });
    }
    const answer = readTokenAnswer(res.status, await res.text());
    if (!answer.ok) throw new Error(`${answer.message}${answer.invalidClient ? ' (check KAFKA_OAUTH_CLIENT_ID and KAFKA_OAUTH_CLIENT_SECRET)' : ''}`);
    return { value: answer.accessToken, expiresAt: this.expiry(answer.expiresInSeconds, answer.accessToken) };
  }

  /** `expires_in` of the answer, else the JWT's `exp`, else one hour. */
  private expiry(expiresIn: number | undefined, token: string): number {
    if (expiresIn !== undefined) return this.now() + expiresIn * 1000;
    try {
      const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown };
      if (typeof claims.exp === 'number') return claims.exp * 1000;
    } catch {
      // Not a JWT: an opaque token.
    }
    return this.now() + 3_600_000;
  }
}
