import { DynamicModule, Module } from '@nestjs/common';
import { ConfigModule, type GatewayConfig } from '@app/config';
import { Transformer } from '@app/body';
import { KafkaModule } from '@app/kafka';
import { gatewayTopicSpecs } from '@app/topology';
import { RuntimeModule } from '@app/runtime';
import { SubscriptionsModule } from '@app/subscriptions';
import { DeliveriesController } from './deliveries.controller.js';
import { DeliveryMetrics } from './delivery-metrics.js';
import { DeliveryService } from './delivery.service.js';
import { HealthTracker } from './health/health-tracker.js';
import { HttpSender } from './http/http-sender.js';
import { KeyOrderGate } from './ordering/key-order.gate.js';

/** The delivery app: delivery jobs → signed HTTP attempts → results. */
@Module({})
export class DeliveryModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: DeliveryModule,
      imports: [ConfigModule.forRoot(config), KafkaModule.forRoot({ clientName: 'delivery', topics: gatewayTopicSpecs }), RuntimeModule, SubscriptionsModule],
      controllers: [DeliveriesController],
      providers: [DeliveryService, DeliveryMetrics, HealthTracker, HttpSender, KeyOrderGate, Transformer],
    };
  }
}
