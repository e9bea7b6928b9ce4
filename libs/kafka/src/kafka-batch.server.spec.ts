import { jest } from '@jest/globals';
import type { Batch, Kafka } from 'kafkajs';
import kafkajs from 'kafkajs';
import { deferred, fakeConsumer, fakePayload, sleep } from './batch-runners/fake-batch.testing.js';
import type { KafkaBatchContext } from './kafka-batch.context.js';
import { KafkaBatchServer, type KafkaBatchServerOptions } from './kafka-batch.server.js';

type Handler = (batch: Batch, context: KafkaBatchContext) => Promise<void>;

/** A server over a fake consumer, listening (its group joined) with `handler` for the pattern `p` (topic `t`). */
async function listening(handler: Handler, options: Partial<KafkaBatchServerOptions> = {}) {
  const kafka = fakeConsumer();
  const server = new KafkaBatchServer({ kafka: { consumer: () => kafka.consumer } as unknown as Kafka, groupId: 'g', routes: { p: ['t'] }, fromBeginning: true, ...options });
  server.addHandler('p', handler as never, true);
  await new Promise<void>((resolve, reject) => void server.listen((err) => (err ? reject(err as Error) : resolve())));
  return { server, ...kafka };
}

describe('KafkaBatchServer', () => {
  it('joins the group before it is listening, and tells of each batch', async () => {
    const onConsuming = jest.fn();
    const onBatch = jest.fn();
    const { log, deliver } = await listening(async () => undefined, { onConsuming, onBatch });
    expect(log).toEqual(['connect', 'subscribe', 'run']);
    expect(onConsuming).toHaveBeenCalledWith(true);
    await deliver(fakePayload([10]).payload);
    expect(onBatch).toHaveBeenCalledWith('t', 0, 0);
  });

  it('hands a non-retriable error of a handler on as retriable, so that the batch is read again', async () => {
    const { deliver } = await listening(async () => Promise.reject(new kafkajs.KafkaJSNonRetriableError('fenced')));
    await expect(deliver(fakePayload([10]).payload)).rejects.toMatchObject({ retriable: true });
  });

  it('refuses transactional pipelined handlers', () => {
    expect(() => new KafkaBatchServer({ kafka: {} as Kafka, groupId: 'g', routes: {}, fromBeginning: true, pipelined: true, transactional: true })).toThrow(
      'transactional mode is for batch handlers',
    );
  });

  it('pipelined: close() stops fetching, waits for the work in flight and commits it before leaving the group', async () => {
    const fast = deferred();
    const slow = deferred();
    const { server, log, deliver } = await listening(
      async (batch, context) => {
        context.track(batch.messages[0]!.offset, fast.promise);
        context.track(batch.messages[1]!.offset, slow.promise);
      },
      { pipelined: true },
    );
    await deliver(fakePayload([10, 11]).payload);
    fast.resolve();
    let closed = false;
    const closing = server.close().then(() => (closed = true));
    await sleep(300);
    expect(closed).toBe(false);
    expect(log).not.toContain('disconnect');
    slow.resolve();
    await closing;
    const after = log.slice(log.indexOf('pause t'));
    expect(after.at(-1)).toBe('disconnect');
    expect(after).toContain('commit t|0@12');
    expect(after.indexOf('commit t|0@12')).toBeLessThan(after.indexOf('disconnect'));
  });
});
