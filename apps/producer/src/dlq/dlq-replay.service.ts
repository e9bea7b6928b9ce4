import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { GATEWAY_CONFIG, GATEWAY_TOPICS, type GatewayConfig, gatewayGroupPrefixes, type GatewayTopics } from '@app/config';
import { asFirstAttempt, type DeadLetter, DEFAULT_REPLAY_LIMIT, type DeliveryJob, type ReplayDlqDto, type ReplayDlqView } from '@app/contracts';
import { CompactedTopicStore, KAFKA_CLIENT, KafkaTopics, type OutgoingRecord, readTopicRange, TransactionalWriter } from '@app/kafka';
import { dlqReplayTransactionPrefix } from '@app/topology';

/** The value of a record on the replays topic (key `<dlq partition>/<dlq offset>`). */
interface ReplayMark {
  webhookId: string;
  subscriptionId: string;
  replayedAt: string;
}

const markKey = (partition: number, offset: string) => `${partition}/${offset}`;

/**
 * DLQ replay: dead letters that match the filters go back to the deliveries
 * topic as first attempts (same `webhook-id`, a fresh schedule). Each replayed
 * dead letter is marked on the compacted replays topic, which every instance
 * keeps in memory, so replaying the same records again sends nothing: the jobs
 * and their marks are written in one transaction (neither exists without the
 * other), and the reply waits until this instance has read the marks back.
 * Replays of one instance run one at a time.
 */
@Injectable()
export class DlqReplayService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(DlqReplayService.name);
  private readonly marks: CompactedTopicStore<ReplayMark>;
  private readonly writer: TransactionalWriter;
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    @Inject(KAFKA_CLIENT) private readonly kafka: Kafka,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(GATEWAY_TOPICS) private readonly topics: GatewayTopics,
    private readonly kafkaTopics: KafkaTopics,
  ) {
    this.marks = new CompactedTopicStore<ReplayMark>({
      kafka,
      topic: topics.replays,
      groupPrefix: gatewayGroupPrefixes(config).replays,
      name: 'the DLQ replay marks',
      decode: (value) => JSON.parse(value.toString('utf8')) as ReplayMark,
    });
    this.writer = new TransactionalWriter(kafka, `${dlqReplayTransactionPrefix(config)}${randomUUID()}`);
  }

  async onModuleInit(): Promise<void> {
    await this.kafkaTopics.ensure();
    await this.marks.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.running;
    await Promise.all([this.marks.stop(), this.writer.close()]);
  }

  replay(dto: ReplayDlqDto): Promise<ReplayDlqView> {
    const run = this.running.then(() => this.replayNow(dto));
    this.running = run.catch(() => undefined);
    return run;
  }

  private async replayNow(dto: ReplayDlqDto): Promise<ReplayDlqView> {
    const limit = dto.limit ?? DEFAULT_REPLAY_LIMIT;
    const since = dto.since === undefined ? undefined : Date.parse(dto.since);
    const until = dto.until === undefined ? undefined : Date.parse(dto.until);
    await this.marks.catchUp();
    const chosen: { partition: number; offset: string; letter: DeadLetter }[] = [];
    let alreadyReplayed = 0;
    await readTopicRange(this.kafka, this.topics.dlq, { sinceMs: since }, (message, partition) => {
      if (chosen.length >= limit || message.value === null) return;
      let letter: DeadLetter;
      try {
        letter = JSON.parse(message.value.toString('utf8')) as DeadLetter;
      } catch {
        this.logger.warn(`dead letter ${partition}/${message.offset} is not JSON: not replayable`);
        return;
      }
      const at = Date.parse(letter.deadLetteredAt);
      if (dto.subscription_id !== undefined && letter.job.subscriptionId !== dto.subscription_id) return;
      if (dto.tenant !== undefined && letter.job.tenant !== dto.tenant) return;
      if (dto.webhook_id !== undefined && letter.job.webhookId !== dto.webhook_id) return;
      if ((since !== undefined && at < since) || (until !== undefined && at >= until)) return;
      if (this.marks.has(markKey(partition, message.offset))) alreadyReplayed++;
      else chosen.push({ partition, offset: message.offset, letter });
    });
    const view = { dry_run: dto.dry_run === true, matched: chosen.length, already_replayed: alreadyReplayed, replayed: 0 };
    if (view.dry_run || chosen.length === 0) return view;

    const now = new Date().toISOString();
    const jobs: OutgoingRecord[] = chosen.map(({ partition, offset, letter }) => {
      const fresh: DeliveryJob = { ...asFirstAttempt(letter.job), replayOf: { partition, offset } };
      return { topic: this.topics.deliveries, key: fresh.subscriptionId, value: fresh };
    });
    const marks = chosen.map(({ partition, offset, letter }) =>
      this.marks.record(markKey(partition, offset), { webhookId: letter.job.webhookId, subscriptionId: letter.job.subscriptionId, replayedAt: now }),
    );
    const written = await this.writer.write([...jobs, ...marks]);
    // Read-your-writes: a replay right after this one (here) sees these marks.
    await this.marks.readBack(written);
    this.logger.log(`replayed ${chosen.length} dead letter(s) (${alreadyReplayed} already replayed before)`);
    return { ...view, replayed: chosen.length };
  }
}
