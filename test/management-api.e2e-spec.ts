import { Gateway, testConfig } from './support/gateway.js';

describe('management API: authentication and validation', () => {
  const gateway = new Gateway(testConfig('api', { API_TENANT_TOKENS: 'acme:acme-token,globex:globex-token' }));
  const as = (token: string) => ({ authorization: `Bearer ${token}` });
  const valid = { url: 'https://hooks.example.com/in', events: ['deployment.*'] };

  beforeAll(() => gateway.start());
  afterAll(() => gateway.stop());

  it('answers 401 without a token or with a wrong one', async () => {
    expect((await gateway.api('GET', '/v1/subscriptions', undefined, {})).status).toBe(401);
    expect((await gateway.api('POST', '/v1/subscriptions', valid, { authorization: 'Bearer nope' })).status).toBe(401);
    expect((await gateway.api('GET', '/v1/subscriptions', undefined, { authorization: 'Basic abc' })).status).toBe(401);
  });

  it.each([
    [{ ...valid, url: 'not a url' }, 'url'],
    [{ ...valid, url: 'ftp://x.example.com' }, 'url'],
    [{ ...valid, events: [] }, 'events'],
    [{ ...valid, events: ['bad pattern!'] }, 'events'],
    [{ ...valid, kind: 'TEAMS' }, 'kind'],
    [{ ...valid, description: 'x'.repeat(501) }, 'description'],
    [{ ...valid, filters: { 'data.project.name': [] } }, 'filters'],
    [{ ...valid, headers: { 'webhook-signature': 'forged' } }, 'headers'],
    [{ ...valid, retry: { schedule: [-1] } }, 'retry.schedule'],
    [{ ...valid, colour: 'blue' }, 'colour'],
    [{ events: ['a'] }, 'url'],
  ])('answers 400 naming the field for %j', async (body, field) => {
    const res = await gateway.api('POST', '/v1/subscriptions', body);
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body.message)).toContain(field);
  });

  it('answers 400, never 500, to malformed JSON', async () => {
    const res = await gateway.api('POST', '/v1/subscriptions', '{"url": ');
    expect(res.status).toBe(400);
  });

  it('creates with a generated whsec_ secret shown once, and never shows it again', async () => {
    const created = await gateway.api('POST', '/v1/subscriptions', { ...valid, tenant: 'acme' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: expect.stringMatching(/^sub_/), secret: expect.stringMatching(/^whsec_/), kind: 'STANDARD', format: 'standard', enabled: true, tenant: 'acme' });
    const got = await gateway.api('GET', `/v1/subscriptions/${created.body.id}`);
    expect(got.status).toBe(200);
    expect(got.body.secret).toBeUndefined();
    expect(JSON.stringify(got.body)).not.toContain(created.body.secret);
  });

  it('answers the health probes without a token', async () => {
    expect((await gateway.api('GET', '/healthz', undefined, {})).status).toBe(200);
    expect((await gateway.api('GET', '/readyz', undefined, {})).body).toMatchObject({ status: 'ok', info: { 'kafka-consumer': { status: 'up' }, subscriptions: { status: 'up' } } });
  });

  it('scopes a tenant token to its tenant: its own subscriptions only, nothing of another tenant leaks', async () => {
    const mine = await gateway.api('POST', '/v1/subscriptions', valid, as('acme-token'));
    expect(mine.status).toBe(201);
    expect(mine.body.tenant).toBe('acme');
    const theirs = await gateway.api('POST', '/v1/subscriptions', { ...valid, tenant: 'globex' });
    expect(theirs.status).toBe(201);

    // Writing for another tenant is refused; reading another tenant's subscription looks like a missing one.
    const foreign = await gateway.api('POST', '/v1/subscriptions', { ...valid, tenant: 'globex' }, as('acme-token'));
    expect(foreign.status).toBe(403);
    expect(foreign.body.message).toContain('tenant');
    for (const [method, path, body] of [
      ['GET', `/v1/subscriptions/${theirs.body.id}`, undefined],
      ['PATCH', `/v1/subscriptions/${theirs.body.id}`, { description: 'mine now' }],
      ['DELETE', `/v1/subscriptions/${theirs.body.id}`, undefined],
      ['POST', `/v1/subscriptions/${theirs.body.id}/secret/rotate`, {}],
      ['POST', `/v1/subscriptions/${theirs.body.id}/test`, undefined],
      ['GET', `/v1/subscriptions/${theirs.body.id}/attempts`, undefined],
    ] as const) {
      const res = await gateway.api(method, path, body, as('acme-token'));
      expect([method, path, res.status]).toEqual([method, path, 404]);
      expect(JSON.stringify(res.body)).not.toContain('globex');
    }
    expect((await gateway.api('PATCH', `/v1/subscriptions/${mine.body.id}`, { tenant: 'globex' }, as('acme-token'))).status).toBe(403);
    expect((await gateway.api('PATCH', `/v1/subscriptions/${mine.body.id}`, { tenant: null }, as('acme-token'))).status).toBe(403);
    expect((await gateway.api('PATCH', `/v1/subscriptions/${mine.body.id}`, { description: 'ours' }, as('acme-token'))).status).toBe(200);

    const listed = await gateway.api('GET', '/v1/subscriptions', undefined, as('acme-token'));
    expect(listed.body.data.map((s: { tenant?: string }) => s.tenant)).toEqual(expect.arrayContaining(['acme']));
    expect(listed.body.data.every((s: { tenant?: string }) => s.tenant === 'acme')).toBe(true);
    expect((await gateway.api('GET', '/v1/subscriptions?tenant=globex', undefined, as('acme-token'))).status).toBe(403);
    const console = await gateway.api('GET', '/v1/console/subscriptions', undefined, as('acme-token'));
    expect(console.body.data.every((s: { tenant?: string }) => s.tenant === 'acme')).toBe(true);
    expect((await gateway.api('POST', '/v1/dlq/replay', { tenant: 'globex', dry_run: true }, as('acme-token'))).status).toBe(403);
    expect((await gateway.api('POST', '/v1/dlq/replay', { dry_run: true }, as('acme-token'))).status).toBe(200);

    // The operator token still sees both, and the other tenant's subscription is untouched.
    const untouched = await gateway.api('GET', `/v1/subscriptions/${theirs.body.id}`);
    expect(untouched.status).toBe(200);
    expect(untouched.body.tenant).toBe('globex');
    expect(untouched.body.description).toBeUndefined();
  });
});
