import type { AttemptResult } from '@app/contracts';
import { OAuthServer } from './support/oauth-server.js';
import type { ReceivedRequest } from './support/receiver.js';
import { GatewayRig } from './support/rig.js';

/**
 * Endpoint authentication per subscription against the running gateway: a real OAuth2 token
 * endpoint and a receiver that accepts only a currently valid token (401 otherwise), both on
 * 127.0.0.1; Basic and Bearer; the API never showing the credentials, nor the logs.
 */
describe('endpoint auth: basic, bearer, OAuth2 client credentials', () => {
  // Two failures in a row would open an endpoint's breaker: token failures must not count.
  const rig = new GatewayRig('endpoint-auth', { RETRY_TIERS: '1s,5s,30s', DELIVERY_BREAKER_THRESHOLD: '2', LOG_LEVEL: 'log' });
  const { gateway, receiver, publisher, source } = rig;
  const results = rig.reader('results');
  const secrets = { reuse: 'cs-reuse-9f2a', expiry: 'cs-expiry-41bb', revoke: 'cs-revoke-77d0', flaky: 'cs-flaky-0c3e' };
  const oauth = new OAuthServer(Object.fromEntries(Object.entries(secrets).map(([id, s]) => [`client-${id}`, s])));
  const basicPassword = 'basic-pw-5d1e';
  const staticToken = 'static-bearer-a8c2';
  const output: string[] = [];
  const writes = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };
  const ids: string[] = [];

  const bearerOf = (r: ReceivedRequest) => (r.headers.authorization ?? '').replace(/^Bearer /, '');
  const subscribe = async (path: string, type: string, extra: Record<string, unknown>) => {
    const res = await gateway.api('POST', '/v1/subscriptions', { url: receiver.url(path), events: [type], ...extra });
    expect(res.status).toBe(201);
    ids.push(res.body.id as string);
    return res.body as { id: string; auth?: unknown };
  };
  const oauth2 = (client: keyof typeof secrets, extra: Record<string, unknown> = {}) => ({
    type: 'oauth2',
    token_url: oauth.url,
    client_id: `client-${client}`,
    client_secret: secrets[client],
    ...extra,
  });
  const resultsOf = (eventId: string) =>
    results.records
      .map((r) => r.value as AttemptResult)
      .filter((r) => r.eventId === eventId)
      .sort((a, b) => a.attempt - b.attempt);
  const delivered = (eventId: string) => results.waitFor<AttemptResult>((r) => r.eventId === eventId && r.outcome === 'delivered', 30_000);
  /** The requests of an event's delivery (by its webhook-id, from its results). */
  const requestsFor = (path: string, eventId: string) => {
    const webhookIds = new Set(resultsOf(eventId).map((r) => r.webhookId));
    return receiver.on(path).filter((r) => webhookIds.has(String(r.headers['webhook-id'])));
  };

  beforeAll(async () => {
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => (output.push(String(chunk)), writes.out(chunk, ...rest))) as typeof process.stdout.write;
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => (output.push(String(chunk)), writes.err(chunk, ...rest))) as typeof process.stderr.write;
    await oauth.start();
    // The endpoints under /oauth/ accept only a token the authorization server says is valid now.
    receiver.behave('/oauth/reuse', { statusOf: (r) => (oauth.isValid(bearerOf(r)) ? 200 : 401) });
    receiver.behave('/oauth/expiry', { statusOf: (r) => (oauth.isValid(bearerOf(r)) ? 200 : 401) });
    receiver.behave('/oauth/revoke', { statusOf: (r) => (oauth.isValid(bearerOf(r)) ? 200 : 401) });
    receiver.behave('/oauth/flaky', { statusOf: (r) => (oauth.isValid(bearerOf(r)) ? 200 : 401) });
    await rig.start();
  });

  afterAll(async () => {
    process.stdout.write = writes.out;
    process.stderr.write = writes.err;
    await rig.stop();
    await oauth.stop();
  });

  it('fetches one OAuth2 token and reuses it for several events (attempts at the same time share the request)', async () => {
    await subscribe('/oauth/reuse', 'auth.reuse', { auth: oauth2('reuse', { scope: 'hooks.write', audience: 'https://hooks.example.com' }) });
    const events = ['reuse-1', 'reuse-2', 'reuse-3', 'reuse-4', 'reuse-5'];
    for (const id of events) await publisher.publish(source, { id, type: 'auth.reuse', data: {} });
    for (const id of events) expect((await delivered(id)).value).toMatchObject({ attempt: 1, statusCode: 200 });

    expect(oauth.of('client-reuse')).toEqual([expect.objectContaining({ grantType: 'client_credentials', clientAuth: 'basic', scope: 'hooks.write', audience: 'https://hooks.example.com', status: 200 })]);
    const tokens = new Set(receiver.on('/oauth/reuse').map(bearerOf));
    expect(tokens.size).toBe(1);
    expect(receiver.on('/oauth/reuse').map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
  });

  it('fetches a new token once the held one has expired', async () => {
    oauth.expiresIn.set('client-expiry', 2);
    await subscribe('/oauth/expiry', 'auth.expiry', { auth: oauth2('expiry', { client_auth: 'body' }) });
    await publisher.publish(source, { id: 'expiry-1', type: 'auth.expiry', data: {} });
    await delivered('expiry-1');
    // The token lived 2 s at the authorization server.
    await new Promise((r) => setTimeout(r, 2_500));
    await publisher.publish(source, { id: 'expiry-2', type: 'auth.expiry', data: {} });
    expect((await delivered('expiry-2')).value).toMatchObject({ attempt: 1, statusCode: 200 });

    expect(oauth.of('client-expiry').map((r) => [r.clientAuth, r.status])).toEqual([
      ['body', 200],
      ['body', 200],
    ]);
    const [first, second] = receiver.on('/oauth/expiry');
    expect(bearerOf(first!)).not.toBe(bearerOf(second!));
    // Never sent with the expired one: no 401.
    expect(receiver.on('/oauth/expiry').map((r) => r.status)).toEqual([200, 200]);
  });

  it('refreshes a revoked token on the 401 and delivers within the same attempt', async () => {
    await subscribe('/oauth/revoke', 'auth.revoke', { auth: oauth2('revoke') });
    await publisher.publish(source, { id: 'revoke-1', type: 'auth.revoke', data: {} });
    await delivered('revoke-1');
    oauth.revokeAll();
    await publisher.publish(source, { id: 'revoke-2', type: 'auth.revoke', data: {} });
    const result = await delivered('revoke-2');

    expect(result.value).toMatchObject({ attempt: 1, outcome: 'delivered', statusCode: 200, tokenRefreshed: true });
    expect(resultsOf('revoke-2')).toHaveLength(1);
    const sent = requestsFor('/oauth/revoke', 'revoke-2');
    expect(sent.map((r) => r.status)).toEqual([401, 200]);
    expect(sent.map((r) => r.headers['x-webhook-attempt'])).toEqual(['1', '1']);
    expect(bearerOf(sent[0]!)).toBe(bearerOf(requestsFor('/oauth/revoke', 'revoke-1')[0]!));
    expect(bearerOf(sent[1]!)).not.toBe(bearerOf(sent[0]!));
    expect(oauth.of('client-revoke')).toHaveLength(2);
    expect(output.join('')).toContain('a new OAuth2 token was fetched and the request sent again (it answered 200)');
  });

  it('records a failing token endpoint as token_fetch without a request to the endpoint, then delivers once it answers', async () => {
    oauth.failures.push('status_503', 'not_json', 'no_access_token', 'hang');
    await subscribe('/oauth/flaky', 'auth.flaky', { auth: oauth2('flaky'), retry: { schedule: [1, 1, 1, 1, 1] }, timeout_ms: 1_000 });
    await publisher.publish(source, { id: 'flaky-1', type: 'auth.flaky', data: {} });
    await delivered('flaky-1');

    const attempts = resultsOf('flaky-1');
    expect(attempts.map((r) => [r.attempt, r.outcome, r.reason, r.error?.class])).toEqual([
      [1, 'retry_scheduled', 'token_fetch', 'token_fetch'],
      [2, 'retry_scheduled', 'token_fetch', 'token_fetch'],
      [3, 'retry_scheduled', 'token_fetch', 'token_fetch'],
      [4, 'retry_scheduled', 'token_fetch', 'token_fetch'],
      [5, 'delivered', '2xx', undefined],
    ]);
    const messages = attempts.slice(0, 4).map((r) => r.error!.message);
    expect(messages[0]).toMatch(/^OAuth2 token endpoint http:\/\/127\.0\.0\.1:\d+\/token: HTTP 503$/);
    expect(messages[1]).toMatch(/the answer is not a JSON object$/);
    expect(messages[2]).toMatch(/the answer has no access_token$/);
    expect(messages[3]).toMatch(/not reached \(timeout: /);
    for (const r of attempts.slice(0, 4)) expect(r.statusCode).toBeUndefined();
    // Only the last attempt reached the endpoint; the token failures never opened its breaker (threshold 2).
    expect(requestsFor('/oauth/flaky', 'flaky-1').map((r) => [r.headers['x-webhook-attempt'], r.status])).toEqual([['5', 200]]);
    expect(results.records.map((r) => r.value as AttemptResult).filter((r) => r.url.endsWith('/oauth/flaky') && r.reason.includes('circuit_open'))).toEqual([]);
  });

  it('sends Basic and Bearer credentials as configured', async () => {
    await subscribe('/basic', 'auth.basic', { auth: { type: 'basic', username: 'hooks-user', password: basicPassword } });
    await subscribe('/bearer', 'auth.bearer', { auth: { type: 'bearer', token: staticToken } });
    await publisher.publish(source, { id: 'basic-1', type: 'auth.basic', data: {} });
    await publisher.publish(source, { id: 'bearer-1', type: 'auth.bearer', data: {} });
    await Promise.all([delivered('basic-1'), delivered('bearer-1')]);
    expect(receiver.on('/basic').map((r) => r.headers.authorization)).toEqual([`Basic ${Buffer.from(`hooks-user:${basicPassword}`).toString('base64')}`]);
    expect(receiver.on('/bearer').map((r) => r.headers.authorization)).toEqual([`Bearer ${staticToken}`]);
  });

  it('refuses a bad auth with a 400 naming the field, and a static Authorization header beside it', async () => {
    const url = receiver.url('/refused');
    const post = (body: Record<string, unknown>) => gateway.api('POST', '/v1/subscriptions', { url, events: ['auth.refused'], ...body });
    const messages = async (body: Record<string, unknown>) => {
      const res = await post(body);
      expect(res.status).toBe(400);
      return JSON.stringify(res.body.message);
    };
    expect(await messages({ auth: { type: 'digest' } })).toContain('auth.type must be one of basic, bearer, oauth2');
    expect(await messages({ auth: { type: 'oauth2', token_url: 'not a url', client_id: 'c', client_secret: 's' } })).toContain('auth.token_url must be an http(s) URL');
    expect(await messages({ auth: { type: 'bearer', token: 't' }, headers: { Authorization: 'Bearer other' } })).toContain('headers.Authorization cannot be combined with auth');
    const plain = await post({ headers: { authorization: 'Bearer other' } });
    expect(plain.status).toBe(201);
    ids.push(plain.body.id as string);
    const patched = await gateway.api('PATCH', `/v1/subscriptions/${plain.body.id}`, { auth: { type: 'bearer', token: 't' } });
    expect(patched.status).toBe(400);
    expect(JSON.stringify(patched.body.message)).toContain('headers.Authorization cannot be combined with auth');
  });

  it('never shows a password, token or client secret in GET or list; null clears auth', async () => {
    const views = await Promise.all(ids.map(async (id) => (await gateway.api('GET', `/v1/subscriptions/${id}`)).body as { id: string; url: string; auth?: unknown }));
    const byPath = (path: string) => views.find((v) => v.url.endsWith(path))!.auth;
    expect(byPath('/basic')).toEqual({ type: 'basic', username: 'hooks-user' });
    expect(byPath('/bearer')).toEqual({ type: 'bearer' });
    expect(byPath('/oauth/reuse')).toEqual({ type: 'oauth2', token_url: oauth.url, client_id: 'client-reuse', scope: 'hooks.write', audience: 'https://hooks.example.com', client_auth: 'basic' });
    expect(byPath('/oauth/expiry')).toEqual({ type: 'oauth2', token_url: oauth.url, client_id: 'client-expiry', client_auth: 'body' });
    const list = await gateway.api('GET', '/v1/subscriptions?limit=500');
    expect(list.status).toBe(200);
    const shown = JSON.stringify([views, list.body]);
    for (const secret of [...Object.values(secrets), basicPassword, staticToken, ...oauth.issued()]) expect(shown).not.toContain(secret);
    expect(shown).not.toMatch(/client_secret|password|"token"/);

    const bearer = views.find((v) => v.url.endsWith('/bearer'))!;
    const cleared = await gateway.api('PATCH', `/v1/subscriptions/${bearer.id}`, { auth: null });
    expect(cleared.status).toBe(200);
    expect(cleared.body).not.toHaveProperty('auth');
    await publisher.publish(source, { id: 'bearer-2', type: 'auth.bearer', data: {} });
    await delivered('bearer-2');
    expect(requestsFor('/bearer', 'bearer-2').map((r) => r.headers.authorization)).toEqual([undefined]);
  });

  it('never logs a credential or a token', () => {
    const logged = output.join('');
    expect(logged.length).toBeGreaterThan(0);
    for (const secret of [...Object.values(secrets), basicPassword, staticToken, ...oauth.issued()]) expect(logged).not.toContain(secret);
  });
});
