import {
  kafkajsAbortedFilter,
  kafkajsAdminClusterOptions,
  kafkajsCreateAdmin,
  kafkajsEosManager,
  kafkajsGroupMessagesPerPartition,
  kafkajsSendMessages,
} from './kafkajs-internals.js';
import { verifyKafkajsPatches } from './kafkajs-patches.js';

const ABORT_MARKER = Buffer.from([0, 0, 0, 0]);
const record = (offset: number, producerId: string, key: Buffer | null = null) => ({
  offset: String(offset),
  key,
  batchContext: { producerId, inTransaction: true },
});

describe('kafkajs read_committed filter (patches/kafkajs+2.2.4.patch)', () => {
  const filter = kafkajsAbortedFilter();

  it('drops the records of every aborted transaction open where a fetch starts', () => {
    // Producers 1, 2 and 3 interleave; 1 and 2 abort. The fetch starts at 20, past both first offsets.
    const messages = [record(20, '2'), record(21, '3'), record(22, '1'), record(23, '2', ABORT_MARKER), record(24, '1', ABORT_MARKER), record(25, '2')];
    const kept = filter({ messages, abortedTransactions: [{ producerId: '1', firstOffset: '15' }, { producerId: '2', firstOffset: '17' }] });
    // 25: producer 2's next transaction, after its abort marker; the markers themselves are control records kafkajs drops later.
    expect(kept.map((m) => m.offset)).toEqual(['21', '23', '24', '25']);
  });

  it('keeps committed records of a producer whose earlier transaction was aborted', () => {
    const messages = [record(5, '7'), record(6, '7', ABORT_MARKER), record(7, '7'), record(8, '8')];
    const kept = filter({ messages, abortedTransactions: [{ producerId: '7', firstOffset: '5' }] });
    expect(kept.map((m) => m.offset)).toEqual(['6', '7', '8']);
  });

  it('is verified at start-up', () => {
    expect(() => verifyKafkajsPatches()).not.toThrow();
  });
});

describe('kafkajs send retries after a leader change (patches/kafkajs+2.2.4.patch)', () => {
  /**
   * Partition 0 is led by broker 1, partition 1 by broker 2. Broker 1 writes partition 0; broker 2
   * refuses partition 1 (NOT_LEADER) and both partitions are led by broker 2 afterwards. The retry
   * must send partition 1 only: partition 0 is written already.
   */
  it('sends again only the partitions no broker acknowledged', async () => {
    let leaders: Record<string, number> = { '0': 1, '1': 2 };
    const produced: { broker: number; partitions: number[] }[] = [];
    const broker = (nodeId: number) => ({
      nodeId,
      produce: async ({ topicData }: { topicData: { partitions: { partition: number }[] }[] }) => {
        const partitions = topicData.flatMap((t) => t.partitions.map((p) => p.partition));
        produced.push({ broker: nodeId, partitions });
        if (nodeId === 2 && produced.length <= 2) {
          leaders = { '0': 2, '1': 2 };
          throw Object.assign(new Error('This server is not the leader for that topic-partition'), { name: 'KafkaJSProtocolError', type: 'NOT_LEADER_FOR_PARTITION', retriable: true });
        }
        return { topics: [{ topicName: 't', partitions: partitions.map((partition) => ({ partition, errorCode: 0, baseOffset: '0', logAppendTime: '-1', logStartOffset: '0' })) }] };
      },
    });
    const brokers = new Map([1, 2].map((id) => [id, broker(id)]));
    const cluster = {
      refreshMetadataIfNecessary: async () => undefined,
      refreshMetadata: async () => undefined,
      addMultipleTargetTopics: async () => undefined,
      isConnected: () => true,
      targetTopics: new Set(['t']),
      findTopicPartitionMetadata: () => [{ partitionId: 0 }, { partitionId: 1 }],
      findLeaderForPartitions: (_topic: string, partitions: string[]) => {
        const out: Record<number, number[]> = {};
        for (const p of partitions) (out[leaders[p]!] ??= []).push(Number(p));
        return out;
      },
      findBroker: async ({ nodeId }: { nodeId: number }) => brokers.get(Number(nodeId)),
    };
    const sequences = new Map<string, number>();
    const eosManager = {
      acquireBrokerLock: async () => undefined,
      releaseBrokerLock: async () => undefined,
      isTransactional: () => false,
      getSequence: (t: string, p: number) => sequences.get(`${t}|${p}`) ?? 0,
      updateSequence: (t: string, p: number, n: number) => sequences.set(`${t}|${p}`, (sequences.get(`${t}|${p}`) ?? 0) + n),
      getProducerId: () => 1,
      getProducerEpoch: () => 0,
    };
    const retrier = async (fn: (bail: (e: unknown) => never, n: number, t: number) => Promise<unknown>) => {
      for (let n = 0; ; n++) {
        try {
          return await fn((e) => { throw e; }, n, 0);
        } catch (err) {
          if (n >= 3) throw err;
        }
      }
    };
    const logger = { debug: () => undefined, error: () => undefined, warn: () => undefined, info: () => undefined };
    const partitioner = ({ message }: { message: { partition: number } }) => message.partition;
    const send = kafkajsSendMessages()({ logger, cluster, partitioner, eosManager, retrier });
    const answer = await send({ acks: -1, timeout: 1000, topicMessages: [{ topic: 't', messages: [{ value: 'a', partition: 0 }, { value: 'b', partition: 1 }] }] });

    expect(produced).toEqual([
      { broker: 1, partitions: [0] },
      { broker: 2, partitions: [1] },
      { broker: 2, partitions: [1] },
    ]);
    expect((answer as { partition: number }[]).map((a) => a.partition).sort()).toEqual([0, 1]);
    expect(sequences.get('t|0')).toBe(1);
  });
});

