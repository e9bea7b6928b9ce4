import type { INestApplication } from '@nestjs/common';
import { type GatewayConfig, gatewayTopics } from '@app/config';
import { startGatewayApp } from '@app/runtime';
import { DELIVERY_JOBS } from './delivery.constants.js';
import { DeliveryModule } from './delivery.module.js';
import { PARTITIONS_CONSUMED_CONCURRENTLY } from './delivery-policy.js';

export function startDeliveryApp(config: GatewayConfig): Promise<INestApplication> {
  const topics = gatewayTopics(config);
  return startGatewayApp(
    {
      name: 'delivery',
      module: DeliveryModule.forRoot(config),
      http: { host: config.delivery.host, port: config.delivery.port },
      consumer: {
        groupId: config.delivery.groupId,
        routes: { [DELIVERY_JOBS]: [topics.deliveries, ...topics.retry.map((t) => t.topic)] },
        // The gateway's own topics: a new group must start at the beginning, or jobs are lost.
        fromBeginning: true,
        pipelined: true,
        partitionsConsumedConcurrently: PARTITIONS_CONSUMED_CONCURRENTLY,
      },
    },
    config,
  );
}
