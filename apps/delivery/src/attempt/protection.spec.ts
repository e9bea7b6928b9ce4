import { CircuitBreakers } from './circuit-breaker.js';
import { RateLimiter } from './rate-limiter.js';

describe('CircuitBreakers', () => {
  it('opens after N consecutive failures, lets one probe through after the cool-down, and closes on its success', () => {
    const b = new CircuitBreakers(3, 1_000);
    for (let i = 0; i < 2; i++) {
      expect(b.before('a', 0)).toEqual({ allow: true, probe: false });
      b.after('a', false, 0);
    }
    b.after('a', false, 10);
    expect(b.before('a', 500)).toEqual({ allow: false, retryAt: 1_010 });
    expect(b.before('other', 500)).toEqual({ allow: true, probe: false });
    expect(b.openCount(500)).toBe(1);
    expect(b.before('a', 1_010)).toEqual({ allow: true, probe: true });
    expect(b.before('a', 1_011)).toEqual({ allow: false, retryAt: 2_011 });
    b.after('a', true, 1_050);
    expect(b.before('a', 1_051)).toEqual({ allow: true, probe: false });
  });

  it('gives the probe to a later attempt when a granted one is not sent', () => {
    const b = new CircuitBreakers(1, 1_000);
    b.after('a', false, 0);
    expect(b.before('a', 1_000)).toEqual({ allow: true, probe: true });
    b.cancelProbe('a');
    expect(b.before('a', 1_001)).toEqual({ allow: true, probe: true });
  });

  it('opens again when the probe fails, and a success resets the count', () => {
    const b = new CircuitBreakers(2, 1_000);
    b.after('a', false, 0);
    b.after('a', true, 1);
    b.after('a', false, 2);
    expect(b.before('a', 3)).toMatchObject({ allow: true });
    b.after('a', false, 3);
    expect(b.before('a', 4)).toEqual({ allow: false, retryAt: 1_003 });
    expect(b.before('a', 1_003)).toEqual({ allow: true, probe: true });
    b.after('a', false, 1_100);
    expect(b.before('a', 1_200)).toEqual({ allow: false, retryAt: 2_100 });
  });
});

describe('RateLimiter', () => {
  it('allows a second of burst, then one token per interval', () => {
    const r = new RateLimiter();
    expect([0, 0, 0].map(() => r.take('s', 3, 0))).toEqual([0, 0, 0]);
    expect(r.take('s', 3, 0)).toBe(334);
    expect(r.take('s', 3, 334)).toBe(0);
    expect(r.take('other', 3, 334)).toBe(0);
  });
});