describe('kafkajs transaction coordinators (patches/kafkajs+2.2.4.patch)', () => {
  /** A transactional producer's requests against one fake broker; counts the FindCoordinator lookups. */
  const setup = () => {
    const lookups: number[] = [];
    const calls: string[] = [];
    let failNext: { name: string; type: string } | undefined;
    const answer = (name: string, value: unknown = {}) => () => {
      calls.push(name);
      if (failNext?.name === name) {
        const { type } = failNext;
        failNext = undefined;
        return Promise.reject(Object.assign(new Error(type === 'NOT_COORDINATOR' ? 'not the coordinator' : 'concurrent transactions'), { name: 'KafkaJSProtocolError', type, retriable: true }));
      }
      return Promise.resolve(value);
    };
    const broker = {
      nodeId: 1,
      initProducerId: answer('InitProducerId', { producerId: 7, producerEpoch: 0 }),
      addPartitionsToTxn: answer('AddPartitionsToTxn'),
      addOffsetsToTxn: answer('AddOffsetsToTxn'),
      txnOffsetCommit: answer('TxnOffsetCommit'),
      endTxn: answer('EndTxn'),
    };
    const cluster = {
      retry: { retries: 0 },
      refreshMetadataIfNecessary: async () => undefined,
      findGroupCoordinator: async ({ coordinatorType }: { coordinatorType: number }) => {
        lookups.push(coordinatorType);
        return broker;
      },
      findBroker: async () => broker,
    };
    const logger = { debug: () => undefined, error: () => undefined, warn: () => undefined, info: () => undefined };
    const eos = kafkajsEosManager()({ logger, cluster, transactional: true, transactionalId: 'g.t.0' });
    const transaction = async () => {
      await eos.beginTransaction();
      await eos.addPartitionsToTransaction([{ topic: 'out', partitions: [{ partition: 0 }] }]);
      await eos.sendOffsets({ consumerGroupId: 'g', topics: [{ topic: 'in', partitions: [{ partition: 0, offset: '1' }] }] });
      await eos.commit();
    };
    return { eos, transaction, lookups, calls, fail: (name: string, type = 'NOT_COORDINATOR') => (failNext = { name, type }) };
  };

  it('looks the coordinators up once, not before every request of every transaction', async () => {
    const { eos, transaction, lookups, calls } = setup();
    await eos.initProducerId();
    for (let i = 0; i < 3; i++) await transaction();
    expect(calls.filter((c) => c === 'EndTxn')).toHaveLength(3);
    // InitProducerId's lookup, then the transaction coordinator (1) and the group coordinator (0) once each.
    expect(lookups).toEqual([1, 1, 0]);
  });

  it('looks a coordinator up again after a request to it failed', async () => {
    const { eos, transaction, lookups, fail } = setup();
    await eos.initProducerId();
    await transaction();
    fail('AddOffsetsToTxn');
    await expect(transaction()).rejects.toThrow('not the coordinator');
    expect(lookups).toEqual([1, 1, 0]);
    await eos.abort();
    expect(lookups).toEqual([1, 1, 0, 1]);
  });

  it('keeps the coordinator after CONCURRENT_TRANSACTIONS (the previous transaction is still completing there)', async () => {
    const { eos, transaction, lookups, fail } = setup();
    await eos.initProducerId();
    await transaction();
    fail('AddPartitionsToTxn', 'CONCURRENT_TRANSACTIONS');
    await expect(transaction()).rejects.toThrow('concurrent transactions');
    await eos.abort();
    expect(lookups).toEqual([1, 1, 0]);
  });
});

