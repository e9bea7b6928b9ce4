import { Readiness } from './readiness.js';

describe('Readiness', () => {
  it('is not ready until the consumer has joined and every registered check passes, and not ready again at shutdown', async () => {
    const readiness = new Readiness();
    let caughtUp = false;
    readiness.register('subscriptions', () => (caughtUp ? undefined : 'not caught up'));
    expect(readiness.problems()).toEqual(['kafka-consumer: the Kafka consumer has not joined its group', 'subscriptions: not caught up']);
    readiness.markConsuming(true);
    caughtUp = true;
    expect(readiness.problems()).toEqual([]);
    readiness.markConsuming(false);
    expect(readiness.problems()).toEqual(['kafka-consumer: the Kafka consumer has not joined its group']);
    readiness.markConsuming(true);

    const drained: string[] = [];
    readiness.drainAtShutdown(async () => {
      drained.push(readiness.problems().join());
    });
    await readiness.beforeApplicationShutdown();
    expect(drained).toEqual(['lifecycle: shutting down']);
  });
});
