import { Logger } from '@nestjs/common';
import type { Consumer, EachBatchPayload } from 'kafkajs';
import { KafkaBatchContext } from '../kafka-batch.context.js';
import { OffsetTracker } from '../offset-tracker.js';
import { holdRejoin, installRejoinHold } from '../rejoin-hold.js';
import type { BatchHandler, BatchRunner, BatchRunnerHost } from './batch-runner.js';

/** A partition's pipelined work: what was handed out and finished, and the offset last committed. */
interface TrackedPartition {
  topic: string;
  partition: number;
  tracker: OffsetTracker;
  committed?: bigint;
  /** How many of the tracker's offsets lie below `committed` (see OffsetTracker.counted). */
  committedCount?: number;
  /** Set when failed work rewound the partition: it is to be read again from here. */
  rereadFrom?: bigint;
}

/** Commit refusals after which this member's commits cannot succeed until it rejoins. */
const MEMBERSHIP_LOST = new Set(['UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'FENCED_INSTANCE_ID', 'REBALANCE_IN_PROGRESS']);
/** Pause between tries of a commit refused while the group's coordinator moves. */
const COMMIT_RETRY_MS = 500;

/** How often completed offsets of pipelined work are committed. */
const COMMIT_INTERVAL_MS = 100;
/**
 * How long close() and a rejoin wait for pipelined work in flight: longer than the longest
 * attempt (30 s), shorter than the rebalance timeout (60 s, kafkajs' default) within which a
 * member must rejoin.
 */
const DRAIN_TIMEOUT_MS = 45_000;

/**
 * Pipelined mode (the delivery app): the handler dispatches each record's work with
 * `context.track` and returns; the partition moves on at once, and its offset is committed (every
 * COMMIT_INTERVAL_MS) up to the contiguous prefix whose work is done, so a slow record delays no
 * other record, only the commit point. Work that fails rewinds its partition; `pauseUntil` pauses
 * it; shutdown and every rejoin first drain the work in flight and commit it.
 */
export class PipelinedRunner implements BatchRunner {
  // The server's name: the transport's log lines keep their context.
  private readonly log = new Logger('KafkaBatchServer');
  private trackers = new Map<string, TrackedPartition>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly resumeTimers = new Set<NodeJS.Timeout>();
  private commitTimer?: NodeJS.Timeout;
  private runningBatches = 0;
  /** When each partition's commit point last moved (or its tracker began), for `stalled`. */
  private readonly progress = new Map<string, { offset?: bigint; since: number }>();

  constructor(private readonly host: BatchRunnerHost) {}

  /**
   * kafkajs rejoins right after REBALANCING, and every partition may then move (eager rebalancing,
   * no revoke callback). The rejoin is held back until the work in flight has finished and is
   * committed, while the group still accepts this generation's commits: a partition handed over
   * carries no attempt that its new owner would make a second time.
   */
  attach(consumer: Consumer): void {
    installRejoinHold();
    consumer.on(consumer.events.REBALANCING, ({ payload }) => holdRejoin(payload.memberId, this.drain('rebalance')));
  }

  async run(payload: EachBatchPayload, handle: BatchHandler): Promise<void> {
    const { topic, partition } = payload.batch;
    // The tracker this batch's work went to: the work stays this process's while it is the partition's.
    let tracker: OffsetTracker | undefined;
    const context = new KafkaBatchContext(payload, {
      isClosing: () => this.host.isClosing(),
      track: (offset, work) => (tracker = this.track(topic, partition, offset, work)),
      holdsWork: () => tracker !== undefined && !this.host.isClosing() && this.trackers.get(`${topic}|${partition}`)?.tracker === tracker,
    });
    this.runningBatches++;
    try {
      await handle(payload.batch, context);
    } finally {
      this.runningBatches--;
    }
    // The partition reads on from the last record handed out; commits follow the work.
    if (context.lastTracked !== undefined) payload.resolveOffset(context.lastTracked);
    this.host.batchDone?.(payload.batch, context.readAt);
    if (context.pausedUntil !== undefined && !this.host.isClosing()) this.pauseUntil(payload, context.pausedUntil);
  }

  /**
   * A new generation reads from the committed offsets again. A partition this process keeps
   * keeps its tracker and reads on after the last record it handed out: work in flight is
   * committed when it finishes instead of being done a second time (a rebalance, e.g. another
   * instance's rolling restart, costs no duplicate). Trackers of partitions gone elsewhere are
   * dropped; their work in flight may be repeated by the new owner.
   */
  joined(consumer: Consumer, held: ReadonlySet<string>): void {
    const kept = new Map<string, TrackedPartition>();
    let handedOver = 0;
    const dropped: string[] = [];
    for (const [key, entry] of this.trackers) {
      const last = entry.tracker.lastAdded;
      if (!held.has(key) || last === undefined) {
        handedOver += entry.tracker.pending;
        // Whoever reads it next starts at its last commit: the records after it may be attempted again.
        if (last !== undefined) dropped.push(`${key} (committed ${entry.committed ?? 'none'}, handed out up to ${last})`);
        continue;
      }
      kept.set(key, entry);
      consumer.seek({ topic: entry.topic, partition: entry.partition, offset: (entry.rereadFrom ?? last + 1n).toString() });
    }
    this.trackers = kept;
    if (dropped.length > 0) this.log.log(`rejoined without ${dropped.join(', ')}`);
    if (handedOver > 0) this.log.log(`rejoined: ${handedOver} record(s) in flight on partitions handed over may be done again by their new owner`);
  }

  /**
   * Records handed out past their partition's committed offset, finished or not: what this process
   * would read again after a crash, and the most a fault can make it attempt twice.
   */
  uncommitted(): number {
    let n = 0;
    for (const entry of this.trackers.values()) n += entry.tracker.counted.added - (entry.committedCount ?? 0);
    return n;
  }

  /**
   * Partitions whose first unfinished offset has not moved for `forMs` while work on it is
   * pending, described for the log (`topic|p: committed C, first unfinished F, handed out up to
   * L, N pending`); empty when every partition moves.
   */
  stalled(now: number, forMs: number): string[] {
    const out: string[] = [];
    for (const [key, entry] of this.trackers) {
      const first = entry.tracker.committable();
      const seen = this.progress.get(key);
      if (!seen || seen.offset !== first) {
        this.progress.set(key, { offset: first, since: now });
        continue;
      }
      if (entry.tracker.pending === 0 || now - seen.since < forMs) continue;
      const reread = entry.rereadFrom !== undefined ? `, to be read again from ${entry.rereadFrom}` : '';
      out.push(`${key}: committed ${entry.committed ?? 'none'}, first unfinished ${first}, handed out up to ${entry.tracker.lastAdded}, ${entry.tracker.pending} pending for ${Math.round((now - seen.since) / 1000)} s${reread}`);
    }
    for (const key of this.progress.keys()) if (!this.trackers.has(key)) this.progress.delete(key);
    return out;
  }

  /** No new fetches; the work in flight finishes and is committed before the consumer leaves the group. */
  async closing(consumer: Consumer | undefined, topics: string[]): Promise<void> {
    for (const t of this.resumeTimers) clearTimeout(t);
    if (!consumer) return;
    consumer.pause(topics.map((topic) => ({ topic })));
    await this.drain();
  }

  private pauseUntil(payload: EachBatchPayload, atMs: number): void {
    const resume = payload.pause();
    const timer = setTimeout(() => {
      this.resumeTimers.delete(timer);
      resume();
    }, Math.max(0, atMs - Date.now()));
    this.resumeTimers.add(timer);
  }

  private track(topic: string, partition: number, offset: string, work: Promise<void>): OffsetTracker {
    const key = `${topic}|${partition}`;
    const at = BigInt(offset);
    let entry = this.trackers.get(key);
    const lastAdded = entry?.tracker.lastAdded;
    // An offset at or below the last one handed out means the partition was read again from its
    // last commit (a rebalance, a rewind): start a fresh tracker; late completions of the old work go to the old one.
    if (!entry || (lastAdded !== undefined && at <= lastAdded)) {
      if (lastAdded !== undefined && at <= lastAdded) this.log.log(`${key} is read again from offset ${at} (handed out up to ${lastAdded}): those records may be attempted again`);
      this.trackers.set(key, (entry = { topic, partition, tracker: new OffsetTracker() }));
    }
    const { tracker } = entry;
    tracker.add(at);
    const settled = work.then(
      () => {
        tracker.complete(at);
        this.commitTimer ??= setTimeout(() => void this.commitCompleted(), COMMIT_INTERVAL_MS);
      },
      (err: unknown) => this.rewind(key, tracker, err),
    );
    this.inFlight.add(settled);
    void settled.finally(() => this.inFlight.delete(settled));
    return tracker;
  }

  /** Work that failed (not an outcome: a bug or Kafka refusing writes) is done again from the first uncompleted offset. */
  private rewind(key: string, tracker: OffsetTracker, err: unknown): void {
    const entry = this.trackers.get(key);
    const consumer = this.host.consumer();
    if (!entry || entry.tracker !== tracker || !consumer) return;
    const offset = tracker.committable();
    this.log.error(`work on ${key} failed (${(err as Error).message}); reading again from offset ${offset}`);
    if (offset === undefined) {
      this.trackers.delete(key);
      return;
    }
    // Until the partition is read again from `offset`, nothing past it may be committed: the batch
    // being handled goes on tracking later records, and a commit past the failed one followed by a
    // crash or a rebalance would skip it for good. The placeholder never completes.
    const blocked = new OffsetTracker();
    blocked.add(offset);
    this.trackers.set(key, { topic: entry.topic, partition: entry.partition, tracker: blocked, committed: entry.committed, rereadFrom: offset });
    consumer.seek({ topic: entry.topic, partition: entry.partition, offset: offset.toString() });
  }

  /** Waits (up to DRAIN_TIMEOUT_MS) for the pipelined work in flight and the batches being handled, then commits what finished. */
  private async drain(reason?: string): Promise<void> {
    const started = Date.now();
    const pending = this.inFlight.size;
    const deadline = started + DRAIN_TIMEOUT_MS;
    while ((this.inFlight.size > 0 || this.runningBatches > 0) && Date.now() < deadline) {
      await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((r) => setTimeout(r, 100))]);
    }
    // A coordinator moving (a broker failure) refuses commits for a few seconds: the commit is
    // retried until the deadline, so the work finished here is not handed over uncommitted.
    let committed = await this.commitCompleted();
    while (committed === 'retry' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, COMMIT_RETRY_MS));
      committed = await this.commitCompleted();
    }
    if (reason && pending > 0) {
      const left = this.inFlight.size > 0 ? `, ${this.inFlight.size} still in flight (may be done again by a new owner)` : '';
      const done = committed === true ? 'finished and committed' : 'finished (the commit failed: a new owner reads them again)';
      this.log.log(`${reason}: ${done} ${pending - this.inFlight.size} record(s) in flight in ${Date.now() - started} ms before rejoining${left}`);
    }
  }

  /** Commits what finished: true once done, 'retry' when the coordinator could not take it yet (it is moving), false otherwise. */
  private async commitCompleted(): Promise<boolean | 'retry'> {
    clearTimeout(this.commitTimer);
    this.commitTimer = undefined;
    const consumer = this.host.consumer();
    if (!consumer) return false;
    const due: { entry: TrackedPartition; offset: bigint; below: number; topic: string; partition: number }[] = [];
    for (const entry of this.trackers.values()) {
      const offset = entry.tracker.committable();
      if (offset !== undefined && offset !== entry.committed) due.push({ entry, offset, below: entry.tracker.counted.below, topic: entry.topic, partition: entry.partition });
    }
    if (due.length === 0) return true;
    try {
      await consumer.commitOffsets(due.map((d) => ({ topic: d.topic, partition: d.partition, offset: d.offset.toString() })));
      for (const d of due) {
        d.entry.committed = d.offset;
        d.entry.committedCount = d.below;
      }
      return true;
    } catch (err) {
      // A rebalance in progress: the next generation reads from the last commit; work is not lost, maybe repeated.
      this.log.warn(`offset commit failed: ${(err as Error).message}`);
      const { retriable, type } = err as { retriable?: boolean; type?: string };
      return retriable === true && !MEMBERSHIP_LOST.has(type ?? '') ? 'retry' : false;
    }
  }
}
