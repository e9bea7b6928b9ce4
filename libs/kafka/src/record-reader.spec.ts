import type { Kafka } from 'kafkajs';
import type { KafkajsBroker, KafkajsFetchedRecord } from './kafkajs-internals.js';
import { RecordReader } from './record-reader.js';

type Fetch = Parameters<KafkajsBroker['fetch']>[0];

/**
 * A partition as a fake broker serves it: records by offset (data, control, of a producer whose
 * transaction was aborted), a log start, and pages of at most `pageSize` records per Fetch.
 */
function fakeKafka(partition: { logStart: bigint; records: KafkajsFetchedRecord[]; aborted?: { producerId: string; firstOffset: string }[]; pageSize: number }) {
  const fetches: Fetch[] = [];
  const broker: KafkajsBroker = {
    fetch: async (request) => {
      fetches.push(request);
      const from = BigInt(request.topics[0]!.partitions[0]!.fetchOffset);
      if (from < partition.logStart) throw Object.assign(new Error('out of range'), { name: 'KafkaJSOffsetOutOfRange' });
      const messages = partition.records.filter((r) => BigInt(r.offset) >= from).slice(0, partition.pageSize);
      return { responses: [{ topicName: 't', partitions: [{ partition: 0, messages, abortedTransactions: partition.aborted ?? [] }] }] };
    },
  };
  const cluster = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    addTargetTopic: async () => undefined,
    refreshMetadata: async () => undefined,
    findLeaderForPartitions: () => ({ '1': [0] }),
    findBroker: async () => broker,
  };
  const kafka = {
    [Symbol('private:Kafka:createCluster')]: () => cluster,
    admin: () => ({ connect: async () => undefined, disconnect: async () => undefined, fetchTopicOffsets: async () => [{ partition: 0, low: String(partition.logStart), high: '99' }] }),
  } as unknown as Kafka;
  return { kafka, fetches };
}

const data = (offset: number, producerId = '7', inTransaction = false): KafkajsFetchedRecord => ({
  offset: String(offset),
  key: null,
  value: Buffer.from(`v${offset}`),
  timestamp: '0',
  headers: {},
  batchContext: { producerId, inTransaction },
});
const marker = (offset: number): KafkajsFetchedRecord => ({ ...data(offset), value: null, isControlRecord: true });

describe('RecordReader', () => {
  it('reads one record at its offset, and nothing for an offset the partition no longer holds', async () => {
    const { kafka } = fakeKafka({ logStart: 5n, records: [5, 6, 7].map((o) => data(o)), pageSize: 10 });
    const reader = new RecordReader(kafka);
    expect((await reader.read('t', 0, '6'))?.value?.toString()).toBe('v6');
    expect(await reader.read('t', 0, '2')).toBeUndefined();
    await reader.close();
  });

  it('reads a range page by page: committed data records only, in order, up to the end (excluded)', async () => {
    // 10..19: a transaction of producer 9 aborted at 12 (its records 12, 13 and its marker 14), a commit marker at 17.
    const records = [data(10), data(11), data(12, '9', true), data(13, '9', true), marker(14), data(15), data(16), marker(17), data(18), data(19)];
    const { kafka, fetches } = fakeKafka({ logStart: 10n, records, aborted: [{ producerId: '9', firstOffset: '12' }], pageSize: 3 });
    const reader = new RecordReader(kafka);
    const seen: string[] = [];
    await reader.readRange('t', 0, '10', '19', (m) => seen.push(m.offset));
    expect(seen).toEqual(['10', '11', '15', '16', '18']);
    // Each page starts after the last record the previous one returned, markers included.
    expect(fetches.map((f) => f.topics[0]!.partitions[0]!.fetchOffset)).toEqual(['10', '13', '16']);
    await reader.close();
  });

  it('goes on from the partition start when retention removed the range start', async () => {
    const { kafka } = fakeKafka({ logStart: 4n, records: [4, 5].map((o) => data(o)), pageSize: 10 });
    const reader = new RecordReader(kafka);
    const seen: string[] = [];
    await reader.readRange('t', 0, '1', '6', (m) => seen.push(m.offset));
    expect(seen).toEqual(['4', '5']);
    await reader.close();
  });
});
