import { Gateway, testConfig } from './support/gateway.js';

describe('management API: authentication and validation', () => {
  const gateway = new Gateway(testConfig('api'));
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
});
