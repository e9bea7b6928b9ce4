import type { INestApplication } from '@nestjs/common';
import { loadConfig } from '@app/config';
import { startProducerApp } from '../apps/producer/src/producer.app.js';
import { PortalSessionSigner } from '../apps/producer/src/portal/portal-session-token.js';
import { API_TOKEN, Gateway, testEnv } from './support/gateway.js';

/**
 * Customer-portal sessions against the real broker: an operator makes a session for one tenant;
 * the session acts for that tenant only, a read-only one only reads, an expired, tampered or
 * revoked one is refused, and a revocation taken on one producer instance applies on another.
 */
describe('portal sessions', () => {
  const env = testEnv('portal', { API_TENANT_TOKENS: 'acme:acme-token,globex:globex-token', PORTAL_BASE_URL: 'https://portal.example.com/' });
  const config = loadConfig(env);
  const gateway = new Gateway(config);
  let second: INestApplication | undefined;
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const session = async (body: Record<string, unknown>) => {
    const res = await gateway.api('POST', '/v1/portal/sessions', body);
    expect(res.status).toBe(201);
    return res.body as { id: string; tenant: string; read_only: boolean; expires_at: string; token: string; url: string };
  };
  /** The token with its claims rewritten and its signature kept. */
  const tampered = (token: string, change: (claims: Record<string, unknown>) => void) => {
    const [prefix, payload, mac] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    change(claims);
    return [prefix, Buffer.from(JSON.stringify(claims)).toString('base64url'), mac].join('.');
  };

  beforeAll(async () => {
    await gateway.start();
  });

  afterAll(async () => {
    await second?.close();
    await gateway.stop();
  });

  it('makes a session for one tenant: a signed token in the URL fragment, nothing of the operator token', async () => {
    const before = Date.now();
    const s = await session({ tenant: 'acme' });
    expect(s.id).toMatch(/^ps_[A-Za-z0-9_-]+$/);
    expect([s.tenant, s.read_only]).toEqual(['acme', false]);
    // Default expiry: one hour.
    expect(Date.parse(s.expires_at) - before).toBeGreaterThan(3_590_000);
    expect(Date.parse(s.expires_at) - before).toBeLessThanOrEqual(3_601_000);
    expect(s.url).toBe(`https://portal.example.com/portal#session=${s.token}`);
    const [, payload] = s.token.split('.') as [string, string];
    const claims = Buffer.from(payload, 'base64url').toString('utf8');
    expect(JSON.parse(claims)).toEqual({ id: s.id, tenant: 'acme', ro: false, exp: Date.parse(s.expires_at) / 1000 });
    for (const text of [s.token, claims, JSON.stringify(s)]) {
      expect(text).not.toContain(API_TOKEN);
      expect(text).not.toContain(env.SECRETS_KEY);
    }
  });

  it('acts for its tenant only: lists and creates its own subscriptions, never sees another tenant\'s', async () => {
    const globex = await gateway.api('POST', '/v1/subscriptions', { url: 'https://hooks.example.com/globex', events: ['a.b'], tenant: 'globex' });
    expect(globex.status).toBe(201);
    const { token } = await session({ tenant: 'acme' });

    const created = await gateway.api('POST', '/v1/subscriptions', { url: 'https://hooks.example.com/acme', events: ['a.b'] }, bearer(token));
    expect(created.status).toBe(201);
    expect(created.body.tenant).toBe('acme');
    const listed = await gateway.api('GET', '/v1/subscriptions', undefined, bearer(token));
    expect(listed.status).toBe(200);
    expect((listed.body.data as { id: string; tenant: string }[]).map((s) => [s.id, s.tenant])).toEqual([[created.body.id, 'acme']]);
    expect((await gateway.api('GET', `/v1/subscriptions/${globex.body.id}`, undefined, bearer(token))).status).toBe(404);
    expect((await gateway.api('POST', '/v1/subscriptions', { url: 'https://hooks.example.com/x', events: ['a.b'], tenant: 'globex' }, bearer(token))).status).toBe(403);
    // The console and DLQ replay are tenant-scoped too.
    const consoleList = await gateway.api('GET', '/v1/console/subscriptions', undefined, bearer(token));
    expect(consoleList.status).toBe(200);
    expect((consoleList.body.data as { id: string }[]).map((s) => s.id)).toEqual([created.body.id]);
    expect((await gateway.api('GET', `/v1/subscriptions/${globex.body.id}/attempts`, undefined, bearer(token))).status).toBe(404);
    expect((await gateway.api('POST', '/v1/dlq/replay', { tenant: 'globex', dry_run: true }, bearer(token))).status).toBe(403);
    expect((await gateway.api('POST', '/v1/dlq/replay', { dry_run: true }, bearer(token))).status).toBe(200);
  });

  it('a read-only session can GET and nothing else', async () => {
    const s = await session({ tenant: 'acme', read_only: true });
    expect(s.read_only).toBe(true);
    expect((await gateway.api('GET', '/v1/subscriptions', undefined, bearer(s.token))).status).toBe(200);
    const post = await gateway.api('POST', '/v1/subscriptions', { url: 'https://hooks.example.com/ro', events: ['a.b'] }, bearer(s.token));
    expect([post.status, post.body.message]).toEqual([403, 'this portal session is read-only']);
    expect((await gateway.api('POST', '/v1/dlq/replay', { dry_run: true }, bearer(s.token))).status).toBe(403);
  });

  it('refuses expires_in outside 60..86400 with a 400 naming the field, and accepts 60', async () => {
    for (const expires_in of [59, 86_401, 0, 1.5, '600']) {
      const res = await gateway.api('POST', '/v1/portal/sessions', { tenant: 'acme', expires_in });
      expect([expires_in, res.status]).toEqual([expires_in, 400]);
      expect(JSON.stringify(res.body.message)).toContain('expires_in');
    }
    const missing = await gateway.api('POST', '/v1/portal/sessions', {});
    expect([missing.status, JSON.stringify(missing.body.message)]).toEqual([400, expect.stringContaining('tenant')]);

    const s = await session({ tenant: 'acme', expires_in: 60 });
    expect((await gateway.api('GET', '/v1/subscriptions', undefined, bearer(s.token))).status).toBe(200);
    const later = tampered(s.token, (c) => (c.exp = (c.exp as number) + 86_400));
    expect((await gateway.api('GET', '/v1/subscriptions', undefined, bearer(later))).status).toBe(401);
    const other = tampered(s.token, (c) => (c.tenant = 'globex'));
    expect((await gateway.api('GET', '/v1/subscriptions', undefined, bearer(other))).status).toBe(401);
  });

  it('refuses an expired session with 401 "portal session expired"', async () => {
    // Signed with the gateway's own key, expired a second ago (the API never makes one this short).
    const expired = new PortalSessionSigner(config.subscriptions.secretsKey).sign({ id: 'ps_expiredone', tenant: 'acme', readOnly: false, exp: Math.floor(Date.now() / 1000) - 1 });
    const res = await gateway.api('GET', '/v1/subscriptions', undefined, bearer(expired));
    expect([res.status, res.body.message]).toEqual([401, 'portal session expired']);
    // The same claims signed with another key: not ours.
    const forged = new PortalSessionSigner(Buffer.alloc(32, 1)).sign({ id: 'ps_forged', tenant: 'acme', readOnly: false, exp: Math.floor(Date.now() / 1000) + 600 });
    expect((await gateway.api('GET', '/v1/subscriptions', undefined, bearer(forged))).status).toBe(401);
  });

  it('only operator tokens make or revoke sessions', async () => {
    const s = await session({ tenant: 'acme' });
    for (const token of ['acme-token', s.token]) {
      expect((await gateway.api('POST', '/v1/portal/sessions', { tenant: 'acme' }, bearer(token))).status).toBe(403);
      expect((await gateway.api('DELETE', `/v1/portal/sessions/${s.id}`, undefined, bearer(token))).status).toBe(403);
    }
    expect((await gateway.api('POST', '/v1/portal/sessions', { tenant: 'acme' }, bearer('wrong'))).status).toBe(401);
    expect((await gateway.api('GET', '/v1/subscriptions', undefined, bearer(s.token))).status).toBe(200);
  });

  it('a revocation on one instance applies on every instance', async () => {
    second = await startProducerApp(config);
    const secondUrl = (await second.getUrl()).replace('[::1]', '127.0.0.1');
    const onSecond = async (token: string) => {
      const res = await fetch(`${secondUrl}/v1/subscriptions`, { headers: bearer(token) });
      return { status: res.status, body: (await res.json()) as { message?: string } };
    };
    const s = await session({ tenant: 'acme' });
    const kept = await session({ tenant: 'acme' });
    expect((await onSecond(s.token)).status).toBe(200);

    expect((await gateway.api('DELETE', `/v1/portal/sessions/${s.id}`)).status).toBe(204);
    // This instance has read the revocation back when the DELETE returns.
    const here = await gateway.api('GET', '/v1/subscriptions', undefined, bearer(s.token));
    expect([here.status, here.body.message]).toEqual([401, 'portal session revoked']);
    // The other instance reads it from the topic.
    let there = await onSecond(s.token);
    for (const deadline = Date.now() + 30_000; there.status !== 401 && Date.now() < deadline; there = await onSecond(s.token)) await new Promise((r) => setTimeout(r, 200));
    expect([there.status, there.body.message]).toEqual([401, 'portal session revoked']);
    // Other sessions are left alone.
    expect((await onSecond(kept.token)).status).toBe(200);
    expect((await gateway.api('GET', '/v1/subscriptions', undefined, bearer(kept.token))).status).toBe(200);
  });
});
