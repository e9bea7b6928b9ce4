import { explainKafkaError, kafkaErrorType } from './kafka-access-errors.js';
import kafkajs, { type ICustomPartitioner, type Kafka, type Message, Partitioners, type Producer, type RecordMetadata } from 'kafkajs';

export interface OutgoingRecord {
  topic: string;
  key: string | null;
  /** JSON-serialisable value, or null for a tombstone. */
  value: unknown;
  headers?: Record<string, string>;
}

/**
 * The process's one idempotent producer (acks=all). Every record the gateway
 * writes goes through `send`, which resolves once all records are durably written.
 */
/** Bytes of record values per produce request: well under the broker's 1 MiB default per record batch. */
const REQUEST_BYTES = 512 * 1024;

/** How long `write` waits to gather records from concurrent callers into one request. */
const LINGER_MS = 2;
const MAX_LINGER_RECORDS = 1_000;

/** The partition kafkajs' default partitioner chose for each message, to check the produce answer against. */
const partitionOf = new WeakMap<Message, number>();

/** Keys whose partition is remembered, per topic (a bound: the topic's map starts over when full). */
const MAX_REMEMBERED_KEYS = 100_000;

/**
 * kafkajs' default partitioner (murmur2 of the key), remembering its choice per message. A string
 * key always hashes to the same partition for a given partition count, so its partition is
 * remembered per topic: kafkajs' partitioner copies the key into a Buffer and filters the
 * partition metadata for every message (a large share of the delivery app's allocations, one
 * result record per attempt keyed by subscription).
 */
export const RecordingPartitioner: ICustomPartitioner = () => {
  const choose = Partitioners.DefaultPartitioner();
  const remembered = new Map<string, { partitions: number; byKey: Map<string, number> }>();
  return (args) => {
    const { topic, partitionMetadata, message } = args;
    let partition: number;
    if (typeof message.key === 'string' && (message.partition === undefined || message.partition === null)) {
      let known = remembered.get(topic);
      if (!known || known.partitions !== partitionMetadata.length || known.byKey.size >= MAX_REMEMBERED_KEYS) {
        remembered.set(topic, (known = { partitions: partitionMetadata.length, byKey: new Map() }));
      }
      const hit = known.byKey.get(message.key);
      partition = hit ?? choose(args);
      if (hit === undefined) known.byKey.set(message.key, partition);
    } else {
      partition = choose(args);
    }
    partitionOf.set(message, partition);
    return partition;
  };
};

/** An idempotent producer keeps retrying (kafkajs warns on a limit): a send waits out a broker outage. */
export const PRODUCER_RETRY = { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: 5_000 };

/** An idempotent kafkajs producer whose sends can be checked partition by partition (`sendRecords`). */
export function idempotentProducer(kafka: Kafka, retry = PRODUCER_RETRY): Producer {
  return kafka.producer({ idempotent: true, allowAutoTopicCreation: false, createPartitioner: RecordingPartitioner, retry });
}

/**
 * Errors after which kafkajs' idempotent producer stays out of step with the broker for good
 * (it does not bump its epoch as the Java client does; tulios/kafkajs#598): seen on a broker failover.
 */
const PRODUCER_STATE_LOST = new Set(['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH']);

/** How long a replaced producer's sends in progress may take before it is disconnected under them. */
const RETIRE_WAIT_MS = 120_000;

export class KafkaProducer {
  private producer: Producer;
  private waiting: { records: OutgoingRecord[]; resolve: () => void; reject: (err: unknown) => void }[] = [];
  private waitingRecords = 0;
  private timer?: NodeJS.Timeout;
  private connected = false;
  /** Sends in progress (their producer and start time), and how often the producer was replaced. */
  private readonly sending = new Set<{ producer: Producer; since: number }>();
  private replaced = 0;
  /** The replacement of a producer that lost its idempotence state, while it connects. */
  private replacing?: Promise<void>;

  constructor(private readonly kafka: Kafka) {
    this.producer = this.create();
  }

  private create(): Producer {
    return idempotentProducer(this.kafka);
  }

  /** Connected and not stopping (kafkajs reconnects on its own after a broker outage). */
  isConnected(): boolean {
    return this.connected;
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    this.connected = true;
  }

  async disconnect(): Promise<void> {
    this.connected = false;
    await this.flush();
    await this.producer.disconnect();
  }

