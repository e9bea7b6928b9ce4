import type { Consumer, EachBatchPayload } from 'kafkajs';
import type { BatchRunnerHost } from './batch-runner.js';

/** Test support for the batch runners: a kafkajs batch payload and consumer without Kafka. */

export interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(err: Error): void;
}

export function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What a fake payload was asked to do. */
export interface PayloadCalls {
  resolved: string[];
  commits: unknown[];
  pauses: number;
  resumes: number;
}

/** A batch of `offsets` of topic `t`, partition 0; `stale` and `running` are what the payload answers. */
export function fakePayload(offsets: number[], topic = 't', partition = 0) {
  const state = { stale: false, running: true };
  const calls: PayloadCalls = { resolved: [], commits: [], pauses: 0, resumes: 0 };
  const messages = offsets.map((o) => ({ offset: String(o), key: null, value: Buffer.from(`m${o}`), timestamp: '0', attributes: 0, headers: {} }));
  const batch = {
    topic,
    partition,
    highWatermark: String((offsets.at(-1) ?? 0) + 1),
    messages,
    isEmpty: () => messages.length === 0,
    firstOffset: () => messages[0]?.offset ?? null,
    lastOffset: () => messages.at(-1)?.offset ?? '-1',
    offsetLag: () => '0',
    offsetLagLow: () => '0',
  };
  const payload = {
    batch,
    resolveOffset: (offset: string) => void calls.resolved.push(offset),
    heartbeat: async () => undefined,
    pause: () => {
      calls.pauses++;
      return () => void calls.resumes++;
    },
    commitOffsetsIfNecessary: async (offsets: unknown) => void calls.commits.push(offsets),
    uncommittedOffsets: () => ({ topics: [] }),
    isRunning: () => state.running,
    isStale: () => state.stale,
  };
  return { payload: payload as unknown as EachBatchPayload, state, calls };
}

/** A consumer that records, in order, what it was asked to do; `run` joins the group with `assignment`. */
export function fakeConsumer(assignment: Record<string, number[]> = { t: [0] }) {
  const log: string[] = [];
  const commits: { topic: string; partition: number; offset: string }[] = [];
  const seeks: { topic: string; partition: number; offset: string }[] = [];
  const listeners = new Map<string, ((event: { payload: unknown }) => void)[]>();
  const consumer = {
    events: { GROUP_JOIN: 'group_join', CRASH: 'crash', REBALANCING: 'rebalancing' },
    on: (event: string, listener: (event: { payload: unknown }) => void) => {
      listeners.set(event, [...(listeners.get(event) ?? []), listener]);
      return () => undefined;
    },
    seek: (at: { topic: string; partition: number; offset: string }) => {
      seeks.push(at);
      log.push(`seek ${at.topic}|${at.partition}@${at.offset}`);
    },
    commitOffsets: async (offsets: { topic: string; partition: number; offset: string }[]) => {
      commits.push(...offsets);
      log.push(`commit ${offsets.map((o) => `${o.topic}|${o.partition}@${o.offset}`).join(',')}`);
    },
    pause: (topics: { topic: string }[]) => void log.push(`pause ${topics.map((t) => t.topic).join(',')}`),
    connect: async () => void log.push('connect'),
    subscribe: async () => void log.push('subscribe'),
    disconnect: async () => void log.push('disconnect'),
    run: async (config: { eachBatch: (payload: EachBatchPayload) => Promise<void> }) => {
      log.push('run');
      eachBatch = config.eachBatch;
      queueMicrotask(() => emit(consumer.events.GROUP_JOIN, { memberAssignment: assignment }));
    },
  };
  let eachBatch: ((payload: EachBatchPayload) => Promise<void>) | undefined;
  const emit = (event: string, payload: unknown) => listeners.get(event)?.forEach((l) => l({ payload }));
  /** Hands a batch to the consumer's eachBatch, as kafkajs would. */
  const deliver = (payload: EachBatchPayload) => {
    if (!eachBatch) throw new Error('the consumer does not run');
    return eachBatch(payload);
  };
  return { consumer: consumer as unknown as Consumer, log, commits, seeks, emit, deliver };
}

/** A runner's view of a server that holds `consumer` (until `closing` is set). */
export function fakeHost(consumer: Consumer) {
  const state = { consumer: consumer as Consumer | undefined, closing: false };
  const host: BatchRunnerHost = { consumer: () => state.consumer, isClosing: () => state.closing };
  return { host, state };
}
