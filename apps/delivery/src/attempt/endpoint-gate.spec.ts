import { jest } from '@jest/globals';
import { type Admission, EndpointGate, type Ticket } from './endpoint-gate.js';

const ok = { ok: true, hostReached: true };
const failed = { ok: false, hostReached: true };
const refused = { ok: false, hostReached: false };
const HOST = 'http://shop.example';

function go(admission: Admission | Promise<Admission>): Ticket {
  if (admission instanceof Promise || !admission.go) throw new Error(`expected a slot at once, got ${JSON.stringify(admission)}`);
  return admission.ticket;
}

describe('EndpointGate', () => {
  it('caps attempts per endpoint, not per host: a full path leaves the other paths of its host alone', () => {
    const gate = new EndpointGate(2, 10, 1_000, 2_000);
    go(gate.admit(`${HOST}/slow`, HOST, 0));
    go(gate.admit(`${HOST}/slow`, HOST, 0));
    expect(gate.admit(`${HOST}/slow`, HOST, 0)).toBeInstanceOf(Promise);
    expect(gate.admit(`${HOST}/fast`, HOST, 0)).toMatchObject({ go: true });
    expect(gate.inFlight(`${HOST}/slow`)).toBe(2);
    expect(gate.queued(`${HOST}/slow`)).toBe(1);
  });

  it('queues a busy endpoint in memory and hands each freed slot to the next job in arrival order', async () => {
    const gate = new EndpointGate(1, 10, 1_000, 2_000);
    gate.finish(go(gate.admit('e', HOST, 0)), ok, 5);
    const first = go(gate.admit('e', HOST, 5));
    const second = gate.admit('e', HOST, 0) as Promise<Admission>;
    const third = gate.admit('e', HOST, 0) as Promise<Admission>;
    const order: string[] = [];
    void second.then(() => order.push('second'));
    void third.then(() => order.push('third'));
    gate.finish(first, ok, 10);
    const granted = await second;
    expect(granted).toMatchObject({ go: true });
    gate.finish((granted as { ticket: Ticket }).ticket, ok, 20);
    await third;
    expect(order).toEqual(['second', 'third']);
  });

  it('holds a job back when the queue ahead of it would take too long: a slow endpoint keeps a bounded share', () => {
    const gate = new EndpointGate(2, 10, 1_000, 2_000);
    // Attempts take 1 s: with two slots, each job queued ahead adds 0.5 s of wait.
    gate.finish(go(gate.admit('slow', HOST, 0)), ok, 1_000);
    go(gate.admit('slow', HOST, 1_000));
    go(gate.admit('slow', HOST, 1_000));
    const queued = [1, 2, 3, 4].map(() => gate.admit('slow', HOST, 1_000));
    expect(queued.every((q) => q instanceof Promise)).toBe(true);
    expect(gate.admit('slow', HOST, 1_000)).toEqual({ go: false, reason: 'endpoint_busy', waitMs: 2_500 });
    expect(gate.admit('other', HOST, 1_000)).toMatchObject({ go: true });
  });

  it('counts a hanging attempt by its age, and a queued job gives up after the longest wait', async () => {
    jest.useFakeTimers({ now: 0 });
    try {
      const gate = new EndpointGate(2, 10, 1_000, 2_000);
      go(gate.admit('hang', HOST, 0));
      go(gate.admit('hang', HOST, 0));
      // No attempt has ended yet: no estimate, so jobs queue; each gives up after 2 s.
      const queued = gate.admit('hang', HOST, 0) as Promise<Admission>;
      expect(queued).toBeInstanceOf(Promise);
      let settled = false;
      void queued.then(() => (settled = true));
      jest.advanceTimersByTime(1_900);
      await Promise.resolve();
      expect(settled).toBe(false);
      jest.advanceTimersByTime(200);
      await expect(queued).resolves.toMatchObject({ go: false, reason: 'endpoint_busy' });
      expect(gate.queued('hang')).toBe(0);
      // Ten seconds without an answer: one more queued job would wait at least 5 s, so it is held at once.
      expect(gate.admit('hang', HOST, 10_000)).toMatchObject({ go: false, reason: 'endpoint_busy' });
    } finally {
      jest.useRealTimers();
    }
  });

  it('opens the breaker of a failing path only; its queued jobs are held back when it opens', async () => {
    const gate = new EndpointGate(1, 2, 1_000, 60_000);
    const a = go(gate.admit(`${HOST}/fail`, HOST, 0));
    gate.finish(a, failed, 10);
    const b = go(gate.admit(`${HOST}/fail`, HOST, 10));
    const waiting = gate.admit(`${HOST}/fail`, HOST, 10) as Promise<Admission>;
    gate.finish(b, failed, 20);
    expect(await waiting).toEqual({ go: false, reason: 'circuit_open', waitMs: 1_000 });
    expect(gate.admit(`${HOST}/fail`, HOST, 30)).toEqual({ go: false, reason: 'circuit_open', waitMs: 990 });
    expect(gate.admit(`${HOST}/ok`, HOST, 30)).toMatchObject({ go: true });
  });

  it('holds a host back as a whole when it cannot be reached, whichever path', () => {
    const gate = new EndpointGate(10, 2, 1_000, 2_000);
    gate.finish(go(gate.admit(`${HOST}/a`, HOST, 0)), refused, 0);
    gate.finish(go(gate.admit(`${HOST}/b`, HOST, 0)), refused, 0);
    expect(gate.admit(`${HOST}/c`, HOST, 10)).toEqual({ go: false, reason: 'host_circuit_open', waitMs: 990 });
    expect(gate.admit('http://elsewhere.example/a', 'http://elsewhere.example', 10)).toMatchObject({ go: true });
    // After the cool-down one probe goes through; its success closes the host's breaker.
    const probe = go(gate.admit(`${HOST}/c`, HOST, 1_000));
    expect(probe.probe).toBe(true);
    expect(gate.admit(`${HOST}/d`, HOST, 1_001)).toMatchObject({ go: false, reason: 'host_circuit_open' });
    gate.finish(probe, ok, 1_002);
    expect(gate.admit(`${HOST}/d`, HOST, 1_003)).toMatchObject({ go: true });
  });

  it('does not count a failed answer against the host: a reachable host with a failing path stays open for the others', () => {
    const gate = new EndpointGate(10, 1, 1_000, 2_000);
    gate.finish(go(gate.admit(`${HOST}/fail`, HOST, 0)), failed, 0);
    expect(gate.admit(`${HOST}/fail`, HOST, 1)).toMatchObject({ go: false, reason: 'circuit_open' });
    expect(gate.admit(`${HOST}/ok`, HOST, 1)).toMatchObject({ go: true });
  });

  it('learns nothing from an attempt that sent nothing (no OAuth2 token): no failure counted, no success either, a probe given back', () => {
    const notSent = { ok: false, hostReached: true, notSent: true };
    const gate = new EndpointGate(10, 2, 1_000, 2_000);
    // Any number of them never opens the breaker, and the slot is given back.
    for (let i = 0; i < 5; i++) gate.finish(go(gate.admit(`${HOST}/auth`, HOST, i)), notSent, i);
    expect(gate.inFlight(`${HOST}/auth`)).toBe(0);
    expect(gate.admit(`${HOST}/auth`, HOST, 10)).toMatchObject({ go: true });
    // Nor do they close an open breaker: one failure before them and one after still make two in a row.
    const other = new EndpointGate(10, 2, 1_000, 2_000);
    other.finish(go(other.admit(`${HOST}/x`, HOST, 0)), failed, 0);
    other.finish(go(other.admit(`${HOST}/x`, HOST, 0)), notSent, 0);
    other.finish(go(other.admit(`${HOST}/x`, HOST, 0)), failed, 0);
    expect(other.admit(`${HOST}/x`, HOST, 1)).toMatchObject({ go: false, reason: 'circuit_open' });
    // The half-open probe that sent nothing is given back: the next attempt probes instead of waiting for a verdict that never comes.
    const probe = go(other.admit(`${HOST}/x`, HOST, 1_000));
    expect(probe.probe).toBe(true);
    other.finish(probe, notSent, 1_001);
    expect(other.admit(`${HOST}/x`, HOST, 1_002)).toMatchObject({ go: true, ticket: { probe: true } });
  });
});
