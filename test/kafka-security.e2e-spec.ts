import type { INestApplication } from '@nestjs/common';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { type GatewayConfig, gatewayTopics, loadConfig } from '@app/config';
import type { AttemptResult } from '@app/contracts';
import { ensureTopics, KafkaCredentials } from '@app/kafka';
import { gatewayAcls, gatewayTopicSpecs, sourceTopicSpecs } from '@app/topology';
import { startDeliveryApp } from '../apps/delivery/src/delivery.app.js';
import { startProducerApp } from '../apps/producer/src/producer.app.js';
import { Gateway, testEnv } from './support/gateway.js';
import { EventPublisher, testKafka, TopicReader } from './support/kafka.js';
import { Receiver } from './support/receiver.js';
import { grantAcls, revokeAcls, secureBroker } from './support/secure-broker.js';

/**
 * The gateway against the local broker's secured listeners (scripts/kafka.sh: SASL_SSL with
 * SCRAM and PLAIN, mutual TLS, OAUTHBEARER validated against a local OIDC issuer's JWKS; the
 * StandardAuthorizer with allow.everyone.if.no.acl.found=false). Events are published and results
 * read on the PLAINTEXT listener (a super user); the apps run under principals holding only the
 * ACLs of `gatewayAcls`, the list the README documents.
 */
