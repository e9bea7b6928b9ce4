import { Inject, Injectable, Logger } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig, gatewayTopics, type GatewayTopics } from '@app/config';
import type { Batch } from '@app/kafka';
import { invalidEvent, KafkaProducer, type OutgoingRecord, type RecordWriter } from '@app/kafka';
import { SubscriptionRegistry } from '@app/subscriptions';
import { readEvent } from '../ingest/event-reader.js';

import type { BodyFormat, DeliveryJob, GatewayEvent } from '@app/contracts';
import { fanOut, type SourcePosition } from './fan-out.js';

/** Records written per produce request while a batch fans out. */
const RECORDS_PER_SEND = 2_000;

/**
 * event → match → job: reads each source record, asks the filter service which
 * subscriptions want it and writes one delivery job per match; records that
 * cannot be read go to the invalid topic with the reason. Resolves once every
 * record of the batch has its jobs (or its invalid record) durably in Kafka
 * (or, given a transaction's writer, written in that transaction).
 */
@Injectable()
export class FanOutService {
  private readonly logger = new Logger(FanOutService.name);
  private readonly topics: GatewayTopics;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly registry: SubscriptionRegistry,
    private readonly producer: KafkaProducer,
  ) {
    this.topics = gatewayTopics(config);
  }

  async processBatch(batch: Pick<Batch, 'topic' | 'partition' | 'messages'>, writer: RecordWriter = this.producer): Promise<void> {
    // Read-your-writes across instances: every subscription written before this batch was read is applied.
    await this.registry.catchUp();
    const now = new Date();
    const { source, callbacks } = this.config;
    const options = { maxEventBytes: source.maxEventBytes, paths: source.paths, tenantPath: source.tenantPath, callbacks, now: () => now };
    const callbackFormat = callbacks.secret ? callbacks.format : undefined;
    let records: OutgoingRecord[] = [];
    let invalid = 0;
    for (const message of batch.messages) {
      const read = readEvent(message, batch.topic, options);
      const jobs = read.ok ? this.jobsFor(read.event, { topic: batch.topic, partition: batch.partition, offset: message.offset }, now, callbackFormat) : read;
      if (!jobs.ok) {
        invalid++;
        records.push({ topic: this.topics.invalid, key: message.key?.toString('utf8') ?? null, value: invalidEvent(message, batch.topic, batch.partition, jobs.reason, now) });
      } else {
        for (const job of jobs.jobs) records.push({ topic: this.topics.deliveries, key: job.subscriptionId, value: job });
      }
      if (records.length >= RECORDS_PER_SEND) {
        await writer.send(records);
        records = [];
      }
    }
    await writer.send(records);
    if (invalid > 0) this.logger.warn(`${invalid} invalid event(s) from ${batch.topic}[${batch.partition}] sent to ${this.topics.invalid}`);
  }

  /**
   * The event's jobs. Matching and rendering are pure, so an event they throw on would throw on
   * every retry and block its partition: it goes to the invalid topic instead.
   */
  private jobsFor(event: GatewayEvent, position: SourcePosition, now: Date, callbackFormat: BodyFormat | undefined): { ok: true; jobs: DeliveryJob[] } | { ok: false; reason: string } {
    try {
      return { ok: true, jobs: fanOut(event, this.registry.match(event), position, now, callbackFormat) };
    } catch (err) {
      this.logger.error(`event ${event.id} from ${position.topic}[${position.partition}]@${position.offset} could not be fanned out: ${(err as Error).message}`);
      return { ok: false, reason: `could not be fanned out: ${(err as Error).message}` };
    }
  }
}
