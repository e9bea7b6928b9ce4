import { deferred, fakeConsumer, fakeHost, fakePayload } from './fake-batch.testing.js';
import { PlainBatchRunner } from './plain-batch.runner.js';

describe('PlainBatchRunner', () => {
  const setup = (offsets = [10, 11, 12]) => {
    const { host, state } = fakeHost(fakeConsumer().consumer);
    return { runner: new PlainBatchRunner(host), server: state, ...fakePayload(offsets) };
  };
  const commitOf = (offset: string) => ({ topics: [{ topic: 't', partitions: [{ partition: 0, offset }] }] });

  it('commits last + 1 once the handler resolved, not before', async () => {
    const { runner, payload, calls } = setup();
    const done = deferred();
    const running = runner.run(payload, () => done.promise);
    await Promise.resolve();
    expect(calls.commits).toEqual([]);
    done.resolve();
    await running;
    expect(calls.resolved).toEqual(['12']);
    expect(calls.commits).toEqual([commitOf('13')]);
  });

  it('commits nothing when the handler fails', async () => {
    const { runner, payload, calls } = setup();
    await expect(runner.run(payload, async () => Promise.reject(new Error('write refused')))).rejects.toThrow('write refused');
    expect(calls.resolved).toEqual([]);
    expect(calls.commits).toEqual([]);
  });

  it('commits nothing when the partition was lost while the handler ran (a rebalance mid-batch)', async () => {
    const { runner, payload, calls, state } = setup();
    await runner.run(payload, async (_batch, context) => {
      expect(context.isActive()).toBe(true);
      state.stale = true;
      expect(context.isActive()).toBe(false);
    });
    expect(calls.resolved).toEqual([]);
    expect(calls.commits).toEqual([]);
  });

  it('commits nothing when the server began closing while the handler ran', async () => {
    const { runner, payload, calls, server } = setup();
    await runner.run(payload, async () => void (server.closing = true));
    expect(calls.commits).toEqual([]);
  });

  it('gives the handler a context it cannot use for pipelined work, nor write to', async () => {
    const { runner, payload, calls } = setup();
    await runner.run(payload, async (_batch, context) => {
      expect(context.writer).toBeUndefined();
      expect(() => context.track('10', Promise.resolve())).toThrow('track() needs a pipelined KafkaBatchServer');
      // A batch handler that asks to pause stops here: the batch is not committed.
      context.pauseUntil(Date.now() + 1_000);
    });
    expect(calls.commits).toEqual([]);
    expect(calls.pauses).toBe(0);
  });
});
