import { Inject, Injectable, Logger } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig, gatewayTopics, type GatewayTopics } from '@app/config';
import type { Batch } from '@app/kafka';
import { invalidEvent, KafkaProducer, type OutgoingRecord } from '@app/kafka';
import { GatewayMetrics, Tracing } from '@app/runtime';
import { SubscriptionRegistry } from '@app/subscriptions';
import { readEvent } from '../ingest/event-reader.js';

import { fanOut } from './fan-out.js';

/** Records written per produce request while a batch fans out. */
const RECORDS_PER_SEND = 2_000;

/**
 * event → match → job: reads each source record, asks the filter service which
 * subscriptions want it and writes one delivery job per match; records that
 * cannot be read go to the invalid topic with the reason. Resolves once every
 * record of the batch has its jobs (or its invalid record) durably in Kafka.
 */
@Injectable()
export class FanOutService {
  private readonly logger = new Logger(FanOutService.name);
  private readonly topics: GatewayTopics;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly registry: SubscriptionRegistry,
    private readonly producer: KafkaProducer,
    private readonly metrics: GatewayMetrics,
    private readonly tracing: Tracing,
  ) {
    this.topics = gatewayTopics(config);
  }

  async processBatch(batch: Pick<Batch, 'topic' | 'partition' | 'messages'>): Promise<void> {
    // Read-your-writes across instances: every subscription written before this batch was read is applied.
    await this.registry.catchUp();
    const now = new Date();
    const { source, callbacks } = this.config;
    const options = { maxEventBytes: source.maxEventBytes, paths: source.paths, tenantPath: source.tenantPath, callbacks, now: () => now };
    const callbackFormat = callbacks.secret ? callbacks.format : undefined;
    let records: OutgoingRecord[] = [];
    let invalid = 0;
    let jobs = 0;
    for (const message of batch.messages) {
      const read = readEvent(message, batch.topic, options);
      if (!read.ok) {
        invalid++;
        records.push({ topic: this.topics.invalid, key: message.key?.toString('utf8') ?? null, value: invalidEvent(message, batch.topic, batch.partition, read.reason, now) });
      } else {
        const record = { topic: batch.topic, partition: batch.partition, offset: message.offset, key: message.key?.toString('utf8') };
        // With tracing on, the jobs carry the fan-out span as their parent.
        const span = this.tracing.start('fan-out', read.event.traceparent, { 'event.id': read.event.id, 'event.type': read.event.type, 'messaging.source.name': batch.topic });
        const event = span ? { ...read.event, traceparent: span.traceparent } : read.event;
        const eventJobs = fanOut(event, this.registry.match(event), record, now, callbackFormat);
        span?.set({ 'webhook.jobs': eventJobs.length });
        span?.end();
        for (const job of eventJobs) records.push({ topic: this.topics.deliveries, key: job.subscriptionId, value: job });
        jobs += eventJobs.length;
      }
      if (records.length >= RECORDS_PER_SEND) {
        await this.producer.send(records);
        records = [];
      }
    }
    await this.producer.send(records);
    this.metrics.eventsConsumed.inc({ topic: batch.topic }, batch.messages.length);
    if (invalid > 0) this.metrics.eventsInvalid.inc({ topic: batch.topic }, invalid);
    this.metrics.jobsProduced.inc(jobs);
    if (invalid > 0) this.logger.warn(`${invalid} invalid event(s) from ${batch.topic}[${batch.partition}] sent to ${this.topics.invalid}`);
  }
}
