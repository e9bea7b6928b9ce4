import { Logger } from '@nestjs/common';
import type { Kafka, KafkaMessage, RecordMetadata } from 'kafkajs';
import { CompactedTopicView } from './compacted-topic-view.js';
import type { OutgoingRecord } from './kafka-producer.js';

/** Where a store writes: the process's producer (or anything that sends records and returns their metadata). */
export interface StoreWriter {
  send(records: OutgoingRecord[]): Promise<RecordMetadata[]>;
}

export interface CompactedTopicStoreOptions<T> {
  kafka: Kafka;
  topic: string;
  /** Prefix of the store's consumer group (`<prefix>.<uuid>`, one per process, never committed). */
  groupPrefix: string;
  /** Names the store in logs and errors, e.g. "the subscription registry". */
  name: string;
  /**
   * A record's value as T; throws when it is not one. Such a record is skipped and logged by
   * key and offset only (values may hold sealed secrets).
   */
  decode: (value: Buffer, key: string) => T;
  /** A T as the JSON value written (default: as it is). */
  encode?: (value: T, key: string) => unknown;
  /** Told of every record applied, in log order per partition: the new value, or undefined for a tombstone. */
  onChange?: (key: string, value: T | undefined, message: KafkaMessage) => void;
  /**
   * false for a topic read as a stream (the results digest): values are handed to `onChange`
   * and not kept. Default true: `get`/`values` answer from memory.
   */
  keepValues?: boolean;
  /** Absent for a store this process only reads. */
  writer?: StoreWriter;
  startTimeoutMs?: number;
}

/**
 * A topic's state kept in memory, keyed by record key: the one way the gateway reads and writes
 * a compacted topic (the subscription registry, subscription health, the ordering ledger, DLQ
 * replay marks) or digests a stream (the console). Decoding, applying, and writes that return
 * once they are read back (read-your-writes) live here once; the owner says what a value is.
 */
export class CompactedTopicStore<T> {
  private readonly logger: Logger;
  private readonly values = new Map<string, T>();
  private readonly view: CompactedTopicView;

  constructor(private readonly options: CompactedTopicStoreOptions<T>) {
    this.logger = new Logger(`CompactedTopicStore(${options.topic})`);
    this.view = new CompactedTopicView({
      kafka: options.kafka,
      topic: options.topic,
      groupPrefix: options.groupPrefix,
      name: options.name,
      startTimeoutMs: options.startTimeoutMs,
      apply: (message) => this.apply(message),
    });
  }

  get topic(): string {
    return this.options.topic;
  }

  get size(): number {
    return this.values.size;
  }

  get(key: string): T | undefined {
    return this.values.get(key);
  }

  has(key: string): boolean {
    return this.values.has(key);
  }

  entries(): IterableIterator<[string, T]> {
    return this.values.entries();
  }

  /** Reads the topic; resolves once its contents at start-up are applied. */
  start(): Promise<void> {
    return this.view.start();
  }

  stop(): Promise<void> {
    return this.view.stop();
  }

  /** Resolves once everything on the topic now (or at any moment since `since`) is applied here: see CompactedTopicView.catchUp. */
  catchUp(timeoutMs?: number, since?: number): Promise<void> {
    return this.view.catchUp(timeoutMs, since);
  }

  /** Writes the value and resolves once this process has applied it. */
  put(key: string, value: T): Promise<void> {
    return this.write([this.record(key, value)]);
  }

  /** A tombstone: compaction forgets the key. Resolves once applied here. */
  delete(key: string): Promise<void> {
    return this.write([this.record(key, null)]);
  }

  /** The record that writes `value` (null: a tombstone), for a caller that writes it with others (a transaction). */
  record(key: string, value: T | null): OutgoingRecord {
    return { topic: this.options.topic, key, value: value === null ? null : (this.options.encode?.(value, key) ?? value) };
  }

  /** Resolves once the records of this store among `written` are applied here. */
  async readBack(written: RecordMetadata[]): Promise<void> {
    const mine = written.filter((m) => m.topicName === this.options.topic);
    if (mine.some((m) => m.baseOffset === undefined)) throw new Error(`a write to ${this.options.name} was not acknowledged`);
    await Promise.all(mine.map((m) => this.view.waitFor(m.partition, BigInt(m.baseOffset!))));
  }

  private async write(records: OutgoingRecord[]): Promise<void> {
    if (!this.options.writer) throw new Error(`${this.options.name} is read-only in this process`);
    const written = await this.options.writer.send(records);
    if (written.length === 0) throw new Error(`a write to ${this.options.name} was not acknowledged`);
    await this.readBack(written);
  }

  private apply(message: KafkaMessage): void {
    const key = message.key?.toString('utf8');
    if (!key) return;
    if (message.value === null) {
      this.values.delete(key);
      this.options.onChange?.(key, undefined, message);
      return;
    }
    let value: T;
    try {
      value = this.options.decode(message.value, key);
    } catch (err) {
      // Never log the record: it may hold sealed secrets.
      this.logger.error(`${this.options.name}: record ${key} at offset ${message.offset} is skipped: ${(err as Error).message}`);
      return;
    }
    if (this.options.keepValues !== false) this.values.set(key, value);
    this.options.onChange?.(key, value, message);
  }
}
