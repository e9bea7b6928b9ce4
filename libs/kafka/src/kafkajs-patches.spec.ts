import { kafkajsAbortedFilter, verifyKafkajsPatches } from './kafkajs-patches.js';

const ABORT_MARKER = Buffer.from([0, 0, 0, 0]);
const record = (offset: number, producerId: string, key: Buffer | null = null) => ({
  offset: String(offset),
  key,
  batchContext: { producerId, inTransaction: true },
});

describe('kafkajs read_committed filter (patches/kafkajs+2.2.4.patch)', () => {
  const filter = kafkajsAbortedFilter();

  it('drops the records of every aborted transaction open where a fetch starts', () => {
    // Producers 1, 2 and 3 interleave; 1 and 2 abort. The fetch starts at 20, past both first offsets.
    const messages = [record(20, '2'), record(21, '3'), record(22, '1'), record(23, '2', ABORT_MARKER), record(24, '1', ABORT_MARKER), record(25, '2')];
    const kept = filter({ messages, abortedTransactions: [{ producerId: '1', firstOffset: '15' }, { producerId: '2', firstOffset: '17' }] });
    // 25: producer 2's next transaction, after its abort marker; the markers themselves are control records kafkajs drops later.
    expect(kept.map((m) => m.offset)).toEqual(['21', '23', '24', '25']);
  });

  it('keeps committed records of a producer whose earlier transaction was aborted', () => {
    const messages = [record(5, '7'), record(6, '7', ABORT_MARKER), record(7, '7'), record(8, '8')];
    const kept = filter({ messages, abortedTransactions: [{ producerId: '7', firstOffset: '5' }] });
    expect(kept.map((m) => m.offset)).toEqual(['6', '7', '8']);
  });

  it('is verified at start-up', () => {
    expect(() => verifyKafkajsPatches()).not.toThrow();
  });
});
