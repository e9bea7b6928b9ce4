import { jest } from '@jest/globals';
import { EndpointSlots } from './endpoint-slots.js';

describe('EndpointSlots', () => {
  it('caps each endpoint on its own', () => {
    const slots = new EndpointSlots(2, 0);
    expect([slots.acquire('a'), slots.acquire('a'), slots.acquire('a'), slots.acquire('b')]).toEqual([true, true, false, true]);
    slots.release('a');
    expect(slots.inFlight('a')).toBe(1);
    expect(slots.acquire('a')).toBe(true);
  });

  it('hands a freed slot to the first waiter, and gives up on a waiter after maxWaitMs', async () => {
    jest.useFakeTimers();
    try {
      const slots = new EndpointSlots(1, 100);
      expect(slots.acquire('a')).toBe(true);
      const first = slots.acquire('a') as Promise<boolean>;
      const second = slots.acquire('a') as Promise<boolean>;
      slots.release('a');
      await expect(first).resolves.toBe(true);
      expect(slots.inFlight('a')).toBe(1);
      jest.advanceTimersByTime(100);
      await expect(second).resolves.toBe(false);
      slots.release('a');
      expect(slots.inFlight('a')).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });
});
