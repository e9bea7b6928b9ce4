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
    const fake = fakeConsumer();
    const { host, state } = fakeHost(fake.consumer);
    const done: string[] = [];
    host.batchDone = (batch) => void done.push(`${batch.firstOffset()}-${batch.lastOffset()}`);
    return { runner: new TransactionalBatchRunner(host, transactions), server: state, log, txn, done, seeks: fake.seeks, ...fakePayload(offsets) };
  };

  it("writes the batch's records and commits its offset (last + 1) in its partition's transaction, after the partition read on", async () => {
    const { runner, payload, calls, log, txn, done } = setup();
    await runner.run(payload, async (batch, context) => {
      expect(context.writer).toBe(txn);
      expect(batch.messages.map((m) => m.offset)).toEqual(['10', '11', '12']);
      await context.writer!.send([]);
    });
    // The fetch position moves at once; the offset goes with the transaction, never through the consumer.
    expect(calls.resolved).toEqual(['12']);
    await runner.settled();
    expect(log).toEqual(['begin t|0', 'send', 'commit 13']);
    expect(calls.commits).toEqual([]);
    expect(done).toEqual(['10-12']);
  });

  it('puts the batches that queued while a transaction ran into the next transaction, as one batch, in order', async () => {
    const first = setup([10, 11]);
    const second = fakePayload([12, 13]);
    const third = fakePayload([14]);
    const gate = deferred();
    const seen: string[] = [];
    const handle = async (batch: { messages: { offset: string }[] }) => {
      seen.push(batch.messages.map((m) => m.offset).join(','));
      if (seen.length === 1) await gate.promise;
    };
    await first.runner.run(first.payload, handle);
    await first.runner.run(second.payload, handle);
    await first.runner.run(third.payload, handle);
    gate.resolve();
    await first.runner.settled();
    expect(seen).toEqual(['10,11', '12,13,14']);
    expect(first.log).toEqual(['begin t|0', 'commit 12', 'begin t|0', 'commit 15']);
    expect(first.done).toEqual(['10-11', '12-13', '14-14']);
  });

  it('aborts the transaction when the partition was lost while the handler ran (a rebalance mid-batch)', async () => {
    const { runner, payload, state, log, done } = setup();
    const written = deferred();
    await runner.run(payload, async (_batch, context) => {
      await context.writer!.send([]);
      await written.promise;
    });
    await new Promise((r) => setImmediate(r));
    state.stale = true;
    written.resolve();
    await runner.settled();
    expect(log).toEqual(['begin t|0', 'send', 'abort']);
    expect(done).toEqual([]);
  });

  it('aborts the transaction and drops the waiting batches when the server closes', async () => {
    const { runner, payload, server, log } = setup();
    const later = fakePayload([13]);
    const handler = jest.fn(async () => void (server.closing = true));
    await runner.run(payload, handler);
    await runner.run(later.payload, handler);
    await runner.closing();
    expect(log).toEqual(['begin t|0', 'abort']);
    expect(handler).toHaveBeenCalledTimes(1);
  });

  it('aborts when the handler fails and reads the partition again from the transaction\'s first record', async () => {
    const { runner, payload, log, seeks, done } = setup();
    const later = fakePayload([13, 14]);
    const fenced = new kafkajs.KafkaJSNonRetriableError('producer fenced');
    const gate = deferred();
    let calls = 0;
    const handler = async () => {
      calls++;
      await gate.promise;
      throw fenced;
    };
    await runner.run(payload, handler);
    await runner.run(later.payload, handler);
    gate.resolve();
    await runner.settled();
    // The batch queued behind the failed one is dropped too: both are read again from offset 10.
    expect(calls).toBe(1);
    expect(log).toEqual(['begin t|0', 'abort']);
    expect(seeks).toEqual([{ topic: 't', partition: 0, offset: '10' }]);
    expect(done).toEqual([]);
  });

  it('skips the records below the offset an earlier owner committed', async () => {
    const { runner, payload, log } = setup([10, 11, 12, 13], 12n);
    const seen: string[] = [];
    await runner.run(payload, async (batch) => void seen.push(...batch.messages.map((m) => m.offset)));
    await runner.settled();
    expect(seen).toEqual(['12', '13']);
    expect(log).toEqual(['begin t|0', 'commit 14']);
  });

  it('commits a batch that was done entirely by an earlier owner without running the handler', async () => {
    const { runner, payload, log } = setup([10, 11], 12n);
    const handler = jest.fn(async () => undefined);
    await runner.run(payload, handler);
    await runner.settled();
    expect(handler).not.toHaveBeenCalled();
    expect(log).toEqual(['begin t|0', 'commit 12']);
  });

  it('begins no transaction for a batch of a partition already lost', async () => {
    const { runner, payload, state, log, calls } = setup();
    state.stale = true;
    const handler = jest.fn(async () => undefined);
    await runner.run(payload, handler);
    await runner.settled();
    expect(handler).not.toHaveBeenCalled();
    expect(log).toEqual([]);
    expect(calls.resolved).toEqual([]);
  });

  it('makes a full partition wait for room before it reads on', async () => {
    const { runner, payload } = setup([0]);
    const gate = deferred();
    await runner.run(payload, () => gate.promise);
    const big = fakePayload(Array.from({ length: 4_001 }, (_, i) => i + 1));
    let returned = false;
    const waiting = runner.run(big.payload, async () => undefined).then(() => (returned = true));
    await new Promise((r) => setImmediate(r));
    expect(returned).toBe(false);
    gate.resolve();
    await waiting;
    await runner.settled();
    expect(returned).toBe(true);
  });

  it('initialises the producers again after a rejoin, and closes them at close', async () => {
    const { runner, log } = setup();
    runner.joined();
    await runner.closed();
    expect(log).toEqual(['reassigned', 'close']);
  });
});
