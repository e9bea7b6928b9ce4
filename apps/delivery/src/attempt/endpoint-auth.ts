import { Logger } from '@nestjs/common';
import { clientCredentialsRequest, type EndpointAuth, type OAuth2EndpointAuth, readTokenAnswer, type Subscription } from '@app/contracts';
import { TOKEN_RESPONSE_BYTES } from '../delivery-policy.js';
import type { HttpAttempt, HttpRequest, HttpSender } from '../http/http-sender.js';
import { type FetchedToken, OAuthTokenCache } from './oauth-token-cache.js';

/** The endpoint's OAuth2 token could not be had: the attempt fails, and nothing is sent to the endpoint. */
export interface TokenFetchFailure {
  kind: 'token_fetch';
  message: string;
  durationMs: number;
}

/** What an attempt through the endpoint's auth came to. */
export type AuthorizedAttempt = HttpAttempt | TokenFetchFailure;

export interface AuthorizedSend {
  http: AuthorizedAttempt;
  /** The endpoint answered 401 to the token held: a new one was fetched and the request sent again. */
  tokenRefreshed: boolean;
}

/**
 * A subscription's `auth` on its attempts: the `Authorization` header (`Basic`, `Bearer`, or
 * `Bearer` with an OAuth2 client-credentials token from OAuthTokenCache). With OAuth2, a 401
 * from the endpoint drops the token, and the request is sent once more at once with a new one.
 * Token requests go through the gateway's one HTTP client (its SSRF guard and timeouts), with
 * the attempt's timeout. Nothing here logs or reports a credential or a token.
 */
export class EndpointAuthorizer {
  private readonly logger = new Logger('EndpointAuth');
  private readonly tokens: OAuthTokenCache;

  constructor(
    private readonly sender: Pick<HttpSender, 'send'>,
    now: () => number = Date.now,
  ) {
    this.tokens = new OAuthTokenCache((auth, timeoutMs) => this.fetchToken(auth, timeoutMs), now);
  }

  /** Sends the attempt's request with the subscription's Authorization header (`req.headers` gets it). */
  async send(sub: Subscription, req: HttpRequest): Promise<AuthorizedSend> {
    const auth = sub.auth;
    if (auth?.type !== 'oauth2') {
      if (auth) req.headers.authorization = staticAuthorization(auth);
      return { http: await this.sender.send(req), tokenRefreshed: false };
    }
    const started = performance.now();
    const took = () => Math.round(performance.now() - started);
    const held = await this.tokens.get(sub.id, auth, req.timeoutMs);
    if (!held.ok) return { http: { kind: 'token_fetch', message: held.message, durationMs: took() }, tokenRefreshed: false };
    const first = await this.sender.send(withBearer(req, held.token));
    if (first.kind !== 'response' || first.status !== 401) return { http: { ...first, durationMs: took() }, tokenRefreshed: false };

    this.tokens.drop(sub.id, held.token);
    const fresh = await this.tokens.get(sub.id, auth, req.timeoutMs);
    if (!fresh.ok) return { http: { kind: 'token_fetch', message: `the endpoint answered 401, and a new token: ${fresh.message}`, durationMs: took() }, tokenRefreshed: false };
    const again = await this.sender.send(withBearer(req, fresh.token));
    this.logger.log({ msg: `endpoint answered 401: a new OAuth2 token was fetched and the request sent again (it answered ${describe(again)})`, subscriptionId: sub.id });
    return { http: { ...again, durationMs: took() }, tokenRefreshed: true };
  }

  /** One client-credentials request to the token endpoint; its failure is said without secrets. */
  private async fetchToken(auth: OAuth2EndpointAuth, timeoutMs: number): Promise<FetchedToken> {
    const { headers, body } = clientCredentialsRequest(auth);
    const where = `OAuth2 token endpoint ${endpointName(auth.tokenUrl)}`;
    const answer = await this.sender.send({ url: auth.tokenUrl, headers, body, timeoutMs, responseBodyBytes: TOKEN_RESPONSE_BYTES });
    if (answer.kind === 'error') return { ok: false, message: `${where} not reached (${answer.errorClass}: ${answer.message})` };
    const read = readTokenAnswer(answer.status, answer.body);
    if (!read.ok) return { ok: false, message: `${where}: ${read.message}${read.invalidClient ? ' (check auth.client_id and auth.client_secret)' : ''}` };
    return { ok: true, token: read.accessToken, lifetimeMs: read.expiresInSeconds === undefined ? undefined : read.expiresInSeconds * 1000 };
  }
}

/** The header of `basic` and `bearer` auth. */
function staticAuthorization(auth: Exclude<EndpointAuth, OAuth2EndpointAuth>): string {
  return auth.type === 'basic' ? `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` : `Bearer ${auth.token}`;
}

/** The request with the token: a headers object of its own per send (the sender adds to it). */
function withBearer(req: HttpRequest, token: string): HttpRequest {
  return { ...req, headers: { ...req.headers, authorization: `Bearer ${token}` } };
}

/** The token URL without its query (which is no place for a secret, but might hold one). */
function endpointName(url: string): string {
  try {
    const u = new URL(url);
    return u.origin + u.pathname;
  } catch {
    return 'with an invalid URL';
  }
}

function describe(attempt: HttpAttempt): string {
  return attempt.kind === 'response' ? String(attempt.status) : attempt.errorClass;
}
