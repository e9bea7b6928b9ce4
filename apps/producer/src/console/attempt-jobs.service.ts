import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { GATEWAY_TOPICS, type GatewayTopics } from '@app/config';
import { asFirstAttempt, type AttemptResult, type DeliveryJob, type RetryAttemptView } from '@app/contracts';
import { KAFKA_CLIENT, KafkaProducer, RecordReader } from '@app/kafka';
import type { JobLookup } from './attempt-detail.js';

/**
 * The job record an attempt was made from (`attempt.job`: the deliveries topic or a retry tier),
 * read on demand, one record, with one Fetch to the partition's leader (`RecordReader`: no consumer
 * group to join per read); and "retry now": a copy of that job on the deliveries topic as a first attempt.
 */
@Injectable()
export class AttemptJobsService implements OnApplicationShutdown {
  private readonly jobTopics: Set<string>;
  private readonly reader: RecordReader;

  constructor(
    @Inject(KAFKA_CLIENT) kafka: Kafka,
    @Inject(GATEWAY_TOPICS) private readonly topics: GatewayTopics,
    private readonly producer: KafkaProducer,
  ) {
    this.jobTopics = new Set([topics.deliveries, ...topics.retry.map((r) => r.topic)]);
    this.reader = new RecordReader(kafka);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.reader.close();
  }

  /** The attempt's job record, or that it is gone (retention) or was never named (a result of an older version). */
  async lookup(attempt: AttemptResult): Promise<JobLookup> {
    const place = attempt.job;
    if (!place || !this.jobTopics.has(place.topic)) return { kind: 'unrecorded' };
    const record = await this.reader.read(place.topic, place.partition, place.offset);
    if (!record?.value) return { kind: 'gone' };
    try {
      return { kind: 'found', job: JSON.parse(record.value.toString('utf8')) as DeliveryJob };
    } catch {
      return { kind: 'unreadable' };
    }
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
