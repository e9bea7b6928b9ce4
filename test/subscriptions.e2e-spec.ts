import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type ClientKafka, ClientsModule, Transport } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { Webhook } from 'standardwebhooks';
import { gatewayTopics } from '@app/config';
import type { AttemptResult } from '@app/contracts';
import { generateSecret } from '@app/signing';
import { BROKERS } from './support/broker.js';
import { Gateway, testConfig } from './support/gateway.js';
import { EventPublisher, testKafka, TopicReader } from './support/kafka.js';
import { type ReceivedRequest, Receiver } from './support/receiver.js';

/**
 * Each seed vendor's promise (shared/seeds), end to end through the real broker
 * to a real receiver on 127.0.0.1, plus the subscription lifecycle.
 */
describe('subscriptions and the filter service', () => {
  const callbackSecret = generateSecret();
  const config = testConfig('subs', {
    SOURCE_TOPICS: '{prefix}.events,{prefix}.orders',
    CALLBACK_SECRET: callbackSecret,
    // Deep Image's completion event carries the original request (with its webhooks.complete) in `data`.
    CALLBACK_URL_PATHS: 'data.webhook_url,data.webhooks.complete,data.data.webhooks.complete',
  });
  const [events, orders] = config.source.topics as [string, string];
  const kafka = testKafka();
  const gateway = new Gateway(config);
  const receiver = new Receiver();
  const publisher = new EventPublisher(kafka);
  const results = new TopicReader(kafka, gatewayTopics(config).results);

  const create = async (body: Record<string, unknown>) => {
    const res = await gateway.api('POST', '/v1/subscriptions', body);
    expect(res.status).toBe(201);
    return res.body as { id: string; secret: string };
  };
  const verify = (req: ReceivedRequest, secret: string) => new Webhook(secret).verify(req.body, req.headers as Record<string, string>);
  const one = async (path: string, what = path) => (await receiver.waitFor((rs) => rs.some((r) => r.path === path), 30_000, what)).find((r) => r.path === path)!;
  /** Publishes a marker after other events (same key, same partition) and waits for it: what came before was processed. */
  const drain = async (topic = events) => {
    const id = `marker-${Math.random()}`;
    await publisher.publish(topic, { id, type: 'marker.sent', data: {} });
    await results.waitFor<AttemptResult>((r) => r.eventId === id);
  };

  beforeAll(async () => {
    await receiver.start();
    await gateway.start();
    await Promise.all([publisher.connect(), results.start()]);
    await create({ url: receiver.url('/markers'), events: ['marker.sent'] });
  });

  afterAll(async () => {
    await Promise.all([publisher.disconnect(), results.stop()]);
    await gateway.stop();
    await receiver.stop();
  });

  it('Edgegap: the event carries its own webhook_url, which gets the status object as a raw, signed body', async () => {
    const status = { request_id: 'a1b2c3', app_name: 'speedtest', current_status: 'Status.READY', running: true, public_ip: '203.0.113.7', ports: { '7777': { external: 31500 } } };
    await publisher.publish(events, { id: 'edgegap-1', type: 'deployment.ready', data: { ...status, webhook_url: receiver.url('/edgegap') } });
    const req = await one('/edgegap');
    expect(verify(req, callbackSecret)).toEqual({ ...status, webhook_url: receiver.url('/edgegap') });
    expect(req.headers['x-webhook-event-type']).toBe('deployment.ready');
  });

  it('Deep Image: webhooks.complete in the request gets {job, data, result_url, results}', async () => {
    const body = { job: 'ce0e7624-634e-11ee-a699-0242ac14000b', data: { url: 'https://deep-image.ai/api-example.png', width: 1000, height: 1000, webhooks: { complete: receiver.url('/deep-image') } }, result_url: 'https://example.com/r.png', results: null };
    await publisher.publish(events, { id: 'deep-1', type: 'job.completed', data: body });
    const req = await one('/deep-image');
    expect(verify(req, callbackSecret)).toEqual(body);
  });

  it('Qovery: org subscriptions with environment and project filters, a secret header, and a SLACK kind', async () => {
    const standard = await create({
      url: receiver.url('/qovery'),
      events: ['deployment.*'],
      filters: { 'data.environment.type': ['PRODUCTION'], 'data.project.name': ['shop-*'] },
      headers: { 'Qovery-Secret': 'org-secret-123' },
      description: 'production shop deployments',
    });
    await create({ url: receiver.url('/slack'), kind: 'SLACK', events: ['deployment.successful'], filters: { 'data.project.name': ['SHOP-*'] } });
    const envelope = (id: string, type: string, project: string) => ({
      created_at: '2026-11-23T10:00:00Z',
      event_type: 'DEPLOYMENT_SUCCESSFUL',
      payload_type: 'DEPLOYMENT',
      payload_id: id,
      environment: { type },
      project: { name: project },
      payload: { id, current_status: 'DEPLOYED' },
    });
    await publisher.publish(events, { id: 'q-staging', type: 'deployment.successful', subject: 'shop-api', data: envelope('q-staging', 'STAGING', 'shop-api') });
    await publisher.publish(events, { id: 'q-other', type: 'deployment.successful', data: envelope('q-other', 'PRODUCTION', 'blog') });
    await publisher.publish(events, { id: 'q-prod', type: 'deployment.successful', subject: 'shop-frontend', data: envelope('q-prod', 'production', 'Shop-Frontend') });

    const req = await one('/qovery');
    expect(req.headers['qovery-secret']).toBe('org-secret-123');
    expect(verify(req, standard.secret)).toMatchObject({ type: 'deployment.successful', data: { payload_id: 'q-prod', event_type: 'DEPLOYMENT_SUCCESSFUL' } });
    const slack = await receiver.waitFor((rs) => rs.filter((r) => r.path === '/slack').length >= 2, 30_000, 'two Slack messages');
    const slackBodies = slack.filter((r) => r.path === '/slack');
    for (const r of slackBodies) {
      expect(r.headers['webhook-signature']).toBeUndefined();
      expect(JSON.parse(r.body)).toEqual({ text: expect.stringContaining('deployment.successful'), blocks: expect.any(Array) });
    }
    await drain();
    expect(receiver.on('/qovery').map((r) => JSON.parse(r.body).data.payload_id)).toEqual(['q-prod']);
    expect(slackBodies.map((r) => JSON.parse(r.body).text).sort()).toEqual(['deployment.successful: shop-api', 'deployment.successful: shop-frontend']);
  });

  it('matches exact types, prefix.* and * patterns', async () => {
    await create({ url: receiver.url('/exact'), events: ['invoice.paid'] });
    await create({ url: receiver.url('/prefix'), events: ['invoice.*'] });
    await create({ url: receiver.url('/all'), events: ['*'] });
    await publisher.publish(events, { id: 'inv-1', type: 'invoice.paid', data: {} });
    await publisher.publish(events, { id: 'inv-2', type: 'invoice.voided', data: {} });
    await publisher.publish(events, { id: 'other-1', type: 'shipment.sent', data: {} });
    await drain();
    const ids = (path: string) => receiver.on(path).map((r) => JSON.parse(r.body).type as string);
    expect(ids('/exact')).toEqual(['invoice.paid']);
    expect(ids('/prefix')).toEqual(['invoice.paid', 'invoice.voided']);
    expect(ids('/all')).toEqual(expect.arrayContaining(['invoice.paid', 'invoice.voided', 'shipment.sent']));
  });

  it('keeps tenants apart', async () => {
    await create({ url: receiver.url('/acme'), events: ['tenant.*'], tenant: 'acme' });
    await create({ url: receiver.url('/globex'), events: ['tenant.*'], tenant: 'globex' });
    await publisher.publish(events, { id: 't-acme', type: 'tenant.ping', tenant: 'acme', data: {} });
    await publisher.publish(events, { id: 't-none', type: 'tenant.ping', data: {} });
    await drain();
    expect(receiver.on('/acme').map((r) => JSON.parse(r.body).type)).toEqual(['tenant.ping']);
    expect(receiver.on('/globex')).toHaveLength(0);
  });

  it('rotates a secret: both the old and the new secret verify during the window', async () => {
    const sub = await create({ url: receiver.url('/rotating'), events: ['rotation.tested'] });
    const rotated = await gateway.api('POST', `/v1/subscriptions/${sub.id}/secret/rotate`, {});
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(Date.parse(rotated.body.previous_secret_expires_at) - Date.now()).toBeGreaterThan(23 * 3600 * 1000);
    await publisher.publish(events, { id: 'rot-1', type: 'rotation.tested', data: { n: 1 } });
    const req = await one('/rotating');
    expect(req.headers['webhook-signature']!.toString().split(' ')).toHaveLength(2);
    expect(verify(req, sub.secret)).toMatchObject({ data: { n: 1 } });
    expect(verify(req, rotated.body.secret)).toMatchObject({ data: { n: 1 } });
    expect(() => verify(req, generateSecret())).toThrow();
    expect(JSON.stringify((await gateway.api('GET', `/v1/subscriptions/${sub.id}`)).body)).not.toContain(rotated.body.secret);

    // At rest the secrets are sealed: the subscriptions topic never holds them in clear.
    const stored = new TopicReader(kafka, gatewayTopics(config).subscriptions);
    await stored.start();
    try {
      const record = await stored.waitFor((_v, r) => r.key === sub.id && JSON.stringify(r.value).includes('"expiresAt"'));
      const text = JSON.stringify(record.value);
      for (const secret of [sub.secret, rotated.body.secret]) {
        expect(text).not.toContain(secret);
        expect(text).not.toContain(secret.slice('whsec_'.length));
      }
    } finally {
      await stored.stop();
    }
  });

  it('disables and re-enables through PATCH, and updates fields', async () => {
    const sub = await create({ url: receiver.url('/toggled'), events: ['toggle.flipped'], description: 'before' });
    const patched = await gateway.api('PATCH', `/v1/subscriptions/${sub.id}`, { enabled: false, description: null });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ enabled: false, url: receiver.url('/toggled') });
    expect(patched.body.description).toBeUndefined();
    await publisher.publish(events, { id: 'tog-off', type: 'toggle.flipped', data: {} });
    await drain();
    expect(receiver.on('/toggled')).toHaveLength(0);
    expect((await gateway.api('PATCH', `/v1/subscriptions/${sub.id}`, { enabled: true, format: 'raw' })).body).toMatchObject({ enabled: true, format: 'raw' });
    await publisher.publish(events, { id: 'tog-on', type: 'toggle.flipped', data: { on: true } });
    expect(JSON.parse((await one('/toggled')).body)).toEqual({ on: true });
    expect((await gateway.api('PATCH', `/v1/subscriptions/${sub.id}`, { kind: 'EMAIL' })).status).toBe(400);
    expect((await gateway.api('PATCH', '/v1/subscriptions/sub_missing', { enabled: true })).status).toBe(404);
  });

  it('sends a test event through the normal delivery path', async () => {
    const sub = await create({ url: receiver.url('/test-target'), events: ['never.published'] });
    const res = await gateway.api('POST', `/v1/subscriptions/${sub.id}/test`);
    expect(res.status).toBe(202);
    const req = await one('/test-target');
    expect(req.headers['webhook-id']).toBe(res.body.webhook_id);
    expect(verify(req, sub.secret)).toMatchObject({ type: 'webhook.test', data: { subscription_id: sub.id } });
    await results.waitFor<AttemptResult>((r) => r.webhookId === res.body.webhook_id && r.outcome === 'delivered');
  });

  it('lists in pages, filtered by tenant and enabled', async () => {
    for (let i = 0; i < 3; i++) await create({ url: receiver.url(`/paged-${i}`), events: ['page.x'], tenant: 'paged' });
    await gateway.api('PATCH', `/v1/subscriptions/${(await gateway.api('GET', '/v1/subscriptions?tenant=paged')).body.data[0].id}`, { enabled: false });
    const first = await gateway.api('GET', '/v1/subscriptions?tenant=paged&limit=2');
    expect(first.body.data).toHaveLength(2);
    const second = await gateway.api('GET', `/v1/subscriptions?tenant=paged&limit=2&cursor=${first.body.next_cursor}`);
    expect(second.body.data).toHaveLength(1);
    expect(second.body.next_cursor).toBeUndefined();
    expect([...first.body.data, ...second.body.data].map((s: { url: string }) => s.url)).toEqual([0, 1, 2].map((i) => receiver.url(`/paged-${i}`)));
    expect((await gateway.api('GET', '/v1/subscriptions?tenant=paged&enabled=true')).body.data).toHaveLength(2);
    expect((await gateway.api('GET', '/v1/subscriptions?limit=0')).status).toBe(400);
    expect((await gateway.api('GET', '/v1/subscriptions?cursor=garbage')).status).toBe(400);
  });

  it('reads CloudEvents in binary mode and from several source topics', async () => {
    await create({ url: receiver.url('/orders'), events: ['order.*'], format: 'cloudevents' });
    await publisher.publish(orders, JSON.stringify({ total: 42 }), {
      headers: { ce_specversion: '1.0', ce_id: 'ord-1', ce_source: '/shop', ce_type: 'order.created', ce_subject: 'o-1', 'content-type': 'application/json' },
    });
    const req = await one('/orders');
    expect(JSON.parse(req.body)).toMatchObject({ specversion: '1.0', id: 'ord-1', source: '/shop', type: 'order.created', subject: 'o-1', data: { total: 42 } });
  });

  it('takes events from a NestJS service that emits with ClientKafka, unchanged', async () => {
    await create({ url: receiver.url('/nest'), events: ['user.signed_up'] });
    @Module({
      imports: [
        ClientsModule.register([
          { name: 'EVENTS', transport: Transport.KAFKA, options: { client: { clientId: 'accounts-service', brokers: BROKERS }, producerOnlyMode: true } },
        ]),
      ],
    })
    class AccountsServiceModule {}
    const service = await NestFactory.createApplicationContext(AccountsServiceModule, { logger: false });
    try {
      const client = service.get<ClientKafka>('EVENTS');
      await client.connect();
      await lastValueFrom(client.emit(events, { id: 'user-42', type: 'user.signed_up', data: { email: 'ada@example.com' } }));
      const req = await one('/nest');
      expect(JSON.parse(req.body)).toMatchObject({ type: 'user.signed_up', data: { email: 'ada@example.com' } });
    } finally {
      await service.close();
    }
  });

  it('serves the OpenAPI document generated from the DTOs', async () => {
    const res = await fetch(await gateway.apiUrl('/docs-json'));
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { paths: Record<string, unknown>; components: { schemas: Record<string, { properties: Record<string, unknown> }> } };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/subscriptions', '/v1/subscriptions/{id}', '/v1/subscriptions/{id}/secret/rotate', '/v1/subscriptions/{id}/test']));
    expect(Object.keys(doc.components.schemas.CreateSubscriptionDto!.properties)).toEqual(expect.arrayContaining(['url', 'events', 'kind', 'filters', 'retry', 'rate_limit']));
    expect((await fetch(await gateway.apiUrl('/docs'))).status).toBe(200);
  });
});