describe('kafkajs admin clients keep their metadata (patches/kafkajs+2.2.4.patch, src/index.js)', () => {
  it('gives the cluster of an admin client the default metadata max age (5 minutes), not 0', () => {
    expect(kafkajsAdminClusterOptions()).toMatchObject({ metadataMaxAge: 300_000, allowAutoTopicCreation: false });
  });
});

describe('kafkajs offsets lookup (patches/kafkajs+2.2.4.patch, src/admin/index.js)', () => {
  it('asks for the high and the low offsets at once', async () => {
    const asked: boolean[] = [];
    let pending = 0;
    let most = 0;
    const cluster = {
      addTargetTopic: async () => undefined,
      refreshMetadataIfNecessary: async () => undefined,
      findTopicPartitionMetadata: () => [{ partitionId: 0 }],
      fetchTopicsOffset: async ([{ fromBeginning }]: { fromBeginning: boolean }[]) => {
        asked.push(fromBeginning);
        most = Math.max(most, ++pending);
        await new Promise((resolve) => setTimeout(resolve, 5));
        pending--;
        return [{ topic: 't', partitions: [{ partition: 0, offset: fromBeginning ? '3' : '9' }] }];
      },
    };
    const logger = { debug: () => undefined, error: () => undefined, warn: () => undefined, info: () => undefined };
    const admin = kafkajsCreateAdmin()({ logger: { ...logger, namespace: () => logger }, retry: { retries: 0 }, cluster });

    await expect(admin.fetchTopicOffsets('t')).resolves.toEqual([{ partition: 0, offset: '9', high: '9', low: '3' }]);
    expect(asked.sort()).toEqual([false, true]);
    expect(most).toBe(2);
  });
});

describe('kafkajs groups a send by partition (patches/kafkajs+2.2.4.patch, src/producer/groupMessagesPerPartition.js)', () => {
  const group = kafkajsGroupMessagesPerPartition();
  const partitionMetadata = [{ partitionId: 0 }, { partitionId: 1 }];

  it('keeps each partition\'s records in order', () => {
    const messages = [0, 1, 2, 3, 4].map((value) => ({ value }));
    const grouped = group({ topic: 't', partitionMetadata, messages, partitioner: ({ message }) => (message as { value: number }).value % 2 });
    expect(grouped).toEqual({ 0: [messages[0], messages[2], messages[4]], 1: [messages[1], messages[3]] });
  });
});
