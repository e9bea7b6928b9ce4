import { type DynamicModule, type INestApplication, Logger, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Kafka } from 'kafkajs';
import { ConfigError, type GatewayConfig } from '@app/config';
import { KAFKA_CLIENT, KafkaBatchServer, type KafkaBatchServerOptions, KafkaCredentials, KafkaProducer } from '@app/kafka';
import { GatewayLogger } from './logger.js';
import { HopLog } from './hop-log.js';
import { GatewayMetrics } from './metrics.js';
import { Readiness } from './readiness.js';

export interface GatewayAppSpec {
  /** `producer` or `delivery`: the \`app\` field of every log line. */
  name: string;
  /** The app's root module for this configuration. */
  module: DynamicModule;
  http: { host: string; port: number };
  consumer: Omit<KafkaBatchServerOptions, 'kafka'>;
  /** App-specific HTTP set-up (e.g. OpenAPI), before the app initialises. */
  configure?: (app: INestApplication) => void;
}

/**
 * Starts one gateway app: Nest HTTP (API and probes), then, once every module
 * is initialised (topics exist, the subscription registry has caught up), its
 * Kafka batch consumer as a Nest microservice.
 */
export async function startGatewayApp(spec: GatewayAppSpec, config: GatewayConfig): Promise<INestApplication> {
  const app = await NestFactory.create(spec.module, {
    logger: new GatewayLogger(config, spec.name),
    abortOnError: false,
  });
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  app.enableShutdownHooks();
  spec.configure?.(app);
  const readiness = app.get(Readiness);
  const producer = app.get(KafkaProducer);
  const credentials = app.get(KafkaCredentials);
  new Logger(spec.name).log(`Kafka: ${config.kafka.brokers.join(',')} over ${credentials.describe()}`);
  const tokens = credentials.tokens;
  if (tokens) readiness.register('kafka-oauth', () => tokens.problem(), () => tokens.warning());
  readiness.register('kafka-producer', () => (producer.isConnected() ? undefined : 'the Kafka producer is not connected'));
  const metrics = app.get(GatewayMetrics);
  const lag = metrics.consumerLag;
  const { groupId } = spec.consumer;
  const hops = app.get(HopLog);
  const consumer = new KafkaBatchServer({
    sessionTimeoutMs: config.kafka.sessionTimeoutMs,
    ...spec.consumer,
    kafka: app.get<Kafka>(KAFKA_CLIENT),
    onConsuming: (c) => readiness.markConsuming(c),
    onBatch: (topic, partition, behind) => lag.set({ group: groupId, topic, partition }, behind),
    onBatchDone: hops.enabled ? (b, readAt) => hops.write('batch', { app: spec.name, ...b, read: readAt, done: Date.now() }) : undefined,
  });
  metrics.onScrape(() => {
    const uncommitted = consumer.uncommitted();
    if (uncommitted !== undefined) metrics.uncommitted.set({ group: groupId }, uncommitted);
  });
  app.connectMicroservice({ strategy: consumer }, { inheritAppConfig: true });
  // Shutdown: not ready at once, then the consumer drains (Nest closes it again later: a no-op).
  readiness.drainAtShutdown(() => consumer.close());
  try {
    await app.init();
    await app.startAllMicroservices();
    await app.listen(spec.http.port, spec.http.host);
  } catch (err) {
    // What did start (clients, consumers, timers) is closed before the error is reported.
    await app.close().catch((closeErr: unknown) => new Logger(spec.name).error(`closing after a failed start: ${String(closeErr)}`));
    throw err;
  }
  return app;
}

/** Runs an app's main: a bad configuration prints every problem and exits 1. */
export function runMain(name: string, start: () => Promise<INestApplication>): void {
  const logger = new Logger(name);
  Promise.resolve()
    .then(start)
    .then(
      async (app) => logger.log(`listening on ${await app.getUrl()}`),
      (err: unknown) => {
        if (err instanceof ConfigError) console.error(err.message);
        else logger.fatal(err instanceof Error ? (err.stack ?? err.message) : String(err));
        process.exit(1);
      },
    );
}
