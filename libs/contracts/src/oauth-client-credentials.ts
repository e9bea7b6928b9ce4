import type { OAuthClientAuth } from './subscription.js';

/**
 * The OAuth2 client-credentials grant as it goes over the wire (RFC 6749 §4.4), for every
 * token client of the gateway: Kafka's OAUTHBEARER and the endpoints' `auth: oauth2`. How the
 * request is sent, and how long a token is kept, is each client's own business.
 */
export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
  scope?: string;
  /** Not in RFC 6749, but asked for by Auth0 and others to name the API the token is for. */
  audience?: string;
  clientAuth: OAuthClientAuth;
}

/** The token request's headers and form body (§4.4.2); the client authenticates with HTTP Basic or in the body (§2.3.1). */
export function clientCredentialsRequest(c: ClientCredentials): { headers: Record<string, string>; body: string } {
  const body = new URLSearchParams({ grant_type: 'client_credentials' });
  if (c.scope) body.set('scope', c.scope);
  if (c.audience) body.set('audience', c.audience);
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  if (c.clientAuth === 'body') {
    body.set('client_id', c.clientId);
    body.set('client_secret', c.clientSecret);
  } else {
    // Form-encoded first (§2.3.1), so a colon in the id cannot split it; %20 is read as a space like +.
    headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(c.clientId)}:${encodeURIComponent(c.clientSecret)}`).toString('base64')}`;
  }
  return { headers, body: body.toString() };
}

/** What a token endpoint answered: a token and its lifetime if it gave one, or why there is none (never a secret). */
export type TokenAnswer = { ok: true; accessToken: string; expiresInSeconds?: number } | { ok: false; message: string; invalidClient: boolean };

/** The token endpoint's answer (§5.1, or the error of §5.2) read from its status and body. */
export function readTokenAnswer(status: number, text: string): TokenAnswer {
  let answer: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) answer = parsed as Record<string, unknown>;
  } catch {
    // Said below, by the status or as "not JSON".
  }
  if (status < 200 || status >= 300) {
    // The OAuth error code and description name the problem (invalid_client, invalid_scope, ...); no secret is in them.
    const reason = [answer?.error, answer?.error_description]
      .filter((x) => typeof x === 'string')
      .map((x) => (x as string).slice(0, 200))
      .join(': ');
    return { ok: false, message: `HTTP ${status}${reason ? ` ${reason}` : ''}`, invalidClient: status === 401 || answer?.error === 'invalid_client' };
  }
  if (answer === undefined) return { ok: false, message: 'the answer is not a JSON object', invalidClient: false };
  const token = answer.access_token;
  if (typeof token !== 'string' || token === '') return { ok: false, message: 'the answer has no access_token', invalidClient: false };
  // It goes into an Authorization header (or a SASL message): visible ASCII only, nothing that could split a header.
  if (!/^[\x21-\x7E]+$/.test(token)) return { ok: false, message: 'the access_token has characters a header cannot carry', invalidClient: false };
  const expiresIn = typeof answer.expires_in === 'string' ? Number(answer.expires_in) : answer.expires_in;
  return typeof expiresIn === 'number' && Number.isFinite(expiresIn) && expiresIn > 0 ? { ok: true, accessToken: token, expiresInSeconds: expiresIn } : { ok: true, accessToken: token };
}

