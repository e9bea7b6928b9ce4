/** How long attempts wait while the half-open probe is in flight (at most the cool-down). */
const PROBE_WAIT_MS = 1_000;

/** What the breaker says before an attempt to an endpoint. */
export type BreakerDecision = { allow: true; probe: boolean } | { allow: false; retryAt: number };

interface EndpointState {
  failures: number;
  openUntil?: number;
  probing: boolean;
}

/**
 * A circuit breaker per key (an endpoint, or a host). After `threshold` consecutive failed
 * attempts it opens for `cooldownMs`: attempts skip the network and wait for the
 * cool-down. Then one probe goes through (half-open); its success closes the
 * breaker, its failure opens it again. Pure: the caller passes the time.
 */
export class CircuitBreakers {
  private readonly endpoints = new Map<string, EndpointState>();

  constructor(
    private readonly threshold: number,
    private readonly cooldownMs: number,
  ) {}

  before(endpoint: string, now: number): BreakerDecision {
    const state = this.endpoints.get(endpoint);
    if (!state || state.openUntil === undefined) return { allow: true, probe: false };
    if (now < state.openUntil) return { allow: false, retryAt: state.openUntil };
    // A probe is out: the others wait a while for its verdict instead of coming straight back.
    if (state.probing) return { allow: false, retryAt: now + Math.min(this.cooldownMs, PROBE_WAIT_MS) };
    state.probing = true;
    return { allow: true, probe: true };
  }

  after(endpoint: string, succeeded: boolean, now: number): void {
    const state = this.endpoints.get(endpoint) ?? { failures: 0, probing: false };
    state.probing = false;
    if (succeeded) {
      this.endpoints.delete(endpoint);
      return;
    }
    state.failures++;
    if (state.openUntil !== undefined || state.failures >= this.threshold) state.openUntil = now + this.cooldownMs;
    this.endpoints.set(endpoint, state);
  }

  /** A probe that was granted but not sent: the next attempt after the cool-down may probe instead. */
  cancelProbe(endpoint: string): void {
    const state = this.endpoints.get(endpoint);
    if (state) state.probing = false;
  }

  /** Open (or half-open with its probe out): attempts are held back. */
  isOpen(endpoint: string, now: number): boolean {
    return this.retryAt(endpoint, now) !== undefined;
  }

  /** When an open breaker lets a probe through; undefined when it is closed or may probe now. */
  retryAt(endpoint: string, now: number): number | undefined {
    const state = this.endpoints.get(endpoint);
    if (state?.openUntil === undefined) return undefined;
    if (now < state.openUntil) return state.openUntil;
    return state.probing ? now + Math.min(this.cooldownMs, PROBE_WAIT_MS) : undefined;
  }

  /** No failure counted: nothing to remember. */
  isClosed(endpoint: string): boolean {
    return !this.endpoints.has(endpoint);
  }

  /** Endpoints whose breaker is open now (for metrics and logs). */
  openCount(now: number): number {
    let n = 0;
    for (const s of this.endpoints.values()) if (s.openUntil !== undefined && now < s.openUntil) n++;
    return n;
  }
}
