import { type DynamicModule, type INestApplication, Logger, type LogLevel, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Kafka } from 'kafkajs';
import { ConfigError, type GatewayConfig } from '@app/config';
import { KAFKA_CLIENT, KafkaBatchServer, type KafkaBatchServerOptions } from '@app/kafka';
import { Readiness } from './readiness.js';

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

export interface GatewayAppSpec {
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
    logger: LEVELS.slice(0, LEVELS.indexOf(config.logLevel) + 1),
    abortOnError: false,
  });
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  app.enableShutdownHooks();
  spec.configure?.(app);
  const readiness = app.get(Readiness);
  const consumer = new KafkaBatchServer({
    sessionTimeoutMs: config.kafka.sessionTimeoutMs,
    ...spec.consumer,
    kafka: app.get<Kafka>(KAFKA_CLIENT),
    onConsuming: (c) => readiness.markConsuming(c),
  });
  app.connectMicroservice({ strategy: consumer }, { inheritAppConfig: true });
  await app.init();
  await app.startAllMicroservices();
  await app.listen(spec.http.port, spec.http.host);
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
