import { Inject, Injectable } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { GATEWAY_CONFIG, GATEWAY_TOPICS, type GatewayConfig, gatewayGroupPrefixes, type GatewayTopics } from '@app/config';
import { asFirstAttempt, type AttemptResult, type DeliveryJob, type RetryAttemptView } from '@app/contracts';
import { KAFKA_CLIENT, KafkaProducer, readTopicRange } from '@app/kafka';
import type { JobLookup } from './attempt-detail.js';

/**
 * The job record an attempt was made from (`attempt.job`: the deliveries topic or a retry tier),
 * read on demand, one record, in a console group of its own; and "retry now": a copy of that job
 * on the deliveries topic as a first attempt.
 */
@Injectable()
export class AttemptJobsService {
  private readonly jobTopics: Set<string>;
  private readonly groupPrefix: string;

  constructor(
    @Inject(KAFKA_CLIENT) private readonly kafka: Kafka,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    @Inject(GATEWAY_TOPICS) private readonly topics: GatewayTopics,
    private readonly producer: KafkaProducer,
  ) {
    this.jobTopics = new Set([topics.deliveries, ...topics.retry.map((r) => r.topic)]);
    this.groupPrefix = gatewayGroupPrefixes(config).console;
  }

  /** The attempt's job record, or that it is gone (retention) or was never named (a result of an older version). */
  async lookup(attempt: AttemptResult): Promise<JobLookup> {
    const place = attempt.job;
    if (!place || !this.jobTopics.has(place.topic)) return { kind: 'unrecorded' };
    let job: DeliveryJob | undefined;
    const offsets = { partition: place.partition, from: place.offset, to: (BigInt(place.offset) + 1n).toString() };
    await readTopicRange(this.kafka, place.topic, { groupPrefix: this.groupPrefix, offsets }, (message) => {
      if (message.value) job = JSON.parse(message.value.toString('utf8')) as DeliveryJob;
    });
    return job ? { kind: 'found', job } : { kind: 'gone' };
  }

  /**
   * Sends the attempt's job again now: a first attempt on the deliveries topic, same webhook-id,
   * marked `retryOf`. The retry already scheduled stays scheduled (receivers deduplicate by webhook-id).
   */
  async retryNow(attempt: AttemptResult, job: DeliveryJob): Promise<RetryAttemptView> {
    const copy: DeliveryJob = { ...asFirstAttempt(job), retryOf: { deliveryId: attempt.deliveryId } };
    await this.producer.send([{ topic: this.topics.deliveries, key: copy.subscriptionId, value: copy }]);
    return { webhook_id: copy.webhookId, retry_of: attempt.deliveryId };
  }
}
