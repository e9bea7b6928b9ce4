import { Kafka } from 'kafkajs';
import { checkClusterInternals, checkKafkajsVersion, KAFKAJS_VERSION, kafkajsCluster, kafkajsConsumerGroup } from './kafkajs-internals.js';

describe('kafkajs internals', () => {
  it('are read from kafkajs 2.2.4 only', () => {
    expect(KAFKAJS_VERSION).toBe('2.2.4');
    expect(() => checkKafkajsVersion('2.2.4')).not.toThrow();
    for (const other of ['2.2.5', '2.2.3', '^2.2.4', '3.0.0', undefined]) {
      expect(() => checkKafkajsVersion(other)).toThrow(/needs exactly 2\.2\.4/);
    }
  });

  it('find the installed kafkajs to be 2.2.4 and its consumer group where the rejoin hold expects it', () => {
    const ConsumerGroup = kafkajsConsumerGroup();
    expect(typeof ConsumerGroup.prototype.joinAndSync).toBe('function');
    expect(typeof ConsumerGroup.prototype.heartbeat).toBe('function');
  });

  it("make a cluster of a client for the single-record reader, with the client's brokers, without connecting", () => {
    expect(() => checkClusterInternals()).not.toThrow();
    const cluster = kafkajsCluster(new Kafka({ brokers: ['127.0.0.1:9'], logCreator: () => () => undefined }), { metadataMaxAge: 1000, isolationLevel: 1 });
    for (const method of ['connect', 'disconnect', 'addTargetTopic', 'refreshMetadata', 'findLeaderForPartitions', 'findBroker'] as const) expect(typeof cluster[method]).toBe('function');
    expect(() => kafkajsCluster({}, { metadataMaxAge: 1000, isolationLevel: 1 })).toThrow(/no private createCluster/);
  });
});
