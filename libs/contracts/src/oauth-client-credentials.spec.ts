import { clientCredentialsRequest, readTokenAnswer } from './oauth-client-credentials.js';

describe('the client-credentials grant on the wire', () => {
  const client = { clientId: 'gw client', clientSecret: 's:cret', scope: 'hooks.write', audience: 'https://api.example.com', clientAuth: 'basic' as const };

  it('authenticates the client with HTTP Basic (form-encoded id and secret) by default', () => {
    const { headers, body } = clientCredentialsRequest(client);
    expect(headers).toEqual({
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
      authorization: `Basic ${Buffer.from('gw%20client:s%3Acret').toString('base64')}`,
    });
    expect(Object.fromEntries(new URLSearchParams(body))).toEqual({ grant_type: 'client_credentials', scope: 'hooks.write', audience: 'https://api.example.com' });
  });

  it('or in the form body, without an Authorization header', () => {
    const { headers, body } = clientCredentialsRequest({ clientId: 'gw client', clientSecret: 's:cret', clientAuth: 'body' });
    expect(headers.authorization).toBeUndefined();
    expect(Object.fromEntries(new URLSearchParams(body))).toEqual({ grant_type: 'client_credentials', client_id: 'gw client', client_secret: 's:cret' });
  });

  it('reads a token and its lifetime (a number or a numeric string)', () => {
    expect(readTokenAnswer(200, '{"access_token":"abc","token_type":"Bearer","expires_in":60}')).toEqual({ ok: true, accessToken: 'abc', expiresInSeconds: 60 });
    expect(readTokenAnswer(200, '{"access_token":"abc","expires_in":"3600"}')).toEqual({ ok: true, accessToken: 'abc', expiresInSeconds: 3600 });
    expect(readTokenAnswer(200, '{"access_token":"abc","expires_in":0}')).toEqual({ ok: true, accessToken: 'abc' });
    expect(readTokenAnswer(200, '{"access_token":"abc"}')).toEqual({ ok: true, accessToken: 'abc' });
  });

  it('says why there is no token: the OAuth error, not JSON, no access_token, a token a header cannot carry', () => {
    expect(readTokenAnswer(401, '{"error":"invalid_client","error_description":"bad credentials"}')).toEqual({ ok: false, message: 'HTTP 401 invalid_client: bad credentials', invalidClient: true });
    expect(readTokenAnswer(400, '{"error":"invalid_scope"}')).toEqual({ ok: false, message: 'HTTP 400 invalid_scope', invalidClient: false });
    expect(readTokenAnswer(503, '<html>down</html>')).toEqual({ ok: false, message: 'HTTP 503', invalidClient: false });
    expect(readTokenAnswer(200, '<html>login</html>')).toMatchObject({ ok: false, message: 'the answer is not a JSON object' });
    expect(readTokenAnswer(200, '["abc"]')).toMatchObject({ ok: false, message: 'the answer is not a JSON object' });
    expect(readTokenAnswer(200, '{"token_type":"Bearer"}')).toMatchObject({ ok: false, message: 'the answer has no access_token' });
    expect(readTokenAnswer(200, '{"access_token":"a\\r\\nX-Injected: 1"}')).toMatchObject({ ok: false, message: 'the access_token has characters a header cannot carry' });
  });
});
