import { checkKafkajsVersion, KAFKAJS_VERSION, kafkajsConsumerGroup } from './kafkajs-internals.js';

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
});
