import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { GATEWAY_CONFIG, type GatewayConfig, gatewayGroupPrefixes, gatewayTopics, type GatewayTopics } from '@app/config';
import { type DeadLetter, DEFAULT_REPLAY_LIMIT, type DeliveryJob, type ReplayDlqDto, type ReplayDlqView } from '@app/contracts';
import { CompactedTopicView, KAFKA_CLIENT, KafkaProducer, KafkaTopics, type OutgoingRecord, readTopicRange } from '@app/kafka';

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
 * are written first, then the marks, and the reply waits until this instance
 * has read the marks back. Replays of one instance run one at a time.
 */
@Injectable()
export class DlqReplayService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(DlqReplayService.name);
  private readonly topics: GatewayTopics;
  private readonly replayed = new Set<string>();
  private readonly marks: CompactedTopicView;
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    @Inject(KAFKA_CLIENT) private readonly kafka: Kafka,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly kafkaTopics: KafkaTopics,
    private readonly producer: KafkaProducer,
  ) {
    this.topics = gatewayTopics(config);
    this.marks = new CompactedTopicView({
      kafka,
      topic: this.topics.replays,
      groupPrefix: gatewayGroupPrefixes(config).replays,
      apply: (message) => {
        const key = message.key?.toString('utf8');
        if (!key) return;
        if (message.value === null) this.replayed.delete(key);
        else this.replayed.add(key);
      },
      name: 'the DLQ replay marks',
    });
  }

  async onModuleInit(): Promise<void> {
    await this.kafkaTopics.ensure();
    await this.marks.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.marks.stop();
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
    await readTopicRange(this.kafka, this.topics.dlq, { groupPrefix: gatewayGroupPrefixes(this.config).dlqReplay, sinceMs: since }, (message, partition) => {
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
      if ((since !== undefined && at < since) || (until !== undefined && at >= until)) return;
      if (this.replayed.has(markKey(partition, message.offset))) alreadyReplayed++;
      else chosen.push({ partition, offset: message.offset, letter });
    });
    const view = { dry_run: dto.dry_run === true, matched: chosen.length, already_replayed: alreadyReplayed, replayed: 0 };
    if (view.dry_run || chosen.length === 0) return view;

    const now = new Date().toISOString();
    const jobs: OutgoingRecord[] = chosen.map(({ partition, offset, letter }) => {
      const { attemptTimestamps: _times, dueAt: _due, ...job } = letter.job;
      const fresh: DeliveryJob = { ...job, attempt: 1, replayOf: { partition, offset } };
      return { topic: this.topics.deliveries, key: job.subscriptionId, value: fresh };
    });
    await this.producer.send(jobs);
    const marks: OutgoingRecord[] = chosen.map(({ partition, offset, letter }) => ({
      topic: this.topics.replays,
      key: markKey(partition, offset),
      value: { webhookId: letter.job.webhookId, subscriptionId: letter.job.subscriptionId, replayedAt: now } satisfies ReplayMark,
    }));
    await this.producer.send(marks);
    // Read-your-writes: a replay right after this one (here) sees these marks.
    await this.marks.catchUp();
    this.logger.log(`replayed ${chosen.length} dead letter(s) (${alreadyReplayed} already replayed before)`);
    return { ...view, replayed: chosen.length };
  }
}
