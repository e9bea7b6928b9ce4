import { createRequire } from 'node:module';

/**
 * Every internal of kafkajs the gateway reaches into (files under `kafkajs/src`, private
 * symbols), in one place. They are not an API: they are read from kafkajs 2.2.4 exactly (the
 * last release, pinned in package.json and patched by patches/kafkajs+2.2.4.patch), and any
 * other installed version fails here, loudly, before one of them is used.
 */
export const KAFKAJS_VERSION = '2.2.4';

const require = createRequire(import.meta.url);
let versionChecked = false;

/** Throws unless `installed` is the version the internals below were read from. */
export function checkKafkajsVersion(installed: string | undefined): void {
  if (installed === KAFKAJS_VERSION) return;
  throw new Error(
    `kafkajs ${installed ?? '(unknown version)'} is installed, the gateway needs exactly ${KAFKAJS_VERSION}: it patches and wraps internals of that release ` +
      '(libs/kafka/src/kafkajs-internals.ts, patches/README.md); run `npm ci`',
  );
}

/** A file of kafkajs' sources, once the installed kafkajs is known to be 2.2.4. */
function kafkajsSource<T>(path: string): T {
  if (!versionChecked) {
    checkKafkajsVersion((require('kafkajs/package.json') as { version?: string }).version);
    versionChecked = true;
  }
  return require(`kafkajs/src/${path}`) as T;
}

export type AbortedFilter = (input: {
  messages: { offset: string; key: Buffer | null; batchContext: { producerId: string; inTransaction: boolean } }[];
  abortedTransactions: { producerId: string; firstOffset: string }[];
}) => { offset: string }[];

/** kafkajs' client-side filter of aborted transactional records (read_committed). */
export function kafkajsAbortedFilter(): AbortedFilter {
  return kafkajsSource('consumer/filterAbortedMessages.js');
}

/** kafkajs' producer send loop (producer/sendMessages.js): a factory of the function behind `send`/`sendBatch`. */
export function kafkajsSendMessages(): (deps: Record<string, unknown>) => (args: Record<string, unknown>) => Promise<unknown[]> {
  return kafkajsSource('producer/sendMessages.js');
}

/** kafkajs' idempotent/transactional producer state (producer/eosManager): a factory. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function kafkajsEosManager(): (deps: Record<string, unknown>) => Record<string, (...args: any[]) => Promise<unknown>> {
  return kafkajsSource('producer/eosManager/index.js');
}

export type GroupMessagesPerPartition = (input: {
  topic: string;
  partitionMetadata: { partitionId: number }[];
  messages: unknown[];
  partitioner: (args: { topic: string; message: unknown }) => number;
}) => Record<number, unknown[]>;

/** How a send splits its records by partition (producer/groupMessagesPerPartition.js). */
export function kafkajsGroupMessagesPerPartition(): GroupMessagesPerPartition {
  return kafkajsSource('producer/groupMessagesPerPartition.js');
}

/** kafkajs' admin client over a cluster (admin/index.js): a factory. */
export function kafkajsCreateAdmin(): (deps: Record<string, unknown>) => { fetchTopicOffsets(topic: string): Promise<unknown[]> } {
  return kafkajsSource('admin/index.js');
}

/**
 * The options kafkajs' Client (src/index.js) gives the cluster of an admin client it creates,
 * read through its private `createCluster` (no cluster or connection is made).
 */
export function kafkajsAdminClusterOptions(): Record<string, unknown> {
  const Client = kafkajsSource<new (config: Record<string, unknown>) => Record<symbol, unknown> & { admin(): unknown }>('index.js');
  const client = new Client({ brokers: ['127.0.0.1:9'], logCreator: () => () => undefined });
  const createCluster = Object.getOwnPropertySymbols(client).find((s) => s.description === 'private:Kafka:createCluster');
  if (!createCluster) throw new Error(`kafkajs Client has no private createCluster: not kafkajs ${KAFKAJS_VERSION}?`);
  let options: Record<string, unknown> | undefined;
  const seen = new Error('seen');
  client[createCluster] = (given: Record<string, unknown>) => {
    options = given;
    throw seen;
  };
  try {
    client.admin();
  } catch (err) {
    if (err !== seen) throw err;
  }
  if (!options) throw new Error('kafkajs Client.admin() made no cluster');
  return options;
}

export interface KafkajsConsumerGroup {
  memberId: string | null;
  joinAndSync(): Promise<void>;
  heartbeat(options: { interval: number }): Promise<void>;
}

/** The consumer's group membership (consumer/consumerGroup.js), whose prototype the rejoin hold wraps. */
export function kafkajsConsumerGroup(): { prototype: KafkajsConsumerGroup } {
  return kafkajsSource('consumer/consumerGroup.js');
}

/** The record of a Fetch response kafkajs decodes (protocol/recordBatch), as the single-record reader reads it. */
export interface KafkajsFetchedRecord {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: string;
  headers: Record<string, Buffer | Buffer[] | undefined>;
  isControlRecord?: boolean;
  batchContext: { producerId: string; inTransaction: boolean };
}

/** What the single-record reader uses of kafkajs' Broker (broker/index.js). */
export interface KafkajsBroker {
  fetch(request: {
    replicaId: number;
    isolationLevel: number;
    maxWaitTime: number;
    minBytes: number;
    maxBytes: number;
    topics: { topic: string; partitions: { partition: number; fetchOffset: string; maxBytes: number }[] }[];
  }): Promise<{
    responses: { topicName: string; partitions: { partition: number; messages: KafkajsFetchedRecord[]; abortedTransactions?: { producerId: string; firstOffset: string }[] }[] }[];
  }>;
}

/** What the single-record reader uses of kafkajs' Cluster (cluster/index.js). */
export interface KafkajsCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  refreshMetadata(): Promise<void>;
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(node: { nodeId: string }): Promise<KafkajsBroker>;
}

const CLUSTER_METHODS = ['connect', 'disconnect', 'addTargetTopic', 'refreshMetadata', 'findLeaderForPartitions', 'findBroker'] as const;

/**
 * Throws unless kafkajs' Cluster and Broker have what `kafkajsCluster` callers use. Called when a
 * single-record reader is made (at the app's start), not at its first read.
 */
export function checkClusterInternals(): void {
  const cluster = kafkajsSource<{ prototype: Record<string, unknown> }>('cluster/index.js').prototype;
  const broker = kafkajsSource<{ prototype: Record<string, unknown> }>('broker/index.js').prototype;
  const missing = [...CLUSTER_METHODS.filter((m) => typeof cluster[m] !== 'function').map((m) => `Cluster.${m}`), ...(typeof broker.fetch === 'function' ? [] : ['Broker.fetch'])];
  if (missing.length > 0) throw new Error(`kafkajs lacks ${missing.join(', ')}: not kafkajs ${KAFKAJS_VERSION}?`);
}

/**
 * A cluster of the client `kafka` (brokers, TLS, SASL as configured), made through the client's
 * private `createCluster` (src/index.js), as its producer, consumer and admin clients are: for
 * requests no public client makes (a Fetch without a consumer group).
 */
export function kafkajsCluster(kafka: object, options: { metadataMaxAge: number; isolationLevel: number }): KafkajsCluster {
  const createCluster = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
  if (!createCluster) throw new Error(`the Kafka client has no private createCluster: not kafkajs ${KAFKAJS_VERSION}?`);
  const create = (kafka as Record<symbol, (o: Record<string, unknown>) => KafkajsCluster>)[createCluster]!;
  return create({ ...options, allowAutoTopicCreation: false });
}
