import { ServiceUnavailableException } from '@nestjs/common';
import kafkajs from 'kafkajs';
import { isTransient } from './transient-error.js';

describe('isTransient: Kafka being unavailable is not a poison job', () => {
  it('knows kafkajs errors, a store that did not catch up, and errors caused by them', () => {
    expect(isTransient(new kafkajs.KafkaJSError('leader moved', { retriable: true }))).toBe(true);
    expect(isTransient(new kafkajs.KafkaJSNonRetriableError('fenced'))).toBe(true);
    expect(isTransient(new ServiceUnavailableException('the subscription health records did not catch up in time'))).toBe(true);
    expect(isTransient(new Error('write failed', { cause: new kafkajs.KafkaJSError('x') }))).toBe(true);
  });

  it('leaves other errors to the poison path', () => {
    expect(isTransient(new TypeError("Cannot read properties of undefined (reading 'length')"))).toBe(false);
    expect(isTransient('a string')).toBe(false);
    expect(isTransient(undefined)).toBe(false);
  });
});
