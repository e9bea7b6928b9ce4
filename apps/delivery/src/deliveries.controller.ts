import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { type Batch, KafkaBatchContext } from '@app/kafka';
import { DELIVERY_JOBS } from './delivery.constants.js';
import { DeliveryService } from './delivery.service.js';

/** Kafka edge of the delivery app: delivery jobs and retry-topic records in, attempts dispatched. */
@Controller()
export class DeliveriesController {
  constructor(private readonly delivery: DeliveryService) {}

  @EventPattern<string>(DELIVERY_JOBS)
  handle(@Payload() batch: Batch, @Ctx() context: KafkaBatchContext): Promise<void> {
    return this.delivery.dispatch(batch, context);
  }
}
