import kafkajs from 'kafkajs';
import { deferred, type Deferred, fakeConsumer, fakeHost, fakePayload, sleep } from './fake-batch.testing.js';
import { PipelinedRunner } from './pipelined.runner.js';

/** Longer than the runner's commit interval (100 ms). */
const COMMITTED = 250;
const highest = (commits: { offset: string }[]) => commits.reduce<bigint | undefined>((max, c) => (max === undefined || BigInt(c.offset) > max ? BigInt(c.offset) : max), undefined);

describe('PipelinedRunner', () => {
  const setup = () => {
    const kafka = fakeConsumer();
    const { host, state } = fakeHost(kafka.consumer);
    return { runner: new PipelinedRunner(host), server: state, ...kafka };
  };
  /** Hands out the work of each record of `offsets` (the handler returns at once). */
  const handOut = async (runner: PipelinedRunner, offsets: number[]) => {
    const work = new Map<number, Deferred>(offsets.map((o) => [o, deferred()]));
    const batch = fakePayload(offsets);
    await runner.run(batch.payload, async (b, context) => {
      for (const m of b.messages) context.track(m.offset, work.get(Number(m.offset))!.promise);
    });
    return { work, ...batch };
  };

  it('commits up to the contiguous prefix of finished work', async () => {
    const { runner, commits } = setup();
    const { work, calls } = await handOut(runner, [10, 11, 12]);
    // The partition reads on after the last record handed out.
    expect(calls.resolved).toEqual(['12']);
    work.get(11)!.resolve();
    work.get(12)!.resolve();
    await sleep(COMMITTED);
    expect(highest(commits)).toBe(10n);
    work.get(10)!.resolve();
    await sleep(COMMITTED);
    expect(commits.at(-1)).toEqual({ topic: 't', partition: 0, offset: '13' });
  });

  it('says the work a batch tracked is still this process\'s until its partition is handed over, read again or the server closes', async () => {
    const { runner, consumer, server } = setup();
    const holds: (() => boolean)[] = [];
    const handOutKeeping = async (offsets: number[]) => {
      await runner.run(fakePayload(offsets).payload, async (b, context) => {
        for (const m of b.messages) context.track(m.offset, deferred().promise);
        holds.push(() => context.holdsWork());
      });
      return holds.at(-1)!;
    };
    const first = await handOutKeeping([10, 11]);
    expect(first()).toBe(true);
    runner.joined(consumer, new Set(['t|0']));
    expect(first()).toBe(true);
    // Read again from 10 (a rewind, a rejoin from the last commit): the old work is no longer ours to finish.
    const again = await handOutKeeping([10, 11, 12]);
    expect([first(), again()]).toEqual([false, true]);
    runner.joined(consumer, new Set());
    expect(again()).toBe(false);
    const later = await handOutKeeping([20]);
    server.closing = true;
    expect(later()).toBe(false);
  });

  it('counts the records handed out past the committed offset, finished or not', async () => {
    const { runner } = setup();
    const { work } = await handOut(runner, [10, 11, 12]);
    expect(runner.uncommitted()).toBe(3);
    work.get(10)!.resolve();
    work.get(12)!.resolve();
    await sleep(COMMITTED);
    // Committed at 11: 11 (unfinished) and 12 (finished) would be read again after a crash.
    expect(runner.uncommitted()).toBe(2);
    work.get(11)!.resolve();
    await sleep(COMMITTED);
    expect(runner.uncommitted()).toBe(0);
  });

  it('retries the final commit while the coordinator moves, and not after the member was fenced', async () => {
    const { runner, consumer, commits } = setup();
    const refusals = [
      new kafkajs.KafkaJSProtocolError({ message: 'not the coordinator', type: 'NOT_COORDINATOR', code: 16, retriable: true } as unknown as Error),
      new kafkajs.KafkaJSProtocolError({ message: 'coordinator loading', type: 'COORDINATOR_LOAD_IN_PROGRESS', code: 14, retriable: true } as unknown as Error),
    ];
    const commit = consumer.commitOffsets.bind(consumer);
    consumer.commitOffsets = async (offsets) => {
      const refusal = refusals.shift();
      if (refusal) throw refusal;
      return commit(offsets);
    };
    const { work } = await handOut(runner, [10]);
    work.get(10)!.resolve();
    await runner.closing(consumer, ['t']);
    expect(refusals).toEqual([]);
    expect(commits.at(-1)).toEqual({ topic: 't', partition: 0, offset: '11' });

    const fenced = setup();
    let tries = 0;
    fenced.consumer.commitOffsets = async () => {
      tries++;
      throw new kafkajs.KafkaJSProtocolError({ message: 'unknown member', type: 'UNKNOWN_MEMBER_ID', code: 25, retriable: true } as unknown as Error);
    };
    const more = await handOut(fenced.runner, [10]);
    more.work.get(10)!.resolve();
    await fenced.runner.closing(fenced.consumer, ['t']);
    expect(tries).toBeLessThanOrEqual(2);
  });

  it('names a partition whose first unfinished offset has not moved for the given time', async () => {
    const { runner } = setup();
    const { work } = await handOut(runner, [10, 11, 12]);
    work.get(11)!.resolve();
    await sleep(10);
    const t0 = Date.now();
    expect(runner.stalled(t0, 30_000)).toEqual([]);
    expect(runner.stalled(t0 + 29_000, 30_000)).toEqual([]);
    expect(runner.stalled(t0 + 31_000, 30_000)).toEqual(['t|0: committed none, first unfinished 10, handed out up to 12, 2 pending for 31 s']);
    work.get(10)!.resolve();
    work.get(12)!.resolve();
    await sleep(COMMITTED);
    expect(runner.stalled(t0 + 62_000, 30_000)).toEqual([]);
  });

  it('rewinds to the first unfinished offset after failed work, and commits nothing past it', async () => {
    const { runner, commits, seeks, consumer } = setup();
    const { work } = await handOut(runner, [10, 11, 12]);
    work.get(10)!.resolve();
    work.get(11)!.reject(new Error('write refused'));
    await sleep(COMMITTED);
    expect(seeks).toEqual([{ topic: 't', partition: 0, offset: '11' }]);
    // Later completions, of this batch and of records tracked after the failure, do not move the commit past 11.
    work.get(12)!.resolve();
    const later = await handOut(runner, [13, 14]);
    later.work.get(13)!.resolve();
    later.work.get(14)!.resolve();
    await sleep(COMMITTED);
    expect(highest(commits)).toBe(11n);
    // A rejoin before the partition was read again still reads it again from the failed record.
    runner.joined(consumer, new Set(['t|0']));
    expect(seeks).toEqual([11, 11].map((offset) => ({ topic: 't', partition: 0, offset: String(offset) })));
  });

  it('commits nothing for a partition lost in a rebalance mid-batch', async () => {
    const { runner, commits, consumer } = setup();
    const first = deferred();
    const batch = fakePayload([10, 11, 12]);
    const tracked: string[] = [];
    await runner.run(batch.payload, async (b, context) => {
      for (const m of b.messages) {
        if (!context.isActive()) return;
        context.track(m.offset, first.promise);
        tracked.push(m.offset);
        batch.state.stale = true;
      }
    });
    expect(tracked).toEqual(['10']);
    // The group rejoined without the partition: its late work is not committed by this process.
    runner.joined(consumer, new Set());
    first.resolve();
    await sleep(COMMITTED);
    expect(commits).toEqual([]);
  });

  it('keeps the tracker of a partition it still holds after a rejoin, and reads on after the last record handed out', async () => {
    const { runner, commits, consumer, seeks } = setup();
    const { work } = await handOut(runner, [10, 11]);
    runner.joined(consumer, new Set(['t|0']));
    expect(seeks).toEqual([{ topic: 't', partition: 0, offset: '12' }]);
    work.get(10)!.resolve();
    work.get(11)!.resolve();
    await sleep(COMMITTED);
    expect(commits).toEqual([{ topic: 't', partition: 0, offset: '12' }]);
  });

  it('pauses the partition until the time asked for, then resumes it', async () => {
    const { runner } = setup();
    const { payload, calls } = fakePayload([10]);
    await runner.run(payload, async (_b, context) => {
      context.pauseUntil(Date.now() + 100);
      expect(context.isActive()).toBe(false);
    });
    expect(calls.pauses).toBe(1);
    expect(calls.resumes).toBe(0);
    await sleep(50);
    expect(calls.resumes).toBe(0);
    await sleep(150);
    expect(calls.resumes).toBe(1);
  });

  it('does not resume a partition once the server is closing, nor pause one while it closes', async () => {
    const { runner, server, consumer } = setup();
    const paused = fakePayload([10]);
    await runner.run(paused.payload, async (_b, context) => context.pauseUntil(Date.now() + 50));
    server.closing = true;
    await runner.closing(consumer, ['t']);
    const late = fakePayload([11]);
    await runner.run(late.payload, async (_b, context) => context.pauseUntil(Date.now() + 50));
    await sleep(150);
    expect([paused.calls.pauses, paused.calls.resumes, late.calls.pauses]).toEqual([1, 0, 0]);
  });
});
