import { Inject, Injectable, Logger } from '@nestjs/common';
import { GATEWAY_CONFIG, GATEWAY_TOPICS, type GatewayConfig, type GatewayTopics } from '@app/config';
import type { Batch } from '@app/kafka';
import { KafkaProducer, type OutgoingRecord, type RecordWriter } from '@app/kafka';
import { GatewayMetrics, HopLog, Tracing } from '@app/runtime';
import { SubscriptionRegistry } from '@app/subscriptions';
import { readEvent } from '../ingest/event-reader.js';
import { SourceDecoder } from '../ingest/source-decoder.service.js';
import { EventTypesService } from '../event-types/event-types.service.js';

import { type BodyFormat, type DeliveryJob, type GatewayEvent, invalidEvent } from '@app/contracts';
import { fanOut, type SourceRecordRef } from './fan-out.js';

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
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(GATEWAY_TOPICS) private readonly topics: GatewayTopics,
    private readonly registry: SubscriptionRegistry,
    private readonly producer: KafkaProducer,
    private readonly metrics: GatewayMetrics,
    private readonly tracing: Tracing,
    private readonly hops: HopLog,
    private readonly decoder: SourceDecoder,
    private readonly eventTypes: EventTypesService,
  ) {}

  async processBatch(batch: Pick<Batch, 'topic' | 'partition' | 'messages'>, writer: RecordWriter = this.producer, readAt = Date.now()): Promise<void> {
    const now = new Date(readAt);
    const began = this.hops.enabled ? Date.now() : 0;
    // Read-your-writes across instances: every subscription written before this batch was read is
    // applied (a catch-up that began after the batch was read serves: another partition's may).
    await this.registry.catchUpConfigurations(readAt);
    const caughtUp = this.hops.enabled ? Date.now() : 0;
    const { source, callbacks } = this.config;
    const options = { maxEventBytes: source.maxEventBytes, paths: source.paths, tenantPath: source.tenantPath, callbacks, now: () => now };
    const callbackFormat = callbacks.secret ? callbacks.format : undefined;
    let records: OutgoingRecord[] = [];
    let invalid = 0;
    let produced = 0;
    const seen: GatewayEvent[] = [];
    // Schema-registry wire format, decoded first: a registry that cannot answer fails the batch before anything is written.
    const decoded = await this.decoder.decodeBatch(batch.topic, batch.messages);
    for (const [i, message] of batch.messages.entries()) {
      const decoding = decoded?.[i];
      const read = decoding?.invalid !== undefined ? { ok: false as const, reason: decoding.invalid } : readEvent(decoding?.value === undefined ? message : { ...message, decoded: decoding.value }, batch.topic, options);
      const record = { topic: batch.topic, partition: batch.partition, offset: message.offset, key: decoding?.key ?? message.key?.toString('utf8') };
      if (read.ok) seen.push(read.event);
      const jobs = read.ok ? this.jobsFor(read.event, record, now, callbackFormat) : read;
      if (!jobs.ok) {
        invalid++;
        records.push({ topic: this.topics.invalid, key: message.key?.toString('utf8') ?? null, value: invalidEvent(message, batch.topic, batch.partition, jobs.reason, now) });
      } else {
        for (const job of jobs.jobs) records.push({ topic: this.topics.deliveries, key: job.subscriptionId, value: job });
        produced += jobs.jobs.length;
      }
      if (records.length >= RECORDS_PER_SEND) {
        await writer.send(records);
        records = [];
      }
    }
    await writer.send(records);
    // The event catalogue: written with the idempotent producer, outside this batch's transaction, not waited for.
    this.eventTypes.record(seen, readAt);
    if (this.hops.enabled) {
      const [first, last] = [batch.messages[0]?.offset, batch.messages.at(-1)?.offset];
      this.hops.write('fan-out', { topic: batch.topic, partition: batch.partition, firstOffset: first, lastOffset: last, began, caughtUp, sent: Date.now() });
    }
    this.metrics.eventsConsumed.inc({ topic: batch.topic }, batch.messages.length);
    if (invalid > 0) this.metrics.eventsInvalid.inc({ topic: batch.topic }, invalid);
    this.metrics.jobsProduced.inc(produced);
    if (invalid > 0) this.logger.warn(`${invalid} invalid event(s) from ${batch.topic}[${batch.partition}] sent to ${this.topics.invalid}`);
  }

  /**
   * The event's jobs. Matching and rendering are pure, so an event they throw on would throw on
   * every retry and block its partition: it goes to the invalid topic instead.
   */
  private jobsFor(event: GatewayEvent, position: SourceRecordRef, now: Date, callbackFormat: BodyFormat | undefined): { ok: true; jobs: DeliveryJob[] } | { ok: false; reason: string } {
    // With tracing on, the jobs carry the fan-out span as their parent.
    const span = this.tracing.start('fan-out', event.traceparent, { 'event.id': event.id, 'event.type': event.type, 'messaging.source.name': position.topic });
    let failure: string | undefined;
    try {
      const traced = span ? { ...event, traceparent: span.traceparent } : event;
      const jobs = fanOut(traced, this.registry.match(traced), position, now, callbackFormat);
      span?.set({ 'webhook.jobs': jobs.length });
      return { ok: true, jobs };
    } catch (err) {
      failure = (err as Error).message;
      this.logger.error(`event ${event.id} from ${position.topic}[${position.partition}]@${position.offset} could not be fanned out: ${(err as Error).message}`);
      return { ok: false, reason: `could not be fanned out: ${(err as Error).message}` };
    } finally {
      span?.end(failure);
    }
  }
}
