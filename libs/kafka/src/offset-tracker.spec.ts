import { OffsetTracker } from './offset-tracker.js';

describe('OffsetTracker', () => {
  it('commits only the contiguous completed prefix', () => {
    const t = new OffsetTracker();
    expect(t.committable()).toBeUndefined();
    for (const o of [5n, 6n, 7n, 9n]) t.add(o);
    expect(t.committable()).toBe(5n);
    t.complete(6n);
    t.complete(9n);
    expect(t.committable()).toBe(5n);
    expect(t.pending).toBe(4 - 2);
    t.complete(5n);
    expect(t.committable()).toBe(7n);
    t.complete(7n);
    expect(t.committable()).toBe(10n);
    expect(t.pending).toBe(0);
  });

  it('refuses offsets out of order', () => {
    const t = new OffsetTracker();
    t.add(3n);
    expect(() => t.add(3n)).toThrow();
  });

  it('stays small over many offsets', () => {
    const t = new OffsetTracker();
    for (let i = 0n; i < 10_000n; i++) {
      t.add(i);
      if (i >= 10n) t.complete(i - 10n);
    }
    expect(t.committable()).toBe(9_990n);
    expect(t.pending).toBe(10);
  });
});
