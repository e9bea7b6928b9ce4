import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { GATEWAY_CONFIG, GATEWAY_TOPICS, type GatewayConfig, gatewayGroupPrefixes, type GatewayTopics } from '@app/config';
import type { DeliveryJob } from '@app/contracts';
import { CompactedTopicStore, KAFKA_CLIENT, KafkaProducer, KafkaTopics } from '@app/kafka';
import { Readiness } from '@app/runtime';
import { type AttemptOutcome, nextJob } from '../attempt/attempt-outcome.js';
import { ORDER_INLINE_WAIT_MS, ORDER_RECHECK_MS } from '../delivery-policy.js';
import { entryRecord, OrderLedger, type OrderEntryRecord, type OrderPlace } from './key-order.js';

/** What the delivery service does for a job once the gate has decided. */
export interface OrderedSteps {
  /** Attempts the job. */
  attempt(): Promise<AttemptOutcome>;
  /** The job waits its turn: held back for `waitMs`. */
  park(waitMs: number): AttemptOutcome;
}

/** The job of a chain whose attempt is in flight in this process. */
interface InFlight {
  job: DeliveryJob;
  place: OrderPlace;
  finished: Promise<void>;
  /** The attempt has returned; its own ordering record is being written. */
  done: boolean;
  /** A follower stopped waiting for it: it has (or is getting) an entry on the ordering topic. */
  entryWrite?: Promise<void>;
}

interface ChainState {
  /** Resolves once the last job that entered here has been decided (attempting, or parked). */
  tail: Promise<void>;
  attempting?: InFlight;
  jobs: number;
}

/**
 * Ordered delivery per key. A job of an ordered subscription is attempted only
 * when no earlier job of its key (same subscription, source topic and partition;
 * earlier = lower source offset) is unfinished; otherwise it is parked on a retry
 * tier and looks again when it comes back.
 *
 * Unfinished jobs are known in two ways. In this process, jobs of a key are
 * decided one after another in the order they were read, and a job whose
 * predecessor's attempt is in flight waits for it in memory, up to
 * ORDER_INLINE_WAIT_MS. Across processes and restarts, the compacted ordering
 * topic holds every job that left the in-order stream: one that waits for its
 * turn, or a head that waits for its next attempt. Its record is written, and
 * read back, before the job's retry record, and removed (a tombstone) only after
 * its final outcome, so whoever picks up a later job sees it once caught up with
 * the topic (every decision catches up first).
 */
@Injectable()
export class KeyOrderGate implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(KeyOrderGate.name);
  private readonly ledger = new OrderLedger();
  private readonly store: CompactedTopicStore<OrderEntryRecord>;
  private readonly chains = new Map<string, ChainState>();
  private ready = false;

  constructor(
    @Inject(KAFKA_CLIENT) kafka: Kafka,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    @Inject(GATEWAY_TOPICS) topics: GatewayTopics,
    private readonly kafkaTopics: KafkaTopics,
    producer: KafkaProducer,
    readiness: Readiness,
  ) {
    readiness.register('ordering-ledger', () => (this.ready ? undefined : 'the ordering ledger has not caught up yet'));
    this.store = new CompactedTopicStore<OrderEntryRecord>({
      kafka,
      topic: topics.ordering,
      groupPrefix: gatewayGroupPrefixes(config).ordering,
      name: 'the ordering ledger',
      writer: producer,
      decode: (value) => JSON.parse(value.toString('utf8')) as OrderEntryRecord,
      // The ledger keeps its own index of the entries.
      keepValues: false,
      onChange: (key, record) => this.ledger.apply(key, record ?? null),
    });
  }

  async onModuleInit(): Promise<void> {
    await this.kafkaTopics.ensure();
    await this.store.start();
    this.ready = true;
    this.logger.log(`caught up: ${this.ledger.size} ordered job(s) waiting`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.store.stop();
  }

  /**
   * Attempts or parks an ordered job. Must be called in the order the jobs were
   * read (it registers the job before its first await).
   */
  async run(job: DeliveryJob, place: OrderPlace, steps: OrderedSteps): Promise<AttemptOutcome> {
    let state = this.chains.get(place.chain);
    if (!state) this.chains.set(place.chain, (state = { tail: Promise.resolve(), jobs: 0 }));
    const previous = state.tail;
    let decided!: () => void;
    state.tail = new Promise<void>((resolve) => (decided = resolve));
    state.jobs++;
    try {
      await previous;
      await this.store.catchUp();
      for (;;) {
        const ahead = state.attempting;
        if (ahead) {
          if (ahead.entryWrite === undefined) {
            if (await finishesWithin(ahead.finished, ORDER_INLINE_WAIT_MS)) continue;
            if (ahead.done) {
              await ahead.finished;
              continue;
            }
            // The attempt ahead is slow: it goes on the ordering topic, and this job waits its turn there.
            ahead.entryWrite = this.ledger.has(ahead.place.entryKey) ? Promise.resolve() : this.write(ahead.place, entryRecord(ahead.job));
          }
          await ahead.entryWrite;
          return await this.park(job, place, undefined, steps);
        }
        const before = this.ledger.firstBefore(place);
        if (before) return await this.park(job, place, before.dueAt, steps);
        break;
      }
      return await this.attempt(job, place, state, steps, decided);
    } finally {
      decided();
      if (--state.jobs === 0) this.chains.delete(place.chain);
    }
  }

  private async attempt(job: DeliveryJob, place: OrderPlace, state: ChainState, steps: OrderedSteps, decided: () => void): Promise<AttemptOutcome> {
    let finish!: () => void;
    const inFlight: InFlight = { job, place, done: false, finished: new Promise<void>((resolve) => (finish = resolve)) };
    state.attempting = inFlight;
    decided();
    try {
      const outcome = await steps.attempt();
      inFlight.done = true;
      await inFlight.entryWrite;
      const next = nextJob(outcome)?.job;
      if (next?.dueAt) await this.write(place, entryRecord(job, Date.parse(next.dueAt)));
      else if (this.ledger.has(place.entryKey)) await this.write(place, null);
      return outcome;
    } finally {
      if (state.attempting === inFlight) state.attempting = undefined;
      finish();
    }
  }

  /** The job's entry first (read back here), then its retry record: whoever picks it up sees the entry. */
  private async park(job: DeliveryJob, place: OrderPlace, aheadDueAt: number | undefined, steps: OrderedSteps): Promise<AttemptOutcome> {
    if (!this.ledger.has(place.entryKey)) await this.write(place, entryRecord(job));
    // Look again just after the job ahead is due, or soon when that is not known (its attempt is in flight).
    const waitMs = aheadDueAt === undefined ? ORDER_RECHECK_MS : Math.max(aheadDueAt - Date.now() + ORDER_INLINE_WAIT_MS / 10, ORDER_RECHECK_MS);
    return steps.park(waitMs);
  }

  private write(place: OrderPlace, record: OrderEntryRecord | null): Promise<void> {
    return record === null ? this.store.delete(place.entryKey) : this.store.put(place.entryKey, record);
  }
}

function finishesWithin(done: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    done.then(() => true),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
  ]).finally(() => clearTimeout(timer));
}
