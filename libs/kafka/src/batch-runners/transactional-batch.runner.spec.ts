import { jest } from '@jest/globals';
import kafkajs from 'kafkajs';
import type { PartitionTransaction } from '../partition-transactions.js';
import { deferred, fakeConsumer, fakeHost, fakePayload } from './fake-batch.testing.js';
import { TransactionalBatchRunner } from './transactional-batch.runner.js';

describe('TransactionalBatchRunner', () => {
  const setup = (offsets = [10, 11, 12], committedOffset?: bigint) => {
    const log: string[] = [];
    const txn: PartitionTransaction = {
      committedOffset,
      send: async () => void log.push('send'),
      commit: async (next) => void log.push(`commit ${next}`),
      abort: async () => void log.push('abort'),
    };
    const transactions = {
      begin: async (topic: string, partition: number) => {
        log.push(`begin ${topic}|${partition}`);
        return txn;
      },
      reassigned: async () => void log.push('reassigned'),
      close: async () => void log.push('close'),
    };
    const { host, state } = fakeHost(fakeConsumer().consumer);
    const done: string[] = [];
    host.batchDone = (batch) => void done.push(`${batch.firstOffset()}-${batch.lastOffset()}`);
    return { runner: new TransactionalBatchRunner(host, transactions), server: state, log, txn, done, ...fakePayload(offsets) };
  };

  it("writes the batch's records and commits its offset (last + 1) in its partition's transaction", async () => {
    const { runner, payload, calls, log, txn, done } = setup();
    await runner.run(payload, async (batch, context) => {
      expect(context.writer).toBe(txn);
      expect(batch.messages.map((m) => m.offset)).toEqual(['10', '11', '12']);
      await context.writer!.send([]);
    });
    expect(log).toEqual(['begin t|0', 'send', 'commit 13']);
    expect(calls.resolved).toEqual(['12']);
    // The offset goes with the transaction, never through the consumer.
    expect(calls.commits).toEqual([]);
    expect(done).toEqual(['10-12']);
  });

  it('aborts the transaction when the partition was lost while the handler ran (a rebalance mid-batch)', async () => {
    const { runner, payload, calls, state, log } = setup();
    const written = deferred();
    const running = runner.run(payload, async (_batch, context) => {
      await context.writer!.send([]);
      await written.promise;
    });
    await new Promise((r) => setImmediate(r));
    state.stale = true;
    written.resolve();
    await running;
    expect(log).toEqual(['begin t|0', 'send', 'abort']);
    expect(calls.resolved).toEqual([]);
  });

  it('aborts the transaction when the server began closing while the handler ran', async () => {
    const { runner, payload, server, log } = setup();
    await runner.run(payload, async () => void (server.closing = true));
    expect(log).toEqual(['begin t|0', 'abort']);
  });

  it('aborts when the handler fails, and hands a non-retriable Kafka error on as retriable', async () => {
    const { runner, payload, calls, log } = setup();
    const fenced = new kafkajs.KafkaJSNonRetriableError('producer fenced');
    const failed = runner.run(payload, async () => Promise.reject(fenced));
    await expect(failed).rejects.toMatchObject({ retriable: true, message: 'producer fenced (the batch is read again)' });
    expect(log).toEqual(['begin t|0', 'abort']);
    expect(calls.resolved).toEqual([]);
  });

  it('skips the records below the offset an earlier owner committed', async () => {
    const { runner, payload, calls, log } = setup([10, 11, 12, 13], 12n);
    const seen: string[] = [];
    await runner.run(payload, async (batch) => void seen.push(...batch.messages.map((m) => m.offset)));
    expect(seen).toEqual(['12', '13']);
    expect(log).toEqual(['begin t|0', 'commit 14']);
    expect(calls.resolved).toEqual(['13']);
  });

  it('commits a batch that was done entirely by an earlier owner without running the handler', async () => {
    const { runner, payload, log } = setup([10, 11], 12n);
    const handler = jest.fn(async () => undefined);
    await runner.run(payload, handler);
    expect(handler).not.toHaveBeenCalled();
    expect(log).toEqual(['begin t|0', 'commit 12']);
  });

  it('begins no transaction for a batch of a partition already lost', async () => {
    const { runner, payload, state, log } = setup();
    state.stale = true;
    const handler = jest.fn(async () => undefined);
    await runner.run(payload, handler);
    expect(handler).not.toHaveBeenCalled();
    expect(log).toEqual([]);
  });

  it('initialises the producers again after a rejoin, and closes them at close', async () => {
    const { runner, log } = setup();
    runner.joined();
    await runner.closed();
    expect(log).toEqual(['reassigned', 'close']);
  });
});