describe('production Kafka: TLS, mutual TLS, SASL and least-privilege ACLs', () => {
  const broker = secureBroker();
  const secrets = [...Object.values(broker.scram), ...Object.values(broker.plain), ...Object.values(broker.oidc.clients), broker.mtlsClients['gateway-mtls-pass']!.passphrase!];
  const files = mkdtempSync(join(tmpdir(), 'kafka-security-'));
  const secretFile = (name: string, value: string) => {
    const path = join(files, name);
    writeFileSync(path, `${value}\n`, { mode: 0o600 });
    return path;
  };
  const receiver = new Receiver();
  const kafka = testKafka();
  const publisher = new EventPublisher(kafka);
  /** Everything the apps log during this file (both apps log to stdout through pino). */
  const logs: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  const principals = new Set<string>();

  beforeAll(async () => {
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      logs.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stdout.write;
    await receiver.start();
    await publisher.connect();
  });

  afterAll(async () => {
    process.stdout.write = write;
    await publisher.disconnect();
    await receiver.stop();
    for (const principal of principals) await revokeAcls(principal);
  });

  const over = {
    scram: (user: string, password = broker.scram[user]!) => ({
      KAFKA_BROKERS: broker.saslSsl,
      KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      KAFKA_SASL_USERNAME: user,
      KAFKA_SASL_PASSWORD_FILE: secretFile(`${user}-${Math.random()}`, password),
      KAFKA_SSL_CA_FILE: broker.ca,
    }),
    plain: (user: string) => ({
      KAFKA_BROKERS: broker.saslSsl,
      KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
      KAFKA_SASL_MECHANISM: 'PLAIN',
      KAFKA_SASL_USERNAME: user,
      KAFKA_SASL_PASSWORD: broker.plain[user]!,
      KAFKA_SSL_CA_FILE: broker.ca,
    }),
    mtls: (client: string) => {
      const { cert, key, passphrase } = broker.mtlsClients[client]!;
      return {
        KAFKA_BROKERS: broker.mtls,
        KAFKA_SECURITY_PROTOCOL: 'SSL',
        KAFKA_SSL_CA_FILE: broker.ca,
        KAFKA_SSL_CERT_FILE: cert,
        KAFKA_SSL_KEY_FILE: key,
        ...(passphrase ? { KAFKA_SSL_KEY_PASSWORD_FILE: secretFile(`${client}-pass`, passphrase) } : {}),
      };
    },
    oauth: (client: string) => ({
      KAFKA_BROKERS: broker.oauth,
      KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
      KAFKA_SASL_MECHANISM: 'OAUTHBEARER',
      KAFKA_OAUTH_TOKEN_URL: broker.oidc.tokenUrl,
      KAFKA_OAUTH_CLIENT_ID: client,
      KAFKA_OAUTH_CLIENT_SECRET_FILE: secretFile(client, broker.oidc.clients[client]!),
      KAFKA_SSL_CA_FILE: broker.ca,
    }),
  };

  /** A gateway configuration of its own (topics, groups), as `principal` on a secured listener. */
  const configFor = (env: Record<string, string>, security: Record<string, string>): GatewayConfig =>
    loadConfig({ ...env, ...security, LOG_LEVEL: 'debug', DELIVERY_TIMEOUT_MS: '3000' });

  async function grant(principal: string, config: GatewayConfig, roles: ('producer' | 'delivery')[], createTopics: boolean): Promise<void> {
    principals.add(principal);
    await grantAcls(principal, roles.flatMap((role) => gatewayAcls(config, role, { createTopics })));
  }

  /** Subscribes the receiver, publishes `count` events, and checks each arrives signed and is recorded as delivered. */
  async function deliversSigned(gateway: Gateway, path: string, count: number): Promise<void> {
    const created = await gateway.api('POST', '/v1/subscriptions', { url: receiver.url(path), events: ['order.*'] });
    expect(created.status).toBe(201);
    const source = gateway.config.source.topics[0]!;
    const results = await new TopicReader(kafka, gatewayTopics(gateway.config).results).start();
    try {
      for (let i = 0; i < count; i++) await publisher.publish(source, { id: `${path}-${i}`, type: 'order.paid', data: { n: i } }, { key: `k${i}` });
      const requests = await receiver.waitFor((rs) => new Set(rs.filter((r) => r.path === path).map((r) => r.headers['webhook-id'])).size >= count, 60_000, `${count} webhooks on ${path}`);
      for (const r of requests.filter((x) => x.path === path)) new Webhook(created.body.secret as string).verify(r.body, r.headers as Record<string, string>);
      for (let i = 0; i < count; i++) await results.waitFor<AttemptResult>((v) => v.eventId === `${path}-${i}` && v.outcome === 'delivered');
    } finally {
      await results.stop();
    }
  }

  it('runs the whole data path as two least-privilege principals over SCRAM-SHA-512 on TLS (pre-created topics)', async () => {
    const env = testEnv('sec-scram');
    const producerConfig = configFor(env, over.scram('gateway-producer'));
    const deliveryConfig = configFor(env, over.scram('gateway-delivery'));
    // The README's path for a principal that may not create topics: an operator creates them first.
    await ensureTopics(kafka, [...gatewayTopicSpecs(producerConfig), ...sourceTopicSpecs(producerConfig)]);
    await grant('User:gateway-producer', producerConfig, ['producer'], false);
    await grant('User:gateway-delivery', deliveryConfig, ['delivery'], false);
    const gateway = await new Gateway(producerConfig, deliveryConfig).start();
    const dlq = await new TopicReader(kafka, gatewayTopics(producerConfig).dlq).start();
    try {
      // Fan-out in a transaction, delivery, results.
      await deliversSigned(gateway, '/scram', 3);
      // A retry through a retry tier, then a dead letter, then its replay (replay marks, the DLQ read).
      receiver.behave('/scram-retry', { sequence: [500, 200] });
      const retried = await gateway.api('POST', '/v1/subscriptions', { url: receiver.url('/scram-retry'), events: ['invoice.*'], retry: { schedule: [1] } });
      receiver.behave('/scram-dead', { sequence: [500, 200] });
      const dead = await gateway.api('POST', '/v1/subscriptions', { url: receiver.url('/scram-dead'), events: ['refund.*'], retry: { schedule: [] } });
      const source = producerConfig.source.topics[0]!;
      await publisher.publish(source, { id: 'inv-1', type: 'invoice.sent', data: {} });
      await publisher.publish(source, { id: 'ref-1', type: 'refund.sent', data: {} });
      await receiver.waitFor((rs) => rs.filter((r) => r.path === '/scram-retry').length >= 2, 30_000, 'the retried webhook');
      await dlq.waitFor((v: { job?: { subscriptionId?: string } }) => v.job?.subscriptionId === dead.body.id);
      const replay = await gateway.api('POST', '/v1/dlq/replay', { subscription_id: dead.body.id });
      expect(replay.body).toMatchObject({ replayed: 1 });
      await receiver.waitFor((rs) => rs.filter((r) => r.path === '/scram-dead').length >= 2, 30_000, 'the replayed webhook');
      expect(retried.status).toBe(201);
      // The event catalogue: the fan-out writes the event-types topic and every instance reads it.
      const deadline = Date.now() + 30_000;
      let types: string[] = [];
      while (!['invoice.sent', 'order.paid', 'refund.sent'].every((t) => types.includes(t)) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        types = ((await gateway.api('GET', '/v1/event-types')).body.data as { type: string }[]).map((e) => e.type);
      }
      expect(types).toEqual(expect.arrayContaining(['invoice.sent', 'order.paid', 'refund.sent']));
      // The console digest reads results and dead letters in groups of its own.
      const console_ = await gateway.api('GET', `/v1/console/subscriptions?limit=500`);
      expect(console_.status).toBe(200);
      // An attempt's request body is read from its job record (deliveries topic, retry tier) in a console group.
      const attempts = (await gateway.api('GET', `/v1/subscriptions/${retried.body.id}/attempts`)).body.data as { deliveryId: string }[];
      expect(attempts).toHaveLength(2);
      for (const { deliveryId } of attempts) {
        const detail = await gateway.api('GET', `/v1/subscriptions/${retried.body.id}/attempts/${deliveryId}`);
        expect(detail.body.request).toMatchObject({ from: 'job', body: receiver.on('/scram-retry')[0]!.body });
      }
      const ready = await Promise.all([gateway.probe('producer', '/readyz'), gateway.probe('delivery', '/readyz')]);
      expect(ready.map((r) => r.status)).toEqual([200, 200]);
    } finally {
      await dlq.stop();
      await gateway.stop();
    }
  });

  it.each([
    ['SASL PLAIN on TLS', 'plain', 'User:gateway-plain', () => over.plain('gateway-plain')],
    ['mutual TLS with an encrypted client key', 'mtls', 'User:gateway-mtls-pass', () => over.mtls('gateway-mtls-pass')],
  ])('delivers over %s, the apps creating their own topics', async (_what, name, principal, security) => {
    const config = configFor(testEnv(`sec-${name}`), security());
    await grant(principal, config, ['producer', 'delivery'], true);
    const gateway = await new Gateway(config).start();
    try {
      await deliversSigned(gateway, `/${name}`, 2);
    } finally {
      await gateway.stop();
    }
  });

  it('delivers over OAUTHBEARER while tokens expire and are refreshed, and shows a token-endpoint outage on /readyz', async () => {
    const config = configFor(testEnv('sec-oauth'), over.oauth('gateway-oauth'));
    await grant('User:gateway-oauth', config, ['producer', 'delivery'], true);
    const gateway = await new Gateway(config).start();
    try {
      const created = await gateway.api('POST', '/v1/subscriptions', { url: receiver.url('/oauth'), events: ['order.*'] });
      const tokens = gateway.delivery!.get(KafkaCredentials).tokens!;
      const fetchedAtStart = tokens.fetched;
      // The token endpoint fails for 15 s from now: the refresh due ~15 s after the first token
      // fails and is retried with back-off while the current token keeps working.
      const outage = await fetch(`${broker.oidc.issuer}/test/outage`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ms: 15_000 }) });
      expect(outage.status).toBeLessThan(300);
      const source = config.source.topics[0]!;
      const notes: string[] = [];
      const startedAt = Date.now();
      let sent = 0;
      // Past one token lifetime (30 s) and the broker's re-authentication interval (20 s), events keep flowing.
      while (Date.now() - startedAt < broker.oidc.tokenLifetimeSeconds * 1000 + 5_000) {
        await publisher.publish(source, { id: `oauth-${sent}`, type: 'order.paid', data: { n: sent } }, { key: `k${sent % 7}` });
        sent++;
        const ready = await gateway.probe('delivery', '/readyz');
        const note = (JSON.parse(ready.text) as { info?: Record<string, { note?: string }> }).info?.['kafka-oauth']?.note;
        if (note) notes.push(note);
        await new Promise((r) => setTimeout(r, 500));
      }
      await receiver.waitFor((rs) => new Set(rs.filter((r) => r.path === '/oauth').map((r) => r.headers['webhook-id'])).size >= sent, 60_000, `${sent} webhooks over OAUTHBEARER`);
      for (const r of receiver.requests.filter((x) => x.path === '/oauth')) new Webhook(created.body.secret as string).verify(r.body, r.headers as Record<string, string>);
      expect(tokens.fetched - fetchedAtStart).toBeGreaterThanOrEqual(1);
      expect(notes.some((n) => n.includes('token endpoint failing since'))).toBe(true);
      expect(tokens.problem()).toBeUndefined();
    } finally {
      await gateway.stop();
    }
  }, 120_000);

  describe('a setting or an ACL that is wrong stops start-up with what to fix', () => {
    const startFails = async (start: () => Promise<INestApplication>): Promise<string> => {
      const started = Date.now();
      const app = await start().then(
        (a) => a,
        (err: unknown) => err as Error,
      );
      if (!(app instanceof Error)) {
        await app.close();
        throw new Error('the app started');
      }
      // Not a hang: well within kafkajs' own minute of connection retries.
      expect(Date.now() - started).toBeLessThan(30_000);
      return app.message;
    };

    it('a wrong SCRAM password names the user and the password setting', async () => {
      const config = configFor(testEnv('sec-badpw'), over.scram('gateway-scram', 'not-the-password'));
      const message = await startFails(() => startProducerApp(config));
      expect(message).toMatch(/Kafka refused to authenticate KAFKA_SASL_USERNAME=gateway-scram \(KAFKA_SASL_MECHANISM=SCRAM-SHA-512\)/);
      expect(message).toContain('KAFKA_SASL_PASSWORD');
    });

    it('a broker certificate the CA file does not trust names KAFKA_SSL_CA_FILE', async () => {
      const config = configFor(testEnv('sec-untrusted'), { ...over.scram('gateway-scram'), KAFKA_SSL_CA_FILE: broker.otherCa });
      const message = await startFails(() => startDeliveryApp(config));
      expect(message).toMatch(/the TLS certificate of broker 127\.0\.0\.1:\d+ is not trusted .*: set KAFKA_SSL_CA_FILE/);
    });

    it('a missing READ on the consumer group names the group', async () => {
      const config = configFor(testEnv('sec-noacl'), over.scram('gateway-scram'));
      const acls = gatewayAcls(config, 'delivery', { createTopics: true }).filter((a) => !(a.resourceType === 'GROUP' && a.name === config.delivery.groupId));
      principals.add('User:gateway-scram');
      await grantAcls('User:gateway-scram', acls);
      const message = await startFails(() => startDeliveryApp(config));
      expect(message).toContain('GROUP_AUTHORIZATION_FAILED');
      expect(message).toContain(`READ on group ${config.delivery.groupId}`);
    });

    it('a missing DESCRIBE on a topic names the topic', async () => {
      const config = configFor(testEnv('sec-nodescribe'), over.scram('gateway-scram'));
      await ensureTopics(kafka, gatewayTopicSpecs(config));
      const { ordering } = gatewayTopics(config);
      const acls = gatewayAcls(config, 'producer').filter((a) => !(a.resourceType === 'TOPIC' && a.name === ordering));
      await grantAcls('User:gateway-scram', acls);
      const message = await startFails(() => startProducerApp(config));
      expect(message).toContain(`DESCRIBE on topic ${ordering}`);
    });
  });

  it('logged nothing secret meanwhile', () => {
    const text = logs.join('');
    // The apps did log (debug level): the check below looks at real output.
    expect(text).toContain('over SASL_SSL, SCRAM-SHA-512 (user gateway-producer)');
    expect(text.length).toBeGreaterThan(10_000);
    for (const secret of secrets) expect(text).not.toContain(secret);
    // No OAUTHBEARER token (a JWT) either.
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\./);
  });
});
