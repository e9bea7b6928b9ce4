import type { INestApplication } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { loadConfig, type GatewayConfig } from '@app/config';
import { startDeliveryApp } from '../../apps/delivery/src/delivery.app.js';
import { startProducerApp } from '../../apps/producer/src/producer.app.js';
import { BROKERS } from './broker.js';

export const API_TOKEN = 'e2e-token';

/**
 * The environment of a gateway of its own per test file: own topics and groups, so files
 * never see each other's records. `{prefix}` in a value stands for the file's topic prefix.
 */
export function testEnv(name: string, env: Record<string, string> = {}): Record<string, string> {
  const prefix = `e2e-${name}-${randomBytes(4).toString('hex')}`;
  const own = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.replaceAll('{prefix}', prefix)]));
  return {
    KAFKA_BROKERS: BROKERS.join(','),
    TOPIC_PREFIX: prefix,
    TOPIC_PARTITIONS: '3',
    SOURCE_TOPICS: `${prefix}.events`,
    SOURCE_GROUP_ID: `${prefix}-producer`,
    DELIVERY_GROUP_ID: `${prefix}-delivery`,
    API_HOST: '127.0.0.1',
    API_PORT: '0',
    DELIVERY_HOST: '127.0.0.1',
    DELIVERY_PORT: '0',
    API_TOKENS: API_TOKEN,
    SECRETS_KEY: randomBytes(32).toString('hex'),
    DELIVERY_TARGET_ALLOWLIST: '127.0.0.1/32',
    LOG_LEVEL: 'warn',
    ...own,
  };
}

/** The configuration of `testEnv`, for apps started in the test process. */
export function testConfig(name: string, env: Record<string, string> = {}): GatewayConfig {
  return loadConfig(testEnv(name, env));
}

/** Both gateway apps, started in this process the way their main.ts starts them. */
export class Gateway {
  producer?: INestApplication;
  delivery?: INestApplication;

  /** `deliveryConfig`: the delivery app's own settings when they differ (e.g. another Kafka principal). */
  constructor(
    readonly config: GatewayConfig,
    readonly deliveryConfig: GatewayConfig = config,
  ) {}

  async start(): Promise<this> {
    [this.producer, this.delivery] = await Promise.all([startProducerApp(this.config), startDeliveryApp(this.deliveryConfig)]);
    return this;
  }

  async restartProducer(): Promise<void> {
    await this.producer?.close();
    this.producer = await startProducerApp(this.config);
  }

  async restartDelivery(): Promise<void> {
    await this.delivery?.close();
    this.delivery = await startDeliveryApp(this.deliveryConfig);
  }

  /** GET on one of the apps' HTTP servers, without a token (probes, metrics). */
  async probe(app: 'producer' | 'delivery', path: string): Promise<{ status: number; text: string }> {
    const base = (await this[app]!.getUrl()).replace('[::1]', '127.0.0.1');
    const res = await fetch(`${base}${path}`);
    return { status: res.status, text: await res.text() };
  }

  async apiUrl(path: string): Promise<string> {
    return `${(await this.producer!.getUrl()).replace('[::1]', '127.0.0.1')}${path}`;
  }

  /** Calls the management API with the test token (or the given headers). */
  async api(method: string, path: string, body?: unknown, headers: Record<string, string> = { authorization: `Bearer ${API_TOKEN}` }): Promise<{ status: number; body: any }> {
    const res = await fetch(await this.apiUrl(path), {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  async stop(): Promise<void> {
    const apps = [this.producer, this.delivery];
    this.producer = this.delivery = undefined;
    await Promise.all(apps.map(async (app) => app?.close()));
  }
}
