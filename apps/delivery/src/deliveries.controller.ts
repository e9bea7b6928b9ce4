import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { type Batch, KafkaBatchContext } from '@app/kafka';
import { DELIVERY_JOBS } from './delivery.constants.js';
import { DeliveryService } from './delivery.service.js';

/** Kafka edge of the delivery app: a batch of delivery jobs in, attempts and outcomes out. */
@Controller()
export class DeliveriesController {
  constructor(private readonly delivery: DeliveryService) {}

  @EventPattern<string>(DELIVERY_JOBS)
  handle(@Payload() batch: Batch, @Ctx() context: KafkaBatchContext): Promise<void> {
    if (!context.isActive()) return Promise.resolve();
    return this.delivery.processBatch(batch);
  }
}
