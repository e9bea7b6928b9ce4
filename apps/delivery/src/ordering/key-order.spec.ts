import type { DeliveryJob } from '@app/contracts';
import { entryRecord, OrderLedger, orderPlace } from './key-order.js';

const job = (offset: string, extra: Partial<DeliveryJob> = {}): DeliveryJob => ({
  webhookId: `msg_${offset}`,
  eventId: `e${offset}`,
  eventType: 't',
  subscriptionId: 'sub_1',
  url: 'http://127.0.0.1/',
  kind: 'STANDARD',
  format: 'standard',
  body: '{}',
  attempt: 1,
  orderingKey: 'k',
  createdAt: '',
  source: { topic: 'events', partition: 0, offset },
  ...extra,
});

describe('orderPlace', () => {
  it('puts jobs of one subscription, source partition and key in one chain, by source offset', () => {
    const a = orderPlace(job('5'))!;
    const b = orderPlace(job('12'))!;
    expect(a.chain).toBe(b.chain);
    expect(a.seq < b.seq).toBe(true);
    expect(orderPlace(job('5', { orderingKey: 'other' }))!.chain).not.toBe(a.chain);
    expect(orderPlace(job('5', { subscriptionId: 'sub_2' }))!.chain).not.toBe(a.chain);
    expect(orderPlace(job('5', { source: { topic: 'events', partition: 1, offset: '5' } }))!.chain).not.toBe(a.chain);
  });

  it('leaves unordered jobs and callbacks alone', () => {
    expect(orderPlace(job('1', { orderingKey: undefined }))).toBeUndefined();
    expect(orderPlace(job('1', { callback: true }))).toBeUndefined();
  });
});

describe('OrderLedger', () => {
  it('finds the earliest unfinished job before a place, and forgets tombstoned ones', () => {
    const ledger = new OrderLedger();
    const [j5, j9, j12] = [job('5'), job('9'), job('12')];
    ledger.apply(orderPlace(j9)!.entryKey, entryRecord(j9));
    ledger.apply(orderPlace(j5)!.entryKey, entryRecord(j5, 1_000));
    expect(ledger.firstBefore(orderPlace(j12)!)).toEqual({ seq: 5n, dueAt: 1_000 });
    expect(ledger.firstBefore(orderPlace(j9)!)).toEqual({ seq: 5n, dueAt: 1_000 });
    expect(ledger.firstBefore(orderPlace(j5)!)).toBeUndefined();
    // A later job waiting does not block an earlier one (a replay after a crash).
    ledger.apply(orderPlace(j5)!.entryKey, null);
    expect(ledger.firstBefore(orderPlace(j12)!)).toEqual({ seq: 9n, dueAt: undefined });
    ledger.apply(orderPlace(j9)!.entryKey, null);
    expect(ledger.firstBefore(orderPlace(j12)!)).toBeUndefined();
    expect(ledger.size).toBe(0);
  });

  it('replaces an entry when the same job is written again (a new due time)', () => {
    const ledger = new OrderLedger();
    const j1 = job('1');
    ledger.apply(orderPlace(j1)!.entryKey, entryRecord(j1, 10));
    ledger.apply(orderPlace(j1)!.entryKey, entryRecord(j1, 20));
    expect(ledger.size).toBe(1);
    expect(ledger.firstBefore(orderPlace(job('2'))!)).toEqual({ seq: 1n, dueAt: 20 });
    expect(ledger.has(orderPlace(j1)!.entryKey)).toBe(true);
  });
});
