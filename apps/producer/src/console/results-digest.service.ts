import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { GATEWAY_CONFIG, GATEWAY_TOPICS, type GatewayConfig, gatewayGroupPrefixes, type GatewayTopics } from '@app/config';
import { type AttemptResult, OUTCOMES, type SubscriptionHealthView } from '@app/contracts';
import { CompactedTopicStore, KAFKA_CLIENT, KafkaTopics } from '@app/kafka';
import { ResultsDigest } from './results-digest.js';

/** How long the first read of the results and dlq topics may take (they are not compacted). */
const LOAD_TIMEOUT_MS = 10 * 60_000;

function parseResult(value: Buffer): AttemptResult {
  const result = JSON.parse(value.toString('utf8')) as Partial<AttemptResult>;
  const known = typeof result.subscriptionId === 'string' && OUTCOMES.includes(result.outcome!) && typeof result.reason === 'string';
  if (!known) throw new Error('not an attempt result');
  return result as AttemptResult;
}

/** How long the first request waits for the first read before it answers with what was read so far. */
const FIRST_READ_WAIT_MS = 10_000;
/** The digest stops reading (and forgets) after this long without a console request. */
const IDLE_STOP_MS = 15 * 60_000;

/** One reading of the two topics: the views and the digest they feed. */
interface Reading {
  digest: ResultsDigest;
  views: CompactedTopicStore<unknown>[];
  /** The first read (from the beginning to the end offsets of its start). */
  loading: Promise<void>;
  loaded: boolean;
}

/**
 * The delivery console's data: reads the results and dlq topics from the beginning
 * (each in a group of its own that never commits) into a bounded `ResultsDigest`.
 * On demand: the first console request starts the read (and waits for it up to
 * FIRST_READ_WAIT_MS), and the reading stops after IDLE_STOP_MS without a request.
 * Reading every result record cost the producer app about 8% of its CPU per delivery
 * in the S1 benchmark (docs/benchmarks.md), whether anyone looked or not. Once the
 * first read is done, `current()` catches up with both topics before the API answers,
 * so an answer includes every result written before the call.
 */
@Injectable()
export class ResultsDigestService implements OnApplicationShutdown {
  private readonly logger = new Logger(ResultsDigestService.name);
  private reading?: Reading;
  private lastUse = 0;
  private readonly idleCheck: NodeJS.Timeout;
  private stopping = false;
  private readonly open: () => CompactedTopicStore<unknown>[];

  constructor(
    @Inject(KAFKA_CLIENT) kafka: Kafka,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    @Inject(GATEWAY_TOPICS) t: GatewayTopics,
    private readonly topics: KafkaTopics,
  ) {
    const stream = <T>(topic: string, name: string, decode: (value: Buffer) => T, onChange: (key: string, value: T | undefined) => void) =>
      new CompactedTopicStore<T>({ kafka, topic, groupPrefix: gatewayGroupPrefixes(config).console, name, decode, onChange, keepValues: false, startTimeoutMs: LOAD_TIMEOUT_MS });
    this.open = () => {
      const digest = this.reading!.digest;
      return [
        stream(t.results, 'the results digest', parseResult, (_key, result) => {
          if (result) digest.addResult(result);
        }),
        // A dead letter counts whatever its value holds.
        stream(t.dlq, 'the dead-letter digest', () => true, (id, letter) => {
          if (letter) digest.addDeadLetter(id);
        }) as CompactedTopicStore<unknown>,
      ] as CompactedTopicStore<unknown>[];
    };
    this.idleCheck = setInterval(() => void this.stopIfIdle(), 60_000);
    this.idleCheck.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.idleCheck);
    await this.stop();
  }

  /**
   * Starts reading if it is not (and waits up to FIRST_READ_WAIT_MS for the first read);
   * catches up with both topics once the first read is done; says whether it is.
   */
  async current(): Promise<{ caughtUp: boolean }> {
    this.lastUse = Date.now();
    const reading = this.start();
    if (!reading.loaded) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([reading.loading, new Promise((r) => (timer = setTimeout(r, FIRST_READ_WAIT_MS)))]);
      clearTimeout(timer);
      if (!reading.loaded) return { caughtUp: false };
    }
    await Promise.all(reading.views.map((v) => v.catchUp()));
    return { caughtUp: true };
  }

  known(subscriptionId: string): boolean {
    return this.reading?.digest.has(subscriptionId) ?? false;
  }

  health(subscriptionId: string): SubscriptionHealthView {
    return (this.reading?.digest ?? EMPTY).health(subscriptionId);
  }

  attempts(subscriptionId: string, limit?: number): AttemptResult[] {
    return this.reading?.digest.attempts(subscriptionId, limit) ?? [];
  }

  private start(): Reading {
    if (this.reading) return this.reading;
    const reading: Reading = { digest: new ResultsDigest(), views: [], loading: Promise.resolve(), loaded: false };
    this.reading = reading;
    reading.views = this.open();
    reading.loading = this.load(reading);
    return reading;
  }

  private async load(reading: Reading): Promise<void> {
    const started = Date.now();
    try {
      await this.topics.ensure();
      await Promise.all(reading.views.map((v) => v.start()));
      reading.loaded = true;
      this.logger.log(`results digest caught up: ${reading.digest.size} subscriptions (${Date.now() - started} ms)`);
    } catch (err) {
      if (!this.stopping && this.reading === reading) this.logger.error(`results digest: ${(err as Error).message}; the console shows what was read so far`);
    }
  }

  private async stopIfIdle(): Promise<void> {
    if (!this.reading || Date.now() - this.lastUse < IDLE_STOP_MS) return;
    this.logger.log(`results digest: no console request for ${IDLE_STOP_MS / 60_000} min, stopped reading (the next request reads again)`);
    await this.stop();
  }

  private async stop(): Promise<void> {
    const reading = this.reading;
    this.reading = undefined;
    if (!reading) return;
    await Promise.all(reading.views.map((v) => v.stop()));
    await reading.loading;
  }
}

const EMPTY = new ResultsDigest();
