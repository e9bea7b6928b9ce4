import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { GatewayConfig } from '@app/config';
import { startGatewayApp } from '@app/runtime';
import { SOURCE_EVENTS } from './producer.constants.js';
import { ProducerModule } from './producer.module.js';

export function startProducerApp(config: GatewayConfig): Promise<INestApplication> {
  return startGatewayApp(
    {
      name: 'producer',
      module: ProducerModule.forRoot(config),
      http: { host: config.api.host, port: config.api.port },
      configure: serveOpenApi,
      consumer: {
        groupId: config.source.groupId,
        routes: { [SOURCE_EVENTS]: config.source.topics },
        fromBeginning: config.source.start === 'earliest',
        // Each partition's batch is a transaction of its own (round trips to the broker): partitions go side by side.
        partitionsConsumedConcurrently: config.source.concurrency,
        transactional: config.source.transactions,
      },
    },
    config,
  );
}

/** The management API's OpenAPI document, generated from the DTOs: UI at /docs, JSON at /docs-json. */
function serveOpenApi(app: INestApplication): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Kafka webhook gateway: management API')
      .setDescription('Subscriptions that turn Kafka events into signed webhooks.')
      .setVersion('0.1')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, document);
}