  /**
   * Like `send`, for many concurrent callers with a few records each (one attempt's
   * outcome): records that arrive within a couple of milliseconds go out in one
   * request, and each caller's promise resolves once its records are durable.
   */
  write(records: OutgoingRecord[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ records, resolve, reject });
      this.waitingRecords += records.length;
      if (this.waitingRecords >= MAX_LINGER_RECORDS) void this.flush();
      else this.timer ??= setTimeout(() => void this.flush(), LINGER_MS);
    });
  }

  private async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.waiting;
    this.waiting = [];
    this.waitingRecords = 0;
    if (batch.length === 0) return;
    try {
      await this.send(batch.flatMap((w) => w.records));
      for (const w of batch) w.resolve();
    } catch (err) {
      if (!isRecordTooLarge(err) || batch.length === 1) {
        for (const w of batch) w.reject(err);
        return;
      }
      // One caller's record is over the topic's limit: only that caller learns it, the others are written.
      await Promise.all(batch.map((w) => this.send(w.records).then(() => w.resolve(), w.reject)));
    }
  }

  /**
   * Writes the records (see `sendRecords`) and returns their metadata. When the producer lost its
   * idempotence state, a new one (a new producer id) takes over and the error goes to the caller,
   * who writes again: at least once, the records may be written twice.
   */
  async send(records: OutgoingRecord[]): Promise<RecordMetadata[]> {
    // No send goes to a replacement before it is connected and has its producer id.
    if (this.replacing) await this.replacing.catch(() => undefined);
    const producer = this.producer;
    const sending = { producer, since: Date.now() };
    this.sending.add(sending);
    try {
      return await sendRecords(producer, records);
    } catch (err) {
      if (PRODUCER_STATE_LOST.has((err as { type?: string }).type ?? '')) await this.replace(producer).catch(() => undefined);
      throw err;
    } finally {
      this.sending.delete(sending);
    }
  }

  /**
   * A new producer (a new producer id) takes over from `lost`, once connected: kafkajs' idempotent
   * producer sends without a producer id while it is getting one, and then releases a per-broker
   * lock it never took (a TypeError, "reading 'release'", seen in broker-failure chaos runs when
   * other callers' sends reached a replacement still connecting). The old producer is disconnected
   * once its sends in progress have settled, not under them.
   */
  private replace(lost: Producer): Promise<void> {
    if (lost !== this.producer) return this.replacing ?? Promise.resolve();
    this.replacing ??= (async () => {
      const next = this.create();
      await next.connect();
      this.producer = next;
      this.replaced++;
      void this.retire(lost);
    })().finally(() => (this.replacing = undefined));
    return this.replacing;
  }

  private async retire(old: Producer): Promise<void> {
    const busy = () => [...this.sending].some((s) => s.producer === old);
    for (let waited = 0; busy() && waited < RETIRE_WAIT_MS; waited += 100) await new Promise((r) => setTimeout(r, 100));
    await old.disconnect().catch(() => undefined);
  }

  /** Where the producer stands, for a log line: sends in progress and the oldest one's age, records waiting to go out, replacements. */
  describe(now = Date.now()): string {
    let oldest = now;
    for (const s of this.sending) if (s.since < oldest) oldest = s.since;
    const age = this.sending.size > 0 ? ` (oldest ${Math.round((now - oldest) / 1000)} s)` : '';
    return `producer: ${this.sending.size} send(s) in progress${age}, ${this.waitingRecords} record(s) waiting, replaced ${this.replaced} time(s)`;
  }
}

/** The broker refused a record as larger than its topic's max.message.bytes: writing it again cannot help. */
export function isRecordTooLarge(err: unknown): boolean {
  const type = kafkaErrorType(err);
  return type === 'MESSAGE_TOO_LARGE' || type === 'RECORD_LIST_TOO_LARGE';
}

/** Where records can be written: the process's producer, or a transaction (`PartitionTransactions`). */
export interface RecordWriter {
  send(records: OutgoingRecord[]): Promise<unknown>;
}

/**
 * Writes the records, grouped per topic, in requests of at most REQUEST_BYTES of
 * values (in order), and returns their metadata. kafkajs puts a partition's records
 * of one request into one record batch, which the broker refuses (MESSAGE_TOO_LARGE,
 * not retriable) beyond max.message.bytes (1 MiB by default).
 */
export async function sendRecords(sender: Pick<Producer, 'sendBatch'>, records: OutgoingRecord[]): Promise<RecordMetadata[]> {
  const metadata: RecordMetadata[] = [];
  let chunk = new Map<string, Message[]>();
  let bytes = 0;
  const flush = async () => {
    if (chunk.size === 0) return;
    const topicMessages = [...chunk].map(([topic, messages]) => ({ topic, messages }));
    chunk = new Map();
    bytes = 0;
    let answer: RecordMetadata[];
    try {
      answer = await sender.sendBatch({ acks: -1, topicMessages });
    } catch (err) {
      const topics = topicMessages.map((t) => t.topic);
      throw explainKafkaError(err, { doing: `writing to ${topics.join(', ')}`, needs: topics.map((t) => `WRITE on topic ${t}`) });
    }
    checkEveryPartitionAnswered(topicMessages, answer);
    metadata.push(...answer);
  };
  for (const r of records) {
    const value = r.value === null ? null : JSON.stringify(r.value);
    const size = (value === null ? 0 : Buffer.byteLength(value)) + (r.key?.length ?? 0);
    if (bytes > 0 && bytes + size > REQUEST_BYTES) await flush();
    const messages = chunk.get(r.topic) ?? [];
    messages.push({ key: r.key, value, headers: r.headers });
    chunk.set(r.topic, messages);
    bytes += size;
  }
  await flush();
  return metadata;
}

/**
 * kafkajs 2.2.4 can resolve a send without writing some of its records: when a partition's leader
 * changes during the send, it regroups the partitions by their new leaders but sends again only to
 * brokers that have not answered yet (producer/sendMessages.js, `brokersWithoutResponse`), so a
 * partition that moved to a broker which already answered for other partitions is dropped silently.
 * Seen in the broker-failure chaos runs as delivery jobs missing for some subscriptions. A send whose
 * answer lacks a partition it had records for fails instead (retriable): the caller writes again.
 * patches/kafkajs+2.2.4.patch fixes the retry itself since; this check stays as the guard that a
 * kafkajs without the patch, or a new bug of the same kind, cannot resolve a send silently.
 */
function checkEveryPartitionAnswered(topicMessages: { topic: string; messages: Message[] }[], answer: RecordMetadata[]): void {
  const answered = new Set(answer.map((m) => `${m.topicName}|${m.partition}`));
  const missing = new Set<string>();
  for (const { topic, messages } of topicMessages) {
    for (const message of messages) {
      const partition = partitionOf.get(message);
      if (partition !== undefined && !answered.has(`${topic}|${partition}`)) missing.add(`${topic}[${partition}]`);
    }
  }
  if (missing.size > 0) {
    throw new kafkajs.KafkaJSError(`the broker answered for none of the records sent to ${[...missing].join(', ')} (kafkajs skipped them after a leader change)`, { retriable: true });
  }
}
