import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { Batch } from '@app/kafka';
import { KafkaBatchContext } from '@app/kafka';
import { SOURCE_EVENTS } from '../producer.constants.js';
import { FanOutService } from './fan-out.service.js';

/** Kafka edge of the producer app: a batch of source events in, fan-out out. */
@Controller()
export class SourceEventsController {
  constructor(private readonly fanOut: FanOutService) {}

  @EventPattern<string>(SOURCE_EVENTS)
  handle(@Payload() batch: Batch, @Ctx() context: KafkaBatchContext): Promise<void> {
    if (!context.isActive()) return Promise.resolve();
    // In a transaction of the batch's partition when source transactions are on.
    return this.fanOut.processBatch(batch, context.writer, context.readAt);
  }
}
