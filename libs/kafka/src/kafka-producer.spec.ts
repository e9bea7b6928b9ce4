import kafkajs, { type ICustomPartitioner, type Kafka, type ProducerBatch } from 'kafkajs';
import { KafkaProducer, RecordingPartitioner } from './kafka-producer.js';

const { Partitioners } = kafkajs;

/** A kafkajs stand-in that records what would be sent. */
function fakeKafka(batches: ProducerBatch[]): Kafka {
  const producer = {
    sendBatch: (batch: ProducerBatch) => {
      batches.push(batch);
      return Promise.resolve(batch.topicMessages!.map((t) => ({ topicName: t.topic, partition: 0, errorCode: 0 })));
    },
  };
  return { producer: () => producer } as unknown as Kafka;
}

describe('KafkaProducer.send', () => {
  it('fails a send whose answer lacks a partition it had records for (kafkajs drops one on a leader change)', async () => {
    /** A producer over 3 partitions that answers for the given partitions only. */
    const answering = (partitions: number[]) =>
      ({
        producer: ({ createPartitioner }: { createPartitioner: ICustomPartitioner }) => {
          const partitioner = createPartitioner();
          const partitionMetadata = [0, 1, 2].map((partitionId) => ({ partitionId, leader: 1, replicas: [1], isr: [1], partitionErrorCode: 0 }));
          return {
            sendBatch: (batch: ProducerBatch) => {
              for (const { topic, messages } of batch.topicMessages!) for (const message of messages) partitioner({ topic, partitionMetadata, message });
              return Promise.resolve(partitions.map((partition) => ({ topicName: 't', partition, errorCode: 0 })));
            },
          };
        },
      }) as unknown as Kafka;
    const records = Array.from({ length: 30 }, (_, i) => ({ topic: 't', key: `k${i}`, value: i }));
    await expect(new KafkaProducer(answering([0, 1, 2])).send(records)).resolves.toHaveLength(3);
    await expect(new KafkaProducer(answering([0])).send(records)).rejects.toThrow(/answered for none of the records sent to t\[[12]\]/);
  });

  it('splits large writes into requests well under the broker limit, keeping order', async () => {
    const batches: ProducerBatch[] = [];
    const producer = new KafkaProducer(fakeKafka(batches));
    const records = Array.from({ length: 3_000 }, (_, i) => ({ topic: i % 2 ? 'a' : 'b', key: 'k', value: { i, pad: 'x'.repeat(500) } }));
    await producer.send(records);
    expect(batches.length).toBeGreaterThan(2);
    for (const batch of batches) {
      const bytes = batch.topicMessages!.flatMap((t) => t.messages).reduce((n, m) => n + Buffer.byteLength(m.value as string), 0);
      expect(bytes).toBeLessThanOrEqual(512 * 1024 + 1024);
    }
    const sent = batches.flatMap((b) => b.topicMessages!.flatMap((t) => t.messages.map((m) => JSON.parse(m.value as string).i as number)));
    expect(sent.sort((x, y) => x - y)).toEqual(records.map((_, i) => i));
    const topicA = batches.flatMap((b) => b.topicMessages!.filter((t) => t.topic === 'a').flatMap((t) => t.messages.map((m) => JSON.parse(m.value as string).i as number)));
    expect(topicA).toEqual([...topicA].sort((x, y) => x - y));
  });

  it('sends nothing for no records and a tombstone as a null value', async () => {
    const batches: ProducerBatch[] = [];
    const producer = new KafkaProducer(fakeKafka(batches));
    await producer.send([]);
    expect(batches).toHaveLength(0);
    await producer.send([{ topic: 't', key: 'id', value: null }]);
    expect(batches[0]!.topicMessages![0]!.messages[0]!.value).toBeNull();
  });
});

describe('KafkaProducer: a producer that lost its idempotence state', () => {
  /** Producers made in order; each records its events; producer 1's first send fails OUT_OF_ORDER_SEQUENCE_NUMBER. */
  function fleet() {
    const events: string[] = [];
    let made = 0;
    let connectRelease!: () => void;
    const secondConnects = new Promise<void>((r) => (connectRelease = r));
    const kafka = {
      producer: () => {
        const id = ++made;
        let failNext = id === 1;
        return {
          connect: async () => {
            if (id === 2) await secondConnects;
            events.push(`connect ${id}`);
          },
          disconnect: async () => void events.push(`disconnect ${id}`),
          sendBatch: async (batch: ProducerBatch) => {
            events.push(`send ${id}`);
            if (failNext) {
              failNext = false;
              throw new kafkajs.KafkaJSProtocolError({ message: 'out of order', type: 'OUT_OF_ORDER_SEQUENCE_NUMBER', code: 45, retriable: false } as unknown as Error);
            }
            return batch.topicMessages!.map((t) => ({ topicName: t.topic, partition: 0, errorCode: 0 }));
          },
        };
      },
    } as unknown as Kafka;
    return { kafka, events, connectSecond: () => connectRelease() };
  }
  const record = [{ topic: 't', key: null, value: 1 }];

  it('is replaced once connected: no send reaches the replacement before, and the old one is disconnected after', async () => {
    const { kafka, events, connectSecond } = fleet();
    const producer = new KafkaProducer(kafka);
    await producer.connect();
    const failed = producer.send(record);
    await new Promise((r) => setTimeout(r, 10));
    // A send while the replacement connects waits for it.
    const waiting = producer.send(record);
    await new Promise((r) => setTimeout(r, 10));
    expect(events).toEqual(['connect 1', 'send 1']);
    connectSecond();
    await expect(failed).rejects.toThrow('out of order');
    await expect(waiting).resolves.toHaveLength(1);
    await new Promise((r) => setTimeout(r, 150));
    expect(events).toEqual(['connect 1', 'send 1', 'connect 2', 'send 2', 'disconnect 1']);
    expect(producer.describe()).toContain('replaced 1 time(s)');
  });
});

describe('RecordingPartitioner', () => {
  it("chooses kafkajs' default partition for every key, also when it remembers it, and follows a change of partition count", () => {
    const metadata = (n: number) => Array.from({ length: n }, (_, partitionId) => ({ partitionId, leader: 1, replicas: [1], isr: [1], partitionErrorCode: 0 }));
    const ours = RecordingPartitioner();
    const theirs = Partitioners.DefaultPartitioner();
    for (const n of [6, 6, 12]) {
      for (let i = 0; i < 200; i++) {
        const args = { topic: 't', partitionMetadata: metadata(n), message: { key: `sub_${i % 50}`, value: 'v' } };
        expect(ours(args)).toBe(theirs(args));
      }
    }
    const pinned = { topic: 't', partitionMetadata: metadata(6), message: { key: 'sub_1', value: 'v', partition: 5 } };
    expect(ours(pinned)).toBe(5);
  });
});
