import type { DeliveryJob } from '@app/contracts';

/**
 * The value of a record on the ordering topic (key `<subscriptionId>/<webhookId>`;
 * a tombstone once the job has its final outcome): a job of an ordered
 * subscription that is waiting for its turn, or is its key's head and waits for
 * its next attempt.
 */
export interface OrderEntryRecord {
  subscriptionId: string;
  sourceTopic: string;
  sourcePartition: number;
  /** The source record's key. */
  key: string;
  /** The source record's offset: the job's place in its key's order. */
  offset: string;
  webhookId: string;
  /** When the job's next attempt is due (ms since the epoch); absent while it waits for its turn or is in flight. */
  dueAt?: number;
}

/** A job's place in its key's order: one chain per (subscription, source topic, source partition, key). */
export interface OrderPlace {
  chain: string;
  seq: bigint;
  /** Key of the job's record on the ordering topic. */
  entryKey: string;
}

/** Where an ordered job stands; undefined for a job that is not ordered. */
export function orderPlace(job: DeliveryJob): OrderPlace | undefined {
  if (job.orderingKey === undefined || job.callback) return undefined;
  return {
    chain: chainOf(job.subscriptionId, job.source.topic, job.source.partition, job.orderingKey),
    seq: BigInt(job.source.offset),
    entryKey: `${job.subscriptionId}/${job.webhookId}`,
  };
}

export function entryRecord(job: DeliveryJob, dueAt?: number): OrderEntryRecord {
  return {
    subscriptionId: job.subscriptionId,
    sourceTopic: job.source.topic,
    sourcePartition: job.source.partition,
    key: job.orderingKey ?? '',
    offset: job.source.offset,
    webhookId: job.webhookId,
    ...(dueAt !== undefined && { dueAt }),
  };
}

const chainOf = (subscriptionId: string, topic: string, partition: number, key: string) => JSON.stringify([subscriptionId, topic, partition, key]);

interface Entry {
  chain: string;
  seq: bigint;
  dueAt?: number;
}

/**
 * The ordering topic as it stands (only jobs that wait or are a key's head; a
 * chain with no entry is free). Pure: fed by the topic's records.
 */
export class OrderLedger {
  private readonly entries = new Map<string, Entry>();
  private readonly chains = new Map<string, Map<string, Entry>>();

  get size(): number {
    return this.entries.size;
  }

  apply(entryKey: string, record: OrderEntryRecord | null): void {
    const old = this.entries.get(entryKey);
    if (old) {
      const chain = this.chains.get(old.chain);
      chain?.delete(entryKey);
      if (chain?.size === 0) this.chains.delete(old.chain);
      this.entries.delete(entryKey);
    }
    if (record === null) return;
    const entry: Entry = {
      chain: chainOf(record.subscriptionId, record.sourceTopic, record.sourcePartition, record.key),
      seq: BigInt(record.offset),
      dueAt: record.dueAt,
    };
    this.entries.set(entryKey, entry);
    let chain = this.chains.get(entry.chain);
    if (!chain) this.chains.set(entry.chain, (chain = new Map()));
    chain.set(entryKey, entry);
  }

  has(entryKey: string): boolean {
    return this.entries.has(entryKey);
  }

  /** The earliest unfinished job of the chain before `place` (not `place` itself), if any. */
  firstBefore(place: OrderPlace): { seq: bigint; dueAt?: number } | undefined {
    let first: Entry | undefined;
    for (const [key, entry] of this.chains.get(place.chain) ?? []) {
      if (key === place.entryKey || entry.seq >= place.seq) continue;
      if (!first || entry.seq < first.seq) first = entry;
    }
    return first && { seq: first.seq, dueAt: first.dueAt };
  }
}
