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
