import { OAuthTokenProvider } from './oauth-token-provider.js';

const config = { tokenUrl: 'https://idp.test/token', clientId: 'gw client', clientSecret: 'very-secret', scope: 'kafka', extensions: {} };

/** A token endpoint answering from a script of responses; records each request. */
function endpoint(answers: (() => Response | Promise<Response>)[]) {
  const requests: { headers: Record<string, string>; body: string }[] = [];
  const fetchFn = (async (_url: string, init: RequestInit) => {
    requests.push({ headers: init.headers as Record<string, string>, body: String(init.body) });
    const next = answers.shift();
    if (!next) throw new Error('no more answers');
    return next();
  }) as unknown as typeof fetch;
  return { fetchFn, requests };
}
const ok = (token: string, expiresIn = 300) => () => new Response(JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: expiresIn }), { status: 200 });

describe('OAuthTokenProvider', () => {
  let provider: OAuthTokenProvider | undefined;
  afterEach(() => provider?.close());

  it('fetches with the client-credentials grant and HTTP Basic, and caches the token', async () => {
    const { fetchFn, requests } = endpoint([ok('t1')]);
    provider = new OAuthTokenProvider(config, { fetch: fetchFn });
    await expect(provider.token()).resolves.toEqual({ value: 't1' });
    await expect(provider.token()).resolves.toEqual({ value: 't1' });
    expect(requests).toHaveLength(1);
    expect(requests[0]!.body).toBe('grant_type=client_credentials&scope=kafka');
    expect(requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from('gw%20client:very-secret').toString('base64')}`);
    expect(provider.problem()).toBeUndefined();
  });

  it('fetches a new token once the held one is about to expire, and sends the extensions', async () => {
    let now = 1_000_000;
    const { fetchFn, requests } = endpoint([ok('t1', 60), ok('t2', 60)]);
    provider = new OAuthTokenProvider({ ...config, extensions: { logicalCluster: 'lkc-1' } }, { fetch: fetchFn, now: () => now });
    await expect(provider.token()).resolves.toEqual({ value: 't1', extensions: { logicalCluster: 'lkc-1' } });
    now += 45_000; // 15 s left: less than the re-authentication threshold plus margin? not yet below 10 s
    await expect(provider.token()).resolves.toMatchObject({ value: 't1' });
    now += 6_000; // 9 s left: below kafkajs' re-authentication threshold, so not handed out again
    await expect(provider.token()).resolves.toMatchObject({ value: 't2' });
    expect(requests).toHaveLength(2);
  });

  it('reports a failing endpoint on /readyz and throws a retriable error while it has no token; never the secret', async () => {
    const { fetchFn } = endpoint([
      () => new Response(JSON.stringify({ error: 'invalid_client', error_description: 'bad credentials' }), { status: 401 }),
      () => Promise.reject(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } })),
      ok('t3'),
    ]);
    provider = new OAuthTokenProvider(config, { fetch: fetchFn });
    const first = await provider.token().catch((err: unknown) => err as Error & { retriable?: boolean });
    expect(first).toBeInstanceOf(Error);
    expect((first as { retriable?: boolean }).retriable).toBe(true);
    expect((first as Error).message).toContain('HTTP 401 invalid_client: bad credentials (check KAFKA_OAUTH_CLIENT_ID and KAFKA_OAUTH_CLIENT_SECRET)');
    expect(provider.problem()).toMatch(/^token endpoint https:\/\/idp.test\/token failing since .* \(1 attempt\(s\), last: HTTP 401/);
    await expect(provider.token()).rejects.toThrow('cannot reach it (ECONNREFUSED)');
    expect(provider.problem()).toContain('2 attempt(s)');
    await expect(provider.token()).resolves.toEqual({ value: 't3' });
    expect(provider.problem()).toBeUndefined();
    for (const text of [(first as Error).message, provider.problem() ?? '']) expect(text).not.toContain('very-secret');
  });

  it('keeps using a valid token while its refresh fails, and says so as a note', async () => {
    let now = 0;
    const { fetchFn } = endpoint([ok('t1', 100), () => new Response('down', { status: 503 })]);
    provider = new OAuthTokenProvider(config, { fetch: fetchFn, now: () => now });
    await provider.token();
    // The background refresh is due at 80% of the lifetime; run it now.
    now = 85_000;
    await (provider as unknown as { refresh(): Promise<unknown> }).refresh();
    expect(provider.problem()).toBeUndefined();
    expect(provider.warning()).toMatch(/token endpoint failing since .*HTTP 503.*the current token expires at/);
    await expect(provider.token()).resolves.toEqual({ value: 't1' });
  });

  it('takes the expiry from the JWT when the answer has no expires_in', async () => {
    const exp = Math.floor(Date.now() / 1000) + 5; // 5 s left: below the threshold, so it is fetched again
    const jwt = `h.${Buffer.from(JSON.stringify({ exp })).toString('base64url')}.s`;
    const { fetchFn, requests } = endpoint([() => new Response(JSON.stringify({ access_token: jwt }), { status: 200 }), ok('t2')]);
    provider = new OAuthTokenProvider(config, { fetch: fetchFn });
    await provider.token();
    await expect(provider.token()).resolves.toEqual({ value: 't2' });
    expect(requests).toHaveLength(2);
  });
});
