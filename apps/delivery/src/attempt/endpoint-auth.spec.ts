import type { EndpointAuth, OAuth2EndpointAuth, Subscription } from '@app/contracts';
import type { HttpAttempt, HttpRequest } from '../http/http-sender.js';
import { EndpointAuthorizer } from './endpoint-auth.js';
import { judge } from './outcome.js';

const TOKEN_URL = 'https://idp.example.com/oauth/token?tenant=t1';
const ENDPOINT = 'https://hooks.example.com/in';
const oauth: OAuth2EndpointAuth = { type: 'oauth2', tokenUrl: TOKEN_URL, clientId: 'gw-client', clientSecret: 'client-secret-1', scope: 'hooks', clientAuth: 'basic' };

const subscription = (auth: EndpointAuth | undefined, id = 'sub_1'): Subscription => ({
  id,
  url: ENDPOINT,
  events: ['*'],
  kind: 'STANDARD',
  filters: {},
  secrets: [],
  headers: {},
  enabled: true,
  format: 'standard',
  createdAt: 'c',
  updatedAt: 'u',
  ...(auth && { auth }),
});
const request = (): HttpRequest => ({ url: ENDPOINT, headers: { 'content-type': 'application/json' }, body: '{}', timeoutMs: 1_000 });
const response = (status: number, body = ''): HttpAttempt => ({ kind: 'response', status, headers: {}, body, durationMs: 1 });
const tokenAnswer = (token: string, expiresIn?: number) => response(200, JSON.stringify({ access_token: token, token_type: 'Bearer', ...(expiresIn !== undefined && { expires_in: expiresIn }) }));

/**
 * A fake of the gateway's HTTP client: the token endpoint answers from a script (each answer
 * may be held back until released), the endpoint accepts only the tokens it is told are valid.
 */
class FakeSender {
  readonly tokenRequests: HttpRequest[] = [];
  readonly endpointRequests: HttpRequest[] = [];
  readonly tokenAnswers: (HttpAttempt | Promise<HttpAttempt>)[] = [];
  valid = new Set<string>();
  /** Authorization headers the endpoint accepts as they are (basic, bearer). */
  acceptAny = false;

  send = (req: HttpRequest): Promise<HttpAttempt> => {
    if (req.url === TOKEN_URL) {
      this.tokenRequests.push(req);
      const next = this.tokenAnswers.shift();
      return Promise.resolve(next ?? { kind: 'error', errorClass: 'connection_refused', message: 'no answer scripted', durationMs: 0 });
    }
    this.endpointRequests.push(req);
    const token = req.headers.authorization?.replace(/^Bearer /, '');
    return Promise.resolve(response(this.acceptAny || (token !== undefined && this.valid.has(token)) ? 200 : 401));
  };

  /** The token endpoint issues `token` (valid at the endpoint from then on). */
  issue(token: string, expiresIn?: number): void {
    this.valid.add(token);
    this.tokenAnswers.push(tokenAnswer(token, expiresIn));
  }
}

const authorizations = (requests: HttpRequest[]) => requests.map((r) => r.headers.authorization);

