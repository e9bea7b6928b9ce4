import type { INestApplication } from '@nestjs/common';
import type { GatewayConfig } from '@app/config';
import { startGatewayApp } from '@app/runtime';
import { SOURCE_EVENTS } from './producer.constants.js';
import { ProducerModule } from './producer.module.js';

export function startProducerApp(config: GatewayConfig): Promise<INestApplication> {
  return startGatewayApp(
    {
      module: ProducerModule.forRoot(config),
      http: { host: config.api.host, port: config.api.port },
      consumer: {
        groupId: config.source.groupId,
        routes: { [SOURCE_EVENTS]: config.source.topics },
        fromBeginning: config.source.start === 'earliest',
        partitionsConsumedConcurrently: 1,
      },
    },
    config,
  );
}