describe('EndpointAuthorizer', () => {
  let now = 1_000_000;
  let sender: FakeSender;
  let authorizer: EndpointAuthorizer;
  beforeEach(() => {
    now = 1_000_000;
    sender = new FakeSender();
    authorizer = new EndpointAuthorizer(sender, () => now);
  });

  it('sends Basic and Bearer credentials as they are configured, without any token request', async () => {
    sender.acceptAny = true;
    await authorizer.send(subscription({ type: 'basic', username: 'hooks', password: 'pässword:1' }), request());
    await authorizer.send(subscription({ type: 'bearer', token: 'static-token' }), request());
    await authorizer.send(subscription(undefined), request());
    expect(authorizations(sender.endpointRequests)).toEqual([`Basic ${Buffer.from('hooks:pässword:1').toString('base64')}`, 'Bearer static-token', undefined]);
    expect(sender.tokenRequests).toHaveLength(0);
  });

  it('fetches an OAuth2 token by client credentials once and reuses it for later attempts', async () => {
    sender.issue('tok-1', 3600);
    for (let i = 0; i < 3; i++) {
      const sent = await authorizer.send(subscription(oauth), request());
      expect(sent).toMatchObject({ http: { kind: 'response', status: 200 }, tokenRefreshed: false });
    }
    expect(authorizations(sender.endpointRequests)).toEqual(['Bearer tok-1', 'Bearer tok-1', 'Bearer tok-1']);
    expect(sender.tokenRequests).toHaveLength(1);
    const [tokenRequest] = sender.tokenRequests;
    expect(Object.fromEntries(new URLSearchParams(tokenRequest!.body))).toEqual({ grant_type: 'client_credentials', scope: 'hooks' });
    expect(tokenRequest!.headers.authorization).toBe(`Basic ${Buffer.from('gw-client:client-secret-1').toString('base64')}`);
    expect(tokenRequest!.timeoutMs).toBe(1_000);
    expect(tokenRequest!.responseBodyBytes).toBeGreaterThanOrEqual(64 * 1024);
  });

  it('sends the client credentials in the body with client_auth body', async () => {
    sender.issue('tok-1');
    await authorizer.send(subscription({ ...oauth, clientAuth: 'body', audience: 'https://api' }), request());
    const [tokenRequest] = sender.tokenRequests;
    expect(tokenRequest!.headers.authorization).toBeUndefined();
    expect(Object.fromEntries(new URLSearchParams(tokenRequest!.body))).toMatchObject({ client_id: 'gw-client', client_secret: 'client-secret-1', audience: 'https://api' });
  });

  it('uses a token until shortly before it expires: 30 s before, or the last tenth of a short life', async () => {
    sender.issue('tok-1', 3600);
    sender.issue('tok-2', 60);
    sender.issue('tok-3', 60);
    await authorizer.send(subscription(oauth), request());
    now += 3_570_000 - 1; // 30 s before the hour: still used
    await authorizer.send(subscription(oauth), request());
    now += 1;
    await authorizer.send(subscription(oauth), request());
    // 60 s: the margin is 6 s.
    now += 53_999;
    await authorizer.send(subscription(oauth), request());
    now += 1;
    await authorizer.send(subscription(oauth), request());
    expect(authorizations(sender.endpointRequests)).toEqual(['Bearer tok-1', 'Bearer tok-1', 'Bearer tok-2', 'Bearer tok-2', 'Bearer tok-3']);
  });

  it('keeps a token without expires_in for 5 minutes less the margin', async () => {
    sender.issue('tok-1');
    sender.issue('tok-2');
    await authorizer.send(subscription(oauth), request());
    now += 270_000 - 1;
    await authorizer.send(subscription(oauth), request());
    now += 1;
    await authorizer.send(subscription(oauth), request());
    expect(authorizations(sender.endpointRequests)).toEqual(['Bearer tok-1', 'Bearer tok-1', 'Bearer tok-2']);
  });

  it('drops the token when the auth configuration changes, and keeps one per subscription', async () => {
    sender.issue('tok-1');
    sender.issue('tok-2');
    sender.issue('tok-3');
    await authorizer.send(subscription(oauth), request());
    await authorizer.send(subscription({ ...oauth, clientSecret: 'client-secret-2' }), request());
    await authorizer.send(subscription({ ...oauth, clientSecret: 'client-secret-2' }), request());
    await authorizer.send(subscription(oauth, 'sub_2'), request());
    expect(authorizations(sender.endpointRequests)).toEqual(['Bearer tok-1', 'Bearer tok-2', 'Bearer tok-2', 'Bearer tok-3']);
  });

  it('shares one token request between concurrent attempts', async () => {
    let release!: (answer: HttpAttempt) => void;
    sender.valid.add('tok-1');
    sender.tokenAnswers.push(new Promise<HttpAttempt>((resolve) => (release = resolve)));
    const attempts = Array.from({ length: 5 }, () => authorizer.send(subscription(oauth), request()));
    await new Promise((r) => setImmediate(r));
    release(tokenAnswer('tok-1', 60));
    const sent = await Promise.all(attempts);
    expect(sent.map((s) => s.http.kind === 'response' && s.http.status)).toEqual([200, 200, 200, 200, 200]);
    expect(sender.tokenRequests).toHaveLength(1);
  });

  it('on a 401 fetches a new token once and sends the request again at once, as the same attempt', async () => {
    sender.issue('tok-1', 3600);
    await authorizer.send(subscription(oauth), request());
    sender.valid.delete('tok-1'); // revoked at the authorization server
    sender.issue('tok-2', 3600);
    const sent = await authorizer.send(subscription(oauth), request());
    expect(sent).toMatchObject({ http: { kind: 'response', status: 200 }, tokenRefreshed: true });
    expect(authorizations(sender.endpointRequests)).toEqual(['Bearer tok-1', 'Bearer tok-1', 'Bearer tok-2']);
    // The new token is the one kept.
    await authorizer.send(subscription(oauth), request());
    expect(authorizations(sender.endpointRequests).at(-1)).toBe('Bearer tok-2');
    expect(sender.tokenRequests).toHaveLength(2);
  });

  it('retries a 401 only once: an endpoint that refuses every token gets its 401 recorded', async () => {
    sender.tokenAnswers.push(tokenAnswer('refused-1'), tokenAnswer('refused-2'), tokenAnswer('refused-3'));
    const sent = await authorizer.send(subscription(oauth), request());
    expect(sent).toMatchObject({ http: { kind: 'response', status: 401 }, tokenRefreshed: true });
    expect(judge(sent.http)).toMatchObject({ delivered: false, retryable: true, reason: 'http_401' });
    expect(sender.endpointRequests).toHaveLength(2);
    expect(sender.tokenRequests).toHaveLength(2);
  });

  it('shares one refresh between attempts that got a 401 for the same token', async () => {
    sender.issue('tok-1', 3600);
    await authorizer.send(subscription(oauth), request());
    sender.valid.delete('tok-1');
    sender.issue('tok-2', 3600);
    const sent = await Promise.all(Array.from({ length: 3 }, () => authorizer.send(subscription(oauth), request())));
    expect(sent.every((s) => s.tokenRefreshed && s.http.kind === 'response' && s.http.status === 200)).toBe(true);
    expect(sender.tokenRequests).toHaveLength(2);
  });

  it('makes a token endpoint failure an attempt failure (token_fetch) without a request to the endpoint or a secret in the message', async () => {
    const failures: [HttpAttempt, RegExp][] = [
      [{ kind: 'error', errorClass: 'connection_refused', message: 'connect ECONNREFUSED 10.0.0.1:443', durationMs: 1 }, /not reached \(connection_refused: connect ECONNREFUSED/],
      [{ kind: 'error', errorClass: 'timeout', message: 'no complete response within the timeout', durationMs: 1_000 }, /not reached \(timeout: /],
      [response(401, '{"error":"invalid_client","error_description":"bad secret"}'), /: HTTP 401 invalid_client: bad secret \(check auth.client_id and auth.client_secret\)$/],
      [response(500, 'oops'), /: HTTP 500$/],
      [response(200, '<html>sign in</html>'), /: the answer is not a JSON object$/],
      [response(200, '{"token_type":"Bearer"}'), /: the answer has no access_token$/],
    ];
    for (const [answer] of failures) sender.tokenAnswers.push(answer);
    for (const [, message] of failures) {
      const sent = await authorizer.send(subscription(oauth), request());
      expect(sent.http).toMatchObject({ kind: 'token_fetch', message: expect.stringMatching(message) });
      expect((sent.http as { message: string }).message).toMatch(/^OAuth2 token endpoint https:\/\/idp.example.com\/oauth\/token[: ]/);
      expect(JSON.stringify(sent)).not.toMatch(/client-secret-1|tenant=t1/);
      expect(judge(sent.http)).toEqual({ delivered: false, retryable: true, reason: 'token_fetch', error: { class: 'token_fetch', message: (sent.http as { message: string }).message } });
    }
    // Each attempt asked again (a failure is not remembered), and none reached the endpoint.
    expect(sender.tokenRequests).toHaveLength(failures.length);
    expect(sender.endpointRequests).toHaveLength(0);
    // Once the token endpoint answers, the attempt goes through.
    sender.issue('tok-1');
    expect((await authorizer.send(subscription(oauth), request())).http).toMatchObject({ kind: 'response', status: 200 });
  });

  it('records a failed refresh after a 401 as token_fetch, with nothing sent again', async () => {
    sender.issue('tok-1', 3600);
    await authorizer.send(subscription(oauth), request());
    sender.valid.delete('tok-1');
    sender.tokenAnswers.push(response(503));
    const sent = await authorizer.send(subscription(oauth), request());
    expect(sent.http).toMatchObject({ kind: 'token_fetch', message: expect.stringMatching(/^the endpoint answered 401, and a new token: OAuth2 token endpoint .*: HTTP 503$/) });
    expect(sender.endpointRequests).toHaveLength(2);
  });
});
